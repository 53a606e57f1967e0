/**
 * The two conv-gradient kernels registered for wasm (server/engine/wasmConvGrads.ts), checked against
 * TF.js's pure-JS cpu backend on the same inputs.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../../server/engine/backend';
import { registerWasmConvGradients } from '../../server/engine/wasmConvGrads';
import { buildNetwork, PRESETS } from '../../server/engine/network';
import { Rng } from '../../server/engine/random';
import { tinyUNetDsmGradients, tinyUNetWeights } from '../support/dsmGradients';

type Pad = 'same' | 'valid' | number | [[number, number], [number, number], [number, number], [number, number]];

interface ConvCase {
  batch: number;
  h: number;
  w: number;
  inC: number;
  outC: number;
  kh: number;
  kw: number;
  stride: number | [number, number];
  pad: Pad;
}

const TOL = 1e-4;

function randomArray(n: number, rng: Rng): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = rng.normal();
  return a;
}

function outSize(c: ConvCase): [number, number] {
  const [sh, sw] = typeof c.stride === 'number' ? [c.stride, c.stride] : c.stride;
  const info = tf.backend_util.computeConv2DInfo([c.batch, c.h, c.w, c.inC], [c.kh, c.kw, c.inC, c.outC], [sh, sw], 1, c.pad as 'same');
  return [info.outHeight, info.outWidth];
}

interface Inputs { x: Float32Array; w: Float32Array; r: Float32Array; rShape: [number, number, number, number] }

function makeInputs(c: ConvCase, seed: number): Inputs {
  const rng = new Rng(seed);
  const [ho, wo] = outSize(c);
  return {
    x: randomArray(c.batch * c.h * c.w * c.inC, rng),
    w: randomArray(c.kh * c.kw * c.inC * c.outC, rng),
    r: randomArray(c.batch * ho * wo * c.outC, rng),
    rShape: [c.batch, ho, wo, c.outC],
  };
}

/** d/dx and d/dw of sum(conv2d(x, w) * r) on the current backend, read back as arrays. */
function convGrads(c: ConvCase, inp: Inputs): { dx: Float32Array; dw: Float32Array; y: Float32Array } {
  const [dx, dw, y] = tf.tidy(() => {
    const x = tf.tensor4d(inp.x, [c.batch, c.h, c.w, c.inC]);
    const w = tf.tensor4d(inp.w, [c.kh, c.kw, c.inC, c.outC]);
    const r = tf.tensor4d(inp.r, inp.rShape);
    const f = (a: tf.Tensor, b: tf.Tensor) => tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, c.stride, c.pad).mul(r).sum();
    const [gx, gw] = tf.grads(f)([x, w]);
    return [gx!, gw!, tf.conv2d(x, w, c.stride, c.pad)];
  });
  const out = { dx: dx.dataSync() as Float32Array, dw: dw.dataSync() as Float32Array, y: y.dataSync() as Float32Array };
  assert.deepEqual(dx.shape, [c.batch, c.h, c.w, c.inC]);
  assert.deepEqual(dw.shape, [c.kh, c.kw, c.inC, c.outC]);
  tf.dispose([dx, dw, y]);
  return out;
}

/** max |a - b| / max |a|; also checks the lengths and that a is not all zeros. */
function relErr(a: Float32Array, b: Float32Array, what: string): number {
  assert.equal(b.length, a.length, `${what}: length`);
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < a.length; i++) {
    assert.ok(Number.isFinite(b[i]!), `${what}: non-finite value at ${i}`);
    diff = Math.max(diff, Math.abs(a[i]! - b[i]!));
    scale = Math.max(scale, Math.abs(a[i]!));
  }
  assert.ok(scale > 0, `${what}: the reference gradient is all zeros`);
  return diff / scale;
}

function label(c: ConvCase): string {
  return `N${c.batch} ${c.h}x${c.w} ${c.inC}->${c.outC} k${c.kh}x${c.kw} s${JSON.stringify(c.stride)} pad ${JSON.stringify(c.pad)}`;
}

async function useCpu() {
  await tf.setBackend('cpu');
  (tf.backend() as unknown as { firstUse?: boolean }).firstUse = false;
  assert.equal(tf.getBackend(), 'cpu');
}

