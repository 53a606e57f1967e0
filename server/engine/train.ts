/**
 * Training: denoising score matching (loss.ts) with Adam, gradient-norm clipping, an EMA of the weights
 * (NCSNv2 technique 5) and the loss tracked per noise level. Guards from SCORE-MODELS.md's measured
 * failure: a NaN/Inf loss stops the run and names the step; a spike (loss far above its running
 * median) skips the update; a collapse (loss back at D/2 on every level) restores the last good
 * checkpoint with half the learning rate. Every event is reported in plain words.
 */
import * as tf from '@tensorflow/tfjs';
import * as fs from 'fs';
import * as path from 'path';
import type { Dataset } from './datasets/types';
import { exampleSize } from './datasets/types';
import { buildNetwork, getPreset, takesSigma, DEFAULT_IMAGE_PRESET, DEFAULT_POINTS_PRESET } from './network';
import { makeSchedule, sigmaMaxFromData, type NoiseSchedule, type ScheduleOptions } from './schedule';
import { ScoreModel } from './score';
import { dsmLoss } from './loss';
import { sampleWith, type Implementation } from './implementation';
import { Rng } from './random';
import { annealedLangevin, CancelledError } from './sampler';
import {
  CHECKPOINT_FORMAT, CHECKPOINT_VERSION, listCheckpoints, loadLatestCheckpoint, saveCheckpoint,
  type CheckpointState, type LoadedCheckpoint,
} from './checkpoint';
import {
  appendMetrics, readConfig, samplesDir, truncateMetrics, writeConfig, writeStatus,
  type EventRecord, type MetricsRecord, type RunState, type StepMetrics, type TrainConfig,
} from './run';
import { writeSamples } from './output';
import { ParallelPool, ParallelScore, defaultWorkers, sumSquares, totalSize } from './parallel';

export class TrainingError extends Error {
  constructor(message: string, readonly step?: number) {
    super(message);
    this.name = 'TrainingError';
  }
}

export interface TrainOptions {
  runDir: string;
  dataset: Dataset;
  /** The backend in use, recorded in the config. */
  backend: string;
  preset?: string;
  steps?: number;
  batch?: number;
  learningRate?: number;
  seed?: number;
  emaDecay?: number;
  gradClip?: number;
  checkpointEvery?: number;
  /** Sample a preview grid from the EMA weights every this many steps (0: only at the end). */
  sampleEvery?: number;
  logEvery?: number;
  /** Noise schedule settings; sigma_1 comes from the data (technique 1) unless given. */
  schedule?: ScheduleOptions;
  /** Continue the run in runDir from its latest checkpoint (steps: the new total). */
  resume?: boolean;
  /** Number of preview samples. */
  previewCount?: number;
  onProgress?: (m: StepMetrics) => void;
  onEvent?: (e: EventRecord) => void;
  onSample?: (s: { step: number; data: Float32Array; n: number; shape: number[]; file: string }) => void;
  /** Plain-words notes that are not run events (e.g. how many threads compute). */
  onInfo?: (message: string) => void;
  /**
   * Compute threads for data parallelism on wasm (this thread plus workers - 1 helpers); default
   * HIGHSCORE_WORKERS, else min(2, cores) for images and 1 for 2D points (parallel/pool.ts).
   */
  workers?: number;
  /** Another implementation's loss, noise ladder and sampler (the student's); one thread then. */
  implementation?: Implementation;
  signal?: AbortSignal;
}

export interface TrainResult {
  state: RunState;
  step: number;
  lastLoss: number | null;
  message: string;
  /** Compute threads used (1: no data parallelism). */
  threads: number;
}

/** One step's gradient, before the guards decide whether to apply it. */
interface ComputedStep {
  loss: number;
  norm: number;
  perEx: ArrayLike<number>;
  /** Clips and applies the Adam step. */
  apply(): void;
  /** Drops the gradient (a guard skipped the update). */
  discard(): void;
}

