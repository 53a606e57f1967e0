/**
 * Using a trained run: load its EMA network from the latest checkpoint, then sample, inpaint or make
 * variations. Shared by the CLI and the backend server.
 */
import { loadLatestCheckpoint, type CheckpointState } from './checkpoint';
import { takesSigma } from './network';
import { makeSchedule, type NoiseSchedule } from './schedule';
import { ScoreModel } from './score';
import { annealedLangevin, variationStart, type SampleOptions, type SampleResult } from './sampler';

export interface RunModel {
  model: ScoreModel;
  state: CheckpointState;
  checkpointDir: string;
  dispose(): void;
}

export async function loadRunModel(runDir: string): Promise<RunModel> {
  const ck = await loadLatestCheckpoint(runDir);
  // Only the EMA network is needed for sampling.
  for (const t of Object.values(ck.online)) t.dispose();
  for (const n of ck.optimizer) n.tensor.dispose();
  return {
    model: new ScoreModel(ck.ema, takesSigma(ck.state.network)),
    state: ck.state,
    checkpointDir: ck.dir,
    dispose: () => ck.ema.dispose(),
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
  return annealedLangevin(rm.model, samplingSchedule(rm.state, opts.stepsPerLevel), rm.state.dataShape, opts);
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
  return annealedLangevin(rm.model, samplingSchedule(rm.state, opts.stepsPerLevel), rm.state.dataShape, { ...opts, known: k, mask: m });
}

/** Variations of one example: n copies plus sigma_k noise, run from level k (0-based) on. */
export function vary(rm: RunModel, point: Float32Array, level: number, opts: Common): Promise<SampleResult> {
  const schedule = samplingSchedule(rm.state, opts.stepsPerLevel);
  const L = schedule.sigmas.length;
  if (!(Number.isInteger(level) && level >= 0 && level < L)) throw new RangeError(`The level must be between 1 and ${L} (got ${level + 1}).`);
  const copies = new Float32Array(point.length * opts.n);
  for (let i = 0; i < opts.n; i++) copies.set(point, i * point.length);
  const init = variationStart(copies, schedule.sigmas[level]!, (opts.seed ?? 0) + 7919);
  return annealedLangevin(rm.model, schedule, rm.state.dataShape, { ...opts, init, startLevel: level });
}
