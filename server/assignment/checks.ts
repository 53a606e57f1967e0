/**
 * The checks of each blank: the student's function against the reference maths on seeded random
 * inputs, within tolerances, with a specific message for each common mistake (recognised by which
 * known wrong formula the answer matches). A check returns an outcome or throws a CheckFailure; any
 * other exception comes from the student's code and the runner reports it as an error at its line.
 */
import * as tf from '@tensorflow/tfjs';
import { epsFromObjective, gammaFromOverlap as refGamma, geometricSigmas, stepObjective as refObjective } from '../engine/schedule';
import { GaussianMixture2D } from '../engine/datasets/toys';
import { Rng } from '../engine/random';

/** What the student module exports (any of it may be missing or wrong). */
export type { StudentModule } from './studentModule';
import type { StudentModule } from './studentModule';
type Net = (x: tf.Tensor, sigma: number | tf.Tensor1D) => tf.Tensor;

export interface CaseOutcome {
  status: 'pass' | 'fail';
  message: string;
  expected?: string;
  actual?: string;
}

/** A failed expectation (not a student exception). */
export class CheckFailure extends Error {
  constructor(message: string, readonly expected?: string, readonly actual?: string) {
    super(message);
    this.name = 'CheckFailure';
  }
}

export interface CheckCase {
  name: string;
  /** Time limit for this case (ms), on top of the runner's default. */
  timeoutMs?: number;
  run(mod: StudentModule): CaseOutcome | Promise<CaseOutcome>;
}

const pass = (message = 'ok'): CaseOutcome => ({ status: 'pass', message });

// ---- helpers ----

function fn(mod: StudentModule, id: string): (...args: any[]) => any { // eslint-disable-line @typescript-eslint/no-explicit-any
  const f = mod[id];
  if (typeof f !== 'function') throw new CheckFailure(`The module does not export a function \`${id}\`. Keep its name and its \`export\`.`);
  return f as (...args: unknown[]) => unknown;
}

const fmtNum = (v: number) => (Number.isInteger(v) ? String(v) : Math.abs(v) >= 1e4 || (v !== 0 && Math.abs(v) < 1e-3) ? v.toExponential(4) : v.toPrecision(6));
function fmtArr(a: ArrayLike<number>, max = 8): string {
  const parts = Array.from(a).slice(0, max).map(fmtNum);
  return `[${parts.join(', ')}${a.length > max ? `, ... (${a.length} values)` : ''}]`;
}

function asTensor(v: unknown, what: string): tf.Tensor {
  if (v instanceof tf.Tensor) return v;
  throw new CheckFailure(`${what} must return a tf.Tensor; it returned ${v === undefined ? 'undefined (a missing return?)' : Array.isArray(v) ? 'an array' : typeof v}.`);
}

function asNumber(v: unknown, what: string): number {
  if (v instanceof tf.Tensor) throw new CheckFailure(`${what} must return a plain number, not a tensor (read it with .dataSync()[0] or compute it in plain JavaScript).`);
  if (typeof v !== 'number') throw new CheckFailure(`${what} must return a number; it returned ${v === undefined ? 'undefined (a missing return?)' : typeof v}.`);
  if (!Number.isFinite(v)) throw new CheckFailure(`${what} returned ${v}, not a finite number.`, undefined, String(v));
  return v;
}

function checkShape(t: tf.Tensor, shape: number[], what: string): void {
  if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
    throw new CheckFailure(`${what} has shape [${t.shape}]; expected [${shape}].`, `[${shape}]`, `[${t.shape}]`);
  }
  if (t.dtype !== 'float32') throw new CheckFailure(`${what} has dtype ${t.dtype}; expected float32.`, 'float32', t.dtype);
}

function values(t: tf.Tensor): Float32Array {
  const v = t.dataSync() as Float32Array;
  for (let i = 0; i < v.length; i++) {
    if (!Number.isFinite(v[i]!)) throw new CheckFailure(`The result contains ${v[i]} (at index ${i}).`, 'finite values', String(v[i]));
  }
  return Float32Array.from(v);
}

function close(a: ArrayLike<number>, b: ArrayLike<number>, rtol = 1e-4, atol = 1e-5): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!(Math.abs(a[i]! - b[i]!) <= atol + rtol * Math.abs(b[i]!))) return false;
  return true;
}
const near = (a: number, b: number, rtol = 0.02) => Math.abs(a - b) <= rtol * Math.abs(b) + 1e-12;

/** A known wrong answer: if the actual values match `values`, say `message`. */
interface Variant { values: ArrayLike<number>; message: string }

function compare(actual: ArrayLike<number>, expected: ArrayLike<number>, variants: Variant[], generic: string, rtol = 1e-4, atol = 1e-5): CaseOutcome {
  const exp = fmtArr(expected);
  const act = fmtArr(actual);
  if (close(actual, expected, rtol, atol)) return pass();
  for (const v of variants) {
    if (close(actual, v.values, Math.max(rtol, 1e-3), atol)) return { status: 'fail', message: v.message, expected: exp, actual: act };
  }
  return { status: 'fail', message: generic, expected: exp, actual: act };
}

