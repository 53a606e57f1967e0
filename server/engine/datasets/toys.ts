/**
 * 2D toy distributions (`toy:NAME`), in their natural coordinates:
 *  - `mixture`: NCSN's 0.8 N((5,5), I) + 0.2 N((-5,-5), I), with exact score and log density.
 *  - `8gaussians`: 8 equal-weight Gaussians, std 0.15, centred on a circle of radius 2, with exact score.
 *  - `swissroll`: t = 1.5 pi (1 + 2u), (t cos t, t sin t) / 5 + N(0, 0.1^2 I); within about [-3, 3]^2.
 *  - `moons`: two interleaving half circles of radius 1 (sklearn's make_moons), noise std 0.05,
 *    shifted by (-0.5, -0.25) so the set is centred; within about [-1.6, 1.6] x [-0.9, 0.9].
 *  - `checkerboard`: uniform on the 8 dark squares (side 2) of a 4x4 checkerboard on [-4, 4]^2.
 * Every draw comes from the seeded Rng passed in, so the same seed gives the same points.
 */
import type { Rng } from '../random';
import { Dataset, DatasetError, ToyDistribution } from './types';

export const TOY_NAMES = ['swissroll', '8gaussians', 'checkerboard', 'moons', 'mixture'] as const;
export type ToyName = (typeof TOY_NAMES)[number];
export const TOY_DEFAULT_COUNT = 10_000;

/** An isotropic Gaussian mixture in 2D with exact score and log density of its sigma-smoothed version. */
export class GaussianMixture2D implements ToyDistribution {
  readonly components: { weights: number[]; means: [number, number][]; std: number };
  private readonly logW: number[];
  private readonly cum: number[];

  constructor(weights: number[], means: [number, number][], std: number) {
    const total = weights.reduce((a, b) => a + b, 0);
    const w = weights.map((x) => x / total);
    this.components = { weights: w, means: means.map(([a, b]) => [a, b] as [number, number]), std };
    this.logW = w.map((x) => Math.log(x));
    let acc = 0;
    this.cum = w.map((x) => (acc += x));
  }

  sample(n: number, rng: Rng): Float32Array {
    const out = new Float32Array(n * 2);
    const { means, std } = this.components;
    const last = means.length - 1;
    for (let i = 0; i < n; i++) {
      const u = rng.next();
      let k = 0;
      while (k < last && u >= this.cum[k]!) k++;
      const m = means[k]!;
      out[2 * i] = m[0] + std * rng.normal();
      out[2 * i + 1] = m[1] + std * rng.normal();
    }
    return out;
  }

  /** log N(x; mu_k, s2 I) + log w_k for every component, written into `buf`; returns their log-sum-exp. */
  private logTerms(x: number, y: number, s2: number, buf: Float64Array): number {
    const { means } = this.components;
    let max = -Infinity;
    for (let k = 0; k < means.length; k++) {
      const dx = x - means[k]![0];
      const dy = y - means[k]![1];
      const t = this.logW[k]! - (dx * dx + dy * dy) / (2 * s2);
      buf[k] = t;
      if (t > max) max = t;
    }
    let sum = 0;
    for (let k = 0; k < means.length; k++) sum += Math.exp(buf[k]! - max);
    return max + Math.log(sum);
  }

  score(points: Float32Array, sigma: number): Float32Array {
    const { means, std } = this.components;
    const s2 = std * std + sigma * sigma;
    const n = points.length >> 1;
    const out = new Float32Array(n * 2);
    const buf = new Float64Array(means.length);
    for (let i = 0; i < n; i++) {
      const x = points[2 * i]!;
      const y = points[2 * i + 1]!;
      const lse = this.logTerms(x, y, s2, buf);
      let gx = 0;
      let gy = 0;
      for (let k = 0; k < means.length; k++) {
        const r = Math.exp(buf[k]! - lse);
        gx += r * (means[k]![0] - x);
        gy += r * (means[k]![1] - y);
      }
      out[2 * i] = gx / s2;
      out[2 * i + 1] = gy / s2;
    }
    return out;
  }

  logDensity(points: Float32Array, sigma: number): Float64Array {
    const { means, std } = this.components;
    const s2 = std * std + sigma * sigma;
    const n = points.length >> 1;
    const out = new Float64Array(n);
    const buf = new Float64Array(means.length);
    const norm = -Math.log(2 * Math.PI * s2);
    for (let i = 0; i < n; i++) out[i] = norm + this.logTerms(points[2 * i]!, points[2 * i + 1]!, s2, buf);
    return out;
  }
}