async function useWasm() {
  assert.equal(await tf.setBackend('wasm'), true);
  assert.equal(tf.getBackend(), 'wasm');
}

/** Runs each case on cpu then wasm and compares dx, dw (and the forward pass, as a control). */
async function compare(cases: ConvCase[], seed0: number): Promise<{ worstDx: number; worstDw: number }> {
  await useCpu();
  const inputs = cases.map((c, i) => makeInputs(c, seed0 + i));
  const ref = cases.map((c, i) => convGrads(c, inputs[i]!));
  await useWasm();
  let worstDx = 0;
  let worstDw = 0;
  cases.forEach((c, i) => {
    const got = convGrads(c, inputs[i]!);
    const ey = relErr(ref[i]!.y, got.y, `${label(c)} forward`);
    const edx = relErr(ref[i]!.dx, got.dx, `${label(c)} dx`);
    const edw = relErr(ref[i]!.dw, got.dw, `${label(c)} dw`);
    assert.ok(ey < TOL, `${label(c)}: forward relative error ${ey}`);
    assert.ok(edx < TOL, `${label(c)}: Conv2DBackpropInput relative error ${edx}`);
    assert.ok(edw < TOL, `${label(c)}: Conv2DBackpropFilter relative error ${edw}`);
    worstDx = Math.max(worstDx, edx);
    worstDw = Math.max(worstDw, edw);
  });
  return { worstDx, worstDw };
}

let stockFilterKernel: unknown;

before(async () => {
  // The stock wasm backend has no filter-gradient kernel; selectBackend registers both.
  require('@tensorflow/tfjs-backend-wasm');
  stockFilterKernel = tf.getKernel('Conv2DBackpropFilter', 'wasm');
  const report = await selectBackend('wasm');
  assert.equal(report.name, 'wasm');
});

after(async () => { await tf.setBackend('wasm'); });

test('selectBackend registers both kernels for wasm, and registering again changes nothing', async () => {
  assert.equal(stockFilterKernel, undefined, 'stock tfjs-backend-wasm 4.22 has no Conv2DBackpropFilter');
  const filter = tf.getKernel('Conv2DBackpropFilter', 'wasm');
  const input = tf.getKernel('Conv2DBackpropInput', 'wasm');
  assert.ok(filter && input);
  assert.equal(filter.kernelFunc.name, 'conv2DBackpropFilter');
  registerWasmConvGradients();
  registerWasmConvGradients();
  assert.equal(tf.getKernel('Conv2DBackpropFilter', 'wasm'), filter);
  assert.equal(tf.getKernel('Conv2DBackpropInput', 'wasm'), input);
  // Selecting wasm again (as every CLI command does) is also fine.
  await selectBackend('wasm');
  assert.equal(tf.getKernel('Conv2DBackpropFilter', 'wasm'), filter);
  // And the gradients still work after all that.
  const c: ConvCase = { batch: 2, h: 6, w: 6, inC: 2, outC: 3, kh: 3, kw: 3, stride: 1, pad: 'same' };
  const { worstDx, worstDw } = await compare([c], 99);
  assert.ok(worstDx < TOL && worstDw < TOL);
});

// The grid from the brief: stride x padding x spatial size x kernel x channels x batch.
const grid: ConvCase[] = [];
for (const stride of [1, 2]) for (const pad of ['same', 'valid'] as const) for (const [h, w] of [[7, 7], [8, 8], [28, 28], [5, 9]] as const) {
  for (const k of [1, 3]) for (const [inC, outC] of [[1, 4], [3, 8], [16, 32]] as const) for (const batch of [1, 3]) {
    grid.push({ batch, h, w, inC, outC, kh: k, kw: k, stride, pad });
  }
}

test(`Conv2DBackpropInput and Conv2DBackpropFilter on wasm match cpu (${grid.length} configurations)`, async () => {
  const { worstDx, worstDw } = await compare(grid, 1000);
  // The composed kernels are exact up to float summation order.
  assert.ok(worstDx < 1e-5 && worstDw < 1e-5, `worst relative errors: dx ${worstDx}, dw ${worstDw}`);
});

