/**
 * The parts of the score model you do NOT write: the "not implemented" marker, the standard normal
 * CDF, the U-Net's layers, a tiny data loader, and the types the blanks share. Read it, but leave it
 * as it is: the checks and "Train with my implementation" use it as shipped.
 */
import * as tf from '@tensorflow/tfjs';

/** Thrown by a blank you have not filled in yet; it carries the blank's id and hint. */
export class NotImplementedError extends Error {
  constructor(readonly blank: string, readonly hint: string) {
    super(`${blank} is not implemented yet. Hint: ${hint}`);
    this.name = 'NotImplementedError';
  }
}

/** Marks a blank: replace the call with your implementation. */
export function notImplemented(blank: string, hint: string): never {
  throw new NotImplementedError(blank, hint);
}

/**
 * The network: takes a batch x [B, ...shape] and returns net(x), the SIGMA-SCALED score
 * sigma * s(x, sigma), with the same shape. NCSNv2's U-Net ignores sigma (technique 3: the score is
 * net(x) / sigma); networks for 2D points may use it (as an input log sigma). In dsmLoss, sigma is
 * the per-example noise level [B].
 */
export type ScoreNet = (x: tf.Tensor, sigma: number | tf.Tensor1D) => tf.Tensor;

/** The standard normal CDF Phi(x) (for technique 2). */
export function normalCdf(x: number): number {
  // erfc with relative error below 1.2e-7 (Numerical Recipes' Chebyshev fit).
  const u = -x / Math.SQRT2;
  const z = Math.abs(u);
  const t = 1 / (1 + 0.5 * z);
  const r = t * Math.exp(-z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 +
    t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))));
  return 0.5 * (u >= 0 ? r : 2 - r);
}

/** The U-Net's size: channels of the first level, channel multiplier per level, convs per level. */
export interface UNetConfig {
  base: number;
  mults: number[];
  blocks: number;
}

/** How the decoder gets its skip inputs from the encoder's per-level outputs (your `decoderSkips`). */
export type SkipWiring = <T>(encoderOutputs: T[]) => T[];

function conv(filters: number, name: string, seed: number, opts: { kernel?: number; strides?: number; activation?: 'swish' | 'linear' } = {}) {
  return tf.layers.conv2d({
    filters, kernelSize: opts.kernel ?? 3, strides: opts.strides ?? 1, padding: 'same',
    activation: opts.activation ?? 'swish', name, kernelInitializer: tf.initializers.glorotUniform({ seed }),
  });
}

/**
 * The U-Net: a root 3x3 conv; an encoder whose per-level outputs are kept (then a stride-2 conv);
 * a middle; a decoder that upsamples and concatenates one skip per level, taking the skips in the
 * order `wiring` returns them; a 1x1 conv head. Image shape [H, W, C], H and W multiples of 2^levels.
 */
export function buildUNet(shape: [number, number, number], cfg: UNetConfig, wiring: SkipWiring, seed = 0): tf.LayersModel {
  let k = seed * 1000;
  const [h, w, c] = shape;
  const input = tf.input({ shape: [h, w, c], name: 'x' });
  let x = conv(cfg.base, 'root', k++, { activation: 'linear' }).apply(input) as tf.SymbolicTensor;
  const encoderOutputs: tf.SymbolicTensor[] = [];
  cfg.mults.forEach((m, level) => {
    for (let b = 0; b < cfg.blocks; b++) x = conv(cfg.base * m, `down${level}_conv${b}`, k++).apply(x) as tf.SymbolicTensor;
    encoderOutputs.push(x);
    x = conv(cfg.base * m, `down${level}_stride2`, k++, { strides: 2, activation: 'linear' }).apply(x) as tf.SymbolicTensor;
  });
  const levels = cfg.mults.length;
  for (let b = 0; b < cfg.blocks; b++) x = conv(cfg.base * cfg.mults[levels - 1]!, `mid_conv${b}`, k++).apply(x) as tf.SymbolicTensor;
  const skips = wiring(encoderOutputs);
  if (!Array.isArray(skips) || skips.length !== levels) {
    throw new Error(`decoderSkips must return one skip per level (${levels}); it returned ${Array.isArray(skips) ? skips.length : typeof skips}.`);
  }
  skips.forEach((skip, i) => {
    const level = levels - 1 - i;
    x = tf.layers.upSampling2d({ size: [2, 2], interpolation: 'nearest', name: `up${level}_resize` }).apply(x) as tf.SymbolicTensor;
    x = tf.layers.concatenate({ axis: -1, name: `up${level}_skip` }).apply([x, skip]) as tf.SymbolicTensor;
    for (let b = 0; b < cfg.blocks; b++) x = conv(cfg.base * cfg.mults[level]!, `up${level}_conv${b}`, k++).apply(x) as tf.SymbolicTensor;
  });
  const out = conv(c, 'head', k++, { kernel: 1, activation: 'linear' }).apply(x) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: out, name: 'score_unet' });
}

/** A U-Net as a ScoreNet (it ignores sigma: technique 3). */
export function unetScoreNet(model: tf.LayersModel): ScoreNet {
  return (x) => model.apply(x) as tf.Tensor;
}

/** NCSN's two-Gaussian toy, 0.8 N((5,5), I) + 0.2 N((-5,-5), I): n points as a [n, 2] tensor. */
export function loadToyMixture(n: number, seed = 0): tf.Tensor2D {
  let s = seed >>> 0 || 0x9e3779b9;
  const uniform = () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = Math.imul(s ^ (s >>> 15), s | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const out = new Float32Array(n * 2);
  for (let i = 0; i < n; i++) {
    const m = uniform() < 0.8 ? 5 : -5;
    for (let d = 0; d < 2; d++) {
      const u = Math.max(uniform(), 1e-12);
      out[2 * i + d] = m + Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * uniform());
    }
  }
  return tf.tensor2d(out, [n, 2]);
}
