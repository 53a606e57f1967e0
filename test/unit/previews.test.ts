/**
 * Previews and interactive tools (issue 5): inpainting keeps the known pixels (up to the level's noise
 * along the chain, exactly at the end), variations stay close at the lowest start level and spread like
 * fresh samples at the highest, the score field on a grid (one batched call) against the exact score,
 * a short toy:mixture training run bringing the mean score error at sigma_L well below its value at
 * initialisation, and the preview requests of the real server (cache, score field, dataset strip).
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { spawn } from 'child_process';
import { pathToFileURL } from 'url';
import { createMessageConnection, StreamMessageReader, StreamMessageWriter, type MessageConnection } from 'vscode-jsonrpc/node';
import { selectBackend } from '../../server/engine/backend';
import { loadDataset } from '../../server/engine/datasets';
import { toyDistribution } from '../../server/engine/datasets/toys';
import { inpaint, loadRunModel, vary, type RunModel } from '../../server/engine/generate';
import { buildNetwork, getPreset } from '../../server/engine/network';
import { makeSchedule, type NoiseSchedule } from '../../server/engine/schedule';
import { ScoreModel, type ScoreFunction } from '../../server/engine/score';
import { dataBounds, gridPoints, scoreField } from '../../server/engine/scoreField';
import { train } from '../../server/engine/train';
import * as P from '../../protocol/protocol';
import { exactScore, gaussianScore } from '../support/exactScore';
import { REPO, tmpDir } from '../support/helpers';
import { previewParams, scoreFieldParams, datasetExamplesParams } from '../../server/lsp/previews';
import { findRunRefs, SAMPLER_RE } from '../../extension/previews/runRefs';

before(async () => { await selectBackend('wasm'); });

/** generate.ts's functions on an exact score (they use only the model's score and the state's schedule and shape). */
function fakeRun(model: ScoreFunction, schedule: NoiseSchedule, shape: number[]): RunModel {
  return { model: model as ScoreModel, state: { schedule, dataShape: shape } as RunModel['state'], checkpointDir: '/none', dispose: () => undefined };
}

test('inpainting: known pixels follow the source up to each level’s noise and equal it at the end', async () => {
  const shape = [6, 6, 1];
  const D = 36;
  const source = Float32Array.from({ length: D }, (_, i) => (i % 7) / 7);
  const mask = Float32Array.from({ length: D }, (_, i) => (i % 6 < 3 ? 1 : 0)); // left half known
  const schedule = makeSchedule(D, { sigmaMax: 3, sigmaMin: 0.05, levels: 8, stepsPerLevel: 5 });
  const model = gaussianScore(tf.fill([1, ...shape], 0.5), 0.3);
  const snaps: { sigma: number; data: Float32Array; alpha: number; scoreNorm: number; noiseNorm: number }[] = [];
  const n = 8;
  const r = await inpaint(fakeRun(model, schedule, shape), source, mask, { n, seed: 3, snapshots: 8, onSnapshot: (s) => snaps.push(s) });
  assert.equal(snaps.length, 8);
  for (let k = 0; k < n; k++) {
    for (let i = 0; i < D; i++) if (mask[i]) assert.equal(r.samples[k * D + i], source[i], 'a known pixel of the output equals the source');
  }
  for (const s of snaps) {
    // Along the chain the known part is the source plus that level's noise: its deviation matches sigma_i.
    let sq = 0, count = 0;
    for (let k = 0; k < n; k++) for (let i = 0; i < D; i++) if (mask[i]) { sq += (s.data[k * D + i]! - source[i]!) ** 2; count++; }
    const rms = Math.sqrt(sq / count);
    assert.ok(rms > 0.6 * s.sigma && rms < 1.4 * s.sigma, `known-pixel deviation ${rms.toFixed(3)} vs sigma ${s.sigma.toFixed(3)}`);
    assert.ok(s.alpha > 0 && Number.isFinite(s.scoreNorm) && s.noiseNorm > 0, 'snapshots carry alpha and the norms');
  }
  assert.equal(tf.memory().numTensors, 1, 'no leaked tensors (the mean tensor stays)');
});

