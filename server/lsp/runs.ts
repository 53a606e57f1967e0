/**
 * Run folders as the server lists and describes them: plain file reads (config.json, status.json,
 * checkpoints/*\/state.json), no TF.js, so they are fast on the thread that answers requests. Runs
 * are written by the engine exactly as the CLI writes them (server/engine/run.ts has the layout).
 */
import * as fs from 'fs';
import * as path from 'path';
import { readConfig, readStatus, samplesDir, type TrainConfig } from '../engine/run';
import type { CheckpointDescription, CheckpointSummary, NoiseSchedule, RunConfig, RunSummary } from '../../protocol/protocol';

/** A run folder that cannot be described; the message names the folder and the problem. */
export class RunFolderError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RunFolderError';
  }
}

/** The protocol's RunConfig is the engine's TrainConfig, redeclared: this fails to compile if they drift apart. */
const asRunConfig = (c: TrainConfig): RunConfig => c;

const RUN_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;

/** A run name is one plain folder name: letters, digits, '.', '_', '-', starting with a letter or digit. */
export function isValidRunName(name: string): boolean {
  return RUN_NAME.test(name);
}

/** `toy:mixture` -> `toy-mixture`, `folder:/data/faces` -> `folder-faces`: a folder-name-safe label of a spec. */
export function dataSlug(spec: string): string {
  const [kind = 'data', ...rest] = spec.trim().split(':');
  const arg = rest.join(':');
  const tail = arg ? path.basename(arg.replace(/[\\/]+$/, '')) : '';
  const slug = [kind, tail].filter(Boolean).join('-').replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^[^A-Za-z0-9]+/, '');
  return slug.slice(0, 60) || 'run';
}

/** A new run's default name, `<data>-<yyyymmdd>-<hhmmss>`, with `-2`, `-3`, ... if that folder exists. */
export function defaultRunName(data: string, folder: string, now = new Date()): string {
  const p = (n: number) => String(n).padStart(2, '0');
  const stamp = `${now.getFullYear()}${p(now.getMonth() + 1)}${p(now.getDate())}-${p(now.getHours())}${p(now.getMinutes())}${p(now.getSeconds())}`;
  const base = `${dataSlug(data)}-${stamp}`;
  let name = base;
  for (let k = 2; fs.existsSync(path.join(folder, name)); k++) name = `${base}-${k}`;
  return name;
}

/** Whether a process is alive (a run's status.json records the pid of the process training it). */
function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Whether a run that says 'running' is really being trained: by a live process other than this one,
 * or by a job of this server (`trainedHere`).
 */
export function isReallyRunning(pid: number | undefined, trainedHere: boolean): boolean {
  if (trainedHere) return true;
  if (pid === undefined) return false;
  return pid !== process.pid && pidAlive(pid);
}

/** One folder's summary; never throws (a broken folder gets state 'unknown' or 'failed' and a message). */
export function summarizeRun(dir: string, jobId: string | undefined): RunSummary {
  const summary: RunSummary = {
    name: path.basename(dir), dir, state: 'unknown', step: 0, totalSteps: null, lastLoss: null, data: null, preset: null,
    dataKind: null, updatedAt: null, ...(jobId ? { jobId } : {}),
  };
  const problems: string[] = [];
  try {
    const cfg = readConfig(dir);
    summary.data = typeof cfg.dataSpec === 'string' ? cfg.dataSpec : null;
    summary.preset = typeof cfg.preset === 'string' ? cfg.preset : null;
    summary.dataKind = cfg.dataKind === 'image' || cfg.dataKind === 'points' ? cfg.dataKind : null;
    summary.totalSteps = Number.isFinite(cfg.steps) ? cfg.steps : null;
  } catch (err) {
    problems.push(fs.existsSync(path.join(dir, 'config.json')) ? (err as Error).message : 'not a High Score run (no config.json)');
  }
  const status = readStatus(dir);
  if (status && typeof status.state === 'string') {
    summary.state = (['running', 'finished', 'failed', 'stopped'] as const).find((s) => s === status.state) ?? 'unknown';
    summary.step = Number.isInteger(status.step) && status.step >= 0 ? status.step : 0;
    summary.totalSteps = Number.isFinite(status.totalSteps) ? status.totalSteps : summary.totalSteps;
    summary.lastLoss = typeof status.lastLoss === 'number' && Number.isFinite(status.lastLoss) ? status.lastLoss : null;
    summary.updatedAt = typeof status.updatedAt === 'string' ? status.updatedAt : null;
    if (typeof status.message === 'string') summary.message = status.message;
    if (summary.state === 'running' && !isReallyRunning(status.pid, jobId !== undefined)) {
      summary.state = 'stopped';
      summary.interrupted = true;
      summary.message = `Interrupted at step ${summary.step}: the process training it is gone. Resume it from its last checkpoint.`;
    }
  } else if (fs.existsSync(path.join(dir, 'config.json'))) {
    problems.push(fs.existsSync(path.join(dir, 'status.json')) ? 'status.json is unreadable' : 'no status.json');
  }
  if (problems.length) summary.message = [summary.message, ...problems].filter(Boolean).join('; ');
  return summary;
}