test('the kernels match cpu on harder cases: asymmetric strides, even and 5x5 kernels, odd strides, explicit padding', async () => {
  const cases: ConvCase[] = [
    { batch: 2, h: 8, w: 8, inC: 3, outC: 4, kh: 2, kw: 2, stride: 2, pad: 'same' },
    { batch: 2, h: 7, w: 7, inC: 3, outC: 4, kh: 2, kw: 2, stride: 1, pad: 'same' },
    { batch: 2, h: 9, w: 9, inC: 2, outC: 5, kh: 4, kw: 4, stride: 2, pad: 'same' },
    { batch: 1, h: 7, w: 7, inC: 2, outC: 3, kh: 5, kw: 5, stride: 2, pad: 'same' },
    { batch: 1, h: 7, w: 7, inC: 2, outC: 3, kh: 5, kw: 5, stride: 2, pad: 'valid' },
    { batch: 2, h: 10, w: 11, inC: 3, outC: 2, kh: 3, kw: 1, stride: [2, 1], pad: 'same' },
    { batch: 2, h: 10, w: 11, inC: 3, outC: 2, kh: 1, kw: 3, stride: [1, 2], pad: 'valid' },
    { batch: 2, h: 11, w: 10, inC: 2, outC: 3, kh: 3, kw: 3, stride: 3, pad: 'same' },
    { batch: 2, h: 11, w: 10, inC: 2, outC: 3, kh: 3, kw: 3, stride: 3, pad: 'valid' },
    { batch: 1, h: 5, w: 5, inC: 2, outC: 2, kh: 3, kw: 3, stride: 1, pad: 1 },
    { batch: 1, h: 6, w: 6, inC: 2, outC: 2, kh: 3, kw: 3, stride: 2, pad: 1 },
    { batch: 2, h: 6, w: 7, inC: 2, outC: 3, kh: 3, kw: 3, stride: 1, pad: [[0, 0], [1, 2], [0, 1], [0, 0]] },
    { batch: 2, h: 3, w: 3, inC: 1, outC: 1, kh: 3, kw: 3, stride: 1, pad: 'valid' },
    { batch: 1, h: 1, w: 1, inC: 4, outC: 2, kh: 1, kw: 1, stride: 1, pad: 'valid' },
  ];
  await compare(cases, 5000);
});

test('the gradients of the DSM loss of a tiny U-Net agree between cpu and wasm', async () => {
  const shape = [8, 8, 1];
  const D = 64;
  const B = 4;
  const weights = await tinyUNetWeights(shape, 11);
  const rng = new Rng(42);
  const xData = randomArray(B * D, rng);
  const zData = randomArray(B * D, rng);
  const sigmas = new Float32Array([0.05, 0.3, 1, 4]);

  /** Mean DSM loss of examples [from, to) and its gradients for every trainable weight. */
  const run = (from: number, to: number) =>
    tinyUNetDsmGradients(shape, weights, xData.subarray(from * D, to * D), zData.subarray(from * D, to * D), sigmas.subarray(from, to));

  // The cpu reference is computed one example at a time and averaged: tfjs-backend-cpu 4.22's
  // ResizeNearestNeighborGrad (the gradient of the U-Net's nearest upsampling) is wrong for batches
  // of more than one (it offsets dy by the input's batch stride; see the next test).
  await useCpu();
  const parts: Awaited<ReturnType<typeof run>>[] = [];
  for (let i = 0; i < B; i++) parts.push(await run(i, i + 1));
  const cpu = {
    loss: parts.reduce((a, p) => a + p.loss, 0) / B,
    grads: parts[0]!.grads.map((g, k) => {
      const sum = new Float32Array(g.data.length);
      for (const p of parts) p.grads[k]!.data.forEach((v, j) => { sum[j] += v / B; });
      return { name: g.name, data: sum };
    }),
  };
  await useWasm();
  const wasm = await run(0, B);
  assert.ok(Number.isFinite(cpu.loss) && cpu.loss > 0);
  assert.ok(Math.abs(cpu.loss - wasm.loss) <= TOL * Math.abs(cpu.loss), `loss ${cpu.loss} vs ${wasm.loss}`);
  assert.equal(wasm.grads.length, cpu.grads.length);
  assert.equal(cpu.grads.length, 18, 'tiny: 9 convs, each a kernel and a bias');
  cpu.grads.forEach((g, i) => {
    assert.equal(wasm.grads[i]!.name, g.name);
    const e = relErr(g.data, wasm.grads[i]!.data, g.name);
    assert.ok(e < TOL, `${g.name}: relative error ${e}`);
  });
  // And batch 1 on both backends directly.
  await useCpu();
  const cpu1 = await run(2, 3);
  await useWasm();
  const wasm1 = await run(2, 3);
  cpu1.grads.forEach((g, i) => {
    const e = relErr(g.data, wasm1.grads[i]!.data, g.name);
    assert.ok(e < TOL, `batch 1, ${g.name}: relative error ${e}`);
  });
});