class SwissRoll implements ToyDistribution {
  sample(n: number, rng: Rng): Float32Array {
    const out = new Float32Array(n * 2);
    for (let i = 0; i < n; i++) {
      const t = 1.5 * Math.PI * (1 + 2 * rng.next());
      out[2 * i] = (t * Math.cos(t)) / 5 + 0.1 * rng.normal();
      out[2 * i + 1] = (t * Math.sin(t)) / 5 + 0.1 * rng.normal();
    }
    return out;
  }
}

class Moons implements ToyDistribution {
  sample(n: number, rng: Rng): Float32Array {
    const out = new Float32Array(n * 2);
    for (let i = 0; i < n; i++) {
      const t = Math.PI * rng.next();
      const inner = rng.next() < 0.5;
      const x = inner ? 1 - Math.cos(t) : Math.cos(t);
      const y = inner ? 0.5 - Math.sin(t) : Math.sin(t);
      out[2 * i] = x - 0.5 + 0.05 * rng.normal();
      out[2 * i + 1] = y - 0.25 + 0.05 * rng.normal();
    }
    return out;
  }
}

class Checkerboard implements ToyDistribution {
  /** Lower-left corners of the 8 filled squares: (i + j) even on the 4x4 board. */
  private readonly squares: [number, number][] = [];

  constructor() {
    for (let j = 0; j < 4; j++) {
      for (let i = 0; i < 4; i++) if ((i + j) % 2 === 0) this.squares.push([-4 + 2 * i, -4 + 2 * j]);
    }
  }

  sample(n: number, rng: Rng): Float32Array {
    const out = new Float32Array(n * 2);
    for (let i = 0; i < n; i++) {
      const [x0, y0] = this.squares[rng.int(this.squares.length)]!;
      out[2 * i] = x0 + 2 * rng.next();
      out[2 * i + 1] = y0 + 2 * rng.next();
    }
    return out;
  }
}

export function isToyName(name: string): name is ToyName {
  return (TOY_NAMES as readonly string[]).includes(name);
}

/** sigma_L and L per toy, measured: sigma_L near each toy's finest scale (see ToyDistribution.ladder). */
const LADDERS: Record<ToyName, { sigmaMin: number; levels: number }> = {
  mixture: { sigmaMin: 0.5, levels: 20 },
  '8gaussians': { sigmaMin: 0.1, levels: 10 },
  swissroll: { sigmaMin: 0.1, levels: 10 },
  moons: { sigmaMin: 0.05, levels: 10 },
  checkerboard: { sigmaMin: 0.1, levels: 10 },
};

export function toyDistribution(name: ToyName): ToyDistribution {
  const toy = makeToy(name);
  toy.ladder = LADDERS[name];
  return toy;
}

function makeToy(name: ToyName): ToyDistribution {
  switch (name) {
    case 'mixture':
      return new GaussianMixture2D([0.8, 0.2], [[5, 5], [-5, -5]], 1);
    case '8gaussians': {
      const means: [number, number][] = [];
      for (let k = 0; k < 8; k++) means.push([2 * Math.cos((k * Math.PI) / 4), 2 * Math.sin((k * Math.PI) / 4)]);
      return new GaussianMixture2D(new Array(8).fill(1 / 8), means, 0.15);
    }
    case 'swissroll':
      return new SwissRoll();
    case 'moons':
      return new Moons();
    case 'checkerboard':
      return new Checkerboard();
  }
}

/** `toy:NAME`: `count` points drawn with `rng`; range = [min, max] over both coordinates of the draw. */
export function loadToy(spec: string, name: string, count: number, rng: Rng): Dataset {
  if (!isToyName(name)) {
    throw new DatasetError(`unknown toy dataset "${name}"; choose one of ${TOY_NAMES.map((t) => `toy:${t}`).join(', ')}`);
  }
  const toy = toyDistribution(name);
  const data = toy.sample(count, rng);
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < data.length; i++) {
    const v = data[i]!;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return {
    spec,
    name: `toy ${name}`,
    kind: 'points',
    shape: [2],
    size: count,
    range: [lo, hi],
    data,
    toy,
  };
}
