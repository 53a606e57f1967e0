/**
 * Checkpoints written by real training runs (server/engine/checkpoint.ts): round trip, damage,
 * crashes mid-write, bad state files, pruning.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../../server/engine/backend';
import { loadDataset } from '../../server/engine/datasets';
import { train } from '../../server/engine/train';
import { readConfig } from '../../server/engine/run';
import {
  CheckpointError, CHECKPOINT_FORMAT, CHECKPOINT_VERSION, checkpointName, listCheckpoints, loadCheckpointDir,
  loadLatestCheckpoint, saveCheckpoint, type CheckpointState, type LoadedCheckpoint,
} from '../../server/engine/checkpoint';
import { buildNetwork, PRESETS } from '../../server/engine/network';
import { tmpDir } from '../support/helpers';

const toyOpts = { backend: 'wasm', preset: 'mlp', batch: 32, logEvery: 5, previewCount: 20, schedule: { levels: 4, stepsPerLevel: 1, sigmaMin: 0.1 } };

/** A finished toy run: 20 steps with a checkpoint every 5, so step-000000 ... step-000020 were written. */
let RUN = '';
/** A finished 2-step tiny U-Net run on MNIST. */
let UNET_RUN = '';

before(async () => {
  await selectBackend('wasm');
  RUN = path.join(tmpDir(), 'run');
  const res = await train({ ...toyOpts, runDir: RUN, dataset: await loadDataset('toy:moons'), steps: 20, checkpointEvery: 5, seed: 4 });
  assert.equal(res.state, 'finished');
  UNET_RUN = path.join(tmpDir(), 'unet');
  const u = await train({
    runDir: UNET_RUN, dataset: await loadDataset('mnist', { limit: 32 }), backend: 'wasm', preset: 'tiny', steps: 2, batch: 4,
    logEvery: 1, previewCount: 2, schedule: { sigmaMax: 5, levels: 3 },
  });
  assert.equal(u.state, 'finished');
});

/** A copy of the toy run, to damage. */
function copyRun(src = RUN): string {
  const dst = path.join(tmpDir(), 'copy');
  fs.cpSync(src, dst, { recursive: true });
  return dst;
}

const ck = (run: string, step: number, file?: string) => path.join(run, 'checkpoints', checkpointName(step), ...(file ? [file] : []));

function dispose(c: LoadedCheckpoint): void {
  c.ema.dispose();
  tf.dispose(Object.values(c.online));
  tf.dispose(c.optimizer.map((n) => n.tensor));
}

function truncate(file: string, keepBytes?: number): void {
  const size = fs.statSync(file).size;
  fs.truncateSync(file, keepBytes ?? Math.floor(size / 2));
}

async function rejectsCheckpoint(p: Promise<unknown>, check: (e: CheckpointError) => void): Promise<void> {
  let caught: unknown;
  try {
    const v = await p;
    if (v && typeof v === 'object' && 'ema' in v) dispose(v as LoadedCheckpoint);
  } catch (err) {
    caught = err;
  }
  assert.ok(caught instanceof CheckpointError, `expected a CheckpointError, got ${String(caught)}`);
  check(caught);
}

test('keep=3: after five checkpoints only the newest three remain, and latest.json names the last', () => {
  assert.deepEqual(listCheckpoints(RUN), ['step-000010', 'step-000015', 'step-000020']);
  const entries = fs.readdirSync(path.join(RUN, 'checkpoints')).sort();
  assert.deepEqual(entries, ['latest.json', 'step-000010', 'step-000015', 'step-000020'], 'no temporary folders or files are left');
  assert.deepEqual(JSON.parse(fs.readFileSync(path.join(RUN, 'checkpoints', 'latest.json'), 'utf8')), { name: 'step-000020' });
  for (const step of [10, 15, 20]) {
    assert.deepEqual(fs.readdirSync(ck(RUN, step)).sort(),
      ['model.json', 'model.weights.bin', 'online.json', 'online.weights.bin', 'optimizer.bin', 'optimizer.json', 'state.json']);
  }
});

