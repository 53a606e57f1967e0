import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../../server/engine/backend';
import { loadDataset } from '../../server/engine/datasets';
import { makeSchedule } from '../../server/engine/schedule';
import { annealedLangevin, CancelledError, variationStart } from '../../server/engine/sampler';
import { modeWeights, slicedWasserstein } from '../../server/engine/quality';
import { Rng } from '../../server/engine/random';
import { exactScore, gaussianScore } from '../support/exactScore';

before(async () => { await selectBackend('wasm', 'points'); });

test('annealed Langevin with the exact score recovers the 0.8/0.2 mixture weights', async () => {
  const ds = await loadDataset('toy:mixture');
  const schedule = makeSchedule(2, { sigmaMax: 20, sigmaMin: 0.5, levels: 20, stepsPerLevel: 100 });
  const { samples } = await annealedLangevin(exactScore(ds.toy!), schedule, [2], { n: 2000, seed: 3 });
  const [w1, w2] = modeWeights(samples, ds.toy!.components!.means);
  const big = ds.toy!.components!.weights[0]! > 0.5 ? w1! : w2!;
  assert.ok(Math.abs(big - 0.8) < 0.05, `weights ${w1}/${w2}`);
});

test('the samples start at N(0, sigma_1^2): one step with a zero score and no denoising keeps that spread', async () => {
  const zero = { score: (x: tf.Tensor) => tf.zerosLike(x) };
  const schedule = makeSchedule(1, { sigmas: [3, 1e-3], stepsPerLevel: 1, eps: 1e-12 });
  const { samples } = await annealedLangevin(zero, schedule, [1], { n: 20000, seed: 1, denoise: false });
  let ss = 0;
  for (const v of samples) ss += v * v;
  const std = Math.sqrt(ss / samples.length);
  assert.ok(Math.abs(std - 3) < 0.06, `std ${std}`);
});

test('each Langevin step adds noise of variance 2 alpha', async () => {
  const zero = { score: (x: tf.Tensor) => tf.zerosLike(x) };
  // Start from zeros (init), one level, T steps: the variance must be T * 2 * alpha.
  const schedule = makeSchedule(1, { sigmas: [0.5, 0.1], stepsPerLevel: 4, eps: 1e-3 });
  const n = 20000;
  const { samples } = await annealedLangevin(zero, schedule, [1], { n, seed: 2, denoise: false, startLevel: 1, init: new Float32Array(n) });
  let ss = 0;
  for (const v of samples) ss += v * v;
  const expected = 4 * 2 * 1e-3; // alpha at the last level = eps
  assert.ok(Math.abs(ss / n / expected - 1) < 0.05, `variance ${ss / n} vs ${expected}`);
});

test('the final denoising step moves samples by sigma_L^2 times the score', async () => {
  const mean = tf.tensor([[1, -1]]);
  const score = gaussianScore(mean.tile([4, 1]), 0.3);
  const schedule = makeSchedule(2, { sigmas: [1, 0.2], stepsPerLevel: 1, eps: 1e-9 });
  const init = new Float32Array(8).fill(0);
  const a = await annealedLangevin(score, schedule, [2], { n: 4, seed: 5, startLevel: 1, init, denoise: false });
  const b = await annealedLangevin(score, schedule, [2], { n: 4, seed: 5, startLevel: 1, init, denoise: true });
  for (let i = 0; i < 8; i++) {
    const x = a.samples[i]!;
    const target = i % 2 === 0 ? 1 : -1;
    const expected = x + 0.04 * ((target - x) / (0.09 + 0.04));
    assert.ok(Math.abs(b.samples[i]! - expected) < 1e-4, `${b.samples[i]} vs ${expected}`);
  }
  mean.dispose();
});

test('progress reports every level with alpha = eps sigma_i^2 / sigma_L^2, and snapshots are kept', async () => {
  const ds = await loadDataset('toy:8gaussians');
  const schedule = makeSchedule(2, { sigmaMax: 5, sigmaMin: 0.1, levels: 6, stepsPerLevel: 3 });
  const levels: number[] = [];
  const { snapshots } = await annealedLangevin(exactScore(ds.toy!), schedule, [2], {
    n: 50, seed: 1, snapshots: 3,
    onProgress: (p) => {
      levels.push(p.level);
      const sL = schedule.sigmas[5]!;
      assert.ok(Math.abs(p.alpha - (schedule.eps * p.sigma * p.sigma) / (sL * sL)) < 1e-15);
      assert.ok(p.scoreNorm > 0 && p.noiseNorm > 0);
    },
  });
  assert.deepEqual(levels, [0, 1, 2, 3, 4, 5]);
  assert.equal(snapshots.length, 3);
  assert.equal(snapshots[2]!.level, 5);
  assert.equal(snapshots[0]!.data.length, 100);
});

