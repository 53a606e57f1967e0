/**
 * Denoising score matching with lambda(sigma) = sigma^2 weighting (SCORE-MODELS.md, "Training"):
 * x~ = x + sigma z, and per example 0.5 ||sigma s(x~, sigma) + z||^2 = 0.5 ||net(x~) + z||^2.
 */
import * as tf from '@tensorflow/tfjs';
import type { ScoreModel } from './score';

/**
 * Per-example DSM losses, shape [B].
 * @param x clean data [B, ...shape]
 * @param sigmas the noise level of each example [B]
 * @param z standard normal noise, same shape as x
 */
export function dsmLoss(model: ScoreModel, x: tf.Tensor, sigmas: tf.Tensor1D, z: tf.Tensor): tf.Tensor1D {
  return tf.tidy(() => {
    const b = x.shape[0]!;
    const s = sigmas.reshape([b, ...x.shape.slice(1).map(() => 1)]);
    const noisy = x.add(z.mul(s));
    const residual = model.output(noisy, sigmas, true).add(z);
    return residual.square().reshape([b, -1]).sum(1).mul(0.5) as tf.Tensor1D;
  });
}