const now = () => new Date().toISOString();
const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Default T: image ladders are long (about 100 levels), the 2D ones short, so they mix with more steps. */
export function defaultStepsPerLevel(kind: Dataset['kind']): number {
  return kind === 'points' ? 100 : 5;
}

/** The run's schedule: technique 1 on the data for sigma_1, then techniques 2 and 4. */
export async function scheduleForData(dataset: Dataset, opts: ScheduleOptions = {}, seed = 0): Promise<NoiseSchedule> {
  const D = exampleSize(dataset.shape);
  const T = opts.stepsPerLevel ?? defaultStepsPerLevel(dataset.kind);
  const ladder = opts.sigmas || opts.levels !== undefined ? undefined : dataset.toy?.ladder;
  if (ladder) opts = { sigmaMin: ladder.sigmaMin, levels: ladder.levels, ...opts };
  if (opts.sigmas) return makeSchedule(D, { ...opts, stepsPerLevel: T });
  const sigmaMax = opts.sigmaMax ?? await sigmaMaxFromData(dataset.data, dataset.size, D, { seed });
  const schedule = makeSchedule(D, { ...opts, sigmaMax, stepsPerLevel: T });
  if (opts.sigmaMax === undefined) schedule.diagnostics.sources.sigmaMax = 'data';
  if (ladder) schedule.diagnostics.sources.levels = 'dataset-default';
  return schedule;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.floor(s.length / 2)]! : NaN;
}

function validateNumbers(o: TrainOptions): void {
  const intAtLeast = (name: string, v: number | undefined, min: number) => {
    if (v !== undefined && !(Number.isInteger(v) && v >= min)) throw new TrainingError(`${name} must be an integer of at least ${min} (got ${v}).`);
  };
  intAtLeast('steps', o.steps, 1);
  intAtLeast('batch', o.batch, 1);
  intAtLeast('checkpointEvery', o.checkpointEvery, 1);
  intAtLeast('sampleEvery', o.sampleEvery, 0);
  intAtLeast('logEvery', o.logEvery, 1);
  intAtLeast('seed', o.seed, 0);
  if (o.learningRate !== undefined && !(o.learningRate > 0 && o.learningRate < 1)) {
    throw new TrainingError(`The learning rate must be in (0, 1) (got ${o.learningRate}); NCSNv2 uses 1e-4.`);
  }
  if (o.emaDecay !== undefined && !(o.emaDecay >= 0 && o.emaDecay < 1)) throw new TrainingError(`The EMA decay must be in [0, 1) (got ${o.emaDecay}).`);
  if (o.gradClip !== undefined && !(o.gradClip > 0)) throw new TrainingError(`The gradient clip must be positive (got ${o.gradClip}).`);
}

async function newConfig(o: TrainOptions): Promise<TrainConfig> {
  const ds = o.dataset;
  const presetName = o.preset ?? (ds.kind === 'points' ? DEFAULT_POINTS_PRESET : DEFAULT_IMAGE_PRESET);
  const preset = getPreset(presetName);
  const seed = o.seed ?? 0;
  const steps = o.steps ?? 2000;
  let schedule = await scheduleForData(ds, o.schedule, seed);
  const impl = o.implementation;
  if (impl) {
    // The implementation's ladder between the same ends; eps re-derived for it (technique 4).
    const sig = schedule.sigmas;
    schedule = makeSchedule(schedule.D, { sigmas: impl.sigmas(sig[0]!, sig[sig.length - 1]!, sig.length), stepsPerLevel: schedule.stepsPerLevel });
  }
  return {
    dataSpec: ds.spec, dataShape: ds.shape, dataKind: ds.kind, preset: presetName, network: preset.network,
    parameters: 0, schedule, steps, ...(impl ? { implementation: impl.file } : {}),
    batch: o.batch ?? preset.batch, learningRate: o.learningRate ?? preset.learningRate,
    emaDecay: o.emaDecay ?? preset.emaDecay ?? 0.999, gradClip: o.gradClip ?? 1.0, seed,
    checkpointEvery: o.checkpointEvery ?? Math.max(1, Math.min(500, Math.ceil(steps / 4))),
    sampleEvery: o.sampleEvery ?? 0, logEvery: o.logEvery ?? (ds.kind === 'points' ? 50 : 10),
    backend: o.backend, createdAt: now(),
  };
}

