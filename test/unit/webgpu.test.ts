/**
 * The WebGPU backend (server/engine/backend.ts, `--backend webgpu`) for real: Dawn for Node (npm
 * `webgpu`) and @tensorflow/tfjs-backend-webgpu from node_modules, on whatever adapter this machine
 * has. Without a GPU that is Mesa's llvmpipe Vulkan driver (scripts/setup.sh installs it), a software
 * renderer: far too slow to train on, but the same shaders and the same TF.js kernels a GPU runs, so
 * it checks that the path computes the right numbers. Speed on a real GPU is the bench's business.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { selectBackend, type BackendReport } from '../../server/engine/backend';
import { Rng } from '../../server/engine/random';
import { loadDataset } from '../../server/engine/datasets';
import { train } from '../../server/engine/train';
import { sigmaMaxFromData } from '../../server/engine/schedule';
import { learnedScore } from '../../server/engine/scoreField';
import { tmpDir } from '../support/helpers';
import { tinyUNetDsmGradients, tinyUNetWeights } from '../support/dsmGradients';

let report: BackendReport;

interface ErrorScopes { pushErrorScope(kind: 'validation'): void; popErrorScope(): Promise<{ message: string } | null> }
/** The backend's GPU device: Dawn reports invalid shaders and bindings there, not by throwing. */
const device = () => (tf.backend() as unknown as { device: ErrorScopes }).device;

/** Runs `f` and fails on any WebGPU validation error it caused (a pipeline the device cannot run computes nothing). */
async function noValidationErrors<T>(f: () => Promise<T>): Promise<T> {
  const d = device();
  d.pushErrorScope('validation');
  const out = await f();
  const err = await d.popErrorScope();
  assert.equal(err, null, `WebGPU validation error: ${err?.message}`);
  return out;
}

before(async () => {
  // Mesa's Vulkan loader wants a runtime folder; CI's shells may not set one.
  process.env.XDG_RUNTIME_DIR ??= '/tmp';
  report = await selectBackend('webgpu', 'image');
});

after(async () => {
  await selectBackend('wasm');
});

test('--backend webgpu starts on this machine\'s adapter and says which', () => {
  assert.equal(report.name, 'webgpu');
  assert.equal(tf.getBackend(), 'webgpu');
  assert.equal(report.package, '@tensorflow/tfjs-backend-webgpu');
  assert.match(report.reason, /^forced: WebGPU through Dawn on \S/);
  // On a machine without a GPU the adapter is a software one, and the report says it is slow.
  if (/llvmpipe|software/i.test(report.reason)) assert.match(report.reason, /far slower than wasm/);
});

function relErr(a: Float32Array, b: Float32Array): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < a.length; i++) {
    num = Math.max(num, Math.abs(a[i]! - b[i]!));
    den = Math.max(den, Math.abs(a[i]!));
  }
  return num / Math.max(den, 1e-12);
}

test('the DSM loss of a tiny U-Net and its gradients agree between webgpu and wasm', async () => {
  const shape = [8, 8, 1];
  const B = 4;
  const D = 64;
  const weights = await tinyUNetWeights(shape, 5);
  const rng = new Rng(7);
  const x = Float32Array.from({ length: B * D }, () => rng.normal());
  const z = Float32Array.from({ length: B * D }, () => rng.normal());
  const sigmas = new Float32Array([0.05, 0.3, 1, 4]);
  const run = () => tinyUNetDsmGradients(shape, weights, x, z, sigmas);
  const gpu = await noValidationErrors(run);
  await selectBackend('wasm');
  const wasm = await run();
  await selectBackend('webgpu');
  assert.ok(Number.isFinite(gpu.loss) && gpu.loss > 0);
  assert.ok(Math.abs(gpu.loss - wasm.loss) <= 1e-4 * wasm.loss, `loss ${gpu.loss} on webgpu vs ${wasm.loss} on wasm`);
  assert.equal(gpu.grads.length, 18, 'tiny: 9 convs, each a kernel and a bias');
  gpu.grads.forEach((g, i) => {
    const e = relErr(wasm.grads[i]!.data, g.data);
    assert.ok(e < 1e-3, `gradient ${i}: relative error ${e}`);
  });
});

test('the engine reads tensors back asynchronously: technique 1 and the score field work on webgpu', async () => {
  // WebGPU in Node has no synchronous read-back of a tensor computed on the GPU (dataSync needs an
  // OffscreenCanvas). Sizes above the backend's CPU hand-off threshold (1,000 values), so the GPU computes.
  assert.throws(() => tf.tidy(() => tf.ones([4096]).add(1).dataSync()), /OffscreenCanvas/, 'if this read works, the asynchronous reads are no longer needed');
  // 600 points in 8D within [0, 1), plus one at 10 in every coordinate: sigma_1 is the farthest pair's distance.
  const rng = new Rng(3);
  const D = 8;
  const data = Float32Array.from({ length: 601 * D }, (_, i) => (i >= 600 * D ? 10 : rng.next()));
  let far = 0;
  for (let a = 0; a < 600; a++) {
    let d2 = 0;
    for (let k = 0; k < D; k++) d2 += (data[a * D + k]! - 10) ** 2;
    far = Math.max(far, Math.sqrt(d2));
  }
  const got = await noValidationErrors(() => sigmaMaxFromData(data, 601, D));
  assert.ok(Math.abs(got - far) < 1e-3 * far, `sigma_1 ${got} vs ${far}`);
  const points = Float32Array.from({ length: 2 * 2048 }, () => rng.normal());
  const doubled = { score: (x: tf.Tensor, sigma: number) => x.mul(2 / sigma) };
  assert.deepEqual(Array.from(await learnedScore(doubled, points, 2)), Array.from(points));
});

test('train() runs on webgpu: the run records it, tensors stay flat, the loss goes down', async () => {
  const ds = await loadDataset('mnist', { limit: 128 });
  const counts: number[] = [];
  const losses: number[] = [];
  const before = tf.memory().numTensors;
  const res = await noValidationErrors(() => train({
    runDir: path.join(tmpDir(), 'run'), dataset: ds, backend: 'webgpu', preset: 'tiny', steps: 30, batch: 8, logEvery: 5,
    learningRate: 2e-3, schedule: { sigmaMax: 5, levels: 10 },
    onProgress: (m) => { counts.push(tf.memory().numTensors); losses.push(m.loss); },
  }));
  assert.equal(res.state, 'finished');
  assert.equal(tf.getBackend(), 'webgpu', 'a single thread: the data-parallel pool is for wasm only');
  assert.ok(counts.slice(1).every((c) => c === counts[1]), `tensor counts drift: ${counts.join(',')}`);
  assert.equal(tf.memory().numTensors, before, 'everything is disposed after training');
  assert.ok(losses[losses.length - 1]! < losses[0]!, `loss ${losses.join(' ')}`);
});
