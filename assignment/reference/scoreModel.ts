/**
 * A score-based generative model (NCSN / NCSNv2), to complete: fill in every blank, i.e. every
 * function whose body is `notImplemented(...)`. GUIDE.md explains the maths; the CodeLens above each
 * blank checks it, and the Test Explorer checks them all.
 *
 * Conventions: tensors are float32; a batch is [B, ...shape]; the network returns net(x), the
 * sigma-scaled score, so the score is s(x, sigma) = net(x, sigma) / sigma. sigmas are descending:
 * sigma_1 > ... > sigma_L.
 */
import * as tf from '@tensorflow/tfjs';
import { normalCdf, type ScoreNet } from './provided';

// ---------------------------------------------------------------------------------------------------
// Sampling: annealed Langevin dynamics
// ---------------------------------------------------------------------------------------------------

/** Initial samples: n points of shape `shape`, each value normal with mean 0 and std sigma_1 (the largest level). */
export function initialSamples(n: number, shape: number[], sigma1: number, seed?: number): tf.Tensor {
  return tf.randomNormal([n, ...shape], 0, sigma1, 'float32', seed);
}

/** The step size at level i, the Improved paper's alpha_i = eps * sigma_i^2 / sigma_L^2. */
export function stepSize(eps: number, sigma: number, sigmaL: number): number {
  return (eps * sigma * sigma) / (sigmaL * sigmaL);
}

/** One Langevin step at level sigma with step size alpha: x + alpha * s(x, sigma) + sqrt(2 alpha) z, with s = net / sigma. */
export function langevinStep(x: tf.Tensor, net: ScoreNet, sigma: number, alpha: number, z: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const score = net(x, sigma).div(sigma);
    return x.add(score.mul(alpha)).add(z.mul(Math.sqrt(2 * alpha)));
  });
}

/** The final denoising step (Tweedie): x + sigma_L^2 * s(x, sigma_L). */
export function denoise(x: tf.Tensor, net: ScoreNet, sigmaL: number): tf.Tensor {
  return tf.tidy(() => x.add(net(x, sigmaL).mul(sigmaL)));
}

/**
 * The whole sampler (provided: it calls your blanks). For each level, T Langevin steps with that
 * level's step size; then the final denoising step.
 */
export function annealedLangevin(net: ScoreNet, sigmas: number[], eps: number, T: number, n: number, shape: number[], seed = 0): tf.Tensor {
  const L = sigmas.length;
  let x = initialSamples(n, shape, sigmas[0]!, seed);
  let k = 1;
  for (let i = 0; i < L; i++) {
    const alpha = stepSize(eps, sigmas[i]!, sigmas[L - 1]!);
    for (let t = 0; t < T; t++) {
      const z = tf.randomNormal(x.shape, 0, 1, 'float32', seed * 7919 + k++);
      const next = langevinStep(x, net, sigmas[i]!, alpha, z);
      tf.dispose([x, z]);
      x = next;
    }
  }
  const out = denoise(x, net, sigmas[L - 1]!);
  x.dispose();
  return out;
}

// ---------------------------------------------------------------------------------------------------
// Training: denoising score matching
// ---------------------------------------------------------------------------------------------------

/**
 * Per-example DSM losses [B] with lambda(sigma) = sigma^2: x~ = x + sigma z and
 * 0.5 * || sigma * s(x~, sigma) + z ||^2 = 0.5 * || net(x~, sigma) + z ||^2.
 * x: clean data [B, ...shape]; sigmas: each example's level [B]; z: standard normal, shape of x.
 */
export function dsmLoss(net: ScoreNet, x: tf.Tensor, sigmas: tf.Tensor1D, z: tf.Tensor): tf.Tensor1D {
  return tf.tidy(() => {
    const b = x.shape[0]!;
    const s = sigmas.reshape([b, ...x.shape.slice(1).map(() => 1)]);
    const noisy = x.add(z.mul(s));
    return net(noisy, sigmas).add(z).square().reshape([b, -1]).sum(1).mul(0.5) as tf.Tensor1D;
  });
}

// ---------------------------------------------------------------------------------------------------
// The U-Net's skip wiring
// ---------------------------------------------------------------------------------------------------