/** The in-memory state of a training run. */
class Trainer {
  readonly online: tf.LayersModel;
  readonly ema: tf.LayersModel;
  readonly model: ScoreModel;
  readonly emaModel: ScoreModel;
  optimizer: tf.Optimizer;
  readonly rng: Rng;
  readonly sigmas: tf.Tensor1D;
  step = 0;
  learningRate: number;
  recentLosses: number[] = [];
  lastCheckpointStep = -1;

  constructor(readonly cfg: TrainConfig) {
    this.online = buildNetwork(cfg.dataShape, cfg.network, cfg.seed);
    this.ema = buildNetwork(cfg.dataShape, cfg.network, cfg.seed);
    this.ema.setWeights(this.online.getWeights());
    this.model = new ScoreModel(this.online, takesSigma(cfg.network));
    this.emaModel = new ScoreModel(this.ema, takesSigma(cfg.network));
    this.learningRate = cfg.learningRate;
    this.optimizer = tf.train.adam(cfg.learningRate);
    this.rng = new Rng(cfg.seed);
    this.sigmas = tf.tensor1d(cfg.schedule.sigmas);
  }

  /** Puts weights, optimizer and RNG back to a checkpoint's. */
  async restore(ck: LoadedCheckpoint): Promise<void> {
    const online = this.online.weights.map((w) => {
      const t = ck.online[w.originalName];
      if (!t) throw new TrainingError(`Checkpoint ${ck.dir} has no weight '${w.originalName}': it belongs to a different network.`);
      return t;
    });
    this.online.setWeights(online);
    this.ema.setWeights(ck.ema.getWeights());
    this.optimizer.dispose();
    this.learningRate = ck.state.training.learningRate;
    this.optimizer = tf.train.adam(this.learningRate);
    await this.optimizer.setWeights(ck.optimizer);
    this.rng.setState(ck.state.training.rngState);
    this.recentLosses = [...ck.state.training.recentLosses];
    this.step = ck.state.step;
    this.lastCheckpointStep = ck.state.step;
  }

  dispose(): void {
    this.online.dispose();
    this.ema.dispose();
    this.optimizer.dispose();
    this.sigmas.dispose();
  }
}

function disposeCheckpoint(ck: LoadedCheckpoint): void {
  ck.ema.dispose();
  tf.dispose(Object.values(ck.online));
  tf.dispose(ck.optimizer.map((n) => n.tensor));
}

/**
 * Trains (or resumes) the run in `runDir`. Returns when the steps are done, the signal aborts (state
 * 'stopped', after a checkpoint), or a guard stops it (state 'failed'; the last good checkpoint stays).
 */
