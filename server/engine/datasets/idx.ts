/**
 * The IDX format of MNIST and Fashion-MNIST: magic `00 00 TT ND` (TT the element type, ND the number
 * of dimensions), ND big-endian uint32 sizes, then the elements. Only unsigned bytes (TT = 0x08) are
 * read. Files may be raw or gzipped (detected by magic bytes). Images become [0, 1] by /255.
 */
import { maybeGunzip, readFileChecked } from './files';
import { Dataset, DatasetError } from './types';

const IDX_TYPES: Record<number, string> = {
  0x08: 'unsigned byte',
  0x09: 'signed byte',
  0x0b: 'int16',
  0x0c: 'int32',
  0x0d: 'float32',
  0x0e: 'float64',
};

export interface IdxHeader {
  /** Element type code (0x08 = unsigned byte). */
  type: number;
  dims: number[];
  /** Byte offset of the first element. */
  offset: number;
}

function hex(bytes: ArrayLike<number>): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join(' ');
}

function describeDims(n: number): string {
  if (n === 1) return 'a labels file (idx1)';
  if (n === 3) return 'an images file (idx3, [n, h, w])';
  if (n === 4) return 'an images file (idx4, [n, h, w, c])';
  return `a ${n}-dimensional IDX file`;
}

function expectedForm(n: number): string {
  const shape = n === 1 ? '[n]' : n === 3 ? '[n, h, w]' : n === 4 ? '[n, h, w, c]' : `${n} dimensions`;
  return `idx${n} ${shape} with magic number 00 00 08 ${hex([n])}`;
}

/**
 * Reads and checks an IDX header for unsigned-byte data with one of the allowed dimension counts, and
 * that the file holds every element the header promises.
 */
export function parseIdxHeader(buf: Uint8Array, file: string, allowedDims: number[], purpose: string): IdxHeader {
  const expected = allowedDims.map((d) => `00 00 08 ${hex([d])}`).join(' or ');
  if (buf.length < 4 || buf[0] !== 0 || buf[1] !== 0) {
    throw new DatasetError(
      `${file} is not an IDX file: its first bytes are ${hex(buf.subarray(0, 4)) || '(none)'}, ` +
        `expected the IDX magic number ${expected} (${purpose})`,
      file,
    );
  }
  const type = buf[2]!;
  const ndims = buf[3]!;
  if (type !== 0x08) {
    const name = IDX_TYPES[type] ?? 'an unknown type';
    throw new DatasetError(
      `${file} holds IDX elements of type 0x${hex([type])} (${name}); only unsigned byte (0x08) IDX files ` +
        `are supported: expected magic number ${expected}, found ${hex(buf.subarray(0, 4))}`,
      file,
    );
  }
  if (!allowedDims.includes(ndims)) {
    throw new DatasetError(
      `${file} has IDX magic number ${hex(buf.subarray(0, 4))}, which is ${describeDims(ndims)}, ` +
        `but ${purpose} is needed here: ${allowedDims.map(expectedForm).join(' or ')}`,
      file,
    );
  }
  const offset = 4 + 4 * ndims;
  if (buf.length < offset) {
    throw new DatasetError(
      `${file} is truncated: its IDX header needs ${offset} bytes but the file has ${buf.length}`,
      file,
    );
  }
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const dims: number[] = [];
  for (let i = 0; i < ndims; i++) dims.push(view.getUint32(4 + 4 * i, false));
  const count = dims.reduce((a, b) => a * b, 1);
  if (buf.length - offset < count) {
    throw new DatasetError(
      `${file} is truncated: the header promises [${dims.join(', ')}] = ${count} bytes of data but the file ` +
        `has ${buf.length - offset}; download or copy it again`,
      file,
    );
  }
  return { type, dims, offset };
}

export interface IdxImages {
  /** [h, w, c] */
  shape: number[];
  size: number;
  /** NHWC in [0, 1]. */
  data: Float32Array;
}

/** Reads an unsigned-byte IDX image file ([n,h,w] or [n,h,w,c]), keeping at most `limit` images. */
export function readIdxImages(file: string, limit?: number, fix = ''): IdxImages {
  const buf = maybeGunzip(readFileChecked(file, 'IDX image file', fix), file);
  const { dims, offset } = parseIdxHeader(buf, file, [3, 4], 'an images file');
  const shape = dims.length === 3 ? [dims[1]!, dims[2]!, 1] : [dims[1]!, dims[2]!, dims[3]!];
  const per = shape[0]! * shape[1]! * shape[2]!;
  const n = Math.min(dims[0]!, limit ?? Infinity);
  if (n === 0 || per === 0) {
    throw new DatasetError(`${file} holds no images (IDX dimensions [${dims.join(', ')}])`, file);
  }
  const count = n * per;
  const data = new Float32Array(count);
  const scale = 1 / 255;
  for (let i = 0; i < count; i++) data[i] = buf[offset + i]! * scale;
  return { shape, size: n, data };
}

/** Reads an unsigned-byte IDX labels file ([n]), keeping at most `limit` labels. */
export function readIdxLabels(file: string, limit?: number, fix = ''): Uint8Array {
  const buf = maybeGunzip(readFileChecked(file, 'IDX labels file', fix), file);
  const { dims, offset } = parseIdxHeader(buf, file, [1], 'a labels file');
  const n = Math.min(dims[0]!, limit ?? Infinity);
  return Uint8Array.from(buf.subarray(offset, offset + n));
}

/** `idx:FILE`: any unsigned-byte IDX image file as an image dataset (no labels). */
export function loadIdx(spec: string, file: string, limit?: number): Dataset {
  const img = readIdxImages(file, limit);
  return {
    spec,
    name: `IDX ${file}`,
    kind: 'image',
    shape: img.shape,
    size: img.size,
    range: [0, 1],
    data: img.data,
  };
}
