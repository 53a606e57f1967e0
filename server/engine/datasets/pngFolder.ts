/**
 * `folder:DIR`: every `.png` file in a folder (not recursive), sorted by file name (code-unit order),
 * all of one size. Gray images give 1 channel; RGB/RGBA give 3 (alpha dropped); a folder mixing gray
 * and colour gives 3 channels throughout (gray replicated). Values in [0, 1] (8-bit /255, 16-bit /65535).
 */
import * as fs from 'fs';
import * as path from 'path';
import { decodePng } from '../images';
import { checkFolder, readFileChecked } from './files';
import { Dataset, DatasetError } from './types';

export function listPngFiles(dir: string): string[] {
  checkFolder(dir, 'image folder', 'pass folder:DIR with a folder of .png files');
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch (e) {
    throw new DatasetError(`cannot list image folder ${dir}: ${(e as Error).message}`, dir);
  }
  const files = names
    .filter((n) => n.toLowerCase().endsWith('.png'))
    .sort()
    .map((n) => path.join(dir, n))
    .filter((f) => {
      try {
        return fs.statSync(f).isFile();
      } catch {
        return false;
      }
    });
  if (files.length === 0) {
    throw new DatasetError(`image folder ${dir} has no .png files; put PNG images of one size in it`, dir);
  }
  return files;
}

export function loadPngFolder(spec: string, dir: string, limit?: number): Dataset {
  const files = listPngFiles(dir).slice(0, limit ?? Infinity);
  const images: { data: Float32Array; gray: boolean }[] = [];
  let width = 0;
  let height = 0;
  let first = '';
  for (const file of files) {
    const img = decodePng(readFileChecked(file, 'PNG image'), file);
    if (images.length === 0) {
      width = img.width;
      height = img.height;
      first = file;
    } else if (img.width !== width || img.height !== height) {
      throw new DatasetError(
        `image sizes differ in ${dir}: ${path.basename(first)} is ${width}x${height} but ` +
          `${path.basename(file)} is ${img.width}x${img.height}; resize them all to one size ` +
          `(${first} vs ${file})`,
        file,
      );
    }
    // Keep 1 channel for gray and 3 for colour (drop alpha).
    let data = img.data;
    if (img.channels === 4) {
      const pixels = width * height;
      data = new Float32Array(pixels * 3);
      for (let p = 0; p < pixels; p++) {
        data[p * 3] = img.data[p * 4]!;
        data[p * 3 + 1] = img.data[p * 4 + 1]!;
        data[p * 3 + 2] = img.data[p * 4 + 2]!;
      }
    }
    images.push({ data, gray: img.channels === 1 });
  }
  const C = images.every((im) => im.gray) ? 1 : 3;
  const pixels = width * height;
  const per = pixels * C;
  const data = new Float32Array(images.length * per);
  images.forEach((im, k) => {
    if (im.gray && C === 3) {
      const base = k * per;
      for (let p = 0; p < pixels; p++) {
        const v = im.data[p]!;
        data[base + p * 3] = v;
        data[base + p * 3 + 1] = v;
        data[base + p * 3 + 2] = v;
      }
    } else {
      data.set(im.data, k * per);
    }
  });
  return {
    spec,
    name: `PNG folder ${dir}`,
    kind: 'image',
    shape: [height, width, C],
    size: images.length,
    range: [0, 1],
    data,
  };
}
