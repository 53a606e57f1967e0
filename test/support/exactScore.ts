/** The exact score of an analytic toy (a Gaussian mixture) as a ScoreFunction, for sampler tests. */
import * as tf from '@tensorflow/tfjs';
import type { ToyDistribution } from '../../server/engine/datasets';
import type { ScoreFunction } from '../../server/engine/score';

export function exactScore(toy: ToyDistribution): ScoreFunction {
  return {
    score: (x: tf.Tensor, sigma: number) => tf.tensor(toy.score!(x.dataSync() as Float32Array, sigma), x.shape),
  };
}

/** The exact score of N(mean, s^2 I) smoothed by sigma, for any shape: (mean - x) / (s^2 + sigma^2). */
export function gaussianScore(mean: tf.Tensor, s: number): ScoreFunction {
  return { score: (x, sigma) => tf.tidy(() => mean.sub(x).div(s * s + sigma * sigma)) };
}
