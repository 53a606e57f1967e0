/**
 * The dashboard's data, without the DOM: the loss curve kept for display (min/max downsampling that
 * grows incrementally, EMA smoothing), the per-level loss lines, the schedule's plot data, the sampling
 * chain's frames, and number formatting. Pure TypeScript (ES2022 only), so the unit tests run it in
 * Node and the webview bundles it.
 */

// ---------------------------------------------------------------------------------------------------
// Growable numeric arrays
// ---------------------------------------------------------------------------------------------------

/** A Float64Array that grows by doubling. */
export class Floats {
  private buf: Float64Array;
  length = 0;

  constructor(capacity = 256) {
    this.buf = new Float64Array(Math.max(1, capacity));
  }

  push(v: number): void {
    if (this.length === this.buf.length) {
      const next = new Float64Array(this.buf.length * 2);
      next.set(this.buf);
      this.buf = next;
    }
    this.buf[this.length++] = v;
  }

  get(i: number): number {
    return this.buf[i]!;
  }

  set(i: number, v: number): void {
    this.buf[i] = v;
  }

  /** Drops everything from index n on. */
  truncate(n: number): void {
    this.length = Math.max(0, Math.min(this.length, n));
  }

  /** A copy of the used part. */
  toArray(): number[] {
    return Array.from(this.buf.subarray(0, this.length));
  }
}

// ---------------------------------------------------------------------------------------------------
// Min/max downsampling
// ---------------------------------------------------------------------------------------------------

/**
 * Chooses which points of a growing series to draw: the series is cut into buckets of `width`
 * consecutive points (a power of two) and each bucket keeps the index of its smallest and its largest
 * value, so spikes survive; the first and the last point are always kept. When the buckets outnumber
 * `maxPoints / 2`, the width doubles and neighbouring buckets merge, so appending is O(1) amortised
 * and the output never exceeds `maxPoints`.
 */
export class MinMaxDownsampler {
  readonly maxBuckets: number;
  private width = 1;
  private minIdx: number[] = [];
  private maxIdx: number[] = [];
  private count = 0;

  constructor(
    private readonly values: { get(i: number): number },
    readonly maxPoints = 2000,
  ) {
    if (!(maxPoints >= 4)) throw new RangeError(`maxPoints must be at least 4, got ${maxPoints}`);
    this.maxBuckets = Math.floor((maxPoints - 2) / 2);
  }

  /** Points seen. */
  get size(): number {
    return this.count;
  }

  /** The bucket width, in points. */
  get bucketWidth(): number {
    return this.width;
  }

  /** Takes point `count` (the next index) into account; its value must already be readable. */
  add(): void {
    const i = this.count++;
    const k = Math.floor(i / this.width);
    if (k === this.minIdx.length) {
      this.minIdx.push(i);
      this.maxIdx.push(i);
    } else {
      const v = this.values.get(i);
      if (v < this.values.get(this.minIdx[k]!)) this.minIdx[k] = i;
      if (v > this.values.get(this.maxIdx[k]!)) this.maxIdx[k] = i;
    }
    if (this.minIdx.length > this.maxBuckets) this.merge();
  }

  private merge(): void {
    const mins: number[] = [];
    const maxs: number[] = [];
    for (let k = 0; k < this.minIdx.length; k += 2) {
      let lo = this.minIdx[k]!;
      let hi = this.maxIdx[k]!;
      if (k + 1 < this.minIdx.length) {
        const lo2 = this.minIdx[k + 1]!;
        const hi2 = this.maxIdx[k + 1]!;
        if (this.values.get(lo2) < this.values.get(lo)) lo = lo2;
        if (this.values.get(hi2) > this.values.get(hi)) hi = hi2;
      }
      mins.push(lo);
      maxs.push(hi);
    }
    this.minIdx = mins;
    this.maxIdx = maxs;
    this.width *= 2;
  }

  /** Forgets every point and starts again with `count` points (already readable). */
  rebuild(count: number): void {
    this.width = 1;
    this.minIdx = [];
    this.maxIdx = [];
    this.count = 0;
    for (let i = 0; i < count; i++) this.add();
  }

  /** The indices to draw, ascending and distinct: the first point, each bucket's min and max, the last point. */
  indices(): number[] {
    const n = this.count;
    if (n === 0) return [];
    const out: number[] = [0];
    const push = (i: number) => {
      if (i > out[out.length - 1]!) out.push(i);
    };
    for (let k = 0; k < this.minIdx.length; k++) {
      const a = this.minIdx[k]!;
      const b = this.maxIdx[k]!;
      push(Math.min(a, b));
      push(Math.max(a, b));
    }
    push(n - 1);
    return out;
  }
}

