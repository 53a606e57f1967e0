/**
 * Data parallelism (server/engine/parallel): the pool's gradient equals the single-thread gradient of
 * the same batch and noise; training on 2 threads gives the same updates as on 1 (same seed), keeps
 * the checkpoint format (a 2-thread run resumes on 1 thread), stops on cancel, and leaves no tensors
 * behind in the coordinator or the helpers; sampling split across threads gives the same samples.
 * No timings are asserted (the bench measures speed).
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as os from 'os';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../../server/engine/backend';
import { loadDataset } from '../../server/engine/datasets';
import { train } from '../../server/engine/train';
import { loadLatestCheckpoint } from '../../server/engine/checkpoint';
import { loadRunModel, sample } from '../../server/engine/generate';
import { buildNetwork, getPreset, takesSigma, type NetworkConfig } from '../../server/engine/network';
import { ScoreModel } from '../../server/engine/score';
import { dsmLoss } from '../../server/engine/loss';
import { Rng } from '../../server/engine/random';
import { ParallelPool, ParallelScore, defaultWorkers, resolveHelperScript, totalSize } from '../../server/engine/parallel';
import { annealedLangevin } from '../../server/engine/sampler';
import { makeSchedule } from '../../server/engine/schedule';
import { tmpDir } from '../support/helpers';

before(async () => { await selectBackend('wasm'); });

function randomBatch(B: number, D: number, seed: number, L: number[]) {
  const rng = new Rng(seed);
  const x = new Float32Array(B * D).map(() => rng.next());
  const z = new Float32Array(B * D).map(() => rng.normal());
  const sig = new Float32Array(B).map(() => L[rng.int(L.length)]!);
  return { x, z, sig };
}

/** The reference: the gradient of the batch mean on this thread, flattened in variable order. */
function singleGradient(model: ScoreModel, vars: tf.Variable[], shape: number[], x: Float32Array, z: Float32Array, sig: Float32Array) {
  const B = sig.length;
  return tf.tidy(() => {
    const { value, grads } = tf.variableGrads(
      () => dsmLoss(model, tf.tensor(x, [B, ...shape]), tf.tensor1d(sig), tf.tensor(z, [B, ...shape])).mean() as tf.Scalar, vars);
    const flat = tf.concat(vars.map((v) => grads[v.name]!.reshape([-1]))).dataSync() as Float32Array;
    return { flat: Float32Array.from(flat), loss: value.dataSync()[0]! };
  });
}

function assertClose(a: ArrayLike<number>, b: ArrayLike<number>, rel: number, what: string): void {
  assert.equal(a.length, b.length, `${what}: lengths`);
  let scale = 0;
  let diff = 0;
  for (let i = 0; i < a.length; i++) {
    scale = Math.max(scale, Math.abs(b[i]!));
    diff = Math.max(diff, Math.abs(a[i]! - b[i]!));
  }
  assert.ok(diff <= rel * Math.max(scale, 1e-12), `${what}: max |diff| ${diff} over max |ref| ${scale}`);
}

