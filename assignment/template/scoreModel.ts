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
import { normalCdf, notImplemented, type ScoreNet } from './provided';

// ---------------------------------------------------------------------------------------------------
// Sampling: annealed Langevin dynamics
// ---------------------------------------------------------------------------------------------------

/** Initial samples: n points of shape `shape`, each value normal with mean 0 and std sigma_1 (the largest level). */
export function initialSamples(n: number, shape: number[], sigma1: number, seed?: number): tf.Tensor {
  return notImplemented('initialSamples', "tf.randomNormal([n, ...shape], 0, sigma1, 'float32', seed): normal, mean 0, with the LARGEST level sigma_1 as the std");
}

/** The step size at level i, the Improved paper's alpha_i = eps * sigma_i^2 / sigma_L^2. */
export function stepSize(eps: number, sigma: number, sigmaL: number): number {
  return notImplemented('stepSize', "alpha_i = eps * sigma_i^2 / sigma_L^2 (the Improved paper's step; NCSN's paper writes alpha/2 instead: do not mix them)");
}

/** One Langevin step at level sigma with step size alpha: x + alpha * s(x, sigma) + sqrt(2 alpha) z, with s = net / sigma. */
export function langevinStep(x: tf.Tensor, net: ScoreNet, sigma: number, alpha: number, z: tf.Tensor): tf.Tensor {
  return notImplemented('langevinStep', "score = net(x, sigma) / sigma; return x + alpha * score + sqrt(2 * alpha) * z (wrap it in tf.tidy)");
}

/** The final denoising step (Tweedie): x + sigma_L^2 * s(x, sigma_L). */
export function denoise(x: tf.Tensor, net: ScoreNet, sigmaL: number): tf.Tensor {
  return notImplemented('denoise', "x + sigma_L^2 * s(x, sigma_L), and s = net / sigma_L: so x + sigma_L * net(x, sigma_L)");
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
  return notImplemented('dsmLoss', "noisy = x + sigma * z (sigmas reshaped to [B, 1, ...]); per example 0.5 * sum((net(noisy, sigmas) + z)^2), shape [B]");
}

// ---------------------------------------------------------------------------------------------------
// The U-Net's skip wiring
// ---------------------------------------------------------------------------------------------------

/** The skips in the order the decoder takes them, given the encoder's per-level outputs (finest first). */
export function decoderSkips<T>(encoderOutputs: T[]): T[] {
  return notImplemented('decoderSkips', "the decoder runs from the coarsest level back to the finest: the encoder outputs in reverse order (copy first: Array.reverse() works in place)");
}

// ---------------------------------------------------------------------------------------------------
// The noise schedule: NCSNv2 techniques 1, 2 and 4
// ---------------------------------------------------------------------------------------------------

/** L levels from sigma1 down to sigmaL in a geometric sequence (constant ratio), sigma1 first. */
export function geometricSchedule(sigma1: number, sigmaL: number, L: number): number[] {
  return notImplemented('geometricSchedule', "sigma_i = sigma1 * (sigmaL / sigma1)^(i / (L - 1)) for i = 0..L-1: descending, first sigma1, last sigmaL");
}

/** Technique 1: sigma_1 = the largest Euclidean distance between two training points (rows of data [N, D]). */
export function sigmaMaxFromData(data: tf.Tensor2D): number {
  return notImplemented('sigmaMaxFromData', "the MAXIMUM over all pairs of ||x_i - x_j|| (not the mean); |a - b|^2 = |a|^2 + |b|^2 - 2 a.b with one matMul");
}

/**
 * Technique 2: the ratio gamma > 1 with Phi(sqrt(2D)(gamma - 1) + 3 gamma) - Phi(sqrt(2D)(gamma - 1) - 3 gamma) = 0.5
 * (use `normalCdf` for Phi). D is the data dimension.
 */
export function gammaFromOverlap(D: number): number {
  return notImplemented('gammaFromOverlap', "bisect on gamma in (1, 2]: the overlap is about 1 at gamma = 1 and falls as gamma grows; use normalCdf");
}

/** Technique 2: the fewest levels L from sigma1 to sigmaL whose ratio does not exceed gamma. */
export function numLevels(sigma1: number, sigmaL: number, gamma: number): number {
  return notImplemented('numLevels', "L levels have L - 1 ratios, each at most gamma, covering sigma1 / sigmaL: L = ceil(log(sigma1 / sigmaL) / log(gamma)) + 1");
}

/**
 * Technique 4's objective for step size eps (want it close to 1):
 * (1 - eps/sL^2)^(2T) * (gamma^2 - 2 eps / (sL^2 - sL^2 (1 - eps/sL^2)^2)) + 2 eps / (sL^2 - sL^2 (1 - eps/sL^2)^2).
 */
export function stepObjective(eps: number, sigmaL: number, gamma: number, T: number): number {
  return notImplemented('stepObjective', "transcribe the formula: note the exponent 2T and gamma SQUARED");
}

/** Technique 4: the eps in (0, sigma_L^2) whose stepObjective is closest to 1. */
export function chooseEps(sigmaL: number, gamma: number, T: number): number {
  return notImplemented('chooseEps', "scan eps on a log scale in (0, sigma_L^2), keep the eps whose stepObjective is nearest 1, then refine around it");
}
