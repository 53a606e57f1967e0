/**
 * The noise-conditional score (NCSNv2 technique 3): s(x, sigma) = net(x) / sigma.
 * For the 2D MLP the network also sees log sigma as an extra input column.
 */
import * as tf from '@tensorflow/tfjs';

/** Anything that gives s(x, sigma): a trained network, or an exact score in tests and checks. */
export interface ScoreFunction {
  score(x: tf.Tensor, sigma: number): tf.Tensor;
}

export class ScoreModel implements ScoreFunction {
  constructor(readonly net: tf.LayersModel, readonly conditional: boolean) {}

  /** Per-example sigma as a [B] tensor, or one sigma for the whole batch. */
  private sigmaColumn(x: tf.Tensor, sigma: number | tf.Tensor1D): tf.Tensor {
    const b = x.shape[0]!;
    const s = typeof sigma === 'number' ? tf.fill([b], sigma) : sigma;
    return s.reshape([b, ...x.shape.slice(1).map(() => 1)]);
  }

  /** net(x): the sigma-scaled score, sigma * s(x, sigma). */
  output(x: tf.Tensor, sigma: number | tf.Tensor1D, training = false): tf.Tensor {
    return tf.tidy(() => {
      let input = x;
      if (this.conditional) {
        const b = x.shape[0]!;
        const s = typeof sigma === 'number' ? tf.fill([b], sigma) : sigma;
        input = tf.concat([x, s.log().reshape([b, 1])], 1);
      }
      return this.net.apply(input, { training }) as tf.Tensor;
    });
  }

  /** s(x, sigma) = net(x) / sigma. */
  score(x: tf.Tensor, sigma: number | tf.Tensor1D): tf.Tensor {
    return tf.tidy(() => this.output(x, sigma).div(this.sigmaColumn(x, sigma)));
  }
}