test('the U-Net\'s upsampling gradient on wasm sums each 2x2 block of dy (batch > 1), checked by hand', async () => {
  // The cpu backend cannot be the reference here (see above), so compute it directly.
  const [b, h, w, c] = [3, 3, 4, 5];
  const rng = new Rng(8);
  const dy = randomArray(b * 2 * h * 2 * w * c, rng);
  const expected = new Float32Array(b * h * w * c);
  for (let n = 0; n < b; n++) for (let i = 0; i < 2 * h; i++) for (let j = 0; j < 2 * w; j++) for (let k = 0; k < c; k++) {
    expected[((n * h + (i >> 1)) * w + (j >> 1)) * c + k] += dy[((n * 2 * h + i) * 2 * w + j) * c + k]!;
  }
  await useWasm();
  const up = tf.layers.upSampling2d({ size: [2, 2], interpolation: 'nearest' });
  const g = tf.tidy(() => {
    const r = tf.tensor4d(dy, [b, 2 * h, 2 * w, c]);
    return tf.grad((x: tf.Tensor) => (up.apply(x) as tf.Tensor).mul(r).sum())(tf.zeros([b, h, w, c]));
  });
  const e = relErr(expected, g.dataSync() as Float32Array, 'upsampling gradient');
  g.dispose();
  assert.ok(e < 1e-6, `relative error ${e}`);
});

test('a gradient call in tf.tidy leaks no tensors and no wasm buffers', async () => {
  await useWasm();
  const backend = tf.backend() as unknown as { numDataIds(): number };
  const cases: ConvCase[] = [
    { batch: 2, h: 8, w: 8, inC: 3, outC: 4, kh: 3, kw: 3, stride: 2, pad: 'same' },
    { batch: 2, h: 7, w: 7, inC: 3, outC: 4, kh: 3, kw: 3, stride: 1, pad: 'valid' },
    { batch: 2, h: 8, w: 8, inC: 3, outC: 4, kh: 3, kw: 3, stride: 2, pad: 'valid' },
  ];
  const inputs = cases.map((c, i) => makeInputs(c, 7000 + i));
  const x = cases.map((c, i) => tf.tensor4d(inputs[i]!.x, [c.batch, c.h, c.w, c.inC]));
  const w = cases.map((c, i) => tf.tensor4d(inputs[i]!.w, [c.kh, c.kw, c.inC, c.outC]));
  const tensors = tf.memory().numTensors;
  const ids = backend.numDataIds();
  for (let rep = 0; rep < 3; rep++) {
    cases.forEach((c, i) => {
      tf.tidy(() => {
        const [gx, gw] = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, c.stride, c.pad).square().sum())([x[i]!, w[i]!]);
        assert.equal(gx!.shape.length, 4);
        assert.equal(gw!.shape.length, 4);
      });
    });
    assert.equal(tf.memory().numTensors, tensors, `tensors after round ${rep}`);
    assert.equal(backend.numDataIds(), ids, `wasm data buffers after round ${rep}`);
  }
  // The same for a whole network's gradients.
  const net = buildNetwork([8, 8, 1], PRESETS.tiny!.network, 3);
  const vars = net.trainableWeights.map((v) => v.read() as tf.Variable);
  const input = tf.randomNormal([2, 8, 8, 1], 0, 1, 'float32', 1);
  const t0 = tf.memory().numTensors;
  const d0 = backend.numDataIds();
  tf.tidy(() => { tf.variableGrads(() => (net.apply(input, { training: true }) as tf.Tensor).square().mean() as tf.Scalar, vars); });
  assert.equal(tf.memory().numTensors, t0);
  assert.equal(backend.numDataIds(), d0);
  tf.dispose([...x, ...w, input]);
  net.dispose();
});
