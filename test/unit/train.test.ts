import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../../server/engine/backend';
import { loadDataset, type Dataset } from '../../server/engine/datasets';
import { train, TrainingError } from '../../server/engine/train';
import { listCheckpoints, loadLatestCheckpoint } from '../../server/engine/checkpoint';
import { readMetrics, readStatus, type StepMetrics } from '../../server/engine/run';
import { loadRunModel, sample } from '../../server/engine/generate';
import { tmpDir } from '../support/helpers';

before(async () => { await selectBackend('wasm'); });

const toyOpts = { backend: 'wasm', preset: 'mlp', batch: 64, logEvery: 10, schedule: { levels: 5, stepsPerLevel: 2, sigmaMin: 0.1 } };

test('the tensor count stays flat over a few hundred training steps', async () => {
  const ds = await loadDataset('toy:moons');
  const counts: number[] = [];
  const res = await train({
    ...toyOpts, runDir: path.join(tmpDir(), 'run'), dataset: ds, steps: 300, checkpointEvery: 100,
    onProgress: () => counts.push(tf.memory().numTensors),
  });
  assert.equal(res.state, 'finished');
  assert.equal(counts.length, 30);
  assert.ok(counts.slice(2).every((c) => c === counts[2]), `tensor counts drift: ${counts.join(',')}`);
});

test('the U-Net trains on images without leaking tensors, and the loss goes down', async () => {
  const ds = await loadDataset('mnist', { limit: 256 });
  const counts: number[] = [];
  const losses: number[] = [];
  const before = tf.memory().numTensors;
  const res = await train({
    runDir: path.join(tmpDir(), 'run'), dataset: ds, backend: 'wasm', preset: 'tiny', steps: 40, batch: 8, logEvery: 5,
    learningRate: 2e-3, schedule: { sigmaMax: 5, levels: 10 },
    onProgress: (m) => { counts.push(tf.memory().numTensors); losses.push(m.loss); },
  });
  assert.equal(res.state, 'finished');
  assert.ok(counts.slice(1).every((c) => c === counts[1]), `tensor counts drift: ${counts.join(',')}`);
  assert.equal(tf.memory().numTensors, before, 'everything is disposed after training');
  assert.ok(losses[losses.length - 1]! < losses[0]!, `loss ${losses.join(' ')}`);
});

test('progress reports step, loss, per-level loss, steps/s and ETA; the run folder holds config, metrics, checkpoints, samples', async () => {
  const ds = await loadDataset('toy:8gaussians');
  const dir = path.join(tmpDir(), 'run');
  const seen: StepMetrics[] = [];
  await train({ ...toyOpts, runDir: dir, dataset: ds, steps: 50, checkpointEvery: 25, onProgress: (m) => seen.push(m) });
  assert.deepEqual(seen.map((m) => m.step), [10, 20, 30, 40, 50]);
  for (const m of seen) {
    assert.ok(Number.isFinite(m.loss) && m.loss > 0);
    assert.equal(m.perLevel.length, 5);
    assert.ok(m.perLevel.some((v) => v !== null && v > 0));
    assert.ok(m.stepsPerSec > 0 && Number.isFinite(m.etaSec));
  }
  assert.equal(seen[4]!.etaSec, 0);
  for (const f of ['config.json', 'status.json', 'metrics.jsonl']) assert.ok(fs.existsSync(path.join(dir, f)), f);
  assert.deepEqual(listCheckpoints(dir), ['step-000000', 'step-000025', 'step-000050']);
  assert.ok(fs.readdirSync(path.join(dir, 'samples')).some((f) => f.endsWith('.csv')));
  assert.equal(readStatus(dir)!.state, 'finished');
  const steps = readMetrics(dir).filter((r) => r.type === 'step');
  assert.equal(steps.length, 5);
});

async function lossesOf(ds: Dataset, seed: number, steps: number): Promise<number[]> {
  const dir = path.join(tmpDir(), 'run');
  const out: number[] = [];
  await train({ ...toyOpts, runDir: dir, dataset: ds, steps, seed, logEvery: 5, onProgress: (m) => out.push(m.loss) });
  return out;
}

test('the same seed gives the same run; another seed another', async () => {
  const ds = await loadDataset('toy:swissroll');
  const a = await lossesOf(ds, 7, 30);
  const b = await lossesOf(ds, 7, 30);
  const c = await lossesOf(ds, 8, 30);
  assert.deepEqual(a, b);
  assert.notDeepEqual(a, c);
});

