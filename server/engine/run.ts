/**
 * A run folder: everything one training run writes. The CLI and the extension's backend write the same
 * layout, so a run started from either looks the same.
 *
 *   RUNDIR/config.json      the training config (data, network, schedule, hyperparameters, seed)
 *   RUNDIR/status.json      state (running | finished | failed | stopped), step, last loss, message
 *   RUNDIR/metrics.jsonl    one JSON object per logged step ({"type":"step",...}) or event ({"type":"event",...})
 *   RUNDIR/checkpoints/     see checkpoint.ts
 *   RUNDIR/samples/         PNG grids (images) or CSV points (2D) sampled from the EMA weights
 */
import * as fs from 'fs';
import * as path from 'path';
import { readJson, writeFileAtomic, writeJsonAtomic } from './files';
import type { NoiseSchedule } from './schedule';
import type { NetworkConfig } from './network';

export type RunState = 'running' | 'finished' | 'failed' | 'stopped';

export interface TrainConfig {
  dataSpec: string;
  dataShape: number[];
  dataKind: 'image' | 'points';
  preset: string;
  network: NetworkConfig;
  parameters: number;
  schedule: NoiseSchedule;
  steps: number;
  batch: number;
  learningRate: number;
  emaDecay: number;
  gradClip: number;
  seed: number;
  checkpointEvery: number;
  sampleEvery: number;
  logEvery: number;
  backend: string;
  createdAt: string;
  /** The student module whose loss, ladder and sampler trained it (absent: the built-in engine's). */
  implementation?: string;
}

export interface RunStatus {
  state: RunState;
  step: number;
  totalSteps: number;
  lastLoss: number | null;
  message?: string;
  pid?: number;
  updatedAt: string;
}

export interface StepMetrics {
  type: 'step';
  step: number;
  loss: number;
  /** Mean loss per noise level over the logging window (null where no example drew that level). */
  perLevel: (number | null)[];
  gradNorm: number;
  stepsPerSec: number;
  etaSec: number;
  time: string;
}

export interface EventRecord {
  type: 'event';
  step: number;
  kind: 'spike' | 'collapse' | 'nan' | 'checkpoint' | 'sample' | 'resume' | 'stop' | 'finish' | 'restore';
  message: string;
  time: string;
}

export type MetricsRecord = StepMetrics | EventRecord;

export const configPath = (runDir: string) => path.join(runDir, 'config.json');
export const statusPath = (runDir: string) => path.join(runDir, 'status.json');
export const metricsPath = (runDir: string) => path.join(runDir, 'metrics.jsonl');
export const samplesDir = (runDir: string) => path.join(runDir, 'samples');

export function readConfig(runDir: string): TrainConfig {
  return readJson<TrainConfig>(configPath(runDir), 'run config');
}

export function writeConfig(runDir: string, config: TrainConfig): void {
  writeJsonAtomic(configPath(runDir), config);
}

export function readStatus(runDir: string): RunStatus | undefined {
  try {
    return readJson<RunStatus>(statusPath(runDir), 'run status');
  } catch {
    return undefined;
  }
}

export function writeStatus(runDir: string, status: Omit<RunStatus, 'updatedAt'>): void {
  writeJsonAtomic(statusPath(runDir), { ...status, updatedAt: new Date().toISOString() });
}

export function appendMetrics(runDir: string, records: MetricsRecord[]): void {
  if (!records.length) return;
  fs.appendFileSync(metricsPath(runDir), records.map((r) => JSON.stringify(r)).join('\n') + '\n');
}

/** Reads metrics.jsonl, skipping a torn last line (a crash mid-append). */
export function readMetrics(runDir: string): MetricsRecord[] {
  let text: string;
  try {
    text = fs.readFileSync(metricsPath(runDir), 'utf8');
  } catch {
    return [];
  }
  const out: MetricsRecord[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    try {
      out.push(JSON.parse(line) as MetricsRecord);
    } catch { /* torn line */ }
  }
  return out;
}

/** On resume: drop records after the checkpoint's step, so the curve has no duplicated stretch. */
export function truncateMetrics(runDir: string, step: number): void {
  const kept = readMetrics(runDir).filter((r) => r.step <= step);
  writeFileAtomic(metricsPath(runDir), kept.map((r) => JSON.stringify(r)).join('\n') + (kept.length ? '\n' : ''));
}