export async function train(o: TrainOptions): Promise<TrainResult> {
  validateNumbers(o);
  const runDir = path.resolve(o.runDir);
  let cfg: TrainConfig;
  let resumeFrom: LoadedCheckpoint | undefined;
  if (o.resume) {
    cfg = readConfig(runDir);
    if (cfg.dataSpec !== o.dataset.spec) {
      throw new TrainingError(`Run ${runDir} was trained on '${cfg.dataSpec}', not '${o.dataset.spec}'. Resume it with --data ${cfg.dataSpec}.`);
    }
    resumeFrom = await loadLatestCheckpoint(runDir);
    // What may change on resume: the length and the bookkeeping intervals (not the model or the data).
    if (o.steps !== undefined) cfg.steps = o.steps;
    if (o.checkpointEvery !== undefined) cfg.checkpointEvery = o.checkpointEvery;
    if (o.sampleEvery !== undefined) cfg.sampleEvery = o.sampleEvery;
    if (o.logEvery !== undefined) cfg.logEvery = o.logEvery;
    cfg.backend = o.backend;
  } else {
    if (fs.existsSync(path.join(runDir, 'config.json')) || listCheckpoints(runDir).length) {
      throw new TrainingError(`${runDir} already holds a run. Resume it (highscore train --resume --out ${runDir}) or choose another --out folder; nothing was overwritten.`);
    }
    cfg = await newConfig(o);
  }
  const D = exampleSize(cfg.dataShape);
  if (exampleSize(o.dataset.shape) !== D) throw new TrainingError(`The data shape [${o.dataset.shape}] does not match the run's [${cfg.dataShape}].`);

  const tr = new Trainer(cfg);
  cfg.parameters = tr.online.countParams();
  fs.mkdirSync(runDir, { recursive: true });
  const pending: MetricsRecord[] = [];
  const event = (kind: EventRecord['kind'], message: string) => {
    const e: EventRecord = { type: 'event', step: tr.step, kind, message, time: now() };
    pending.push(e);
    o.onEvent?.(e);
  };
  if (resumeFrom) {
    await tr.restore(resumeFrom);
    disposeCheckpoint(resumeFrom);
    truncateMetrics(runDir, tr.step);
    event('resume', `Resumed from the checkpoint at step ${tr.step}.`);
  }
  writeConfig(runDir, cfg);

  const L = cfg.schedule.sigmas.length;
  const ds = o.dataset;
  const shape = cfg.dataShape;
  const status = (state: RunState, lastLoss: number | null, message?: string) =>
    writeStatus(runDir, { state, step: tr.step, totalSteps: cfg.steps, lastLoss, pid: process.pid, ...(message ? { message } : {}) });

  const checkpoint = async (loss: number | null) => {
    const state: CheckpointState = {
      format: CHECKPOINT_FORMAT, version: CHECKPOINT_VERSION, step: tr.step, createdAt: now(),
      dataSpec: cfg.dataSpec, dataShape: shape, network: cfg.network, schedule: cfg.schedule, loss,
      training: { rngState: tr.rng.getState(), emaDecay: cfg.emaDecay, recentLosses: tr.recentLosses.slice(-100), learningRate: tr.learningRate },
    };
    await saveCheckpoint(runDir, { online: tr.online, ema: tr.ema, optimizer: tr.optimizer, state });
    tr.lastCheckpointStep = tr.step;
    event('checkpoint', `Checkpoint saved at step ${tr.step}.`);
  };

  const preview = async () => {
    const n = o.previewCount ?? (ds.kind === 'points' ? 1000 : 16);
    // The EMA weights go to the helpers (the next training step writes the online ones back).
    const model = pool && n > 1 ? new ParallelScore(tr.emaModel, pool) : tr.emaModel;
    const samples = o.implementation
      ? await sampleWith(o.implementation, tr.emaModel, cfg.schedule, shape, n, cfg.seed + tr.step)
      : (await annealedLangevin(model, cfg.schedule, shape, { n, seed: cfg.seed + tr.step, ...(o.signal ? { signal: o.signal } : {}) })).samples;
    const file = writeSamples(path.join(samplesDir(runDir), `step-${String(tr.step).padStart(6, '0')}`), samples, n, shape);
    event('sample', `Samples from the EMA weights at step ${tr.step}: ${path.relative(runDir, file)}`);
    o.onSample?.({ step: tr.step, data: samples, n, shape, file });
  };

  // Per-window accumulators.
  const levelSum = new Float64Array(L);
  const levelCount = new Uint32Array(L);
  let windowLoss = 0;
  let windowSteps = 0;
  let windowGrad = 0;
  let windowStart = Date.now();
  let stepsPerSec = 0;
  let lastLoss: number | null = null;
  let bestWindowLoss = Infinity;
  let consecutiveSpikes = 0;
  let collapses = 0;
  const batchData = new Float32Array(cfg.batch * D);
  const levelIdx = new Int32Array(cfg.batch);
  const vars = tr.online.trainableWeights.map((w) => w.read() as tf.Variable);

  const restoreLastGood = async (why: string): Promise<boolean> => {
    if (tr.lastCheckpointStep < 0) return false;
    const ck = await loadLatestCheckpoint(runDir);
    const newLr = tr.learningRate / 2;
    await tr.restore(ck);
    disposeCheckpoint(ck);
    tr.learningRate = newLr;
    tr.optimizer.dispose();
    tr.optimizer = tf.train.adam(newLr);
    event('restore', `${why} Restored the checkpoint at step ${tr.step} and halved the learning rate to ${newLr.toExponential(1)}.`);
    return true;
  };

  /** The step on this thread alone: everything stays in TF.js until the three scalars are read. */
  const singleStep = async (noiseSeed: number): Promise<ComputedStep> => {
    let perEx: tf.Tensor1D | undefined;
    const { loss, norm, grads } = tf.tidy(() => {
      const x = tf.tensor(batchData, [cfg.batch, ...shape]);
      const sig = tf.gather(tr.sigmas, tf.tensor1d(levelIdx, 'int32')) as tf.Tensor1D;
      const z = tf.randomNormal(x.shape, 0, 1, 'float32', noiseSeed);
      const { value, grads } = tf.variableGrads(() => {
        const l = o.implementation ? o.implementation.loss((xs, s) => tr.model.output(xs, s, true), x, sig, z) : dsmLoss(tr.model, x, sig, z);
        perEx = tf.keep(l);
        return l.mean() as tf.Scalar;
      }, vars);
      const list = vars.map((v) => grads[v.name]!);
      // Summed pairwise, not with tf.addN: WebGPU's AddN binds every input at once, and a network has more
      // weight tensors than a shader stage may bind (8 by default).
      const norm = tf.sqrt(list.map((g) => g.square().sum()).reduce((a, b) => a.add(b)));
      const scale = tf.minimum(1, tf.div(cfg.gradClip, norm.add(1e-12)));
      const clipped: tf.NamedTensorMap = {};
      for (const v of vars) clipped[v.name] = grads[v.name]!.mul(scale);
      return { loss: value, norm, grads: clipped };
    });
    const [lossValue, normValue] = [(await loss.data())[0]!, (await norm.data())[0]!];
    const perExValues = await perEx!.data();
    tf.dispose([loss, norm, perEx!]);
    return {
      loss: lossValue, norm: normValue, perEx: perExValues,
      apply: () => {
        tr.optimizer.applyGradients(grads);
        tf.dispose(Object.values(grads));
      },
      discard: () => tf.dispose(Object.values(grads)),
    };
  };

  // Data parallelism (wasm only: native TensorFlow threads by itself): this thread and the pool's
  // helpers each take a share of the batch; the draws, the clipping and the one Adam step stay here.
  let pool: ParallelPool | undefined;
  const wanted = tf.getBackend() === 'wasm' && !o.implementation ? Math.min(defaultWorkers(cfg.dataKind === 'points' ? 'points' : 'image', o.workers), cfg.batch) : 1;
  if (wanted > 1) {
    try {
      pool = await ParallelPool.start({ threads: wanted, shape, network: cfg.network, backend: 'wasm', capacity: cfg.batch }, totalSize(vars));
      o.onInfo?.(`Training on ${wanted} threads (data parallel: the batch of ${cfg.batch} is split between them).`);
    } catch (err) {
      o.onInfo?.(`Data-parallel helpers failed to start (${(err as Error).message}); training on one thread.`);
    }
  }
  const flatGrad = new Float32Array(totalSize(vars));
  const zData = new Float32Array(cfg.batch * D);
  const sigData = new Float32Array(cfg.batch);
  const parallelStep = async (noiseSeed: number): Promise<ComputedStep> => {
    // The same draws as the single-thread step (the noise from the same seeded op), so the update
    // does not depend on the thread count.
    const z = tf.randomNormal([cfg.batch, ...shape], 0, 1, 'float32', noiseSeed);
    zData.set((await z.data()) as Float32Array);
    z.dispose();
    for (let b = 0; b < cfg.batch; b++) sigData[b] = cfg.schedule.sigmas[levelIdx[b]!]!;
    await pool!.writeParams(vars);
    const perEx = await pool!.gradients(tr.model, vars, batchData, zData, sigData, flatGrad);
    let sum = 0;
    for (let b = 0; b < cfg.batch; b++) sum += perEx[b]!;
    const norm = Math.sqrt(sumSquares(flatGrad));
    return {
      loss: sum / cfg.batch, norm, perEx,
      apply: () => {
        const scale = Math.min(1, cfg.gradClip / (norm + 1e-12));
        const grads: tf.NamedTensorMap = {};
        let off = 0;
        for (const v of vars) {
          const g = flatGrad.subarray(off, off + v.size);
          if (scale < 1) for (let i = 0; i < g.length; i++) g[i] = g[i]! * scale;
          grads[v.name] = tf.tensor(g, v.shape);
          off += v.size;
        }
        tr.optimizer.applyGradients(grads);
        tf.dispose(Object.values(grads));
      },
      discard: () => undefined,
    };
  };

  try {
    // Inside the try: whatever fails from here on, `finally` ends the pool's helper threads.
    status('running', null);
    if (tr.step === 0) await checkpoint(null); // a first good state to fall back on
    while (tr.step < cfg.steps) {
      if (o.signal?.aborted) throw new CancelledError('Training');
      // Batch: examples drawn with replacement, a noise level per example, all from the seeded stream.
      for (let b = 0; b < cfg.batch; b++) {
        const i = tr.rng.int(ds.size);
        batchData.set(ds.data.subarray(i * D, (i + 1) * D), b * D);
        levelIdx[b] = tr.rng.int(L);
      }
      const noiseSeed = tr.rng.seed();
      const computed = pool ? await parallelStep(noiseSeed) : await singleStep(noiseSeed);
      const { loss: lossValue, norm: normValue, perEx: perExValues } = computed;

      if (!Number.isFinite(lossValue) || !Number.isFinite(normValue)) {
        computed.discard();
        const msg = `The loss became ${Number.isNaN(lossValue) ? 'NaN' : 'infinite'} at step ${tr.step + 1}. Training stopped; ` +
          `the last good checkpoint (step ${tr.lastCheckpointStep}) is kept. ` +
          (o.implementation ? o.implementation.nanHint : `Lower the learning rate (now ${tr.learningRate}) and resume.`);
        event('nan', msg);
        status('failed', lastLoss, msg);
        return { state: 'failed', step: tr.step, lastLoss, message: msg, threads: pool?.threads ?? 1 };
      }
      const med = median(tr.recentLosses);
      if (tr.recentLosses.length >= 50 && lossValue > 10 * med) {
        computed.discard();
        consecutiveSpikes++;
        event('spike', `Loss spike at step ${tr.step + 1}: ${lossValue.toPrecision(4)}, over 10x the recent median ${med.toPrecision(4)}. The update was skipped.`);
        if (consecutiveSpikes >= 20 && !(await restoreLastGood(`${consecutiveSpikes} spikes in a row.`))) {
          throw new TrainingError(`${consecutiveSpikes} loss spikes in a row at step ${tr.step + 1} and no checkpoint to go back to. Lower the learning rate.`, tr.step);
        }
        if (consecutiveSpikes >= 20) consecutiveSpikes = 0;
        await yieldToEventLoop();
        continue;
      }
      consecutiveSpikes = 0;
      computed.apply();
      tr.step++;
      // EMA (technique 5) with the usual warm-up, updated in place.
      const decay = Math.min(cfg.emaDecay, (1 + tr.step) / (10 + tr.step));
      tf.tidy(() => {
        tr.ema.weights.forEach((w, k) => {
          const v = w.read() as tf.Variable;
          v.assign(v.mul(decay).add(tr.online.weights[k]!.read().mul(1 - decay)));
        });
      });
      tr.recentLosses.push(lossValue);
      if (tr.recentLosses.length > 100) tr.recentLosses.shift();
      for (let b = 0; b < cfg.batch; b++) {
        levelSum[levelIdx[b]!] += perExValues[b]!;
        levelCount[levelIdx[b]!]++;
      }
      windowLoss += lossValue;
      windowGrad += normValue;
      windowSteps++;
      lastLoss = lossValue;

      if (tr.step % cfg.logEvery === 0 || tr.step === cfg.steps) {
        const elapsed = (Date.now() - windowStart) / 1000;
        const rate = windowSteps / Math.max(elapsed, 1e-6);
        stepsPerSec = stepsPerSec ? 0.7 * stepsPerSec + 0.3 * rate : rate;
        const perLevel = Array.from(levelSum, (s, i) => (levelCount[i] ? s / levelCount[i]! : null));
        const m: StepMetrics = {
          type: 'step', step: tr.step, loss: windowLoss / windowSteps, perLevel, gradNorm: windowGrad / windowSteps,
          stepsPerSec, etaSec: (cfg.steps - tr.step) / stepsPerSec, time: now(),
        };
        pending.push(m);
        o.onProgress?.(m);
        // Collapse: the network outputs ~0 again, so every level's loss sits at D/2, after having learned.
        bestWindowLoss = Math.min(bestWindowLoss, m.loss);
        const atHalfD = perLevel.every((v) => v === null || Math.abs(v - D / 2) < 0.05 * (D / 2));
        if (bestWindowLoss < 0.6 * (D / 2) && atHalfD && perLevel.filter((v) => v !== null).length >= Math.min(L, 3)) {
          collapses++;
          const why = `The model collapsed at step ${tr.step}: the loss is back at D/2 = ${D / 2} on every noise level (the network outputs zeros).`;
          event('collapse', why);
          if (collapses > 2 || !(await restoreLastGood(why))) {
            const msg = `${why} Training stopped; the last good checkpoint (step ${tr.lastCheckpointStep}) is kept. Lower the learning rate and resume.`;
            status('failed', lastLoss, msg);
            return { state: 'failed', step: tr.step, lastLoss, message: msg, threads: pool?.threads ?? 1 };
          }
        }
        levelSum.fill(0);
        levelCount.fill(0);
        windowLoss = windowGrad = windowSteps = 0;
        windowStart = Date.now();
        appendMetrics(runDir, pending.splice(0));
        status('running', lastLoss);
      }
      if (tr.step % cfg.checkpointEvery === 0 && tr.step !== cfg.steps) await checkpoint(lastLoss);
      if (cfg.sampleEvery > 0 && tr.step % cfg.sampleEvery === 0 && tr.step !== cfg.steps) await preview();
      appendMetrics(runDir, pending.splice(0));
      await yieldToEventLoop();
    }
    await checkpoint(lastLoss);
    await preview();
    const msg = `Finished ${cfg.steps} steps; last loss ${lastLoss?.toPrecision(4) ?? 'n/a'}.`;
    event('finish', msg);
    appendMetrics(runDir, pending.splice(0));
    status('finished', lastLoss, msg);
    return { state: 'finished', step: tr.step, lastLoss, message: msg, threads: pool?.threads ?? 1 };
  } catch (err) {
    if (err instanceof CancelledError) {
      if (tr.step !== tr.lastCheckpointStep) await checkpoint(lastLoss);
      const msg = `Stopped at step ${tr.step}; checkpoint saved. Resume with: highscore train --resume --out ${runDir}`;
      event('stop', msg);
      appendMetrics(runDir, pending.splice(0));
      status('stopped', lastLoss, msg);
      return { state: 'stopped', step: tr.step, lastLoss, message: msg, threads: pool?.threads ?? 1 };
    }
    const msg = `Training failed at step ${tr.step}: ${(err as Error).message}`;
    appendMetrics(runDir, pending.splice(0));
    status('failed', lastLoss, msg);
    throw err;
  } finally {
    await pool?.close();
    tr.dispose();
  }
}
