/**
 * A score function whose network evaluations are split across a data-parallel pool (pool.ts): the
 * sampler (sampler.ts) awaits `scoreAsync` for each Langevin step and keeps the update, the noise and
 * everything else on the coordinator, so a chain gives the same samples on any number of threads.
 */
import * as tf from '@tensorflow/tfjs';
import type { ScoreModel } from '../score';
import type { ParallelPool } from './pool';

/** What the sampler can await instead of calling `score` (see sampler.ts). */
export interface AsyncScoreFunction {
  score(x: tf.Tensor, sigma: number): tf.Tensor;
  scoreAsync?(x: tf.Tensor, sigma: number): Promise<tf.Tensor>;
}

export class ParallelScore implements AsyncScoreFunction {
  private synced = false;

  /** `local`: the coordinator's network, whose weights the helpers receive before the first evaluation. */
  constructor(readonly local: ScoreModel, readonly pool: ParallelPool) {}

  score(x: tf.Tensor, sigma: number): tf.Tensor {
    return this.local.score(x, sigma);
  }

  async scoreAsync(x: tf.Tensor, sigma: number): Promise<tf.Tensor> {
    const B = x.shape[0]!;
    if (B < 2) return this.local.score(x, sigma);
    if (!this.synced) {
      await this.pool.writeParams(this.local.net.trainableWeights.map((w) => w.read()));
      this.synced = true;
    }
    const sig = new Float32Array(B).fill(sigma);
    const out = await this.pool.outputs(this.local, (await x.data()) as Float32Array, sig);
    return tf.tidy(() => tf.tensor(out, x.shape).div(sigma));
  }
}