test('a cancelled run stops after a checkpoint and resumes to the same result as an uninterrupted one', async () => {
  const ds = await loadDataset('toy:mixture');
  const straight = await lossesOf(ds, 3, 60);
  const dir = path.join(tmpDir(), 'run');
  const ac = new AbortController();
  const first: number[] = [];
  const r1 = await train({
    ...toyOpts, runDir: dir, dataset: ds, steps: 60, seed: 3, logEvery: 5, signal: ac.signal,
    onProgress: (m) => { first.push(m.loss); if (m.step === 30) ac.abort(); },
  });
  assert.equal(r1.state, 'stopped');
  assert.equal(r1.step, 30);
  assert.equal(readStatus(dir)!.state, 'stopped');
  const ck = await loadLatestCheckpoint(dir);
  assert.equal(ck.state.step, 30);
  ck.ema.dispose();
  const second: number[] = [];
  const r2 = await train({ ...toyOpts, runDir: dir, dataset: ds, steps: 60, seed: 3, logEvery: 5, resume: true, onProgress: (m) => second.push(m.loss) });
  assert.equal(r2.state, 'finished');
  assert.equal(r2.step, 60);
  const resumed = [...first, ...second];
  assert.equal(resumed.length, straight.length);
  resumed.forEach((v, i) => assert.ok(Math.abs(v - straight[i]!) < 1e-4 * Math.abs(straight[i]!), `step ${(i + 1) * 5}: ${v} vs ${straight[i]}`));
  // The metrics file has no duplicated stretch.
  const steps = readMetrics(dir).filter((r) => r.type === 'step').map((r) => r.step);
  assert.deepEqual(steps, Array.from({ length: 12 }, (_, i) => (i + 1) * 5));
});

test('a NaN loss stops training, names the step, and keeps the last good checkpoint', async () => {
  const ds = await loadDataset('toy:moons', { limit: 100 });
  const data = new Float32Array(ds.data);
  data[0] = NaN; // one poisoned example: the batch that draws it gives a NaN loss
  const bad: Dataset = { ...ds, data };
  const dir = path.join(tmpDir(), 'run');
  const res = await train({ ...toyOpts, runDir: dir, dataset: bad, steps: 500, checkpointEvery: 10, schedule: { ...toyOpts.schedule, sigmaMax: 3 } });
  assert.equal(res.state, 'failed');
  assert.match(res.message, /NaN at step \d+/);
  assert.match(res.message, /last good checkpoint \(step \d+\) is kept/);
  const status = readStatus(dir)!;
  assert.equal(status.state, 'failed');
  const ck = await loadLatestCheckpoint(dir);
  const w = ck.ema.getWeights().map((t) => t.dataSync()).flatMap((a) => Array.from(a));
  assert.ok(w.every(Number.isFinite), 'the kept checkpoint has finite weights');
  ck.ema.dispose();
});

test('training refuses to overwrite a run and checks its settings', async () => {
  const ds = await loadDataset('toy:moons');
  const dir = path.join(tmpDir(), 'run');
  await train({ ...toyOpts, runDir: dir, dataset: ds, steps: 5 });
  await assert.rejects(train({ ...toyOpts, runDir: dir, dataset: ds, steps: 5 }), /already holds a run.*nothing was overwritten/s);
  await assert.rejects(train({ ...toyOpts, runDir: path.join(tmpDir(), 'r'), dataset: ds, steps: 0 }), TrainingError);
  await assert.rejects(train({ ...toyOpts, runDir: path.join(tmpDir(), 'r'), dataset: ds, learningRate: 5 }), /learning rate/);
  await assert.rejects(train({ ...toyOpts, runDir: path.join(tmpDir(), 'r'), dataset: ds, preset: 'huge' }), /Unknown preset 'huge'/);
  await assert.rejects(train({ ...toyOpts, runDir: dir, dataset: await loadDataset('toy:mixture'), resume: true }), /trained on 'toy:moons'/);
});

test('sampling uses the EMA weights of the latest checkpoint', async () => {
  const ds = await loadDataset('toy:moons');
  const dir = path.join(tmpDir(), 'run');
  await train({ ...toyOpts, runDir: dir, dataset: ds, steps: 20 });
  const rm = await loadRunModel(dir);
  const ck = await loadLatestCheckpoint(dir);
  const emaW = ck.ema.getWeights()[0]!.dataSync();
  const onlineW = ck.online[ck.ema.weights[0]!.originalName]!.dataSync();
  assert.deepEqual(Array.from(rm.model.net.getWeights()[0]!.dataSync()), Array.from(emaW));
  assert.notDeepEqual(Array.from(emaW), Array.from(onlineW), 'EMA and online weights differ');
  const { samples } = await sample(rm, { n: 5, seed: 1 });
  assert.equal(samples.length, 10);
  rm.dispose();
  ck.ema.dispose();
});