// ---------------------------------------------------------------------------------------------------
// EMA smoothing
// ---------------------------------------------------------------------------------------------------

/** Clamps a smoothing weight to [0, 0.999]. */
export function clampSmoothing(w: number): number {
  return Number.isFinite(w) ? Math.min(0.999, Math.max(0, w)) : 0;
}

/**
 * Debiased exponential moving average (as TensorBoard): s_t = a_t / (1 - w^t) with
 * a_t = w a_{t-1} + (1 - w) x_t, so the start is not pulled toward 0. w = 0 gives the values back.
 */
export function ema(values: readonly number[], weight: number): number[] {
  const w = clampSmoothing(weight);
  const out: number[] = new Array(values.length);
  let acc = 0;
  let debias = 1;
  for (let i = 0; i < values.length; i++) {
    acc = w * acc + (1 - w) * values[i]!;
    debias *= w;
    out[i] = w === 0 ? values[i]! : acc / (1 - debias);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------
// The loss curve
// ---------------------------------------------------------------------------------------------------

/** What the loss chart draws: x = step, the raw loss and its EMA at the same steps. */
export interface LossView {
  x: number[];
  raw: number[];
  smooth: number[];
}

/**
 * The whole loss curve (every point kept, for re-smoothing) with an incremental display selection.
 * Appending is O(1) amortised; a step at or before the last one (a resumed run restarting from an
 * earlier checkpoint) drops the points from that step on first.
 */
export class LossSeries {
  readonly steps = new Floats();
  readonly loss = new Floats();
  private readonly smooth = new Floats();
  private readonly ds: MinMaxDownsampler;
  private weight: number;
  private acc = 0;
  private debias = 1;
  private minLoss = Infinity;

  constructor(smoothing = 0.6, maxPoints = 2000) {
    this.weight = clampSmoothing(smoothing);
    this.ds = new MinMaxDownsampler(this.loss, maxPoints);
  }

  get length(): number {
    return this.steps.length;
  }

  get smoothing(): number {
    return this.weight;
  }

  get maxPoints(): number {
    return this.ds.maxPoints;
  }

  /** The last point, or null. */
  last(): { step: number; loss: number; smooth: number } | null {
    const n = this.length;
    return n ? { step: this.steps.get(n - 1), loss: this.loss.get(n - 1), smooth: this.smooth.get(n - 1) } : null;
  }

  /** The smallest loss so far (Infinity when empty). */
  min(): number {
    return this.minLoss;
  }

  clear(): void {
    this.steps.truncate(0);
    this.loss.truncate(0);
    this.smooth.truncate(0);
    this.acc = 0;
    this.debias = 1;
    this.minLoss = Infinity;
    this.ds.rebuild(0);
  }

  /** Appends one point; non-finite losses are ignored. Returns false where it was ignored. */
  append(step: number, loss: number): boolean {
    if (!Number.isFinite(step) || !Number.isFinite(loss)) return false;
    const n = this.length;
    if (n && step <= this.steps.get(n - 1)) this.dropFrom(step);
    this.steps.push(step);
    this.loss.push(loss);
    this.smooth.push(this.nextSmooth(loss));
    if (loss < this.minLoss) this.minLoss = loss;
    this.ds.add();
    return true;
  }

  private nextSmooth(v: number): number {
    const w = this.weight;
    this.acc = w * this.acc + (1 - w) * v;
    this.debias *= w;
    return w === 0 ? v : this.acc / (1 - this.debias);
  }

  /** Drops the points at `step` and after, then re-derives the smoothing and the selection. */
  private dropFrom(step: number): void {
    let keep = this.length;
    while (keep > 0 && this.steps.get(keep - 1) >= step) keep--;
    this.steps.truncate(keep);
    this.loss.truncate(keep);
    this.recompute();
  }

  private recompute(): void {
    const n = this.length;
    this.smooth.truncate(0);
    this.acc = 0;
    this.debias = 1;
    this.minLoss = Infinity;
    for (let i = 0; i < n; i++) {
      const v = this.loss.get(i);
      this.smooth.push(this.nextSmooth(v));
      if (v < this.minLoss) this.minLoss = v;
    }
    this.ds.rebuild(n);
  }

  /** Changes the EMA weight (recomputed over every point: O(n), only on a user's change). */
  setSmoothing(w: number): void {
    const next = clampSmoothing(w);
    if (next === this.weight) return;
    this.weight = next;
    this.recompute();
  }

  /** The points to draw (at most maxPoints). */
  view(): LossView {
    const idx = this.ds.indices();
    const x = new Array<number>(idx.length);
    const raw = new Array<number>(idx.length);
    const smooth = new Array<number>(idx.length);
    for (let j = 0; j < idx.length; j++) {
      const i = idx[j]!;
      x[j] = this.steps.get(i);
      raw[j] = this.loss.get(i);
      smooth[j] = this.smooth.get(i);
    }
    return { x, raw, smooth };
  }
}

/** For a log axis: non-positive and non-finite values become null (gaps) instead of breaking the scale. */
export function positiveOrNull(values: readonly (number | null)[]): (number | null)[] {
  return values.map((v) => (v !== null && Number.isFinite(v) && v > 0 ? v : null));
}

// ---------------------------------------------------------------------------------------------------
// Per-level loss
// ---------------------------------------------------------------------------------------------------

export type LevelAxis = 'level' | 'sigma';

/** One per-level loss vector, level 1 first. */
export interface PerLevelEntry {
  step: number;
  values: (number | null)[];
}

/**
 * The per-level loss vectors over time, thinned to at most `capacity` (older ones dropped every
 * other, the latest always kept), so a long run keeps a bounded, evenly spread history.
 */
export class PerLevelHistory {
  private entries: PerLevelEntry[] = [];

  constructor(readonly capacity = 64) {}

  get length(): number {
    return this.entries.length;
  }

  clear(): void {
    this.entries = [];
  }

  add(step: number, values: readonly (number | null)[]): void {
    if (!values.length) return;
    while (this.entries.length && this.entries[this.entries.length - 1]!.step >= step) this.entries.pop();
    this.entries.push({ step, values: values.map((v) => (v !== null && Number.isFinite(v) ? v : null)) });
    if (this.entries.length > this.capacity) {
      const last = this.entries[this.entries.length - 1]!;
      this.entries = this.entries.slice(0, -1).filter((_, i) => i % 2 === 0);
      this.entries.push(last);
    }
  }

  latest(): PerLevelEntry | null {
    return this.entries[this.entries.length - 1] ?? null;
  }

  /** Up to `k` entries spread evenly over the steps, oldest first, the latest always last. */
  pick(k: number): PerLevelEntry[] {
    const n = this.entries.length;
    if (n <= k) return [...this.entries];
    if (k <= 1) return n ? [this.entries[n - 1]!] : [];
    const first = this.entries[0]!.step;
    const lastStep = this.entries[n - 1]!.step;
    const out: PerLevelEntry[] = [];
    let j = 0;
    for (let t = 0; t < k; t++) {
      const target = first + ((lastStep - first) * t) / (k - 1);
      while (j < n - 1 && Math.abs(this.entries[j + 1]!.step - target) <= Math.abs(this.entries[j]!.step - target)) j++;
      const e = this.entries[j]!;
      if (out[out.length - 1] !== e) out.push(e);
    }
    return out;
  }
}

/** uPlot-ready per-level data: a shared ascending x and one y array per entry. */
export interface PerLevelSeries {
  axis: LevelAxis;
  x: number[];
  ys: (number | null)[][];
  steps: number[];
}

/**
 * Lays out per-level vectors for a chart. x = level 1..L, or sigma_i (then reversed so x ascends,
 * as uPlot needs: sigma_L first). Falls back to levels when the sigmas do not match the vectors.
 */
export function perLevelSeries(entries: readonly PerLevelEntry[], sigmas: readonly number[] | null, axis: LevelAxis): PerLevelSeries {
  const L = entries.length ? entries[entries.length - 1]!.values.length : sigmas?.length ?? 0;
  const useSigma = axis === 'sigma' && sigmas !== null && sigmas.length === L && L > 0 && sigmas.every((s) => s > 0);
  const order = Array.from({ length: L }, (_, i) => (useSigma ? L - 1 - i : i));
  const x = order.map((i) => (useSigma ? sigmas![i]! : i + 1));
  const ys = entries.map((e) => order.map((i) => e.values[i] ?? null));
  return { axis: useSigma ? 'sigma' : 'level', x, ys, steps: entries.map((e) => e.step) };
}

// ---------------------------------------------------------------------------------------------------
// Noise schedule plots
// ---------------------------------------------------------------------------------------------------

/** The schedule fields the plots use (structurally the protocol's NoiseSchedule). */
export interface ScheduleLike {
  sigmas: number[];
  D: number;
  gamma: number;
  stepsPerLevel: number;
  eps: number;
  diagnostics: {
    overlap: number;
    stepObjective: number;
    gammaRule?: number;
    objectiveCurve: { eps: number[]; value: number[] };
    overlapCurve: { gamma: number[]; value: number[] };
  };
}

export interface SchedulePlots {
  sigmas: { x: number[]; y: number[] };
  overlap: { x: number[]; y: number[]; target: number; gamma: number; value: number; gammaRule: number | null };
  objective: { x: number[]; y: (number | null)[]; target: number; eps: number; value: number };
}

/** Sorts paired arrays by x (uPlot needs ascending x), dropping non-finite x. */
function sortedPairs(xs: readonly number[], ys: readonly number[]): { x: number[]; y: number[] } {
  const idx = xs.map((_, i) => i).filter((i) => Number.isFinite(xs[i]!)).sort((a, b) => xs[a]! - xs[b]!);
  return { x: idx.map((i) => xs[i]!), y: idx.map((i) => ys[i]!) };
}

export function schedulePlots(s: ScheduleLike): SchedulePlots {
  const d = s.diagnostics;
  const ov = sortedPairs(d.overlapCurve.gamma, d.overlapCurve.value);
  const ob = sortedPairs(d.objectiveCurve.eps, d.objectiveCurve.value);
  return {
    sigmas: { x: s.sigmas.map((_, i) => i + 1), y: [...s.sigmas] },
    overlap: { ...ov, target: 0.5, gamma: s.gamma, value: d.overlap, gammaRule: d.gammaRule ?? null },
    objective: { x: ob.x.filter((e) => e > 0), y: positiveOrNull(ob.y.filter((_, i) => ob.x[i]! > 0)), target: 1, eps: s.eps, value: d.stepObjective },
  };
}

// ---------------------------------------------------------------------------------------------------
// 2D point clouds
// ---------------------------------------------------------------------------------------------------

/** A square view box around a 2D point cloud (flat x0, y0, x1, y1, ...), robust to a few outliers. */
export interface PointBox {
  cx: number;
  cy: number;
  /** Half the side. */
  r: number;
  /** Points outside the box. */
  outside: number;
  n: number;
}

function quantile(sorted: readonly number[], q: number): number {
  if (!sorted.length) return 0;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.min(sorted.length - 1, lo + 1);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

/** The box spans the q..1-q quantiles of x and y (padded 10%), squared up for an equal aspect. */
export function pointBox(points: readonly number[], q = 0.005): PointBox {
  const xs: number[] = [];
  const ys: number[] = [];
  for (let i = 0; i + 1 < points.length; i += 2) {
    const x = points[i]!;
    const y = points[i + 1]!;
    if (Number.isFinite(x) && Number.isFinite(y)) {
      xs.push(x);
      ys.push(y);
    }
  }
  const n = xs.length;
  if (!n) return { cx: 0, cy: 0, r: 1, outside: 0, n: 0 };
  xs.sort((a, b) => a - b);
  ys.sort((a, b) => a - b);
  const x0 = quantile(xs, q);
  const x1 = quantile(xs, 1 - q);
  const y0 = quantile(ys, q);
  const y1 = quantile(ys, 1 - q);
  const cx = (x0 + x1) / 2;
  const cy = (y0 + y1) / 2;
  const r = Math.max((x1 - x0) / 2, (y1 - y0) / 2, 1e-6) * 1.1;
  let outside = 0;
  for (let i = 0; i + 1 < points.length; i += 2) {
    if (Math.abs(points[i]! - cx) > r || Math.abs(points[i + 1]! - cy) > r) outside++;
  }
  return { cx, cy, r, outside, n };
}

// ---------------------------------------------------------------------------------------------------
// Sample pictures (the chain itself is webview/common/chain.ts's ChainPlayer)
// ---------------------------------------------------------------------------------------------------

/** A picture of samples: a PNG grid or 2D points. */
export interface FrameImage {
  png?: string;
  points?: number[];
}

// ---------------------------------------------------------------------------------------------------
// Formatting
// ---------------------------------------------------------------------------------------------------

/** A number with `digits` significant digits; exponent form for very small or large magnitudes. */
export function formatNumber(v: number | null | undefined, digits = 4): string {
  if (v === null || v === undefined || Number.isNaN(v)) return '—';
  if (!Number.isFinite(v)) return v > 0 ? '∞' : '−∞';
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1e5 || a < 1e-3) return v.toExponential(Math.max(0, digits - 2)).replace('e+', 'e');
  return String(Number(v.toPrecision(digits)));
}

/** An integer with thousands separators: 50,000. */
export function formatCount(n: number | null | undefined): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return '—';
  return Math.round(n).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/** A duration: 42s, 3m 05s, 1h 02m, 2d 3h. */
export function formatDuration(sec: number | null | undefined): string {
  if (sec === null || sec === undefined || !Number.isFinite(sec) || sec < 0) return '—';
  const s = Math.round(sec);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${String(s % 60).padStart(2, '0')}s`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h}h ${String(m % 60).padStart(2, '0')}m`;
  return `${Math.floor(h / 24)}d ${h % 24}h`;
}
