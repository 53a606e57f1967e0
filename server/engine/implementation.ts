/**
 * Another implementation of the model's maths in place of the built-in one: the student's, from the
 * assignment (server/assignment/studentImplementation.ts builds it from their module). Training uses
 * its loss and its noise ladder, sampling its whole annealed Langevin sampler. The network, the
 * optimiser, EMA, the guards and checkpoints stay the engine's.
 */
import * as tf from '@tensorflow/tfjs';
import type { NoiseSchedule } from './schedule';
import type { ScoreModel } from './score';

/** The network's output (the sigma-scaled score, technique 3) for a batch at given noise levels. */
export type NetOutput = (x: tf.Tensor, sigma: number | tf.Tensor1D) => tf.Tensor;

export interface Implementation {
  /** Who wrote it, for the run's config and messages, e.g. "your scoreModel.ts". */
  label: string;
  /** The file it comes from. */
  file: string;
  /** Per-example DSM losses, shape [B] (as loss.ts's dsmLoss). */
  loss(net: NetOutput, x: tf.Tensor, sigmas: tf.Tensor1D, z: tf.Tensor): tf.Tensor1D;
  /** The noise ladder sigma_1 > ... > sigma_L. */
  sigmas(sigma1: number, sigmaL: number, L: number): number[];
  /** n samples of `shape` with annealed Langevin dynamics and the final denoising step. */
  sample(net: NetOutput, sigmas: number[], eps: number, T: number, n: number, shape: number[], seed: number): tf.Tensor;
  /** Where a NaN loss most likely comes from, in words (the loss blank and its line). */
  nanHint: string;
}

/** A failure inside another implementation's code: the message names the function and its line. */
export class ImplementationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ImplementationError';
  }
}

/** Samples with the implementation's own sampler from the engine's network (the EMA weights). */
export async function sampleWith(impl: Implementation, model: ScoreModel, schedule: NoiseSchedule, shape: number[], n: number, seed: number): Promise<Float32Array> {
  const out = tf.tidy(() => impl.sample((x, sigma) => model.output(x, sigma), schedule.sigmas, schedule.eps, schedule.stepsPerLevel, n, shape, seed));
  try {
    if (out.size !== n * shape.reduce((a, b) => a * b, 1)) {
      throw new ImplementationError(`The sampler of ${impl.label} returned shape [${out.shape.join(', ')}]; expected [${[n, ...shape].join(', ')}].`);
    }
    const data = (await out.data()) as Float32Array;
    if (!data.every(Number.isFinite)) throw new ImplementationError(`The sampler of ${impl.label} returned NaN or infinite values. Check your langevinStep and stepSize in the Test Explorer.`);
    return data;
  } finally {
    out.dispose();
  }
}