/** Seeded standard normal values. */
function normals(n: number, seed: number): Float32Array {
  const r = new Rng(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = r.normal();
  return out;
}

/** Least squares of y on the columns of X (few columns): the coefficients and the residual's rms. */
function regress(y: ArrayLike<number>, cols: ArrayLike<number>[]): { coef: number[]; rms: number } {
  const k = cols.length;
  const A = Array.from({ length: k }, () => new Array<number>(k).fill(0));
  const b = new Array<number>(k).fill(0);
  for (let i = 0; i < y.length; i++) {
    for (let p = 0; p < k; p++) {
      b[p]! += cols[p]![i]! * y[i]!;
      for (let q = 0; q < k; q++) A[p]![q]! += cols[p]![i]! * cols[q]![i]!;
    }
  }
  // Gaussian elimination (k <= 3).
  for (let p = 0; p < k; p++) {
    for (let r = p + 1; r < k; r++) {
      const f = A[r]![p]! / A[p]![p]!;
      for (let q = p; q < k; q++) A[r]![q]! -= f * A[p]![q]!;
      b[r]! -= f * b[p]!;
    }
  }
  const coef = new Array<number>(k).fill(0);
  for (let p = k - 1; p >= 0; p--) {
    let s = b[p]!;
    for (let q = p + 1; q < k; q++) s -= A[p]![q]! * coef[q]!;
    coef[p] = s / A[p]![p]!;
  }
  let ss = 0;
  for (let i = 0; i < y.length; i++) {
    let f = 0;
    for (let p = 0; p < k; p++) f += coef[p]! * cols[p]![i]!;
    ss += (y[i]! - f) ** 2;
  }
  return { coef, rms: Math.sqrt(ss / y.length) };
}

/** A smooth, input-dependent test network (ignores sigma, like NCSNv2's U-Net). */
const testNet: Net = (x) => tf.tidy(() => tf.tanh(x.mul(0.7)).mul(-1.3).add(0.25));

// ---- the checks, blank by blank ----

const initialSamples: CheckCase[] = [
  {
    name: 'shape and dtype',
    run(mod) {
      const t = asTensor(fn(mod, 'initialSamples')(3, [4, 2], 2.5, 1), 'initialSamples');
      checkShape(t, [3, 4, 2], 'initialSamples(3, [4, 2], ...)');
      values(t);
      t.dispose();
      return pass();
    },
  },
  {
    name: 'mean 0 and std sigma_1 (statistical test)',
    run(mod) {
      const sigma1 = 6.5;
      const n = 2000;
      const t = asTensor(fn(mod, 'initialSamples')(n, [10], sigma1, 123), 'initialSamples');
      checkShape(t, [n, 10], `initialSamples(${n}, [10], ...)`);
      const v = values(t);
      t.dispose();
      const N = v.length;
      const mean = v.reduce((a, b) => a + b, 0) / N;
      const std = Math.sqrt(v.reduce((a, b) => a + (b - mean) ** 2, 0) / (N - 1));
      // Standard errors: mean sigma/sqrt(N), std about sigma/sqrt(2N); the tolerances are 6 of them.
      const seStd = sigma1 / Math.sqrt(2 * N);
      const expected = `mean 0 ± ${fmtNum(6 * sigma1 / Math.sqrt(N))}, std ${sigma1} ± ${fmtNum(6 * seStd)}`;
      const actual = `mean ${fmtNum(mean)}, std ${fmtNum(std)}`;
      const fail = (message: string): CaseOutcome => ({ status: 'fail', message, expected, actual });
      if (Math.abs(std - sigma1) <= 6 * seStd && Math.abs(mean) <= (6 * sigma1) / Math.sqrt(N)) return pass();
      if (near(mean, 0.5 * sigma1, 0.1) && near(std, sigma1 / Math.sqrt(12), 0.1)) {
        return fail('Your samples look uniform on [0, sigma_1) (mean sigma_1/2): draw them from a normal distribution with tf.randomNormal, not tf.randomUniform.');
      }
      if (near(std, sigma1 * sigma1, 0.05)) return fail(`Your samples' std is sigma_1^2 = ${fmtNum(sigma1 * sigma1)}: tf.randomNormal takes the standard deviation, so pass sigma_1 itself (the variance is sigma_1^2).`);
      if (near(std, Math.sqrt(sigma1), 0.05)) return fail(`Your samples' std is sqrt(sigma_1): the std is sigma_1 itself (you passed the std where tf.randomNormal wanted it, but took a square root too many).`);
      if (near(std, 1, 0.05)) return fail('Your samples have std 1: multiply by sigma_1 (or pass it as the std): sampling starts at the largest noise level.');
      if (Math.abs(mean) > (6 * std) / Math.sqrt(N)) return fail(`Your samples' mean is ${fmtNum(mean)}, not 0: the initial samples are N(0, sigma_1^2).`);
      return fail(`Your samples' std is ${fmtNum(std)}, not sigma_1 = ${sigma1}: the initial samples are normal with the LARGEST noise level as std.`);
    },
  },
  {
    name: 'seeded',
    run(mod) {
      const f = fn(mod, 'initialSamples');
      const a = asTensor(f(2, [3], 1, 7), 'initialSamples');
      const b = asTensor(f(2, [3], 1, 7), 'initialSamples');
      const c = asTensor(f(2, [3], 1, 8), 'initialSamples');
      const [va, vb, vc] = [values(a), values(b), values(c)];
      tf.dispose([a, b, c]);
      if (!close(va, vb, 0, 0)) return { status: 'fail', message: 'The same seed gave different samples: pass `seed` to tf.randomNormal, so that a run can be repeated.', expected: fmtArr(va), actual: fmtArr(vb) };
      if (close(va, vc, 0, 0)) return { status: 'fail', message: 'Different seeds gave the same samples: the seed must change the draw.', expected: 'different values', actual: fmtArr(vc) };
      return pass();
    },
  },
];

const stepSize: CheckCase[] = [
  {
    name: 'value',
    run(mod) {
      const f = fn(mod, 'stepSize');
      const cases: [number, number, number][] = [[6.2e-6, 50, 0.01], [2e-5, 1, 0.01], [0.003, 0.37, 0.1], [1e-4, 0.05, 0.05]];
      const actual = cases.map(([e, s, sL]) => asNumber(f(e, s, sL), 'stepSize'));
      const expected = cases.map(([e, s, sL]) => (e * s * s) / (sL * sL));
      return compare(actual, expected, [
        { values: expected.map((v) => v / 2), message: "Your step size is half the Improved paper's alpha_i: that is NCSN's alpha/2 convention (its paper writes x + alpha/2 s + sqrt(alpha) z). Use alpha_i = eps * sigma_i^2 / sigma_L^2, with the step x + alpha s + sqrt(2 alpha) z." },
        { values: cases.map(([e, s, sL]) => (e * s) / sL), message: 'Your step size scales with sigma_i / sigma_L: sigma where sigma^2 belongs. alpha_i = eps * sigma_i^2 / sigma_L^2, so that alpha_i / sigma_i^2 (the step relative to the level\'s variance) is the same at every level.' },
        { values: cases.map(([e, s, sL]) => (e * sL * sL) / (s * s)), message: 'Your ratio is upside down: alpha_i = eps * sigma_i^2 / sigma_L^2 is LARGEST at the largest noise level (sigma_1), and equals eps at the last level.' },
        { values: cases.map(([e, s]) => e * s * s), message: 'You forgot to divide by sigma_L^2: alpha_i = eps * sigma_i^2 / sigma_L^2 (at the last level alpha_L = eps).' },
        { values: cases.map(([e]) => e), message: 'Your step size does not change with the level: alpha_i = eps * sigma_i^2 / sigma_L^2 must scale with sigma_i^2.' },
      ], "Your step size differs from the Improved paper's alpha_i = eps * sigma_i^2 / sigma_L^2.", 1e-6, 0);
    },
  },
];

function langevinInputs(seed: number, b: number, d: number) {
  const x = tf.tensor2d(normals(b * d, seed).map((v) => v * 2), [b, d]);
  const z = tf.tensor2d(normals(b * d, seed + 1), [b, d]);
  return { x, z };
}

const langevinStep: CheckCase[] = [
  {
    name: 'shape and dtype',
    run(mod) {
      const { x, z } = langevinInputs(1, 4, 3);
      const t = asTensor(fn(mod, 'langevinStep')(x, testNet, 0.5, 0.01, z), 'langevinStep');
      checkShape(t, [4, 3], 'langevinStep on a [4, 3] batch');
      values(t);
      tf.dispose([x, z, t]);
      return pass();
    },
  },
  {
    name: 'value: x + alpha net(x)/sigma + sqrt(2 alpha) z',
    run(mod) {
      const sigma = 0.37;
      const alpha = 0.05;
      const { x, z } = langevinInputs(11, 64, 4);
      const t = asTensor(fn(mod, 'langevinStep')(x, testNet, sigma, alpha, z), 'langevinStep');
      checkShape(t, [64, 4], 'langevinStep on a [64, 4] batch');
      const act = values(t);
      const xv = values(x);
      const nv = values(testNet(x, sigma));
      const zv = values(z);
      tf.dispose([x, z, t]);
      const exp = xv.map((v, i) => v + (alpha / sigma) * nv[i]! + Math.sqrt(2 * alpha) * zv[i]!);
      if (close(act, exp, 1e-4, 1e-5)) return pass();
      const base = { status: 'fail' as const, expected: fmtArr(exp), actual: fmtArr(act) };
      const d = act.map((v, i) => v - xv[i]!);
      const { coef: [a, b], rms } = regress(d, [nv, zv]) as { coef: [number, number]; rms: number };
      if (rms > 1e-3 * (1 + Math.sqrt(d.reduce((s, v) => s + v * v, 0) / d.length))) {
        if (rms > 0.5 * Math.sqrt(2 * alpha) && Math.abs(b) < 0.1 * Math.sqrt(2 * alpha)) {
          return { ...base, message: 'Your noise term does not use the z passed in: use the given z (sqrt(2 alpha) * z), do not draw your own noise (the sampler passes seeded noise, and these checks compare values).' };
        }
        return { ...base, message: 'Your step is not of the form x + (something) * net(x) + (something) * z: it should be x + alpha * net(x, sigma) / sigma + sqrt(2 alpha) * z.' };
      }
      const msgs: string[] = [];
      const ea = alpha / sigma;
      if (!near(a, ea, 1e-3)) {
        if (near(a, alpha * sigma, 1e-3)) msgs.push('You multiplied the network output by sigma: the score is net(x) / sigma, so divide by sigma.');
        else if (near(a, alpha, 1e-3)) msgs.push('You used the network output itself as the score: the score is net(x, sigma) / sigma (NCSNv2 technique 3), so divide by sigma.');
        else if (near(a, alpha / (sigma * sigma), 1e-3)) msgs.push('You divided the network output by sigma^2: the score is net(x) / sigma (sigma, not sigma^2).');
        else if (near(a, ea / 2, 1e-3)) msgs.push("Your score term is alpha/2 * s: that is NCSN's alpha/2 convention. With the Improved paper's alpha_i the step is x + alpha * s + sqrt(2 alpha) z.");
        else if (near(a, -ea, 1e-3)) msgs.push('Your score term has the wrong sign: Langevin dynamics moves ALONG the score, x + alpha * s.');
        else if (Math.abs(a) < 1e-3 * ea) msgs.push('Your step has no score term: add alpha * net(x, sigma) / sigma.');
        else msgs.push(`Your score term's factor is ${fmtNum(a)}; it should be alpha / sigma = ${fmtNum(ea)} (alpha times the score net(x)/sigma).`);
      }
      const eb = Math.sqrt(2 * alpha);
      if (!near(b, eb, 1e-3)) {
        if (near(b, 2 * alpha, 1e-3)) msgs.push('Your noise term is 2 alpha z: the square root is missing. It is sqrt(2 alpha) * z, so the noise variance is 2 alpha.');
        else if (near(b, Math.sqrt(alpha), 1e-3)) msgs.push("Your noise term is sqrt(alpha) z: that is NCSN's alpha/2 convention. With the Improved paper's alpha_i the noise is sqrt(2 alpha) z.");
        else if (near(b, alpha, 1e-3)) msgs.push('Your noise term is alpha z: it is sqrt(2 alpha) * z (variance 2 alpha).');
        else if (near(b, -eb, 1e-3)) msgs.push('Your noise term is - sqrt(2 alpha) z: use + sqrt(2 alpha) * z with the z given.');
        else if (Math.abs(b) < 1e-3 * eb) msgs.push('Your step has no noise term: add sqrt(2 alpha) * z. Without it, this is gradient ascent, not sampling.');
        else msgs.push(`Your noise term's factor is ${fmtNum(b)}; it should be sqrt(2 alpha) = ${fmtNum(eb)}.`);
      }
      return { ...base, message: msgs.join(' ') || 'Your step differs from x + alpha * net(x)/sigma + sqrt(2 alpha) z.' };
    },
  },
  {
    name: 'noise variance is 2 alpha (statistical test)',
    run(mod) {
      const alpha = 0.02;
      const n = 4000;
      const x = tf.zeros([n, 2]);
      const z = tf.randomNormal([n, 2], 0, 1, 'float32', 99);
      const zero: Net = (t) => tf.zerosLike(t);
      const t = asTensor(fn(mod, 'langevinStep')(x, zero, 0.5, alpha, z), 'langevinStep');
      const v = values(t);
      tf.dispose([x, z, t]);
      const N = v.length;
      const mean = v.reduce((a, b) => a + b, 0) / N;
      const variance = v.reduce((a, b) => a + (b - mean) ** 2, 0) / (N - 1);
      // The variance's standard error is about 2 alpha sqrt(2/N): the tolerance is 6 of them.
      const tol = 6 * 2 * alpha * Math.sqrt(2 / N);
      const expected = `variance 2 alpha = ${fmtNum(2 * alpha)} ± ${fmtNum(tol)}`;
      const actual = `variance ${fmtNum(variance)}`;
      if (Math.abs(variance - 2 * alpha) <= tol) return pass();
      let message = `With a zero network, your step's noise has variance ${fmtNum(variance)}; Langevin dynamics needs 2 alpha = ${fmtNum(2 * alpha)}.`;
      if (near(variance, 4 * alpha * alpha, 0.1)) message = 'With a zero network your noise variance is (2 alpha)^2: the square root is missing. The noise term is sqrt(2 alpha) * z.';
      else if (near(variance, alpha, 0.1)) message = "Your noise variance is alpha, not 2 alpha: that is NCSN's alpha/2 convention. Use sqrt(2 alpha) * z with the Improved paper's alpha.";
      else if (variance < 1e-12) message = 'Your step adds no noise: add sqrt(2 alpha) * z.';
      return { status: 'fail', message, expected, actual };
    },
  },
];

const denoise: CheckCase[] = [
  {
    name: 'shape and dtype',
    run(mod) {
      const { x } = langevinInputs(3, 4, 3);
      const t = asTensor(fn(mod, 'denoise')(x, testNet, 0.1), 'denoise');
      checkShape(t, [4, 3], 'denoise on a [4, 3] batch');
      values(t);
      tf.dispose([x, t]);
      return pass();
    },
  },
  {
    name: 'value: x + sigma_L * net(x)',
    run(mod) {
      const outs: CaseOutcome[] = [];
      for (const sL of [0.3, 0.01]) {
        const { x } = langevinInputs(21, 32, 4);
        const t = asTensor(fn(mod, 'denoise')(x, testNet, sL), 'denoise');
        checkShape(t, [32, 4], 'denoise on a [32, 4] batch');
        const act = values(t);
        const xv = values(x);
        const nv = values(testNet(x, sL));
        tf.dispose([x, t]);
        const exp = xv.map((v, i) => v + sL * nv[i]!);
        if (close(act, exp, 1e-4, 1e-6)) continue;
        const base = { status: 'fail' as const, expected: fmtArr(exp), actual: fmtArr(act) };
        const d = act.map((v, i) => v - xv[i]!);
        const { coef: [a], rms } = regress(d, [nv]) as { coef: [number]; rms: number };
        let message = `Your denoising step differs from x + sigma_L^2 s(x, sigma_L) = x + sigma_L * net(x) (at sigma_L = ${sL}).`;
        if (rms > 1e-4) message += ' It is not of the form x + c * net(x): the final step adds no noise.';
        else if (Math.abs(a) < 1e-6) message = 'The denoising step is left out: you return x unchanged. The final step is x + sigma_L^2 s(x, sigma_L) = x + sigma_L * net(x, sigma_L); on CIFAR-10 it takes NCSNv2 from FID 31.75 to 10.87.';
        else if (near(a, sL * sL, 1e-3)) message = 'You multiplied the network output by sigma_L^2: that factor belongs to the SCORE, s = net / sigma_L. So x + sigma_L^2 * net / sigma_L = x + sigma_L * net(x).';
        else if (near(a, 1, 1e-3)) message = 'You added the network output unscaled: the step is x + sigma_L^2 * s = x + sigma_L * net(x) (the score is net / sigma_L).';
        else if (near(a, 1 / sL, 1e-3)) message = 'You added the score net / sigma_L itself: it needs the factor sigma_L^2, x + sigma_L^2 * net / sigma_L = x + sigma_L * net(x).';
        else if (near(a, -sL, 1e-3)) message = 'Your denoising step has the wrong sign: x + sigma_L * net(x) moves along the score.';
        outs.push({ ...base, message });
        break;
      }
      return outs[0] ?? pass();
    },
  },
];

function dsmInputs() {
  const b = 6;
  const shape = [b, 4, 4, 1];
  const size = b * 16;
  const x = tf.tensor(normals(size, 31).map((v) => 0.5 + 0.3 * v), shape);
  const z = tf.tensor(normals(size, 32), shape);
  const sigmas = tf.tensor1d([0.05, 0.2, 0.6, 1.3, 2.7, 4.1]);
  return { x, z, sigmas, b };
}

/** 0.5 * sum((net(x + sigma^p z * k) * m + z * zs)^2) per example, for the reference and its known wrong forms. */
function dsmVariant(x: tf.Tensor, z: tf.Tensor, sigmas: tf.Tensor1D, opts: { noise?: 'sigma' | 'sigma2' | 'one' | 'none'; zSign?: number; half?: number; divSigma?: boolean; mean?: boolean }): Float32Array {
  return tf.tidy(() => {
    const b = x.shape[0]!;
    const s = sigmas.reshape([b, 1, 1, 1]);
    const noise = opts.noise ?? 'sigma';
    const noisy = noise === 'none' ? x : noise === 'one' ? x.add(z) : x.add(z.mul(noise === 'sigma2' ? s.square() : s));
    let out = testNet(noisy, sigmas);
    if (opts.divSigma) out = out.div(s);
    const r = out.add(z.mul(opts.zSign ?? 1)).square().reshape([b, -1]);
    return (opts.mean ? r.mean(1) : r.sum(1)).mul(opts.half ?? 0.5).dataSync() as Float32Array;
  });
}

const dsmLoss: CheckCase[] = [
  {
    name: 'per-example losses, shape [B]',
    run(mod) {
      const { x, z, sigmas, b } = dsmInputs();
      const t = asTensor(fn(mod, 'dsmLoss')(testNet, x, sigmas, z), 'dsmLoss');
      tf.dispose([x, z, sigmas]);
      if (t.shape.length === 0) throw new CheckFailure('dsmLoss returned a scalar: return the per-example losses, shape [B] (the trainer takes the mean, and the per-level loss curve needs them per example).', `[${b}]`, '[]');
      checkShape(t, [b], 'dsmLoss on a batch of 6');
      values(t);
      t.dispose();
      return pass();
    },
  },
  {
    name: 'value: 0.5 ||net(x + sigma z) + z||^2',
    run(mod) {
      const { x, z, sigmas, b } = dsmInputs();
      const t = asTensor(fn(mod, 'dsmLoss')(testNet, x, sigmas, z), 'dsmLoss');
      if (t.size !== b) throw new CheckFailure(`dsmLoss must return ${b} per-example losses (shape [B]); it returned shape [${t.shape}].`, `[${b}]`, `[${t.shape}]`);
      const act = values(t);
      const v = (o: Parameters<typeof dsmVariant>[3]) => dsmVariant(x, z, sigmas, o);
      const out = compare(act, v({}), [
        { values: v({ half: 1 }), message: 'Your loss is twice the expected one: the factor 0.5 is missing (0.5 * ||net(x~) + z||^2).' },
        { values: v({ zSign: -1 }), message: 'Your loss uses net(x~) - z: the wrong sign of z. The network estimates sigma * score = -z for x~ = x + sigma z, so the residual is net(x~) + z.' },
        { values: v({ noise: 'sigma2' }), message: 'You perturbed the data with sigma^2 z: sigma is the noise STD, so x~ = x + sigma z.' },
        { values: v({ noise: 'one' }), message: "You perturbed the data with z alone: scale the noise by each example's sigma, x~ = x + sigma z (sigmas reshaped to [B, 1, 1, 1])." },
        { values: v({ noise: 'none' }), message: 'You fed the clean x to the network: it must see the noisy x~ = x + sigma z.' },
        { values: v({ divSigma: true }), message: 'You divided the network output by sigma inside the loss: with the lambda(sigma) = sigma^2 weighting, sigma * s(x~) = net(x~), so the loss is 0.5 * ||net(x~) + z||^2.' },
        { values: v({ mean: true }), message: "You averaged over each example's values: sum them (0.5 * the squared norm), as the per-example loss is a squared norm." },
      ], 'Your per-example loss differs from 0.5 * || net(x + sigma z) + z ||^2.', 1e-4, 1e-4);
      tf.dispose([x, z, sigmas, t]);
      return out;
    },
  },
  {
    name: 'differentiable (gradients flow to the network)',
    run(mod) {
      const { x, z, sigmas } = dsmInputs();
      const w = tf.variable(tf.scalar(0.8), true, `dsm_check_w_${Date.now()}`);
      const net: Net = (t) => tf.tanh(t).mul(w);
      const f = fn(mod, 'dsmLoss');
      let grads: Record<string, tf.Tensor> = {};
      let gv = NaN;
      try {
        ({ grads } = tf.variableGrads(() => asTensor(f(net, x, sigmas, z), 'dsmLoss').mean() as tf.Scalar, [w]));
        gv = grads[w.name]?.dataSync()[0] ?? NaN;
      } catch (err) {
        if (err instanceof CheckFailure) throw err;
        const m = (err as Error).message ?? String(err);
        if (/gradient|variable/i.test(m)) throw new CheckFailure(`No gradient reaches the network through your loss (${m}). Use tf ops only: no dataSync()/arraySync() or plain numbers in between.`);
        throw err;
      } finally {
        tf.dispose([x, z, sigmas, ...Object.values(grads)]);
        w.dispose();
      }
      if (!Number.isFinite(gv) || gv === 0) return { status: 'fail', message: 'The gradient of your loss with respect to the network is zero or not finite: the loss must depend on the network output through tf ops.', expected: 'a finite, nonzero gradient', actual: String(gv) };
      return pass();
    },
  },
];

const decoderSkips: CheckCase[] = [
  {
    name: 'order: encoder outputs reversed',
    run(mod) {
      const input = ['level0 (finest)', 'level1', 'level2 (coarsest)'];
      const out = fn(mod, 'decoderSkips')([...input]) as unknown;
      if (!Array.isArray(out)) throw new CheckFailure(`decoderSkips must return an array; it returned ${typeof out}.`);
      const exp = [...input].reverse();
      const e = `[${exp.join(', ')}]`;
      const a = `[${out.join(', ')}]`;
      if (out.length === 3 && out.every((v, i) => v === exp[i])) return pass();
      if (out.length === 3 && out.every((v, i) => v === input[i])) {
        return { status: 'fail', message: 'The skip outputs are not reversed: the decoder starts at the coarsest level, so it needs the LAST encoder output first (the encoder outputs reversed).', expected: e, actual: a };
      }
      if (out.length !== 3) return { status: 'fail', message: `decoderSkips must return one skip per level (3 here); it returned ${out.length}.`, expected: e, actual: a };
      return { status: 'fail', message: 'decoderSkips must return the encoder outputs in reverse order.', expected: e, actual: a };
    },
  },
  {
    name: 'input array left unchanged',
    run(mod) {
      const input = ['a', 'b', 'c'];
      fn(mod, 'decoderSkips')(input);
      if (input.join() !== 'a,b,c') {
        return { status: 'fail', message: 'decoderSkips changed its input: Array.prototype.reverse() reverses in place. Copy first: [...encoderOutputs].reverse().', expected: '[a, b, c]', actual: `[${input.join(', ')}]` };
      }
      return pass();
    },
  },
  {
    name: 'the U-Net builds and runs with your wiring',
    timeoutMs: 20_000,
    run(mod) {
      const buildUNet = fn(mod, '__provided_buildUNet');
      let model: tf.LayersModel;
      try {
        model = buildUNet([8, 8, 1], { base: 4, mults: [1, 2], blocks: 1 }, fn(mod, 'decoderSkips'), 1) as tf.LayersModel;
      } catch (err) {
        const m = (err as Error).message ?? String(err);
        if (err instanceof Error && /decoderSkips|skip/.test(m) && !/concatenate|shape/i.test(m)) throw new CheckFailure(m);
        throw new CheckFailure(`The U-Net does not build with your skip wiring: ${m.split('\n')[0]}. Each decoder level concatenates a skip of ITS resolution, coarsest first: the encoder outputs reversed.`);
      }
      const x = tf.randomNormal([2, 8, 8, 1], 0, 1, 'float32', 5);
      const y = model.predict(x) as tf.Tensor;
      const ok = y.shape.join() === '2,8,8,1';
      const shape = `[${y.shape}]`;
      tf.dispose([x, y]);
      model.dispose();
      return ok ? pass() : { status: 'fail', message: 'The U-Net output has the wrong shape with your wiring.', expected: '[2,8,8,1]', actual: shape };
    },
  },
];

const geometricSchedule: CheckCase[] = [
  {
    name: 'value',
    run(mod) {
      const f = fn(mod, 'geometricSchedule');
      const cases: [number, number, number][] = [[10, 0.01, 8], [50, 0.01, 232], [1, 0.01, 10]];
      for (const [s1, sL, L] of cases) {
        const out = f(s1, sL, L) as unknown;
        const arr = out instanceof tf.Tensor ? null : out;
        if (!Array.isArray(arr) || !arr.every((v) => typeof v === 'number')) throw new CheckFailure('geometricSchedule must return an array of numbers (sigma_1 first).');
        const exp = geometricSigmas(s1, sL, L);
        const what = `geometricSchedule(${s1}, ${sL}, ${L})`;
        if (arr.length !== L) {
          return { status: 'fail', message: `${what} returned ${arr.length} levels; it must return L = ${L} (both ends included).`, expected: fmtArr(exp), actual: fmtArr(arr) };
        }
        const o = compare(arr, exp, [
          { values: [...exp].reverse(), message: 'Your schedule is ascending: it must be DESCENDING, sigma_1 > ... > sigma_L, since sampling starts from the largest noise level and anneals down.' },
          { values: exp.map((_, i) => s1 + ((sL - s1) * i) / (L - 1)), message: 'Your schedule is linearly spaced: it must be geometric (a constant RATIO between levels), sigma_i = sigma1 * (sigmaL / sigma1)^(i / (L - 1)).' },
          { values: exp.map((_, i) => s1 * Math.pow(sL / s1, i / L)), message: 'Your last level is above sigma_L: with L levels the exponent is i / (L - 1), so the last one (i = L - 1) is exactly sigma_L.' },
        ], `${what} differs from sigma1 * (sigmaL / sigma1)^(i / (L - 1)).`, 1e-5, 0);
        if (o.status !== 'pass') return o;
      }
      return pass();
    },
  },
];

function pointsData(): { t: tf.Tensor2D; rows: Float32Array; n: number; d: number } {
  const n = 60;
  const d = 5;
  const rows = normals(n * d, 41);
  for (let j = 0; j < d; j++) rows[7 * d + j]! += 6; // an outlier, so that max and mean differ clearly
  return { t: tf.tensor2d(rows, [n, d]), rows, n, d };
}

const sigmaMaxFromData: CheckCase[] = [
  {
    name: 'value: the largest pairwise distance',
    run(mod) {
      const { t, rows, n, d } = pointsData();
      const out = fn(mod, 'sigmaMaxFromData')(t);
      t.dispose();
      const act = asNumber(out, 'sigmaMaxFromData');
      let max = 0;
      let sum = 0;
      let far = 0;
      const mean = new Array<number>(d).fill(0);
      for (let i = 0; i < n; i++) for (let k = 0; k < d; k++) mean[k]! += rows[i * d + k]! / n;
      for (let i = 0; i < n; i++) {
        let fm = 0;
        let fo = 0;
        for (let k = 0; k < d; k++) {
          fm += (rows[i * d + k]! - mean[k]!) ** 2;
          fo += rows[i * d + k]! ** 2;
        }
        far = Math.max(far, Math.sqrt(fm), Math.sqrt(fo));
        for (let j = i + 1; j < n; j++) {
          let s = 0;
          for (let k = 0; k < d; k++) s += (rows[i * d + k]! - rows[j * d + k]!) ** 2;
          max = Math.max(max, s);
          sum += Math.sqrt(s);
        }
      }
      const meanDist = sum / ((n * (n - 1)) / 2);
      const meanDistAll = sum / ((n * n) / 2);
      return compare([act], [Math.sqrt(max)], [
        { values: [meanDist], message: 'You returned the MEAN pairwise distance: technique 1 takes the MAXIMUM distance between two training points, so that sigma_1 is large enough for the sampler to move between any two of them.' },
        { values: [meanDistAll], message: 'You returned the MEAN pairwise distance (over all pairs, including each point with itself): technique 1 takes the MAXIMUM distance.' },
        { values: [max], message: 'You returned the largest SQUARED distance: take the square root (sigma_1 is a distance, not a squared one).' },
        { values: [far], message: 'You measured distances to the mean or the origin: technique 1 takes the largest distance between two POINTS.' },
      ], 'Your sigma_1 differs from the largest Euclidean distance between two rows of the data.', 1e-3, 1e-4);
    },
  },
];

const gammaFromOverlap: CheckCase[] = [
  {
    name: 'value',
    run(mod) {
      const f = fn(mod, 'gammaFromOverlap');
      const Ds = [784, 3072, 100];
      const act = Ds.map((D) => asNumber(f(D), 'gammaFromOverlap'));
      const exp = Ds.map((D) => refGamma(D)!);
      const sqrtD = Ds.map((D) => refGamma(D / 2)!);
      return compare(act, exp, [
        { values: sqrtD, message: 'You used sqrt(D) where the rule has sqrt(2D): Phi(sqrt(2D)(gamma - 1) + 3 gamma) - Phi(sqrt(2D)(gamma - 1) - 3 gamma) = 0.5.' },
      ], 'Your gamma does not solve Phi(sqrt(2D)(gamma - 1) + 3 gamma) - Phi(sqrt(2D)(gamma - 1) - 3 gamma) = 0.5 (D = 784 gives about 1.082).', 1e-4, 0);
    },
  },
];

const numLevels: CheckCase[] = [
  {
    name: 'value',
    run(mod) {
      const f = fn(mod, 'numLevels');
      const cases: [number, number, number][] = [[16, 0.01, 1.082], [50, 0.01, 1.037], [20, 0.5, 1.3], [8, 1, 2]];
      const act = cases.map(([a, b, g]) => asNumber(f(a, b, g), 'numLevels'));
      const exp = cases.map(([a, b, g]) => Math.ceil(Math.log(a / b) / Math.log(g) - 1e-9) + 1);
      return compare(act, exp, [
        { values: exp.map((v) => v - 1), message: 'Off by one: L levels have L - 1 ratios between them, so L = ceil(log(sigma1 / sigmaL) / log(gamma)) + 1.' },
        { values: cases.map(([a, b, g]) => Math.floor(Math.log(a / b) / Math.log(g)) + 1), message: 'You rounded down: then the ratio between levels exceeds gamma and the overlap falls below 0.5. Round UP (ceil).' },
      ], 'Your L is not the fewest levels whose ratio stays at or below gamma.', 0, 0);
    },
  },
];

const OBJECTIVE_CASES: [number, number, number, number][] = [[6.2e-6, 0.01, Math.pow(50 / 0.01, 1 / 231), 5], [1e-5, 0.01, 1.08, 3], [3e-5, 0.01, 1.2, 10], [0.002, 0.1, 1.5, 2]];

const stepObjective: CheckCase[] = [
  {
    name: 'value',
    run(mod) {
      const f = fn(mod, 'stepObjective');
      const act = OBJECTIVE_CASES.map(([e, sL, g, T]) => asNumber(f(e, sL, g, T), 'stepObjective'));
      const exp = OBJECTIVE_CASES.map(([e, sL, g, T]) => refObjective(e, g, sL, T));
      const variant = (mut: (e: number, sL: number, g: number, T: number) => number) => OBJECTIVE_CASES.map(([e, sL, g, T]) => mut(e, sL, g, T));
      const obj = (e: number, sL: number, g2: number, twoT: number) => {
        const s2 = sL * sL;
        const q = 1 - e / s2;
        const c = (2 * e) / (s2 - s2 * q * q);
        return Math.pow(q, twoT) * (g2 - c) + c;
      };
      return compare(act, exp, [
        { values: variant((e, sL, g, T) => obj(e, sL, g * g, T)), message: 'Your exponent is T: it is 2T, (1 - eps/sigma_L^2)^(2T).' },
        { values: variant((e, sL, g, T) => obj(e, sL, g, 2 * T)), message: 'You used gamma where gamma^2 belongs: (1 - eps/sigma_L^2)^(2T) (gamma^2 - ...).' },
      ], "Your objective differs from technique 4's formula.", 1e-6, 0);
    },
  },
];

const chooseEps: CheckCase[] = [
  {
    name: 'value (CIFAR-10: about 6.2e-6)',
    run(mod) {
      const f = fn(mod, 'chooseEps');
      const cases: [number, number, number][] = [[0.01, Math.pow(50 / 0.01, 1 / 231), 5], [0.01, 1.082, 3], [0.1, 1.3, 10]];
      for (const [sL, g, T] of cases) {
        const act = asNumber(f(sL, g, T), 'chooseEps');
        const exp = epsFromObjective(g, sL, T);
        const e = `${fmtNum(exp)} (objective ${fmtNum(refObjective(exp, g, sL, T))})`;
        const a = `${fmtNum(act)} (objective ${fmtNum(refObjective(act, g, sL, T))})`;
        if (!(act > 0 && act < sL * sL)) {
          return { status: 'fail', message: `chooseEps(${sL}, ${fmtNum(g)}, ${T}) must lie in (0, sigma_L^2) = (0, ${fmtNum(sL * sL)}): beyond it the last level's Langevin steps diverge.`, expected: e, actual: a };
        }
        if (!near(act, exp, 0.02)) {
          return { status: 'fail', message: `chooseEps(${sL}, ${fmtNum(g)}, ${T}) is not the eps whose objective is closest to 1: search eps on a LOG scale in (0, sigma_L^2) (the answer can be orders of magnitude below sigma_L^2).`, expected: e, actual: a };
        }
      }
      return pass();
    },
  },
];

// ---- the integration check ----

const MIXTURE = new GaussianMixture2D([0.8, 0.2], [[5, 5], [-5, -5]], 1);

/** The exact sigma-scaled score of the mixture, sigma * s(x, sigma), as a network would give it. */
export const mixtureNet: Net = (x, sigma) => {
  const s = typeof sigma === 'number' ? sigma : sigma.dataSync()[0]!;
  const score = MIXTURE.score(x.dataSync() as Float32Array, s);
  for (let i = 0; i < score.length; i++) score[i]! *= s;
  return tf.tensor(score, x.shape);
};

const integration: CheckCase[] = [
  {
    name: "recovers 0.8 N((5,5), I) + 0.2 N((-5,-5), I) from its exact score",
    timeoutMs: 30_000,
    run(mod) {
      const sampler = fn(mod, 'annealedLangevin');
      const sigmas = geometricSigmas(20, 0.1, 12);
      const n = 1000;
      const out = asTensor(sampler(mixtureNet, sigmas, 0.005, 30, n, [2], 3), 'annealedLangevin');
      checkShape(out, [n, 2], 'annealedLangevin(..., n = 1000, shape [2])');
      const v = Float32Array.from(out.dataSync() as Float32Array);
      out.dispose();
      const bad = v.findIndex((x) => !Number.isFinite(x));
      if (bad >= 0) {
        return { status: 'fail', expected: 'finite samples near (5, 5) and (-5, -5)', actual: `${v[bad]} at index ${bad}`, message: `Driven by the EXACT score of the mixture, your sampler does not recover it: the samples diverged to ${v[bad]}. A step too large for its level does this: check stepSize and the score (net / sigma) in langevinStep.` };
      }
      const stats = [0, 1].map(() => ({ count: 0, sum: [0, 0], sq: [0, 0] }));
      for (let i = 0; i < n; i++) {
        const k = v[2 * i]! + v[2 * i + 1]! > 0 ? 0 : 1;
        const st = stats[k]!;
        st.count++;
        for (let d = 0; d < 2; d++) {
          st.sum[d]! += v[2 * i + d]!;
          st.sq[d]! += v[2 * i + d]! ** 2;
        }
      }
      const w = stats[0]!.count / n;
      const desc = stats.map((st, k) => {
        const m = st.sum.map((s) => s / Math.max(1, st.count));
        const sd = st.sq.map((q, d) => Math.sqrt(Math.max(0, q / Math.max(1, st.count) - m[d]! ** 2)));
        return { k, m, sd };
      });
      const actual = `weights ${fmtNum(w)} / ${fmtNum(1 - w)}; means ${desc.map((d) => `(${d.m.map(fmtNum).join(', ')})`).join(' ')}; stds ${desc.map((d) => `(${d.sd.map(fmtNum).join(', ')})`).join(' ')}`;
      const expected = 'weights 0.8 / 0.2 (± 0.06); means (5, 5) (-5, -5) (± 0.3); stds (1, 1) (1, 1) (± 0.2)';
      const problems: string[] = [];
      if (Math.abs(w - 0.8) > 0.06) problems.push(`the mode weights are ${fmtNum(w)} / ${fmtNum(1 - w)} instead of 0.8 / 0.2`);
      desc.forEach(({ k, m, sd }) => {
        if (stats[k]!.count < 20) return;
        const mu = k === 0 ? 5 : -5;
        if (m.some((x) => Math.abs(x - mu) > 0.3)) problems.push(`the mode at (${mu}, ${mu}) is centred at (${m.map(fmtNum).join(', ')})`);
        if (sd.some((s) => Math.abs(s - 1) > 0.2)) problems.push(`the mode at (${mu}, ${mu}) has std (${sd.map(fmtNum).join(', ')}) instead of 1`);
      });
      if (!problems.length) return pass();
      return { status: 'fail', expected, actual, message: `Driven by the EXACT score of the mixture, your sampler does not recover it: ${problems.join('; ')}. Check initialSamples, stepSize, langevinStep and denoise (their own checks say more).` };
    },
  },
];

export const CHECKS: Record<string, CheckCase[]> = {
  initialSamples, stepSize, langevinStep, denoise, dsmLoss, decoderSkips, geometricSchedule, sigmaMaxFromData, gammaFromOverlap, numLevels, stepObjective, chooseEps,
  annealedLangevin: integration,
};
