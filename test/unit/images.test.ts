import { test, after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { PNG } from 'pngjs';
import { decodePng, encodePng, imageGrid, writeGridPng } from '../../server/engine/images';
import { DatasetError } from '../../server/engine/datasets/types';
import { presetMask } from '../../server/engine/masks';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'hs-images-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

test('encodePng / decodePng round trip, gray and RGB, 8-bit exact', () => {
  for (const channels of [1, 3] as const) {
    const w = 5;
    const h = 4;
    const data = new Float32Array(w * h * channels);
    for (let i = 0; i < data.length; i++) data[i] = ((i * 29) % 256) / 255;
    const buf = encodePng(w, h, channels, data);
    assert.deepEqual(Array.from(buf.subarray(0, 8)), [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    const back = decodePng(buf, 'round.png');
    assert.equal(back.width, w);
    assert.equal(back.height, h);
    assert.equal(back.channels, channels);
    assert.equal(back.data.length, data.length);
    for (let i = 0; i < data.length; i++) assert.ok(Math.abs(back.data[i]! - data[i]!) < 1e-6, `value ${i}`);
    // pngjs reads the same pixels (independent check of the written layout)
    const raw = PNG.sync.read(buf);
    const px = (2 * w + 3) * channels; // pixel (y=2, x=3)
    assert.equal(raw.data[(2 * w + 3) * 4], Math.round(data[px]! * 255));
  }
});

test('encodePng clamps to [0, 1] and maps NaN to 0', () => {
  const back = decodePng(encodePng(4, 1, 1, Float32Array.from([-0.5, 1.7, NaN, 0.5])));
  assert.deepEqual(Array.from(back.data).map((v) => Math.round(v * 255)), [0, 255, 0, 128]);
  assert.throws(() => encodePng(2, 2, 1, new Float32Array(3)), RangeError);
});

test('decodePng keeps alpha for RGBA and rejects a corrupt file by name', () => {
  const rgba = Buffer.from([10, 20, 30, 40, 50, 60, 70, 80]);
  const buf = PNG.sync.write({ width: 2, height: 1, data: rgba, gamma: 0 } as unknown as PNG, { colorType: 6, inputColorType: 6 });
  const img = decodePng(buf);
  assert.equal(img.channels, 4);
  assert.deepEqual(Array.from(img.data).map((v) => Math.round(v * 255)), Array.from(rgba));
  assert.throws(
    () => decodePng(Buffer.from('garbage bytes'), '/some/where/bad.png'),
    (e: unknown) => e instanceof DatasetError && e.message.includes('/some/where/bad.png') && e.file === '/some/where/bad.png',
  );
});

test('imageGrid: near-square layout, padding, upscaling, positions', () => {
  const H = 3, W = 4, C = 1;
  const n = 5;
  const data = new Float32Array(n * H * W * C);
  for (let k = 0; k < n; k++) for (let i = 0; i < H * W; i++) data[k * H * W + i] = (k + 1) / 10 + i / 1000;
  const g = imageGrid(data, n, [H, W, C]);
  // 5 images -> 3 columns, 2 rows; pad 2 around and between.
  assert.equal(g.width, 3 * (W + 2) + 2);
  assert.equal(g.height, 2 * (H + 2) + 2);
  assert.equal(g.channels, 1);
  assert.equal(g.data.length, g.width * g.height);
  assert.equal(g.data[0], 0.5); // padding
  const at = (x: number, y: number) => g.data[y * g.width + x]!;
  assert.equal(at(2, 2), data[0]); // image 0, pixel (0,0)
  assert.equal(at(1, 2), 0.5);
  // image 4 is row 1, column 1: top-left at x = 2 + 6, y = 2 + 5; its pixel (y=2, x=3)
  assert.equal(at(8 + 3, 7 + 2), data[4 * 12 + 2 * W + 3]);
  // the empty sixth cell stays padding
  assert.equal(at(14 + 1, 7 + 1), 0.5);

  const g2 = imageGrid(data, n, [H, W, C], { cols: 5, pad: 0, scale: 2 });
  assert.equal(g2.width, 5 * W * 2);
  assert.equal(g2.height, H * 2);
  const at2 = (x: number, y: number) => g2.data[y * g2.width + x]!;
  // image 1 pixel (y=1, x=2) covers the 2x2 block at (8 + 4, 2)
  for (const [dx, dy] of [[0, 0], [1, 0], [0, 1], [1, 1]]) assert.equal(at2(8 + 4 + dx, 2 + dy), data[12 + 1 * W + 2]);

  const rgb = new Float32Array(2 * 2 * 2 * 3).map((_, i) => i / 24);
  const g3 = imageGrid(rgb, 2, [2, 2, 3], { pad: 1 });
  assert.equal(g3.channels, 3);
  assert.equal(g3.width, 2 * 3 + 1);
  assert.equal(g3.height, 1 * 3 + 1);
  // image 1 pixel (1,1) channel 2 at x = 1 + 3 + 1, y = 2
  assert.equal(g3.data[(2 * g3.width + 5) * 3 + 2], rgb[12 + (1 * 2 + 1) * 3 + 2]);
  assert.throws(() => imageGrid(data, 6, [H, W, C]), RangeError);
});

test('writeGridPng writes atomically: a readable PNG, no temp file left, replaces an old file', () => {
  const file = path.join(tmp, 'sub', 'grid.png');
  const data = new Float32Array(4 * 8 * 8).map((_, i) => (i % 64) / 63);
  const size = writeGridPng(file, data, 4, [8, 8, 1], { pad: 2, scale: 2 });
  assert.deepEqual(size, { width: 2 * 18 + 2, height: 2 * 18 + 2 });
  const img = decodePng(fs.readFileSync(file), file);
  assert.equal(img.width, size.width);
  assert.equal(img.height, size.height);
  assert.equal(img.channels, 1);
  assert.deepEqual(fs.readdirSync(path.dirname(file)), ['grid.png']);
  writeGridPng(file, new Float32Array(3 * 4 * 4 * 3).fill(1), 3, [4, 4, 3]);
  const img2 = decodePng(fs.readFileSync(file), file);
  assert.equal(img2.channels, 3);
  assert.equal(img2.width, 2 * 6 + 2);
  assert.deepEqual(fs.readdirSync(path.dirname(file)), ['grid.png']);
  assert.ok(!fs.readdirSync(path.dirname(file)).some((f) => f.includes('.tmp-')));
});

describe('inpainting mask presets', () => {
  const shape = [4, 6, 2];
  const known = (m: Float32Array, y: number, x: number) => m[(y * 6 + x) * 2]!;
  it('hide the named part, all channels of a pixel together', () => {
    const right = presetMask(shape, 'right');
    assert.equal(known(right, 0, 0), 1);
    assert.equal(known(right, 3, 2), 1);
    assert.equal(known(right, 0, 3), 0);
    assert.equal(known(right, 3, 5), 0);
    const bottom = presetMask(shape, 'bottom');
    assert.equal(known(bottom, 1, 5), 1);
    assert.equal(known(bottom, 2, 0), 0);
    const centre = presetMask(shape, 'centre');
    assert.equal(known(centre, 0, 0), 1);
    assert.equal(known(centre, 1, 2), 0);
    assert.equal(known(centre, 2, 3), 0);
    for (const m of [right, bottom, centre, presetMask(shape, 'random', 3)]) {
      for (let i = 0; i < m.length; i += 2) assert.equal(m[i], m[i + 1]);
    }
  });
  it('random hides about half the pixels, the same ones for the same seed', () => {
    const big = presetMask([32, 32, 1], 'random', 5);
    const hidden = big.reduce((a, v) => a + (v === 0 ? 1 : 0), 0) / big.length;
    assert.ok(hidden > 0.4 && hidden < 0.6, `hidden fraction ${hidden}`);
    assert.deepEqual(presetMask([32, 32, 1], 'random', 5), big);
    assert.notDeepEqual(presetMask([32, 32, 1], 'random', 6), big);
  });
  it('refuse a non-image shape', () => {
    assert.throws(() => presetMask([2], 'left'), /images/);
  });
});