/** The skips in the order the decoder takes them, given the encoder's per-level outputs (finest first). */
export function decoderSkips<T>(encoderOutputs: T[]): T[] {
  return [...encoderOutputs].reverse();
}

// ---------------------------------------------------------------------------------------------------
// The noise schedule: NCSNv2 techniques 1, 2 and 4
// ---------------------------------------------------------------------------------------------------

/** L levels from sigma1 down to sigmaL in a geometric sequence (constant ratio), sigma1 first. */
export function geometricSchedule(sigma1: number, sigmaL: number, L: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < L; i++) out.push(sigma1 * Math.pow(sigmaL / sigma1, i / (L - 1)));
  return out;
}

/** Technique 1: sigma_1 = the largest Euclidean distance between two training points (rows of data [N, D]). */
export function sigmaMaxFromData(data: tf.Tensor2D): number {
  return tf.tidy(() => {
    const norms = data.square().sum(1);
    const d2 = norms.reshape([-1, 1]).add(norms.reshape([1, -1])).sub(tf.matMul(data, data, false, true).mul(2));
    return Math.sqrt(Math.max(0, d2.max().dataSync()[0]!));
  });
}

/**
 * Technique 2: the ratio gamma > 1 with Phi(sqrt(2D)(gamma - 1) + 3 gamma) - Phi(sqrt(2D)(gamma - 1) - 3 gamma) = 0.5
 * (use `normalCdf` for Phi). D is the data dimension.
 */
export function gammaFromOverlap(D: number): number {
  const f = (g: number) => normalCdf(Math.sqrt(2 * D) * (g - 1) + 3 * g) - normalCdf(Math.sqrt(2 * D) * (g - 1) - 3 * g) - 0.5;
  let lo = 1;
  let hi = 2;
  while (f(hi) > 0) hi *= 2;
  for (let i = 0; i < 100; i++) {
    const mid = 0.5 * (lo + hi);
    if (f(mid) > 0) lo = mid;
    else hi = mid;
  }
  return 0.5 * (lo + hi);
}

/** Technique 2: the fewest levels L from sigma1 to sigmaL whose ratio does not exceed gamma. */
export function numLevels(sigma1: number, sigmaL: number, gamma: number): number {
  return Math.ceil(Math.log(sigma1 / sigmaL) / Math.log(gamma) - 1e-9) + 1;
}

/**
 * Technique 4's objective for step size eps (want it close to 1):
 * (1 - eps/sL^2)^(2T) * (gamma^2 - 2 eps / (sL^2 - sL^2 (1 - eps/sL^2)^2)) + 2 eps / (sL^2 - sL^2 (1 - eps/sL^2)^2).
 */
export function stepObjective(eps: number, sigmaL: number, gamma: number, T: number): number {
  const s2 = sigmaL * sigmaL;
  const q = 1 - eps / s2;
  const c = (2 * eps) / (s2 - s2 * q * q);
  return Math.pow(q, 2 * T) * (gamma * gamma - c) + c;
}

/** Technique 4: the eps in (0, sigma_L^2) whose stepObjective is closest to 1. */
export function chooseEps(sigmaL: number, gamma: number, T: number): number {
  const s2 = sigmaL * sigmaL;
  const cost = (logEps: number) => Math.abs(stepObjective(Math.exp(logEps), sigmaL, gamma, T) - 1);
  let lo = Math.log(s2 * 1e-12);
  let hi = Math.log(s2 * (1 - 1e-9));
  // A log-spaced scan, then golden-section refinement around the best point.
  const n = 2000;
  let best = lo;
  for (let i = 0; i <= n; i++) {
    const v = lo + ((hi - lo) * i) / n;
    if (cost(v) < cost(best)) best = v;
  }
  const step = (hi - lo) / n;
  lo = best - step;
  hi = best + step;
  const g = (Math.sqrt(5) - 1) / 2;
  for (let i = 0; i < 100; i++) {
    const a = hi - g * (hi - lo);
    const b = lo + g * (hi - lo);
    if (cost(a) < cost(b)) hi = b;
    else lo = a;
  }
  return Math.exp(0.5 * (lo + hi));
}
