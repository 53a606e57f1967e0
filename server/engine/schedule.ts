/**
 * The noise schedule: NCSNv2 (Song & Ermon 2020) techniques 1, 2 and 4.
 *
 *  - Technique 1: sigma_1 = the largest Euclidean distance between two training points.
 *  - Technique 2: a geometric ladder sigma_1 > ... > sigma_L whose ratio gamma satisfies the overlap rule
 *      Phi(sqrt(2D)(gamma-1) + 3 gamma) - Phi(sqrt(2D)(gamma-1) - 3 gamma) ≈ 0.5.
 *  - Technique 4: for T Langevin steps per level, the step size eps that brings
 *      (1 - eps/sL^2)^(2T) (gamma^2 - 2 eps/(sL^2 - sL^2 (1 - eps/sL^2)^2)) + 2 eps/(sL^2 - sL^2 (1 - eps/sL^2)^2)
 *    as close to 1 as possible.
 *
 * Every function here is pure except `sigmaMaxFromData`, which uses TF.js for the distance matrix.
 */
import * as tf from '@tensorflow/tfjs';
import { Rng } from './random';

export class ScheduleError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ScheduleError';
  }
}

export interface ScheduleOptions {
  /** sigma_1; when absent it must be computed from the data (technique 1). */
  sigmaMax?: number;
  /** sigma_L (NCSNv2 uses 0.01). */
  sigmaMin?: number;
  /** L; when absent it follows from the overlap rule (technique 2). */
  levels?: number;
  /** T, Langevin steps per level. */
  stepsPerLevel?: number;
  /** eps; when absent it follows from technique 4. */
  eps?: number;
  /** A hand-set descending sequence; overrides sigmaMax, sigmaMin and levels. */
  sigmas?: number[];
}

export interface ScheduleDiagnostics {
  /** The overlap rule's value at the ladder's actual gamma (target 0.5). */
  overlap: number;
  /** The technique-4 objective at the chosen eps (target 1). */
  stepObjective: number;
  /** How each quantity was obtained, for display. */
  sources: { sigmaMax: 'data' | 'given' | 'hand-set'; levels: 'overlap-rule' | 'given' | 'hand-set' | 'low-dimension-default' | 'dataset-default'; eps: 'technique-4' | 'given' };
  /** The gamma the overlap rule asks for (undefined where it has no solution, as in 2D). */
  gammaRule?: number;
  /** The technique-4 objective over a range of eps, for plotting. */
  objectiveCurve: { eps: number[]; value: number[] };
  /** The overlap rule's value over a range of gamma, for plotting. */
  overlapCurve: { gamma: number[]; value: number[] };
}

export interface NoiseSchedule {
  /** sigma_1 > ... > sigma_L. */
  sigmas: number[];
  D: number;
  /** sigma_{i-1}/sigma_i of the ladder (geometric mean ratio for a hand-set one). */
  gamma: number;
  stepsPerLevel: number;
  eps: number;
  diagnostics: ScheduleDiagnostics;
}

export const DEFAULT_SIGMA_MIN = 0.01;
export const DEFAULT_STEPS_PER_LEVEL = 5;
/** Where the overlap rule has no solution (low D) the ladder length must be chosen by hand; this is the default. */
export const LOW_DIMENSION_LEVELS = 10;

// ---- the standard normal CDF ----

/** erfc with relative error below 1.2e-7 everywhere (Numerical Recipes' Chebyshev fit). */
export function erfc(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const r = t * Math.exp(-z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 +
    t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))));
  return x >= 0 ? r : 2 - r;
}

export function normalCdf(x: number): number {
  return 0.5 * erfc(-x / Math.SQRT2);
}

// ---- technique 2 ----

/** The overlap rule's left-hand side for ratio gamma in dimension D. */
export function overlap(gamma: number, D: number): number {
  const a = Math.sqrt(2 * D) * (gamma - 1);
  return normalCdf(a + 3 * gamma) - normalCdf(a - 3 * gamma);
}

/** The gamma > 1 with overlap(gamma, D) = target, or undefined where none exists (low D). */
export function gammaFromOverlap(D: number, target = 0.5): number | undefined {
  let lo = 1;
  let hi = 2;
  if (overlap(lo, D) < target) return undefined;
  while (overlap(hi, D) > target) {
    hi *= 2;
    if (hi > 1e6) return undefined;
  }
  for (let i = 0; i < 200; i++) {
    const mid = 0.5 * (lo + hi);
    if (overlap(mid, D) > target) lo = mid;
    else hi = mid;
  }
  return 0.5 * (lo + hi);
}

export function geometricSigmas(sigmaMax: number, sigmaMin: number, levels: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < levels; i++) out.push(sigmaMax * Math.pow(sigmaMin / sigmaMax, i / (levels - 1)));
  out[levels - 1] = sigmaMin;
  return out;
}

// ---- technique 4 ----

