/** Writes samples the way people look at them: a PNG grid for images, a CSV of points for 2D data. */
import * as fs from 'fs';
import * as path from 'path';
import { writeGridPng } from './images';
import { writeFileAtomic } from './files';

export function pointsCsv(data: Float32Array, n: number, dim: number): string {
  const header = Array.from({ length: dim }, (_, i) => `x${i}`).join(',');
  const rows: string[] = [header];
  for (let i = 0; i < n; i++) rows.push(Array.from(data.subarray(i * dim, (i + 1) * dim), (v) => v.toPrecision(6)).join(','));
  return rows.join('\n') + '\n';
}

/**
 * Writes `n` samples of `shape` to `file` (its extension decides: .png or .csv). Without an
 * extension it is chosen from the shape. Returns the path written.
 */
export function writeSamples(file: string, data: Float32Array, n: number, shape: number[], opts: { scale?: number } = {}): string {
  const isImage = shape.length === 3;
  let ext = path.extname(file).toLowerCase();
  if (ext !== '.png' && ext !== '.csv') {
    ext = isImage ? '.png' : '.csv';
    file += ext;
  }
  if (ext === '.png' && !isImage) throw new Error(`PNG output needs image data; these samples are ${shape.length}D points. Use a .csv file.`);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  if (ext === '.png') writeGridPng(file, data, n, shape, { scale: opts.scale ?? 2 });
  else writeFileAtomic(file, pointsCsv(data, n, shape.reduce((a, b) => a * b, 1)));
  return file;
}