test('round trip: the latest checkpoint has the step, schedule, network and training state', async () => {
  const c = await loadLatestCheckpoint(RUN);
  const cfg = readConfig(RUN);
  assert.equal(c.dir, ck(RUN, 20));
  assert.equal(c.state.format, CHECKPOINT_FORMAT);
  assert.equal(c.state.version, CHECKPOINT_VERSION);
  assert.equal(c.state.step, 20);
  assert.deepEqual(c.state.schedule, cfg.schedule);
  assert.equal(c.state.schedule.sigmas.length, 4);
  assert.deepEqual(c.state.network, PRESETS.mlp!.network);
  assert.deepEqual(c.state.dataShape, [2]);
  assert.equal(c.state.dataSpec, 'toy:moons');
  assert.ok(typeof c.state.loss === 'number' && Number.isFinite(c.state.loss));
  assert.equal(c.state.training.recentLosses.length, 20);
  assert.equal(c.state.training.learningRate, cfg.learningRate);
  // The EMA model, the online weights (same names and shapes, other values) and Adam's state.
  assert.deepEqual(c.ema.inputs[0]!.shape, [null, 3]);
  assert.equal(c.ema.weights.length, 8);
  for (const w of c.ema.weights) {
    const o = c.online[w.originalName];
    assert.ok(o, `online weights have ${w.originalName}`);
    assert.deepEqual(o.shape, w.shape);
  }
  const k = c.ema.weights[0]!;
  assert.notDeepEqual(Array.from(c.online[k.originalName]!.dataSync()), Array.from(k.read().dataSync()));
  assert.ok(c.optimizer.length >= 1 + 2 * 8, `${c.optimizer.length} optimizer weights`);
  assert.ok(c.optimizer.every((n) => n.tensor && n.name), 'every optimizer weight is decoded');
  // An older one also loads, with its own step.
  const old = await loadCheckpointDir(ck(RUN, 10));
  assert.equal(old.state.step, 10);
  assert.notDeepEqual(Array.from(old.ema.getWeights()[0]!.dataSync()), Array.from(c.ema.getWeights()[0]!.dataSync()));
  dispose(old);
  dispose(c);
});

/** Loads model.json + its weights file the way any TF.js app would, with nothing from High Score. */
async function loadFromFilesAlone(dir: string): Promise<tf.LayersModel> {
  const json = JSON.parse(fs.readFileSync(path.join(dir, 'model.json'), 'utf8'));
  assert.equal(json.format, 'layers-model');
  assert.ok(json.modelTopology, 'modelTopology');
  assert.equal(json.weightsManifest.length, 1);
  const bin = fs.readFileSync(path.join(dir, json.weightsManifest[0].paths[0]));
  const weightData = bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.byteLength);
  return tf.loadLayersModel(tf.io.fromMemory({ modelTopology: json.modelTopology, weightSpecs: json.weightsManifest[0].weights, weightData }));
}

test('the EMA model.json is a TF.js layers model that loads from the files alone and computes the same', async () => {
  for (const [run, input] of [
    [RUN, () => tf.tensor2d([[0.1, -0.4, Math.log(0.5)], [1.2, 0.3, Math.log(0.1)], [-2, 2, 0]])],
    [UNET_RUN, () => tf.randomNormal([2, 28, 28, 1], 0, 1, 'float32', 5)],
  ] as const) {
    const c = await loadLatestCheckpoint(run);
    const plain = await loadFromFilesAlone(c.dir);
    assert.equal(plain.countParams(), c.ema.countParams());
    assert.deepEqual(plain.weights.map((w) => w.originalName), c.ema.weights.map((w) => w.originalName));
    const [a, b] = tf.tidy(() => {
      const x = input();
      return [plain.predict(x) as tf.Tensor, c.ema.predict(x) as tf.Tensor];
    });
    assert.deepEqual(a.shape, b.shape);
    assert.deepEqual(a.shape.slice(1), run === RUN ? [2] : [28, 28, 1]);
    const av = Array.from(a.dataSync());
    assert.ok(av.every(Number.isFinite) && av.some((v) => v !== 0));
    assert.deepEqual(av, Array.from(b.dataSync()));
    // The loaded weights are the EMA weights, not the online ones.
    const name = c.ema.weights[0]!.originalName;
    assert.deepEqual(Array.from(plain.weights[0]!.read().dataSync()), Array.from(c.ema.weights[0]!.read().dataSync()));
    assert.notDeepEqual(Array.from(plain.weights[0]!.read().dataSync()), Array.from(c.online[name]!.dataSync()));
    tf.dispose([a, b]);
    plain.dispose();
    dispose(c);
  }
});