async function checkPoolGradient(network: NetworkConfig, shape: number[], B: number, threads: number): Promise<void> {
  const net = buildNetwork(shape, network, 3);
  const model = new ScoreModel(net, takesSigma(network));
  const vars = net.trainableWeights.map((w) => w.read() as tf.Variable);
  const D = shape.reduce((a, b) => a * b, 1);
  const pool = await ParallelPool.start({ threads, shape, network, backend: 'wasm' }, totalSize(vars));
  try {
    assert.equal(pool.threads, threads);
    const counts: number[][] = [];
    const before = tf.memory().numTensors;
    for (let step = 0; step < 3; step++) {
      const { x, z, sig } = randomBatch(B, D, 10 + step, [0.05, 0.5, 3]);
      const ref = singleGradient(model, vars, shape, x, z, sig);
      await pool.writeParams(vars);
      const grad = new Float32Array(pool.P);
      const perEx = await pool.gradients(model, vars, x, z, sig, grad);
      assertClose(grad, ref.flat, 2e-5, `gradient, step ${step}`);
      const loss = perEx.reduce((a, v) => a + v, 0) / B;
      assert.ok(Math.abs(loss - ref.loss) <= 1e-5 * Math.abs(ref.loss), `loss ${loss} vs ${ref.loss}`);
      counts.push([...pool.helperTensors]);
      assert.equal(pool.chunksTaken.reduce((a, c) => a + c, 0), pool.chunkCount(B), 'every chunk taken exactly once');
      // Change the weights, as an optimizer step would: the helpers must follow.
      tf.tidy(() => vars.forEach((v) => v.assign(v.mul(0.9))));
    }
    assert.equal(tf.memory().numTensors, before, 'no tensors left on the coordinator');
    assert.equal(counts[0]!.length, threads - 1);
    assert.deepEqual(counts[1], counts[0], 'helper tensor counts stay flat');
    assert.deepEqual(counts[2], counts[0], 'helper tensor counts stay flat');
  } finally {
    await pool.close();
    net.dispose();
  }
}

test('the helper script is found and the default thread count follows the workload', () => {
  assert.ok(resolveHelperScript(), 'out/server/engine/parallel/helper.js or dist/gradWorker.js');
  const saved = process.env.HIGHSCORE_WORKERS;
  try {
    delete process.env.HIGHSCORE_WORKERS;
    assert.ok(defaultWorkers('image') >= 1 && defaultWorkers('image') <= 2);
    assert.equal(defaultWorkers('points'), 1);
    assert.equal(defaultWorkers('image'), Math.min(2, os.availableParallelism()));
    assert.equal(defaultWorkers('image', 3), 3);
    process.env.HIGHSCORE_WORKERS = '1';
    assert.equal(defaultWorkers('image'), 1);
    assert.throws(() => defaultWorkers('image', 0), /positive integer/);
  } finally {
    if (saved === undefined) delete process.env.HIGHSCORE_WORKERS;
    else process.env.HIGHSCORE_WORKERS = saved;
  }
});

test('the data-parallel gradient equals the single-thread gradient (U-Net, uneven shares)', async () => {
  await checkPoolGradient(getPreset('tiny').network, [8, 8, 1], 7, 2);
});

test('the data-parallel gradient equals the single-thread gradient (MLP on [x, log sigma], 3 threads)', async () => {
  await checkPoolGradient(getPreset('mlp').network, [2], 50, 3);
});

async function runWeights(dir: string): Promise<Float32Array[]> {
  const ck = await loadLatestCheckpoint(dir);
  const out = ck.ema.getWeights().map((t) => Float32Array.from(t.dataSync()));
  const online = Object.values(ck.online).map((t) => Float32Array.from(t.dataSync()));
  ck.ema.dispose();
  tf.dispose(Object.values(ck.online));
  tf.dispose(ck.optimizer.map((n) => n.tensor));
  return [...out, ...online];
}

