/**
 * The one dataset interface. Every loader returns a `Dataset` whose values are scaled to a documented
 * range: images to [0, 1] (NHWC, channels last), 2D toys in their natural coordinates.
 */
import type { Rng } from '../random';

export interface ToyDistribution {
  /**
   * The hand-chosen bottom of the noise ladder: in 2D the overlap rule does not constrain L, and
   * sigma_L must sit near the data's finest scale, or the last levels freeze (SCORE-MODELS.md).
   */
  ladder?: { sigmaMin: number; levels: number };
  /** Draws n fresh points, row-major [n, 2]. */
  sample(n: number, rng: Rng): Float32Array;
  /**
   * The exact score of the data density convolved with N(0, sigma^2 I), at each point (row-major [n, 2]).
   * Present for the analytic toys (Gaussian mixtures) only.
   */
  score?(points: Float32Array, sigma: number): Float32Array;
  /**
   * The exact log density of the data density convolved with N(0, sigma^2 I) (sigma 0: the data density
   * itself), at each point (row-major [n, 2]). Present for the analytic toys (Gaussian mixtures) only.
   */
  logDensity?(points: Float32Array, sigma: number): Float64Array;
  /** Mixture components, for analytic toys: weights, means [k][2], isotropic std. */
  components?: { weights: number[]; means: [number, number][]; std: number };
}

export interface Dataset {
  /** The spec it was loaded from, e.g. `mnist`, `idx:/path/file.gz`, `toy:moons`. */
  spec: string;
  /** A short human label. */
  name: string;
  kind: 'image' | 'points';
  /** Shape of one example: [H, W, C] for images, [2] for points. */
  shape: number[];
  /** Number of examples. */
  size: number;
  /** The documented value range: [0, 1] for images; the bounding box scale for points. */
  range: [number, number];
  /** All examples, row-major, size * prod(shape) values. */
  data: Float32Array;
  /** Class labels where the format has them. */
  labels?: Uint8Array;
  /** For toy datasets: the generating distribution. */
  toy?: ToyDistribution;
}

/** A dataset problem the user can fix: the message names the file and what to do. */
export class DatasetError extends Error {
  constructor(message: string, readonly file?: string) {
    super(message);
    this.name = 'DatasetError';
  }
}

export function exampleSize(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}
