/**
 * Using a trained run: load its EMA network from the latest checkpoint, then sample, inpaint or make
 * variations. Shared by the CLI and the backend server.
 */
import { loadLatestCheckpoint, type CheckpointState } from './checkpoint';
import { takesSigma } from './network';
import { makeSchedule, type NoiseSchedule } from './schedule';
import { ScoreModel } from './score';
import { annealedLangevin, variationStart, type SampleOptions, type SampleResult } from './sampler';
import * as tf from '@tensorflow/tfjs';
import { ParallelPool, ParallelScore, defaultWorkers, totalSize, type AsyncScoreFunction } from './parallel';

export interface RunModel {
  model: ScoreModel;
  /** What the sampler evaluates: `model` split across a data-parallel pool; absent: `model`. */
  scorer?: ScoreModel | AsyncScoreFunction;
  /** Compute threads sampling uses (absent or 1: this thread only). */
  threads?: number;
  state: CheckpointState;
  checkpointDir: string;
  dispose(): void;
}

export interface LoadOptions {
  /** Compute threads for sampling on wasm (default: parallel/pool.ts's defaultWorkers). */
  workers?: number;
}

export async function loadRunModel(runDir: string, opts: LoadOptions = {}): Promise<RunModel> {
  const ck = await loadLatestCheckpoint(runDir);
  // Only the EMA network is needed for sampling.
  for (const t of Object.values(ck.online)) t.dispose();
  for (const n of ck.optimizer) n.tensor.dispose();
  const model = new ScoreModel(ck.ema, takesSigma(ck.state.network));
  const kind = ck.state.dataShape.length === 3 ? 'image' : 'points';
  const wanted = tf.getBackend() === 'wasm' ? defaultWorkers(kind, opts.workers) : 1;
  let pool: ParallelPool | undefined;
  if (wanted > 1) {
    try {
      pool = await ParallelPool.start(
        { threads: wanted, shape: ck.state.dataShape, network: ck.state.network, backend: 'wasm' }, totalSize(ck.ema.trainableWeights.map((w) => w.read())));
    } catch {
      // No helpers (a missing helper script, a thread limit): sampling works on this thread alone.
      pool = undefined;
    }
  }
  return {
    model, scorer: pool ? new ParallelScore(model, pool) : model, threads: pool?.threads ?? 1,
    state: ck.state,
    checkpointDir: ck.dir,
    dispose: () => {
      void pool?.close();
      ck.ema.dispose();
    },
  };
}

/** The run's schedule, optionally with another T (eps re-derived by technique 4). */
export function samplingSchedule(state: CheckpointState, stepsPerLevel?: number): NoiseSchedule {
  const s = state.schedule;
  if (stepsPerLevel === undefined || stepsPerLevel === s.stepsPerLevel) return s;
  return makeSchedule(s.D, { sigmas: s.sigmas, stepsPerLevel });
}

type Common = Omit<SampleOptions, 'init' | 'known' | 'mask' | 'startLevel'> & { stepsPerLevel?: number };

export function sample(rm: RunModel, opts: Common): Promise<SampleResult> {
  return annealedLangevin(rm.scorer ?? rm.model, samplingSchedule(rm.state, opts.stepsPerLevel), rm.state.dataShape, opts);
}

/** Inpainting: `known` is one example, `mask` (1 = known) one example's shape; `n` completions are drawn. */
export function inpaint(rm: RunModel, known: Float32Array, mask: Float32Array, opts: Common): Promise<SampleResult> {
  const size = known.length;
  const k = new Float32Array(size * opts.n);
  const m = new Float32Array(size * opts.n);
  for (let i = 0; i < opts.n; i++) {
    k.set(known, i * size);
    m.set(mask, i * size);
  }
  return annealedLangevin(rm.scorer ?? rm.model, samplingSchedule(rm.state, opts.stepsPerLevel), rm.state.dataShape, { ...opts, known: k, mask: m });
}

/** Variations of one example: n copies plus sigma_k noise, run from level k (0-based) on. */
export function vary(rm: RunModel, point: Float32Array, level: number, opts: Common): Promise<SampleResult> {
  const schedule = samplingSchedule(rm.state, opts.stepsPerLevel);
  const L = schedule.sigmas.length;
  if (!(Number.isInteger(level) && level >= 0 && level < L)) throw new RangeError(`The level must be between 1 and ${L} (got ${level + 1}).`);
  const copies = new Float32Array(point.length * opts.n);
  for (let i = 0; i < opts.n; i++) copies.set(point, i * point.length);
  const init = variationStart(copies, schedule.sigmas[level]!, (opts.seed ?? 0) + 7919);
  return annealedLangevin(rm.scorer ?? rm.model, schedule, rm.state.dataShape, { ...opts, init, startLevel: level });
}