test('inpainting keeps the known values and fills the rest from the model', async () => {
  // A 4x4 "image" whose exact score pulls towards a known mean image.
  const D = 16;
  const meanImg = Float32Array.from({ length: D }, (_, i) => (i % 4) / 3);
  const n = 8;
  const mean = tf.tensor(meanImg, [1, 4, 4, 1]).tile([n, 1, 1, 1]);
  const score = gaussianScore(mean, 0.05);
  const known = new Float32Array(n * D);
  const mask = new Float32Array(n * D);
  for (let k = 0; k < n; k++) for (let i = 0; i < D; i++) {
    const isKnown = i < 8; // top half known
    mask[k * D + i] = isKnown ? 1 : 0;
    known[k * D + i] = isKnown ? 0.9 : 0; // known values differ from the mean image
  }
  const schedule = makeSchedule(D, { sigmaMax: 2, sigmaMin: 0.01, levels: 20, stepsPerLevel: 5 });
  const { samples } = await annealedLangevin(score, schedule, [4, 4, 1], { n, seed: 4, known, mask });
  for (let k = 0; k < n; k++) for (let i = 0; i < D; i++) {
    const v = samples[k * D + i]!;
    if (i < 8) assert.equal(v, known[k * D + i], 'known pixels equal the source');
    else assert.ok(Math.abs(v - meanImg[i]!) < 0.2, `unknown pixel ${i}: ${v} vs ${meanImg[i]}`);
  }
  mean.dispose();
});

test('variations: from the lowest level they stay close to the source, from the highest they spread like fresh samples', async () => {
  const ds = await loadDataset('toy:mixture');
  const comps = ds.toy!.components!;
  const source = new Float32Array([-5, -5]); // the minor mode
  const schedule = makeSchedule(2, { sigmaMax: 20, sigmaMin: 0.5, levels: 20, stepsPerLevel: 100 });
  const n = 1000;
  const copies = new Float32Array(2 * n);
  for (let i = 0; i < n; i++) copies.set(source, 2 * i);
  const L = schedule.sigmas.length;
  const low = await annealedLangevin(exactScore(ds.toy!), schedule, [2], {
    n, seed: 1, startLevel: L - 1, init: variationStart(copies, schedule.sigmas[L - 1]!, 9),
  });
  let meanDist = 0;
  for (let i = 0; i < n; i++) meanDist += Math.hypot(low.samples[2 * i]! + 5, low.samples[2 * i + 1]! + 5);
  meanDist /= n;
  assert.ok(meanDist < 1.5, `lowest level: mean distance ${meanDist}`);
  const high = await annealedLangevin(exactScore(ds.toy!), schedule, [2], {
    n, seed: 1, startLevel: 0, init: variationStart(copies, schedule.sigmas[0]!, 9),
  });
  const w = modeWeights(high.samples, comps.means);
  const major = comps.weights[0]! > 0.5 ? w[0]! : w[1]!;
  assert.ok(Math.abs(major - 0.8) < 0.07, `highest level: weights ${w}`);
  const fresh = ds.toy!.sample(n, new Rng(5));
  const lowSw = slicedWasserstein(low.samples, fresh);
  const highSw = slicedWasserstein(high.samples, fresh);
  assert.ok(highSw < lowSw / 2, `fresh-like spread: SW ${highSw} vs ${lowSw}`);
});

test('sampling can be cancelled and leaves no tensors behind', async () => {
  const ds = await loadDataset('toy:mixture');
  const schedule = makeSchedule(2, { sigmaMax: 20, sigmaMin: 0.5, levels: 10, stepsPerLevel: 50 });
  const before = tf.memory().numTensors;
  const ac = new AbortController();
  await assert.rejects(annealedLangevin(exactScore(ds.toy!), schedule, [2], {
    n: 10, seed: 1, signal: ac.signal, onProgress: (p) => { if (p.level === 2) ac.abort(); },
  }), CancelledError);
  await annealedLangevin(exactScore(ds.toy!), schedule, [2], { n: 10, seed: 1, snapshots: 2 });
  assert.equal(tf.memory().numTensors, before);
});

test('bad sampling arguments are refused', async () => {
  const zero = { score: (x: tf.Tensor) => tf.zerosLike(x) };
  const schedule = makeSchedule(2, { sigmas: [1, 0.1], stepsPerLevel: 1 });
  await assert.rejects(annealedLangevin(zero, schedule, [2], { n: 0 }), /positive integer/);
  await assert.rejects(annealedLangevin(zero, schedule, [2], { n: 2, startLevel: 5 }), /start level/);
  await assert.rejects(annealedLangevin(zero, schedule, [2], { n: 2, init: new Float32Array(3) }), /expected 4/);
});