test('a truncated weights file: CheckpointError naming the file and saying truncated', async () => {
  for (const file of ['model.weights.bin', 'online.weights.bin', 'optimizer.bin']) {
    const run = copyRun();
    const target = ck(run, 20, file);
    truncate(target);
    await rejectsCheckpoint(loadCheckpointDir(ck(run, 20)), (e) => {
      assert.ok(e.message.includes(target), e.message);
      assert.match(e.message, /truncated/);
      assert.equal(e.file, target);
    });
  }
  // Extra bytes are caught too (the file belongs to another model).
  const run = copyRun();
  fs.appendFileSync(ck(run, 20, 'model.weights.bin'), Buffer.alloc(8));
  await rejectsCheckpoint(loadCheckpointDir(ck(run, 20)), (e) => assert.match(e.message, /model\.weights\.bin has \d+ bytes but its specs need \d+/));
  // A missing file is named.
  fs.rmSync(ck(run, 15, 'optimizer.bin'));
  await rejectsCheckpoint(loadCheckpointDir(ck(run, 15)), (e) => assert.match(e.message, /optimizer\.bin is missing/));
});

test('a failed load leaves no tensors behind', async () => {
  const run = copyRun();
  truncate(ck(run, 20, 'online.weights.bin'));
  const before = tf.memory().numTensors;
  await rejectsCheckpoint(loadCheckpointDir(ck(run, 20)), (e) => assert.match(e.message, /online\.weights\.bin/));
  assert.equal(tf.memory().numTensors, before, 'the EMA model built before the bad file was found is disposed');
});

test('loadLatestCheckpoint falls back to the previous checkpoint when the newest is damaged', async () => {
  const damages: [string, (run: string) => void][] = [
    ['truncated EMA weights', (run) => truncate(ck(run, 20, 'model.weights.bin'))],
    ['truncated Adam state', (run) => truncate(ck(run, 20, 'optimizer.bin'), 3)],
    ['corrupt state.json', (run) => fs.writeFileSync(ck(run, 20, 'state.json'), '{"format": "highscore-checkpoint", "step": 2')],
    ['empty model.json', (run) => fs.writeFileSync(ck(run, 20, 'model.json'), '')],
    ['missing state.json', (run) => fs.rmSync(ck(run, 20, 'state.json'))],
  ];
  for (const [what, damage] of damages) {
    const run = copyRun();
    damage(run);
    const c = await loadLatestCheckpoint(run);
    assert.equal(c.state.step, 15, what);
    assert.equal(c.dir, ck(run, 15), what);
    dispose(c);
  }
  // Two damaged: back to the oldest kept.
  const run = copyRun();
  truncate(ck(run, 20, 'model.weights.bin'));
  fs.writeFileSync(ck(run, 15, 'state.json'), 'garbage');
  const c = await loadLatestCheckpoint(run);
  assert.equal(c.state.step, 10);
  dispose(c);
  // All damaged: an error that lists each problem.
  truncate(ck(run, 10, 'online.weights.bin'));
  await rejectsCheckpoint(loadLatestCheckpoint(run), (e) => {
    assert.match(e.message, /No checkpoint of .* could be loaded/);
    assert.ok(e.message.includes(ck(run, 20, 'model.weights.bin')), e.message);
    assert.ok(e.message.includes(ck(run, 15, 'state.json')), e.message);
    assert.ok(e.message.includes(ck(run, 10, 'online.weights.bin')), e.message);
    assert.equal(e.file, run);
  });
});

