/**
 * Annealed Langevin dynamics (Song & Ermon 2019, with the Improved paper's step size):
 *   for i = 1..L: alpha_i = eps sigma_i^2 / sigma_L^2
 *     repeat T times: x <- x + alpha_i s(x, sigma_i) + sqrt(2 alpha_i) z
 *   then the final denoising step x <- x + sigma_L^2 s(x, sigma_L).
 * Also inpainting (NCSN: known pixels re-imposed with level-i noise after every step) and variations
 * (start from data plus sigma_k noise and run the levels from k on: ncsnv2's `data_init`).
 */
import * as tf from '@tensorflow/tfjs';
import type { NoiseSchedule } from './schedule';
import { stepSize } from './schedule';
import type { ScoreFunction } from './score';
import type { AsyncScoreFunction } from './parallel/score';
import { Rng } from './random';

export interface LangevinProgress {
  /** 0-based level being run. */
  level: number;
  levels: number;
  sigma: number;
  alpha: number;
  /** Network evaluations done and in all. */
  done: number;
  total: number;
  /** Mean per-example norms of the score term alpha s and the noise term sqrt(2 alpha) z at the level's last step. */
  scoreNorm: number;
  noiseNorm: number;
}

export interface Snapshot {
  level: number;
  sigma: number;
  alpha: number;
  scoreNorm: number;
  noiseNorm: number;
  data: Float32Array;
}

export interface SampleOptions {
  n: number;
  seed?: number;
  /** The final denoising step (on by default: it matters for sample quality). */
  denoise?: boolean;
  /** How many snapshots to keep along the chain (evenly over the levels), besides the final result. */
  snapshots?: number;
  /** Start at this 0-based level (variations); default 0. */
  startLevel?: number;
  /** Initial points [n, ...shape] instead of N(0, sigma_start^2) (variations pass data + noise). */
  init?: Float32Array;
  /** Inpainting: the known values and a mask (1 = known), both [n, ...shape]. */
  known?: Float32Array;
  mask?: Float32Array;
  onProgress?: (p: LangevinProgress) => void;
  /** Called as each snapshot is taken (before that level's onProgress); its data is a plain copy, no tensor. */
  onSnapshot?: (s: Snapshot) => void;
  signal?: AbortSignal;
}

export interface SampleResult {
  samples: Float32Array;
  snapshots: Snapshot[];
}

export class CancelledError extends Error {
  constructor(what = 'Sampling') {
    super(`${what} was cancelled.`);
    this.name = 'CancelledError';
  }
}

const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Mean per-example L2 norm of a [B, ...] tensor. */
function meanNorm(t: tf.Tensor): tf.Scalar {
  return tf.tidy(() => t.reshape([t.shape[0]!, -1]).square().sum(1).sqrt().mean() as tf.Scalar);
}

