/**
 * PNG helpers for datasets and the CLI: decode to floats in [0, 1], encode floats (clamped) to 8-bit
 * PNG, tile a batch of NHWC images into one grid image, and write a grid PNG atomically.
 */
import * as fs from 'fs';
import * as path from 'path';
import { PNG } from 'pngjs';
import { DatasetError } from './datasets/types';

export interface RasterImage {
  width: number;
  height: number;
  channels: number;
  /** Row-major HWC, values in [0, 1]. */
  data: Float32Array;
}

export interface DecodedPng extends RasterImage {
  channels: 1 | 3 | 4;
}

/**
 * Decodes a PNG of any colour type and bit depth. Gray (with or without alpha) gives 1 channel (alpha
 * dropped), RGB and palette images give 3, RGBA and palette images with transparency give 4. Values are
 * divided by the format's maximum (255 for 8-bit and palette, 65535 for 16-bit, 2^d - 1 for 1/2/4-bit gray).
 * A corrupt file throws a DatasetError naming `file`.
 */
export function decodePng(buf: Buffer, file = '(PNG data)'): DecodedPng {
  let png: ReturnType<typeof PNG.sync.read>;
  try {
    png = PNG.sync.read(buf, { skipRescale: true });
  } catch (e) {
    throw new DatasetError(`${file} is not a valid PNG image (${(e as Error).message}); replace or remove it`, file);
  }
  const { width, height } = png;
  const src = png.data as unknown as ArrayLike<number>; // RGBA, Uint16Array for 16-bit
  const palette = (png.colorType as number) === 3;
  const max = palette ? 255 : Math.pow(2, png.depth) - 1;
  const channels: 1 | 3 | 4 = !png.color ? 1 : png.alpha ? 4 : 3;
  const pixels = width * height;
  if (src.length < pixels * 4) {
    throw new DatasetError(`${file} is a truncated PNG image; replace or remove it`, file);
  }
  const data = new Float32Array(pixels * channels);
  const s = 1 / max;
  for (let p = 0; p < pixels; p++) {
    for (let c = 0; c < channels; c++) data[p * channels + c] = src[p * 4 + c]! * s;
  }
  return { width, height, channels, data };
}

/** Encodes an 8-bit gray (1 channel) or RGB (3 channel) PNG from HWC floats in [0, 1] (clamped; NaN -> 0). */
export function encodePng(width: number, height: number, channels: 1 | 3, data: Float32Array): Buffer {
  if (channels !== 1 && channels !== 3) throw new RangeError(`encodePng: channels must be 1 or 3, got ${channels}`);
  if (!(width > 0 && height > 0) || !Number.isInteger(width) || !Number.isInteger(height)) {
    throw new RangeError(`encodePng: bad size ${width}x${height}`);
  }
  const count = width * height * channels;
  if (data.length < count) {
    throw new RangeError(`encodePng: ${width}x${height}x${channels} needs ${count} values, got ${data.length}`);
  }
  const bytes = Buffer.alloc(count);
  for (let i = 0; i < count; i++) {
    const v = data[i]!;
    bytes[i] = v > 0 ? (v >= 1 ? 255 : Math.round(v * 255)) : 0;
  }
  const colorType = channels === 1 ? 0 : 2;
  const png = { width, height, data: bytes, gamma: 0 } as unknown as PNG;
  return PNG.sync.write(png, { colorType, inputColorType: colorType, bitDepth: 8 });
}

export interface GridOptions {
  /** Columns; default ceil(sqrt(n)) (a near-square grid). */
  cols?: number;
  /** Pixels of padding around and between the tiles (not scaled); default 2. */
  pad?: number;
  /** Integer upscaling of each image (nearest neighbour); default 1. */
  scale?: number;
  /** Value of the padding pixels; default 0.5 (mid gray, visible on black and on white images). */
  padValue?: number;
}

/**
 * Tiles the first n images of an NHWC batch into rows of `cols`, row-major. Size:
 * width = cols * (W * scale + pad) + pad, height = rows * (H * scale + pad) + pad, channels = C.
 * Values are copied unchanged (encodePng clamps).
 */
export function imageGrid(data: Float32Array, n: number, shape: readonly number[], opts: GridOptions = {}): RasterImage {
  if (shape.length !== 3) throw new RangeError(`imageGrid: shape must be [H, W, C], got [${shape.join(', ')}]`);
  const [H, W, C] = shape as [number, number, number];
  const per = H * W * C;
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`imageGrid: n must be a positive integer, got ${n}`);
  if (data.length < n * per) {
    throw new RangeError(`imageGrid: ${n} images of [${shape.join(', ')}] need ${n * per} values, got ${data.length}`);
  }
  const cols = Math.max(1, Math.min(n, Math.floor(opts.cols ?? Math.ceil(Math.sqrt(n)))));
  const rows = Math.ceil(n / cols);
  const pad = Math.max(0, Math.floor(opts.pad ?? 2));
  const scale = Math.max(1, Math.floor(opts.scale ?? 1));
  const padValue = opts.padValue ?? 0.5;
  const tw = W * scale;
  const th = H * scale;
  const width = cols * (tw + pad) + pad;
  const height = rows * (th + pad) + pad;
  const out = new Float32Array(width * height * C).fill(padValue);
  for (let k = 0; k < n; k++) {
    const x0 = pad + (k % cols) * (tw + pad);
    const y0 = pad + Math.floor(k / cols) * (th + pad);
    const base = k * per;
    for (let y = 0; y < th; y++) {
      const sy = Math.floor(y / scale);
      const rowOut = ((y0 + y) * width + x0) * C;
      const rowIn = base + sy * W * C;
      for (let x = 0; x < tw; x++) {
        const sx = Math.floor(x / scale);
        for (let c = 0; c < C; c++) out[rowOut + x * C + c] = data[rowIn + sx * C + c]!;
      }
    }
  }
  return { width, height, channels: C, data: out };
}

/**
 * Writes a grid PNG of the first n images atomically: to `file.tmp-<pid>`, then renamed over `file`
 * (the parent folder is created). Images must have 1 or 3 channels. Returns the grid size.
 */
export function writeGridPng(
  file: string,
  data: Float32Array,
  n: number,
  shape: readonly number[],
  opts: GridOptions = {},
): { width: number; height: number } {
  const grid = imageGrid(data, n, shape, opts);
  if (grid.channels !== 1 && grid.channels !== 3) {
    throw new RangeError(`writeGridPng: images must have 1 or 3 channels, got ${grid.channels}`);
  }
  const png = encodePng(grid.width, grid.height, grid.channels, grid.data);
  fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  const tmp = `${file}.tmp-${process.pid}`;
  try {
    fs.writeFileSync(tmp, png);
    fs.renameSync(tmp, file);
  } catch (e) {
    try {
      fs.rmSync(tmp, { force: true });
    } catch {
      // nothing more to clean
    }
    throw e;
  }
  return { width: grid.width, height: grid.height };
}
