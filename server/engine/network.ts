/**
 * Score networks. NCSNv2 technique 3: the network takes no sigma input and the score is its output
 * divided by sigma, s(x, sigma) = net(x) / sigma (see `score.ts`). Both networks are TF.js Layers
 * models, so a checkpoint's model.json also loads in a browser app with tf.loadLayersModel.
 *
 *  - U-Net (images): a root 3x3 conv; an encoder of `mults.length` levels, each `blocks` 3x3 conv +
 *    SiLU layers whose output is kept as a skip, then a stride-2 conv; a middle of `blocks` convs; a
 *    decoder that upsamples (nearest x2), concatenates the skips in reverse order, and applies
 *    `blocks` convs per level; a 1x1 conv head. The `reference` preset is exactly RECIPES.md's
 *    reference U-Net (341,953 parameters).
 *  - MLP (2D points): the input is [x, log sigma], since in two dimensions one unconditional field
 *    cannot serve every noise level; the output is still divided by sigma.
 */
import * as tf from '@tensorflow/tfjs';

export interface UNetConfig {
  kind: 'unet';
  /** Channels of the first level. */
  base: number;
  /** Channel multiplier per encoder level; the number of levels is its length. */
  mults: number[];
  /** Conv layers per level. */
  blocks: number;
}

export interface MlpConfig {
  kind: 'mlp';
  hidden: number[];
}

export type NetworkConfig = UNetConfig | MlpConfig;

export interface Preset {
  name: string;
  description: string;
  network: NetworkConfig;
  /** Training defaults that go with this size. */
  batch: number;
  learningRate: number;
  /** EMA decay, where it differs from NCSNv2's 0.999 (short toy runs). */
  emaDecay?: number;
}

export const PRESETS: Record<string, Preset> = {
  tiny: {
    name: 'tiny', description: 'U-Net 8-16 ch, 1 conv per level: for tests and smoke runs (seconds per step on CPU)',
    network: { kind: 'unet', base: 8, mults: [1, 2], blocks: 1 }, batch: 16, learningRate: 1e-3,
  },
  small: {
    name: 'small', description: 'U-Net 16-32 ch, 2 convs per level: the CPU default for MNIST-sized data',
    // Measured time-to-quality on 2 cores (README): lr 2e-3 at batch 32 reached in 25 minutes what
    // lr 5e-4 at batch 64 had not in 30; the collapse guard in train.ts covers the higher rate.
    network: { kind: 'unet', base: 16, mults: [1, 2], blocks: 2 }, batch: 32, learningRate: 2e-3,
  },
  reference: {
    name: 'reference', description: "U-Net 32-64 ch, 2 convs per level: RECIPES.md's reference model (341,953 parameters at 28x28x1)",
    network: { kind: 'unet', base: 32, mults: [1, 2], blocks: 2 }, batch: 64, learningRate: 2e-4,
  },
  mlp: {
    name: 'mlp', description: 'MLP 3-128-128-128-2 on [x, log sigma]: for 2D toys',
    network: { kind: 'mlp', hidden: [128, 128, 128] }, batch: 512, learningRate: 1e-3, emaDecay: 0.995,
  },
};

export const DEFAULT_IMAGE_PRESET = 'small';
export const DEFAULT_POINTS_PRESET = 'mlp';

export class NetworkError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NetworkError';
  }
}

export function getPreset(name: string): Preset {
  const p = PRESETS[name];
  if (!p) throw new NetworkError(`Unknown preset '${name}'. Choose one of: ${Object.keys(PRESETS).join(', ')}.`);
  return p;
}

/** Whether the network takes log sigma as an extra input column. */
export function takesSigma(config: NetworkConfig): boolean {
  return config.kind === 'mlp';
}

/** Seeded Glorot-uniform initialisers, so the same seed builds the same network. */
class Init {
  private k = 0;
  constructor(private readonly seed: number) {}
  next() {
    return tf.initializers.glorotUniform({ seed: this.seed * 1000 + this.k++ });
  }
}