export async function annealedLangevin(model: ScoreFunction | AsyncScoreFunction, schedule: NoiseSchedule, shape: number[], opts: SampleOptions): Promise<SampleResult> {
  const { sigmas, stepsPerLevel: T } = schedule;
  const L = sigmas.length;
  const start = opts.startLevel ?? 0;
  if (!(Number.isInteger(start) && start >= 0 && start < L)) throw new RangeError(`The start level must be an integer in 0..${L - 1} (got ${start}).`);
  if (!(Number.isInteger(opts.n) && opts.n >= 1)) throw new RangeError(`The number of samples must be a positive integer (got ${opts.n}).`);
  const full = [opts.n, ...shape];
  const size = full.reduce((a, b) => a * b, 1);
  for (const [name, arr] of [['init', opts.init], ['known', opts.known], ['mask', opts.mask]] as const) {
    if (arr && arr.length !== size) throw new RangeError(`${name} has ${arr.length} values; expected ${size} for [${full}].`);
  }
  if ((opts.known === undefined) !== (opts.mask === undefined)) throw new RangeError('Inpainting needs both the known values and the mask.');
  const rng = new Rng(opts.seed ?? 0);
  const total = (L - start) * T + (opts.denoise === false ? 0 : 1);
  const snapshotLevels = new Set<number>();
  const nSnap = Math.max(0, Math.min(opts.snapshots ?? 0, L - start));
  for (let k = 0; k < nSnap; k++) snapshotLevels.add(start + Math.floor(((k + 1) * (L - start)) / nSnap) - 1);

  const known = opts.known ? tf.tensor(opts.known, full) : undefined;
  const mask = opts.mask ? tf.tensor(opts.mask, full) : undefined;
  // Initial samples: N(0, sigma_start^2), or the given points.
  let x: tf.Tensor = opts.init ? tf.tensor(opts.init, full) : tf.randomNormal(full, 0, sigmas[start]!, 'float32', rng.seed());
  const snapshots: Snapshot[] = [];
  let done = 0;
  try {
    for (let i = start; i < L; i++) {
      const sigma = sigmas[i]!;
      const alpha = stepSize(schedule, i);
      // Inpainting: the known part at this level's noise, drawn once per level.
      const y = known && mask ? tf.tidy(() => known.add(tf.randomNormal(full, 0, sigma, 'float32', rng.seed()))) : undefined;
      const impose = (t: tf.Tensor) => (y && mask ? t.mul(tf.scalar(1).sub(mask)).add(y.mul(mask)) : t);
      if (y) {
        const prev = x;
        x = tf.tidy(() => impose(prev));
        prev.dispose();
      }
      let norms: tf.Tensor | undefined;
      for (let t = 0; t < T; t++) {
        if (opts.signal?.aborted) throw new CancelledError();
        const prev = x;
        const last = t === T - 1;
        // A data-parallel score (parallel/score.ts) is awaited: its shares run on other threads.
        const score = 'scoreAsync' in model && model.scoreAsync ? await model.scoreAsync(prev, sigma) : undefined;
        const out = tf.tidy(() => {
          const drift = (score ?? model.score(prev, sigma)).mul(alpha);
          const noise = tf.randomNormal(full, 0, Math.sqrt(2 * alpha), 'float32', rng.seed());
          const next = impose(prev.add(drift).add(noise));
          return last ? [next, tf.stack([meanNorm(drift), meanNorm(noise)])] : [next];
        });
        score?.dispose();
        x = out[0]!;
        if (last) norms = out[1];
        prev.dispose();
        done++;
        await yieldToEventLoop();
      }
      y?.dispose();
      const [scoreNorm, noiseNorm] = norms ? Array.from(await norms.data()) : [NaN, NaN];
      norms?.dispose();
      if (snapshotLevels.has(i)) {
        // A copy: what a backend's read returns may be the tensor's own storage.
        const snap: Snapshot = { level: i, sigma, alpha, scoreNorm: scoreNorm!, noiseNorm: noiseNorm!, data: Float32Array.from(await x.data()) };
        snapshots.push(snap);
        opts.onSnapshot?.(snap);
      }
      opts.onProgress?.({ level: i, levels: L, sigma, alpha, done, total, scoreNorm: scoreNorm!, noiseNorm: noiseNorm! });
    }
    if (opts.denoise !== false) {
      // Final denoising step (Tweedie): x + sigma_L^2 s(x, sigma_L).
      const sL = sigmas[L - 1]!;
      const prev = x;
      const score = 'scoreAsync' in model && model.scoreAsync ? await model.scoreAsync(prev, sL) : undefined;
      x = tf.tidy(() => prev.add((score ?? model.score(prev, sL)).mul(sL * sL)));
      score?.dispose();
      prev.dispose();
      done++;
    }
    if (known && mask) {
      const prev = x;
      x = tf.tidy(() => prev.mul(tf.scalar(1).sub(mask)).add(known.mul(mask)));
      prev.dispose();
    }
    const samples = (await x.data()) as Float32Array;
    return { samples, snapshots };
  } finally {
    x.dispose();
    known?.dispose();
    mask?.dispose();
  }
}

/** Variations (ncsnv2 `data_init`): points plus N(0, sigma_k^2) noise, then the levels from k on. */
export function variationStart(points: Float32Array, sigma: number, seed: number): Float32Array {
  const rng = new Rng(seed);
  const out = new Float32Array(points.length);
  for (let i = 0; i < points.length; i++) out[i] = points[i]! + sigma * rng.normal();
  return out;
}
