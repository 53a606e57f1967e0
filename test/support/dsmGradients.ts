/**
 * The DSM loss of the `tiny` U-Net and its gradients for every trainable weight, on whichever TF.js
 * backend is active: the backend tests compare these between backends.
 */
import * as tf from '@tensorflow/tfjs';
import { buildNetwork, PRESETS } from '../../server/engine/network';
import { ScoreModel } from '../../server/engine/score';
import { dsmLoss } from '../../server/engine/loss';

export interface Weights { shape: number[]; data: Float32Array }

/** The tiny U-Net's initial weights for one seed, as plain arrays (read on the active backend). */
export async function tinyUNetWeights(shape: number[], seed: number): Promise<Weights[]> {
  const net = buildNetwork(shape, PRESETS.tiny!.network, seed);
  const out = await Promise.all(net.getWeights().map(async (t) => ({ shape: t.shape, data: (await t.data()).slice() as Float32Array })));
  net.dispose();
  return out;
}

/** Mean DSM loss of the batch x (noise z, one sigma per example) and its gradients, in weight order. */
export async function tinyUNetDsmGradients(shape: number[], weights: Weights[], x: Float32Array, z: Float32Array, sigmas: Float32Array):
  Promise<{ loss: number; grads: { name: string; data: Float32Array }[] }> {
  const n = sigmas.length;
  const net = buildNetwork(shape, PRESETS.tiny!.network, 0); // another seed: setWeights must make them equal
  const init = weights.map((w) => tf.tensor(w.data, w.shape));
  net.setWeights(init);
  tf.dispose(init);
  const model = new ScoreModel(net, false);
  const vars = net.trainableWeights.map((w) => w.read() as tf.Variable);
  const { value, grads } = tf.tidy(() => tf.variableGrads(
    () => dsmLoss(model, tf.tensor(x, [n, ...shape]), tf.tensor1d(sigmas), tf.tensor(z, [n, ...shape])).mean() as tf.Scalar, vars));
  const out = {
    loss: (await value.data())[0]!,
    grads: await Promise.all(net.trainableWeights.map(async (w, i) => ({ name: w.originalName, data: (await grads[vars[i]!.name]!.data()).slice() as Float32Array }))),
  };
  tf.dispose([value, ...Object.values(grads)]);
  net.dispose();
  return out;
}
