import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../../server/engine/backend';
import {
  buildNetwork, buildUNet, getPreset, parameterCount, takesSigma, NetworkError, PRESETS, type UNetConfig,
} from '../../server/engine/network';

before(async () => { await selectBackend('wasm'); });

/** Names of the layers whose outputs feed `layerName` (its first inbound node), in input order. */
function inputsOf(model: tf.LayersModel, layerName: string): string[] {
  const layer = model.getLayer(layerName);
  assert.ok(layer.inboundNodes.length >= 1, `${layerName} has no inbound node`);
  return layer.inboundNodes[0]!.inboundLayers.map((l) => l.name);
}

/** The same, read from the serialised model config (what model.json carries). */
function inputsFromConfig(model: tf.LayersModel, layerName: string): string[] {
  const cfg = model.toJSON(null, false) as unknown as { config: { layers: { name: string; inbound_nodes: unknown[][][] }[] } };
  const entry = cfg.config.layers.find((l) => l.name === layerName);
  assert.ok(entry, `${layerName} is in the model config`);
  assert.equal(entry.inbound_nodes.length, 1);
  return entry.inbound_nodes[0]!.map((n) => n[0] as string);
}

function weightArrays(model: tf.LayersModel): { name: string; values: Float32Array }[] {
  return model.weights.map((w) => ({ name: w.originalName, values: w.read().dataSync() as Float32Array }));
}

test('the reference preset at 28x28x1 has exactly 341,953 parameters (RECIPES.md)', () => {
  const m = buildNetwork([28, 28, 1], PRESETS.reference!.network, 0);
  assert.equal(parameterCount(m), 341_953);
  assert.equal(m.countParams(), 341_953);
  // The layer list matches RECIPES.md's description: root, 2 levels x (2 convs + stride-2), 2 middle, 2 x (2 convs), head.
  const convs = m.layers.filter((l) => l.getClassName() === 'Conv2D').map((l) => l.name);
  assert.deepEqual(convs.sort(), [
    'down0_conv0', 'down0_conv1', 'down0_stride2', 'down1_conv0', 'down1_conv1', 'down1_stride2',
    'head', 'mid_conv0', 'mid_conv1', 'root', 'up0_conv0', 'up0_conv1', 'up1_conv0', 'up1_conv1',
  ]);
  m.dispose();
});

test('the U-Net output has the shape of its input', () => {
  for (const [shape, preset] of [[[28, 28, 1], 'reference'], [[32, 32, 3], 'reference'], [[32, 32, 3], 'tiny'], [[8, 8, 1], 'tiny']] as const) {
    const m = buildNetwork([...shape], getPreset(preset).network, 1);
    assert.deepEqual(m.inputs[0]!.shape, [null, ...shape], `${preset} ${shape} input`);
    assert.deepEqual(m.outputs[0]!.shape, [null, ...shape], `${preset} ${shape} output`);
    if (preset === 'tiny') {
      const y = tf.tidy(() => m.predict(tf.randomNormal([2, ...shape], 0, 1, 'float32', 3)) as tf.Tensor);
      assert.deepEqual(y.shape, [2, ...shape]);
      assert.ok(Array.from(y.dataSync()).every(Number.isFinite));
      y.dispose();
    }
    m.dispose();
  }
});

test('the decoder concatenates the encoder outputs in reverse order (layer graph and model config)', () => {
  const ref = buildNetwork([28, 28, 1], PRESETS.reference!.network, 0);
  // Deepest decoder level first: up1 takes level 1's skip, then up0 takes level 0's.
  assert.deepEqual(inputsOf(ref, 'up1_skip'), ['up1_resize', 'down1_conv1']);
  assert.deepEqual(inputsOf(ref, 'up0_skip'), ['up0_resize', 'down0_conv1']);
  assert.deepEqual(inputsFromConfig(ref, 'up1_skip'), ['up1_resize', 'down1_conv1']);
  assert.deepEqual(inputsFromConfig(ref, 'up0_skip'), ['up0_resize', 'down0_conv1']);
  // The upsampling path: middle -> up1 -> up0 -> head.
  assert.deepEqual(inputsOf(ref, 'up1_resize'), ['mid_conv1']);
  assert.deepEqual(inputsOf(ref, 'up0_resize'), ['up1_conv1']);
  assert.deepEqual(inputsOf(ref, 'head'), ['up0_conv1']);
  // Spatial sizes agree at each concatenation; channels add up.
  assert.deepEqual(ref.getLayer('up1_skip').outputShape, [null, 14, 14, 128]);
  assert.deepEqual(ref.getLayer('up0_skip').outputShape, [null, 28, 28, 96]);
  ref.dispose();

  // Deeper and with more blocks: every level l takes down{l}_conv{blocks-1}.
  const cfg: UNetConfig = { kind: 'unet', base: 4, mults: [1, 2, 3], blocks: 3 };
  const m = buildUNet([16, 24, 2], cfg, 0);
  for (let level = 0; level < 3; level++) {
    assert.deepEqual(inputsOf(m, `up${level}_skip`), [`up${level}_resize`, `down${level}_conv2`], `level ${level}`);
    assert.deepEqual(inputsFromConfig(m, `up${level}_skip`), [`up${level}_resize`, `down${level}_conv2`], `level ${level}`);
  }
  assert.deepEqual(inputsOf(m, 'up2_resize'), ['mid_conv2']);
  assert.deepEqual(inputsOf(m, 'up1_resize'), ['up2_conv2']);
  assert.deepEqual(inputsOf(m, 'up0_resize'), ['up1_conv2']);
  assert.deepEqual(m.outputs[0]!.shape, [null, 16, 24, 2]);
  m.dispose();
});