test('variations: close to the source at the lowest start level, spread like fresh samples at the highest', async () => {
  const toy = toyDistribution('mixture');
  const schedule = makeSchedule(2, { sigmaMax: 20, sigmaMin: toy.ladder!.sigmaMin, levels: toy.ladder!.levels, stepsPerLevel: 100 });
  const rm = fakeRun(exactScore(toy), schedule, [2]);
  const source = Float32Array.from([5, 5]);
  const n = 300;
  const L = schedule.sigmas.length;
  const near = await vary(rm, source, L - 1, { n, seed: 1 });
  const far = await vary(rm, source, 0, { n, seed: 1 });
  const dist = (s: Float32Array) => Array.from({ length: n }, (_, k) => Math.hypot(s[2 * k]! - 5, s[2 * k + 1]! - 5));
  const meanNear = dist(near.samples).reduce((a, b) => a + b, 0) / n;
  // Fresh samples of the mixture: 20% sit in the other mode, at (-5, -5).
  const otherNear = Array.from({ length: n }, (_, k) => near.samples[2 * k]! < 0).filter(Boolean).length / n;
  const otherFar = Array.from({ length: n }, (_, k) => far.samples[2 * k]! < 0).filter(Boolean).length / n;
  assert.ok(meanNear < 1.6, `lowest start level: mean distance to the source ${meanNear.toFixed(2)}`);
  assert.equal(otherNear, 0, 'lowest start level: no variation jumps to the other mode');
  assert.ok(otherFar > 0.1 && otherFar < 0.3, `highest start level: ${(100 * otherFar).toFixed(0)}% in the other mode (fresh samples: 20%)`);
});

test('score field: grid layout, one batched call, exact score gives zero error', async () => {
  const pts = gridPoints([-1, 1, 0, 2], 3);
  assert.deepEqual(Array.from(pts.slice(0, 6)), [-1, 0, 0, 0, 1, 0]);
  assert.deepEqual(Array.from(pts.slice(12, 18)), [-1, 2, 0, 2, 1, 2]);
  const toy = toyDistribution('8gaussians');
  let calls = 0;
  const counted: ScoreFunction = { score: (x, s) => { calls++; return exactScore(toy).score(x, s); } };
  const f = await scoreField(counted, 0.3, [-3, 3, -3, 3], 25, toy);
  assert.equal(calls, 1, 'one batched evaluation for the whole grid');
  assert.equal(f.learned.length, 2 * 25 * 25);
  assert.ok(f.meanError! < 1e-4 && f.meanTrueNorm! > 1);
  const b = dataBounds([0, 0, 4, 2]);
  assert.ok(b[0] < 0 && b[1] > 4 && Math.abs(b[1] - b[0] - (b[3] - b[2])) < 1e-9, 'square bounds around the data');
});

let trainedRun = '';

test('toy:mixture: a short mlp run brings the score error at sigma_L well below its value at initialisation', { timeout: 300_000 }, async () => {
  const ds = await loadDataset('toy:mixture');
  const toy = ds.toy!;
  const preset = getPreset('mlp');
  const init = new ScoreModel(buildNetwork([2], preset.network, 0), true);
  const dir = path.join(tmpDir('hs-previews-'), 'mix');
  const res = await train({ runDir: dir, dataset: ds, backend: 'wasm', preset: 'mlp', steps: 600, seed: 0, checkpointEvery: 600, logEvery: 100 });
  assert.equal(res.state, 'finished');
  const rm = await loadRunModel(dir);
  const sigmas = rm.state.schedule.sigmas;
  const sL = sigmas[sigmas.length - 1]!;
  const bounds = dataBounds(ds.data.subarray(0, 1000));
  const before = (await scoreField(init, sL, bounds, 21, toy)).meanError!;
  const after = (await scoreField(rm.model, sL, bounds, 21, toy)).meanError!;
  init.net.dispose();
  rm.dispose();
  assert.ok(after < 0.35 * before, `mean error at sigma_L: ${before.toFixed(3)} at initialisation, ${after.toFixed(3)} after 600 steps`);
  trainedRun = dir;
});

test('preview params are checked and name the field', () => {
  assert.throws(() => previewParams(P.Preview, { runDir: 'x', n: 0 }), /'n' must be an integer from 1/);
  assert.throws(() => scoreFieldParams(P.ScoreField, { runDir: 'x', level: 1, bounds: [1, 0, 0, 1] }), /'bounds'/);
  assert.throws(() => datasetExamplesParams(P.DatasetExamples, { offset: 0 }), /exactly one of 'data'/);
  assert.deepEqual(scoreFieldParams(P.ScoreField, { runDir: 'x', level: 2 }), { runDir: 'x', level: 2 });
});