function conv(init: Init, filters: number, name: string, opts: { kernel?: number; strides?: number; activation?: 'swish' | 'linear' } = {}) {
  return tf.layers.conv2d({
    filters, kernelSize: opts.kernel ?? 3, strides: opts.strides ?? 1, padding: 'same',
    activation: opts.activation ?? 'swish', name, kernelInitializer: init.next(),
  });
}

export function buildUNet(shape: number[], cfg: UNetConfig, seed = 0): tf.LayersModel {
  const init = new Init(seed);
  const [h, w, c] = shape as [number, number, number];
  if (shape.length !== 3) throw new NetworkError(`The U-Net needs image data [H, W, C] (got shape [${shape}]); use the mlp preset for points.`);
  const levels = cfg.mults.length;
  const f = 2 ** levels;
  if (h % f !== 0 || w % f !== 0) {
    throw new NetworkError(`A U-Net with ${levels} levels halves the image ${levels} times, so H and W must be multiples of ${f} (got ${h}x${w}). Use fewer levels (mults) or resize the data.`);
  }
  if (!(cfg.base >= 1 && cfg.blocks >= 1 && levels >= 1)) throw new NetworkError('U-Net base, blocks and levels must be at least 1.');
  const input = tf.input({ shape: [h, w, c], name: 'x' });
  let x = conv(init, cfg.base, 'root', { activation: 'linear' }).apply(input) as tf.SymbolicTensor;
  const skips: tf.SymbolicTensor[] = [];
  cfg.mults.forEach((m, level) => {
    for (let b = 0; b < cfg.blocks; b++) x = conv(init, cfg.base * m, `down${level}_conv${b}`).apply(x) as tf.SymbolicTensor;
    skips.push(x);
    x = conv(init, cfg.base * m, `down${level}_stride2`, { strides: 2, activation: 'linear' }).apply(x) as tf.SymbolicTensor;
  });
  const deepest = cfg.base * cfg.mults[levels - 1]!;
  for (let b = 0; b < cfg.blocks; b++) x = conv(init, deepest, `mid_conv${b}`).apply(x) as tf.SymbolicTensor;
  // Decoder: the encoder's outputs in reverse order.
  [...skips].reverse().forEach((skip, i) => {
    const level = levels - 1 - i;
    x = tf.layers.upSampling2d({ size: [2, 2], interpolation: 'nearest', name: `up${level}_resize` }).apply(x) as tf.SymbolicTensor;
    x = tf.layers.concatenate({ axis: -1, name: `up${level}_skip` }).apply([x, skip]) as tf.SymbolicTensor;
    for (let b = 0; b < cfg.blocks; b++) x = conv(init, cfg.base * cfg.mults[level]!, `up${level}_conv${b}`).apply(x) as tf.SymbolicTensor;
  });
  const out = conv(init, c, 'head', { kernel: 1, activation: 'linear' }).apply(x) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: out, name: 'score_unet' });
}

export function buildMlp(shape: number[], cfg: MlpConfig, seed = 0): tf.LayersModel {
  const init = new Init(seed);
  if (shape.length !== 1) throw new NetworkError(`The MLP takes vectors (got shape [${shape}]); use a U-Net preset for images.`);
  const d = shape[0]!;
  const input = tf.input({ shape: [d + 1], name: 'x_logsigma' });
  let x: tf.SymbolicTensor = input;
  cfg.hidden.forEach((units, i) => {
    x = tf.layers.dense({ units, activation: 'swish', name: `dense${i}`, kernelInitializer: init.next() }).apply(x) as tf.SymbolicTensor;
  });
  const out = tf.layers.dense({ units: d, name: 'head', kernelInitializer: init.next() }).apply(x) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: out, name: 'score_mlp' });
}

/** Builds the network; the seed fixes the initial weights. */
export function buildNetwork(shape: number[], cfg: NetworkConfig, seed = 0): tf.LayersModel {
  return cfg.kind === 'unet' ? buildUNet(shape, cfg, seed) : buildMlp(shape, cfg, seed);
}

export function parameterCount(model: tf.LayersModel): number {
  return model.countParams();
}