test('the same seed builds identical initial weights; another seed different ones', () => {
  for (const [shape, cfg] of [[[8, 8, 1], PRESETS.tiny!.network], [[2], PRESETS.mlp!.network]] as const) {
    const a = buildNetwork([...shape], cfg, 5);
    const b = buildNetwork([...shape], cfg, 5);
    const c = buildNetwork([...shape], cfg, 6);
    const wa = weightArrays(a);
    const wb = weightArrays(b);
    const wc = weightArrays(c);
    assert.equal(wa.length, wb.length);
    assert.deepEqual(wa.map((w) => w.name), wb.map((w) => w.name));
    wa.forEach((w, i) => assert.deepEqual(Array.from(w.values), Array.from(wb[i]!.values), `${cfg.kind} ${w.name}: same seed`));
    let kernels = 0;
    wa.forEach((w, i) => {
      if (!w.name.endsWith('kernel')) return;
      kernels++;
      assert.ok(w.values.some((v) => v !== 0), `${w.name} is initialised`);
      assert.notDeepEqual(Array.from(w.values), Array.from(wc[i]!.values), `${cfg.kind} ${w.name}: different seed`);
    });
    assert.ok(kernels >= 4, `${cfg.kind}: ${kernels} kernels`);
    // Within one network the layers do not share an initial kernel.
    const k = wa.filter((w) => w.name.endsWith('kernel'));
    for (let i = 0; i < k.length; i++) for (let j = i + 1; j < k.length; j++) {
      if (k[i]!.values.length === k[j]!.values.length) assert.notDeepEqual(Array.from(k[i]!.values), Array.from(k[j]!.values), `${k[i]!.name} vs ${k[j]!.name}`);
    }
    a.dispose(); b.dispose(); c.dispose();
  }
});

test('the MLP takes [x, log sigma] and outputs the data dimension', () => {
  const cfg = PRESETS.mlp!.network;
  assert.equal(takesSigma(cfg), true);
  assert.equal(takesSigma(PRESETS.tiny!.network), false);
  const m = buildNetwork([2], cfg, 0);
  assert.deepEqual(m.inputs[0]!.shape, [null, 3]);
  assert.deepEqual(m.outputs[0]!.shape, [null, 2]);
  // 3-128-128-128-2, as the preset describes.
  assert.equal(m.countParams(), (3 * 128 + 128) + 2 * (128 * 128 + 128) + (128 * 2 + 2));
  const y = tf.tidy(() => m.predict(tf.ones([4, 3])) as tf.Tensor);
  assert.deepEqual(y.shape, [4, 2]);
  y.dispose();
  assert.throws(() => tf.tidy(() => m.predict(tf.ones([4, 2]))), /expected.*shape.*3/i);
  m.dispose();
  const m5 = buildNetwork([5], cfg, 0);
  assert.deepEqual(m5.inputs[0]!.shape, [null, 6]);
  assert.deepEqual(m5.outputs[0]!.shape, [null, 5]);
  m5.dispose();
});

test('bad shapes and names give errors that say what to do', () => {
  const before = tf.memory().numTensors;
  assert.throws(() => buildNetwork([2], PRESETS.tiny!.network), (e: Error) =>
    e instanceof NetworkError && /image data \[H, W, C\]/.test(e.message) && /\[2\]/.test(e.message) && /mlp preset/.test(e.message));
  assert.throws(() => buildNetwork([28, 28], PRESETS.small!.network), NetworkError);
  assert.throws(() => buildNetwork([28, 28, 1], PRESETS.mlp!.network), (e: Error) =>
    e instanceof NetworkError && /takes vectors/.test(e.message) && /28,28,1/.test(e.message) && /U-Net preset/.test(e.message));
  const three: UNetConfig = { kind: 'unet', base: 8, mults: [1, 2, 2], blocks: 1 };
  assert.throws(() => buildNetwork([28, 28, 1], three), (e: Error) =>
    e instanceof NetworkError && /3 levels/.test(e.message) && /multiples of 8/.test(e.message) && /28x28/.test(e.message) &&
    /fewer levels/.test(e.message) && /resize/.test(e.message));
  // 28 = 4 * 7: two levels are fine, and so are 3 levels at 32x32 or 24x16.
  buildNetwork([28, 28, 1], { ...three, mults: [1, 2] }).dispose();
  buildNetwork([32, 32, 1], three).dispose();
  buildNetwork([24, 16, 1], three).dispose();
  assert.throws(() => buildNetwork([32, 28, 1], three), /multiples of 8 \(got 32x28\)/);
  assert.throws(() => buildNetwork([8, 8, 1], { kind: 'unet', base: 0, mults: [1], blocks: 1 }), /at least 1/);
  assert.throws(() => buildNetwork([8, 8, 1], { kind: 'unet', base: 4, mults: [1], blocks: 0 }), /at least 1/);
  assert.throws(() => getPreset('huge'), (e: Error) =>
    e instanceof NetworkError && /Unknown preset 'huge'/.test(e.message) &&
    Object.keys(PRESETS).every((p) => e.message.includes(p)));
  for (const name of Object.keys(PRESETS)) assert.equal(getPreset(name).name, name);
  assert.equal(tf.memory().numTensors, before, 'failed builds leave no tensors behind');
});