/** The technique-4 objective for step size eps, ladder ratio gamma, smallest level sigmaMin and T steps. */
export function stepObjective(eps: number, gamma: number, sigmaMin: number, T: number): number {
  const s2 = sigmaMin * sigmaMin;
  const q = 1 - eps / s2;
  const c = (2 * eps) / (s2 - s2 * q * q);
  return Math.pow(q, 2 * T) * (gamma * gamma - c) + c;
}

/** The eps in (0, sigma_L^2) whose objective is closest to 1: a log-spaced scan, then golden-section refinement. */
export function epsFromObjective(gamma: number, sigmaMin: number, T: number): number {
  const s2 = sigmaMin * sigmaMin;
  const cost = (logR: number) => Math.abs(stepObjective(s2 * Math.exp(logR), gamma, sigmaMin, T) - 1);
  const lo = Math.log(1e-12);
  const hi = Math.log(1 - 1e-9);
  const n = 4000;
  let best = 0;
  let bestCost = Infinity;
  for (let i = 0; i <= n; i++) {
    const c = cost(lo + ((hi - lo) * i) / n);
    if (c < bestCost) {
      bestCost = c;
      best = i;
    }
  }
  let a = lo + ((hi - lo) * Math.max(0, best - 1)) / n;
  let b = lo + ((hi - lo) * Math.min(n, best + 1)) / n;
  const g = (Math.sqrt(5) - 1) / 2;
  for (let i = 0; i < 100; i++) {
    const x1 = b - g * (b - a);
    const x2 = a + g * (b - a);
    if (cost(x1) < cost(x2)) b = x2;
    else a = x1;
  }
  return s2 * Math.exp(0.5 * (a + b));
}

// ---- technique 1 ----

/**
 * sigma_1 = the maximum pairwise Euclidean distance between examples. Above `subset` examples
 * (default 10,000) it is the maximum over a seeded random subset of that size, as NCSNv2 does for
 * large sets. Computed in row blocks through the Gram matrix, |a-b|^2 = |a|^2 + |b|^2 - 2 a.b.
 */
export async function sigmaMaxFromData(data: Float32Array, n: number, D: number, opts: { subset?: number; seed?: number } = {}): Promise<number> {
  const subset = opts.subset ?? 10_000;
  let rows: Float32Array = data.subarray(0, n * D);
  let m = n;
  if (n > subset) {
    const idx = Array.from({ length: n }, (_, i) => i);
    new Rng(opts.seed ?? 0).shuffle(idx);
    rows = new Float32Array(subset * D);
    for (let i = 0; i < subset; i++) rows.set(data.subarray(idx[i]! * D, (idx[i]! + 1) * D), i * D);
    m = subset;
  }
  if (m < 2) throw new ScheduleError('Technique 1 needs at least two training examples.');
  const all = tf.tensor2d(rows, [m, D]);
  // wasm's matMul is only fast without transpose flags, so transpose once here.
  const allT = tf.tidy(() => all.transpose());
  const norms = tf.tidy(() => all.square().sum(1));
  let best = 0;
  const block = 512;
  for (let start = 0; start < m; start += block) {
    const size = Math.min(block, m - start);
    const d2max = tf.tidy(() => {
      const a = all.slice([start, 0], [size, D]);
      const na = norms.slice([start], [size]).reshape([size, 1]);
      const d2 = na.add(norms.reshape([1, m])).sub(tf.matMul(a, allT).mul(2));
      return d2.max();
    });
    // An asynchronous read: WebGPU in Node cannot read a tensor back synchronously.
    best = Math.max(best, (await d2max.data())[0]!);
    d2max.dispose();
  }
  tf.dispose([all, allT, norms]);
  if (!Number.isFinite(best)) throw new ScheduleError('The data contain NaN or infinite values, so sigma_1 cannot be computed. Check the dataset files.');
  return Math.sqrt(Math.max(best, 0));
}

// ---- the whole schedule ----

function validate(opts: ScheduleOptions, D: number): void {
  const bad = (what: string, v: unknown) => new ScheduleError(`${what} must be a finite positive number (got ${String(v)}).`);
  if (!Number.isInteger(D) || D < 1) throw new ScheduleError(`The data dimension D must be a positive integer (got ${D}).`);
  for (const [name, v] of [['sigma_max', opts.sigmaMax], ['sigma_min', opts.sigmaMin], ['eps', opts.eps]] as const) {
    if (v !== undefined && !(Number.isFinite(v) && v > 0)) throw bad(name, v);
  }
  if (opts.levels !== undefined && !(Number.isInteger(opts.levels) && opts.levels >= 2)) {
    throw new ScheduleError(`The number of levels L must be an integer of at least 2 (got ${opts.levels}).`);
  }
  if (opts.stepsPerLevel !== undefined && !(Number.isInteger(opts.stepsPerLevel) && opts.stepsPerLevel >= 1)) {
    throw new ScheduleError(`Steps per level T must be a positive integer (got ${opts.stepsPerLevel}).`);
  }
  if (opts.sigmaMax !== undefined && opts.sigmaMin !== undefined && opts.sigmaMin >= opts.sigmaMax) {
    throw new ScheduleError(`sigma_min (${opts.sigmaMin}) must be smaller than sigma_max (${opts.sigmaMax}).`);
  }
  if (opts.sigmas) {
    const s = opts.sigmas;
    if (s.length < 2) throw new ScheduleError(`A hand-set schedule needs at least 2 levels (got ${s.length}).`);
    s.forEach((v, i) => {
      if (!(Number.isFinite(v) && v > 0)) throw new ScheduleError(`sigma_${i + 1} must be a finite positive number (got ${v}).`);
      if (i > 0 && !(v < s[i - 1]!)) {
        throw new ScheduleError(`The schedule must be strictly descending (sigma_1 > ... > sigma_L), but sigma_${i + 1} = ${v} follows sigma_${i} = ${s[i - 1]}. Reverse it or remove duplicates.`);
      }
    });
  }
}