test('server: preview (cached by checkpoint), score field and dataset strip over stdio', { timeout: 180_000 }, async (t) => {
  if (!trainedRun) return t.skip('needs the trained toy run of the test above');
  const script = [path.join(REPO, 'dist', 'server.js'), path.join(REPO, 'out', 'server', 'lsp', 'main.js')].find((p) => fs.existsSync(p) && fs.existsSync(path.join(path.dirname(p), 'previewWorker.js')));
  if (!script) return t.skip('no server build with the preview worker');
  const ws = path.dirname(trainedRun);
  const child = spawn(process.execPath, [script, '--stdio'], { cwd: ws, stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, HIGHSCORE_BACKEND: 'wasm' } });
  const conn: MessageConnection = createMessageConnection(new StreamMessageReader(child.stdout!), new StreamMessageWriter(child.stdin!));
  conn.listen();
  try {
    const uri = pathToFileURL(ws).href;
    const init = await conn.sendRequest('initialize', { processId: process.pid, rootUri: uri, workspaceFolders: [{ uri, name: 'ws' }], capabilities: {} }) as { capabilities: { experimental: { highscore: P.ServerInfo } } };
    assert.ok(init.capabilities.experimental.highscore.requests.includes(P.Preview));
    await conn.sendNotification('initialized', {});
    const t0 = Date.now();
    const first = await P.sendRequest(conn, P.Preview, { runDir: trainedRun, n: 200, snapshots: 5 });
    const secs = (Date.now() - t0) / 1000;
    assert.ok(P.isPreviewResult(first), 'the preview passes the guard');
    assert.equal(first.cached, false);
    assert.equal(first.points!.length, 400);
    assert.ok(first.png && first.png.length > 100, 'points come with a PNG scatter too');
    assert.equal(first.snapshots.length, 5);
    assert.ok(first.snapshots.every((s) => s.alpha! > 0 && s.noiseNorm! > 0), 'snapshots carry alpha and the norms');
    t.diagnostic(`preview of 200 points in ${secs.toFixed(1)} s (engine ${first.seconds.toFixed(1)} s)`);
    const again = await P.sendRequest(conn, P.Preview, { runDir: trainedRun, n: 200, snapshots: 5 });
    assert.equal(again.cached, true);
    assert.deepEqual(again.points, first.points);

    const field = await P.sendRequest(conn, P.ScoreField, { runDir: trainedRun, level: 20, grid: 15 });
    assert.ok(P.isScoreFieldResult(field), 'the score field passes the guard');
    assert.equal(field.learned.length, 2 * 15 * 15);
    assert.ok(field.true && field.meanError! < field.meanTrueNorm!, `mean error ${field.meanError} vs |true| ${field.meanTrueNorm}`);
    assert.equal(field.data.length, 1000);

    const strip = await P.sendRequest(conn, P.DatasetExamples, { data: 'mnist', offset: 5, count: 4 });
    assert.ok(P.isDatasetExamplesResult(strip));
    assert.deepEqual(strip.examples.map((e) => e.index), [5, 6, 7, 8]);
    assert.ok(strip.examples.every((e) => typeof e.png === 'string' && typeof e.values === 'string' && Buffer.from(e.values, 'base64').length === 784 * 4));
    await assert.rejects(P.sendRequest(conn, P.ScoreField, { runDir: trainedRun, level: 99 }), /level must be between 1 and 20/);
    await assert.rejects(P.sendRequest(conn, P.Preview, { runDir: path.join(ws, 'nope') }), /does not exist/);
  } finally {
    conn.dispose();
    child.kill();
  }
});

test('run references in text: run folder paths, checkpoint paths, known run names, the sampler', () => {
  const refs = findRunRefs(`load('.highscore/runs/mnist-1/checkpoints/step-000400/model.json') // vs toy-8g, toy-8gx`, ['toy-8g', 'mnist-1']);
  assert.deepEqual(refs.map((r) => [r.name, r.checkpoint ?? null]), [['mnist-1', 'step-000400'], ['toy-8g', null]]);
  const line = 'see runs toy-8g.';
  const r = findRunRefs(line, ['toy-8g'])[0]!;
  assert.equal(line.slice(r.start, r.end), 'toy-8g');
  assert.ok(SAMPLER_RE.test('export async function annealedLangevin(score: ScoreFn, sigmas: number[]) {'));
  assert.ok(SAMPLER_RE.test('def annealed_langevin(score, sigmas):'));
  assert.ok(!SAMPLER_RE.test('const samples = annealedLangevin(x);'));
});