test('a crash mid-write (a .tmp folder with partial files, garbage latest.json) leaves the previous checkpoint loadable', async () => {
  const run = copyRun();
  const root = path.join(run, 'checkpoints');
  const tmp = path.join(root, '.tmp-step-000099-123');
  fs.mkdirSync(tmp);
  const good = fs.readFileSync(ck(run, 20, 'model.weights.bin'));
  fs.writeFileSync(path.join(tmp, 'model.weights.bin'), good.subarray(0, 100));
  fs.writeFileSync(path.join(tmp, 'model.json'), fs.readFileSync(ck(run, 20, 'model.json'), 'utf8').slice(0, 200));
  fs.writeFileSync(path.join(root, 'latest.json'), '{"name": "step-0000');
  assert.deepEqual(listCheckpoints(run), ['step-000010', 'step-000015', 'step-000020']);
  const c = await loadLatestCheckpoint(run);
  assert.equal(c.state.step, 20);
  dispose(c);
  // latest.json naming a folder that never got there: the listing decides.
  fs.writeFileSync(path.join(root, 'latest.json'), JSON.stringify({ name: 'step-000099' }));
  const d = await loadLatestCheckpoint(run);
  assert.equal(d.state.step, 20);
  dispose(d);
  // latest.json missing altogether.
  fs.rmSync(path.join(root, 'latest.json'));
  const e = await loadLatestCheckpoint(run);
  assert.equal(e.state.step, 20);
  dispose(e);
  // Stray files in checkpoints/ are ignored as well.
  fs.writeFileSync(path.join(root, 'latest.json.tmp-1-2'), '{');
  fs.mkdirSync(path.join(root, 'step-abc'));
  assert.deepEqual(listCheckpoints(run), ['step-000010', 'step-000015', 'step-000020']);
});

test('state.json with another format, a newer version or missing fields gives a clear error', async () => {
  const run = copyRun();
  const file = ck(run, 20, 'state.json');
  const state = JSON.parse(fs.readFileSync(file, 'utf8'));
  const write = (s: unknown) => fs.writeFileSync(file, JSON.stringify(s));

  write({ ...state, format: 'keras-checkpoint' });
  await rejectsCheckpoint(loadCheckpointDir(ck(run, 20)), (e) => {
    assert.ok(e.message.includes(file), e.message);
    assert.match(e.message, /not a High Score checkpoint \(format 'keras-checkpoint'\)/);
    assert.equal(e.file, file);
  });
  write([1, 2, 3]);
  await rejectsCheckpoint(loadCheckpointDir(ck(run, 20)), (e) => assert.match(e.message, /not a High Score checkpoint/));
  write(null);
  await rejectsCheckpoint(loadCheckpointDir(ck(run, 20)), (e) => assert.match(e.message, /not a High Score checkpoint/));

  write({ ...state, version: CHECKPOINT_VERSION + 1 });
  await rejectsCheckpoint(loadCheckpointDir(ck(run, 20)), (e) => {
    assert.match(e.message, new RegExp(`newer High Score \\(version ${CHECKPOINT_VERSION + 1}\\)`));
    assert.match(e.message, /update/);
  });

  for (const field of ['step', 'schedule', 'network', 'dataShape']) {
    const s = { ...state };
    delete s[field];
    write(s);
    await rejectsCheckpoint(loadCheckpointDir(ck(run, 20)), (e) => assert.match(e.message, /missing fields/, field));
  }
  write({ ...state, step: 'twenty' });
  await rejectsCheckpoint(loadCheckpointDir(ck(run, 20)), (e) => assert.match(e.message, /missing fields/));

  fs.writeFileSync(file, '{"format": "highscore-checkpoint", "version": 1, "st');
  await rejectsCheckpoint(loadCheckpointDir(ck(run, 20)), (e) => {
    assert.match(e.message, /not valid JSON/);
    assert.ok(e.message.includes(file));
  });

  // The original state loads again: the errors came from the edits.
  write(state);
  const c = await loadCheckpointDir(ck(run, 20));
  assert.equal(c.state.step, 20);
  dispose(c);
});