test('training on 2 threads gives the same updates as on 1, and the run resumes on 1 thread', async () => {
  const ds = await loadDataset('mnist', { limit: 64 });
  const common = {
    dataset: ds, backend: 'wasm', preset: 'tiny', batch: 6, logEvery: 1, learningRate: 2e-3, seed: 5,
    schedule: { sigmaMax: 5, levels: 6 }, sampleEvery: 0, previewCount: 2,
  };
  const before = tf.memory().numTensors;
  const one: number[] = [];
  const d1 = path.join(tmpDir(), 'one');
  const r1 = await train({ ...common, runDir: d1, steps: 4, workers: 1, onProgress: (m) => one.push(m.loss) });
  assert.equal(r1.threads, 1);
  const two: number[] = [];
  const counts: number[] = [];
  const infos: string[] = [];
  const d2 = path.join(tmpDir(), 'two');
  const r2 = await train({
    ...common, runDir: d2, steps: 4, workers: 2, onInfo: (m) => infos.push(m),
    onProgress: (m) => { two.push(m.loss); counts.push(tf.memory().numTensors); },
  });
  assert.equal(r2.state, 'finished');
  assert.equal(r2.threads, 2, infos.join('\n'));
  assert.ok(infos.some((m) => /2 threads/.test(m)), infos.join('\n'));
  assert.equal(two.length, 4);
  two.forEach((v, i) => assert.ok(Math.abs(v - one[i]!) <= 1e-4 * Math.abs(one[i]!), `step ${i + 1}: loss ${v} vs ${one[i]}`));
  assert.ok(counts.every((c) => c === counts[0]), `coordinator tensor counts drift: ${counts.join(',')}`);
  assert.equal(tf.memory().numTensors, before, 'everything is disposed after training');
  const w1 = await runWeights(d1);
  const w2 = await runWeights(d2);
  w2.forEach((w, k) => assertClose(w, w1[k]!, 1e-4, `weights ${k}`));

  // The 2-thread run's checkpoint is the usual format: it resumes on 1 thread, and back on 2.
  const r3 = await train({ ...common, runDir: d2, steps: 6, workers: 1, resume: true });
  assert.equal(r3.state, 'finished');
  assert.equal(r3.step, 6);
  const r4 = await train({ ...common, runDir: d2, steps: 7, workers: 2, resume: true });
  assert.equal(r4.step, 7);
  assert.equal(r4.threads, 2);
});

test('a cancelled 2-thread run stops after a checkpoint', async () => {
  const ds = await loadDataset('mnist', { limit: 64 });
  const ac = new AbortController();
  const dir = path.join(tmpDir(), 'run');
  const r = await train({
    dataset: ds, backend: 'wasm', preset: 'tiny', batch: 4, logEvery: 1, steps: 50, workers: 2, signal: ac.signal, runDir: dir,
    schedule: { sigmaMax: 5, levels: 6 }, previewCount: 2, onProgress: (m) => { if (m.step === 2) ac.abort(); },
  });
  assert.equal(r.state, 'stopped');
  assert.equal(r.step, 2);
  assert.equal((await loadLatestCheckpoint(dir)).state.step, 2);
});

test('sampling split across threads gives the same samples as on one thread', async () => {
  const shape = [8, 8, 1];
  const network = getPreset('tiny').network;
  const net = buildNetwork(shape, network, 1);
  const model = new ScoreModel(net, false);
  const schedule = makeSchedule(64, { sigmaMax: 3, levels: 3, stepsPerLevel: 2 });
  const pool = await ParallelPool.start({ threads: 2, shape, network, backend: 'wasm' }, totalSize(net.trainableWeights.map((w) => w.read())));
  try {
    const before = tf.memory().numTensors;
    const a = await annealedLangevin(model, schedule, shape, { n: 5, seed: 9 });
    const b = await annealedLangevin(new ParallelScore(model, pool), schedule, shape, { n: 5, seed: 9 });
    assertClose(b.samples, a.samples, 1e-4, 'samples');
    assert.equal(tf.memory().numTensors, before);
  } finally {
    await pool.close();
    net.dispose();
  }
});

test('a run model samples on 2 threads through generate.ts', async () => {
  const ds = await loadDataset('mnist', { limit: 32 });
  const dir = path.join(tmpDir(), 'run');
  await train({ dataset: ds, backend: 'wasm', preset: 'tiny', batch: 4, steps: 2, workers: 1, runDir: dir, schedule: { sigmaMax: 5, levels: 3 }, previewCount: 2 });
  const single = await loadRunModel(dir, { workers: 1 });
  const double = await loadRunModel(dir, { workers: 2 });
  try {
    assert.equal(single.threads, 1);
    assert.equal(double.threads, 2);
    const a = await sample(single, { n: 3, seed: 4, stepsPerLevel: 1 });
    const b = await sample(double, { n: 3, seed: 4, stepsPerLevel: 1 });
    assertClose(b.samples, a.samples, 1e-4, 'samples');
  } finally {
    single.dispose();
    double.dispose();
  }
});