function curves(gamma: number, sigmaMin: number, T: number, D: number, eps: number): Pick<ScheduleDiagnostics, 'objectiveCurve' | 'overlapCurve'> {
  const s2 = sigmaMin * sigmaMin;
  const objectiveCurve = { eps: [] as number[], value: [] as number[] };
  const lo = Math.log(Math.min(eps / 100, s2 * 1e-6));
  const hi = Math.log(s2 * 0.999);
  for (let i = 0; i <= 120; i++) {
    const e = Math.exp(lo + ((hi - lo) * i) / 120);
    objectiveCurve.eps.push(e);
    objectiveCurve.value.push(stepObjective(e, gamma, sigmaMin, T));
  }
  const overlapCurve = { gamma: [] as number[], value: [] as number[] };
  const gHi = Math.max(gamma * 1.5, 1.3);
  for (let i = 0; i <= 100; i++) {
    const g = 1 + ((gHi - 1) * i) / 100;
    overlapCurve.gamma.push(g);
    overlapCurve.value.push(overlap(g, D));
  }
  return { objectiveCurve, overlapCurve };
}

/**
 * Builds the schedule for data of dimension D. `opts.sigmaMax` must be given (compute it with
 * `sigmaMaxFromData` for technique 1) unless `opts.sigmas` is hand-set.
 */
export function makeSchedule(D: number, opts: ScheduleOptions): NoiseSchedule {
  validate(opts, D);
  const T = opts.stepsPerLevel ?? DEFAULT_STEPS_PER_LEVEL;
  const gammaRule = gammaFromOverlap(D);
  let sigmas: number[];
  let sources: ScheduleDiagnostics['sources'];
  if (opts.sigmas) {
    sigmas = [...opts.sigmas];
    sources = { sigmaMax: 'hand-set', levels: 'hand-set', eps: opts.eps ? 'given' : 'technique-4' };
  } else {
    if (opts.sigmaMax === undefined) throw new ScheduleError('sigma_max is needed: compute it from the data (technique 1) or give it.');
    const sigmaMax = opts.sigmaMax;
    const sigmaMin = opts.sigmaMin ?? DEFAULT_SIGMA_MIN;
    if (sigmaMin >= sigmaMax) throw new ScheduleError(`sigma_min (${sigmaMin}) must be smaller than sigma_max (${sigmaMax}).`);
    let levels = opts.levels;
    let levelSource: ScheduleDiagnostics['sources']['levels'] = 'given';
    if (levels === undefined) {
      if (gammaRule === undefined) {
        levels = LOW_DIMENSION_LEVELS;
        levelSource = 'low-dimension-default';
      } else {
        // The smallest L whose ratio does not exceed the rule's gamma, so the overlap stays >= 0.5.
        levels = Math.max(2, Math.ceil(Math.log(sigmaMax / sigmaMin) / Math.log(gammaRule) - 1e-9) + 1);
        levelSource = 'overlap-rule';
      }
    }
    sigmas = geometricSigmas(sigmaMax, sigmaMin, levels);
    sources = { sigmaMax: 'given', levels: levelSource, eps: opts.eps ? 'given' : 'technique-4' };
  }
  const L = sigmas.length;
  const sigmaMin = sigmas[L - 1]!;
  const gamma = Math.pow(sigmas[0]! / sigmaMin, 1 / (L - 1));
  const eps = opts.eps ?? epsFromObjective(gamma, sigmaMin, T);
  if (eps >= sigmaMin * sigmaMin) {
    throw new ScheduleError(`eps (${eps}) must be smaller than sigma_L^2 (${sigmaMin * sigmaMin}), or the last level's Langevin step diverges.`);
  }
  return {
    sigmas, D, gamma, stepsPerLevel: T, eps,
    diagnostics: {
      overlap: overlap(gamma, D),
      stepObjective: stepObjective(eps, gamma, sigmaMin, T),
      sources,
      ...(gammaRule !== undefined ? { gammaRule } : {}),
      ...curves(gamma, sigmaMin, T, D, eps),
    },
  };
}

/** The Improved paper's step size for level i (0-based): alpha_i = eps sigma_i^2 / sigma_L^2. */
export function stepSize(schedule: NoiseSchedule, level: number): number {
  const sL = schedule.sigmas[schedule.sigmas.length - 1]!;
  const s = schedule.sigmas[level]!;
  return (schedule.eps * s * s) / (sL * sL);
}