test('a model.json that is not a layers model is named', async () => {
  const run = copyRun();
  const file = ck(run, 20, 'model.json');
  fs.writeFileSync(file, JSON.stringify({ format: 'graph-model', modelTopology: null, weightsManifest: [] }));
  await rejectsCheckpoint(loadCheckpointDir(ck(run, 20)), (e) => {
    assert.ok(e.message.includes(file));
    assert.match(e.message, /not a TF\.js layers model/);
  });
});

test('a missing run folder and a run without checkpoints give errors that say what to do', async () => {
  const missing = path.join(tmpDir(), 'no-such-run');
  await rejectsCheckpoint(loadLatestCheckpoint(missing), (e) => {
    assert.ok(e.message.includes(missing), e.message);
    assert.match(e.message, /does not exist/);
    assert.match(e.message, /highscore info/);
  });
  const empty = tmpDir();
  assert.deepEqual(listCheckpoints(empty), []);
  await rejectsCheckpoint(loadLatestCheckpoint(empty), (e) => {
    assert.match(e.message, /has no checkpoint yet/);
    assert.ok(e.message.includes(`highscore train --out ${empty}`), e.message);
  });
  // A checkpoints folder with only an interrupted write is still "no checkpoint yet".
  fs.mkdirSync(path.join(empty, 'checkpoints', '.tmp-step-000005-77'), { recursive: true });
  fs.writeFileSync(path.join(empty, 'checkpoints', 'latest.json'), JSON.stringify({ name: '.tmp-step-000005-77' }));
  await rejectsCheckpoint(loadLatestCheckpoint(empty), (e) => assert.match(e.message, /has no checkpoint yet/));
});

test('checkpoints are ordered by step, also past step 999,999', () => {
  // checkpointName pads to 6 digits; longer runs must still sort (and be pruned) by step.
  assert.equal(checkpointName(5), 'step-000005');
  assert.equal(checkpointName(1_000_000), 'step-1000000');
  const run = tmpDir();
  for (const step of [999_998, 999_999, 1_000_000, 1_000_001]) fs.mkdirSync(ck(run, step), { recursive: true });
  assert.deepEqual(listCheckpoints(run), ['step-999998', 'step-999999', 'step-1000000', 'step-1000001']);
});

test('saving past step 999,999 keeps the newest checkpoints', async () => {
  const state = JSON.parse(fs.readFileSync(ck(RUN, 20, 'state.json'), 'utf8')) as CheckpointState;
  const online = buildNetwork([2], PRESETS.mlp!.network, 1);
  const ema = buildNetwork([2], PRESETS.mlp!.network, 2);
  const optimizer = tf.train.adam(1e-3);
  const run = tmpDir();
  for (const step of [999_997, 999_998, 999_999, 1_000_000]) {
    await saveCheckpoint(run, { online, ema, optimizer, state: { ...state, step } }, 3);
  }
  online.dispose();
  ema.dispose();
  optimizer.dispose();
  assert.deepEqual(fs.readdirSync(path.join(run, 'checkpoints')).filter((n) => n.startsWith('step-')).sort(),
    ['step-1000000', 'step-999998', 'step-999999'], 'the oldest was pruned, not the newest');
  const c = await loadLatestCheckpoint(run);
  assert.equal(c.state.step, 1_000_000);
  dispose(c);
});
