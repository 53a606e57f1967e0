/**
 * Sample-quality measures for 2D data (SCORE-MODELS.md, "Measuring sample quality on small data"):
 * the sliced Wasserstein distance against fresh data, and recovered mode weights of a mixture.
 */
import { Rng } from './random';

/** 1D Wasserstein-1 between two equal-size samples: mean |sorted a - sorted b|. */
function w1(a: Float64Array, b: Float64Array): number {
  a.sort();
  b.sort();
  let s = 0;
  for (let i = 0; i < a.length; i++) s += Math.abs(a[i]! - b[i]!);
  return s / a.length;
}

/**
 * Sliced Wasserstein-1 distance between two 2D point sets (row-major [n, 2]), averaged over
 * `projections` random directions. Uses the first min(n_a, n_b) points of each.
 */
export function slicedWasserstein(a: Float32Array, b: Float32Array, projections = 200, seed = 0): number {
  const n = Math.min(a.length, b.length) / 2;
  const rng = new Rng(seed);
  const pa = new Float64Array(n);
  const pb = new Float64Array(n);
  let total = 0;
  for (let k = 0; k < projections; k++) {
    const th = Math.PI * rng.next();
    const c = Math.cos(th);
    const s = Math.sin(th);
    for (let i = 0; i < n; i++) {
      pa[i] = a[2 * i]! * c + a[2 * i + 1]! * s;
      pb[i] = b[2 * i]! * c + b[2 * i + 1]! * s;
    }
    total += w1(pa, pb);
  }
  return total / projections;
}

/** The share of points nearest to each mean (row-major points [n, 2]). */
export function modeWeights(points: Float32Array, means: [number, number][]): number[] {
  const counts = new Array<number>(means.length).fill(0);
  const n = points.length / 2;
  for (let i = 0; i < n; i++) {
    let best = 0;
    let bestD = Infinity;
    means.forEach(([mx, my], k) => {
      const d = (points[2 * i]! - mx) ** 2 + (points[2 * i + 1]! - my) ** 2;
      if (d < bestD) { bestD = d; best = k; }
    });
    counts[best]!++;
  }
  return counts.map((c) => c / n);
}
