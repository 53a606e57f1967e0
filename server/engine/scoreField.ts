/**
 * The score field of a 2D model: s(x, sigma) on a regular grid, evaluated in one batched call, and for
 * the analytic toys (Gaussian mixtures) the exact score of the noised data density on the same grid
 * with the mean error between the two. This is what the score-field view draws as arrows.
 */
import * as tf from '@tensorflow/tfjs';
import type { ToyDistribution } from './datasets';
import type { ScoreFunction } from './score';

/** [xMin, xMax, yMin, yMax]. */
export type Bounds = [number, number, number, number];

/**
 * The grid points, row by row from the bottom: point (i, j) (column i, row j) is at
 * x = xMin + i (xMax - xMin) / (n - 1), y = yMin + j (yMax - yMin) / (n - 1), at index 2 (j n + i).
 */
export function gridPoints(bounds: Bounds, n: number): Float32Array {
  if (!(Number.isInteger(n) && n >= 2)) throw new RangeError(`The grid needs at least 2 points per side (got ${n}).`);
  const [x0, x1, y0, y1] = bounds;
  if (!(x0 < x1 && y0 < y1)) throw new RangeError(`The bounds must be [xMin, xMax, yMin, yMax] with min < max (got [${bounds.join(', ')}]).`);
  const out = new Float32Array(2 * n * n);
  for (let j = 0; j < n; j++) {
    for (let i = 0; i < n; i++) {
      out[2 * (j * n + i)] = x0 + (i * (x1 - x0)) / (n - 1);
      out[2 * (j * n + i) + 1] = y0 + (j * (y1 - y0)) / (n - 1);
    }
  }
  return out;
}

/** A square region around the points (flat [x, y, ...]) with `margin` of its side added on each side. */
export function dataBounds(points: Float32Array | number[], margin = 0.15): Bounds {
  let x0 = Infinity, x1 = -Infinity, y0 = Infinity, y1 = -Infinity;
  for (let k = 0; k + 1 < points.length; k += 2) {
    const x = points[k]!, y = points[k + 1]!;
    if (!(Number.isFinite(x) && Number.isFinite(y))) continue;
    x0 = Math.min(x0, x); x1 = Math.max(x1, x); y0 = Math.min(y0, y); y1 = Math.max(y1, y);
  }
  if (!Number.isFinite(x0)) return [-1, 1, -1, 1];
  const cx = (x0 + x1) / 2, cy = (y0 + y1) / 2;
  const half = (Math.max(x1 - x0, y1 - y0, 1e-3) / 2) * (1 + 2 * margin);
  return [cx - half, cx + half, cy - half, cy + half];
}

/** s(x, sigma) at every point, in one batched evaluation. */
export async function learnedScore(model: ScoreFunction, points: Float32Array, sigma: number): Promise<Float32Array> {
  const n = points.length >> 1;
  const out = tf.tidy(() => model.score(tf.tensor2d(points, [n, 2]), sigma));
  try {
    return Float32Array.from(await out.data()); // asynchronous: WebGPU in Node has no synchronous read
  } finally {
    out.dispose();
  }
}

/** Mean over the points of the Euclidean norm of a - b (b absent: of a). */
export function meanVectorNorm(a: ArrayLike<number>, b?: ArrayLike<number>): number {
  const n = a.length >> 1;
  if (!n) return NaN;
  let sum = 0;
  for (let k = 0; k < n; k++) {
    const dx = a[2 * k]! - (b ? b[2 * k]! : 0);
    const dy = a[2 * k + 1]! - (b ? b[2 * k + 1]! : 0);
    sum += Math.hypot(dx, dy);
  }
  return sum / n;
}

export interface ScoreFieldValues {
  points: Float32Array;
  learned: Float32Array;
  /** Present where the toy has an exact score. */
  true?: Float32Array;
  meanError?: number;
  meanTrueNorm?: number;
}

/** The learned (and, for analytic toys, the true) score on an n x n grid over `bounds` at `sigma`. */
export async function scoreField(model: ScoreFunction, sigma: number, bounds: Bounds, n: number, toy?: ToyDistribution): Promise<ScoreFieldValues> {
  const points = gridPoints(bounds, n);
  const learned = await learnedScore(model, points, sigma);
  if (!toy?.score) return { points, learned };
  const exact = toy.score(points, sigma);
  return { points, learned, true: exact, meanError: meanVectorNorm(learned, exact), meanTrueNorm: meanVectorNorm(exact) };
}