/**
 * The runs in `folder` (its subfolders), newest first. A missing folder gives an empty list; nothing
 * here throws. `jobOf` names the job of this server training a run folder, if any.
 */
export function listRuns(folder: string, jobOf: (dir: string) => string | undefined): RunSummary[] {
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(folder, { withFileTypes: true });
  } catch {
    return [];
  }
  const runs = entries
    .filter((e) => e.isDirectory() && !e.name.startsWith('.'))
    .map((e) => {
      const dir = path.join(folder, e.name);
      try {
        return summarizeRun(dir, jobOf(dir));
      } catch (err) {
        // summarizeRun guards each read; this is the last line of defence.
        return {
          name: e.name, dir, state: 'unknown', step: 0, totalSteps: null, lastLoss: null, data: null, preset: null,
          dataKind: null, updatedAt: null, message: `unreadable: ${(err as Error).message}`,
        } satisfies RunSummary;
      }
    });
  return runs.sort((a, b) => (b.updatedAt ?? '').localeCompare(a.updatedAt ?? '') || a.name.localeCompare(b.name));
}

/** The run's checkpoints, oldest first, from each one's state.json (unreadable ones still listed, with nulls). */
export function readCheckpoints(runDir: string): { checkpoints: CheckpointSummary[]; latest: string | null; latestSchedule?: NoiseSchedule } {
  const root = path.join(runDir, 'checkpoints');
  let names: string[] = [];
  try {
    names = fs.readdirSync(root).filter((n) => /^step-\d+$/.test(n));
  } catch { /* no checkpoints yet */ }
  names.sort((a, b) => Number(a.slice(5)) - Number(b.slice(5)));
  let latest: string | null = null;
  try {
    const l = JSON.parse(fs.readFileSync(path.join(root, 'latest.json'), 'utf8')) as { name?: unknown };
    if (typeof l.name === 'string' && names.includes(l.name)) latest = l.name;
  } catch { /* the newest folder stands in */ }
  latest ??= names[names.length - 1] ?? null;
  let latestSchedule: NoiseSchedule | undefined;
  const checkpoints = names.map((name): CheckpointSummary => {
    const dir = path.join(root, name);
    const summary: CheckpointSummary = { name, dir, step: Number(name.slice(5)), loss: null, createdAt: null };
    try {
      const state = JSON.parse(fs.readFileSync(path.join(dir, 'state.json'), 'utf8')) as { loss?: unknown; createdAt?: unknown; schedule?: NoiseSchedule };
      if (typeof state.loss === 'number') summary.loss = state.loss;
      if (typeof state.createdAt === 'string') summary.createdAt = state.createdAt;
      if (name === latest && state.schedule && Array.isArray(state.schedule.sigmas)) latestSchedule = state.schedule;
    } catch { /* listed without details */ }
    return summary;
  });
  return { checkpoints, latest, ...(latestSchedule ? { latestSchedule } : {}) };
}

/** A run's config.json, or a RunFolderError naming the folder and what is wrong with the file. */
export function readRunConfig(dir: string): RunConfig {
  try {
    return asRunConfig(readConfig(dir));
  } catch (err) {
    throw new RunFolderError(`${dir} is not a readable High Score run: ${(err as Error).message}`);
  }
}

/** A run's config, status, checkpoints, schedule and sample files. Throws a RunFolderError naming the problem. */
export function describeRun(runDir: string): CheckpointDescription {
  const dir = path.resolve(runDir);
  if (!fs.existsSync(dir)) throw new RunFolderError(`Run folder ${dir} does not exist.`);
  if (!fs.statSync(dir).isDirectory()) throw new RunFolderError(`${dir} is a file, not a run folder.`);
  const config = readRunConfig(dir);
  const { checkpoints, latest, latestSchedule } = readCheckpoints(dir);
  let samples: string[] = [];
  try {
    samples = fs.readdirSync(samplesDir(dir)).filter((f) => /\.(png|csv)$/i.test(f)).sort().map((f) => path.join(samplesDir(dir), f));
  } catch { /* none yet */ }
  return {
    runDir: dir, name: path.basename(dir), config, status: readStatus(dir) ?? null, checkpoints, latest,
    schedule: latestSchedule ?? config.schedule, samples,
  };
}
