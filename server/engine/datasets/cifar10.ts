/**
 * `cifar10:DIR`: the CIFAR-10 binary version (`cifar-10-batches-bin`): `data_batch_1.bin` ..
 * `data_batch_5.bin`, each a run of 3073-byte records (1 label byte, then 1024 R, 1024 G, 1024 B bytes,
 * each plane row-major 32x32). The batches that exist are loaded in order and converted to NHWC
 * [32, 32, 3] in [0, 1] (/255). DIR may also be the folder that holds `cifar-10-batches-bin`.
 */
import * as fs from 'fs';
import * as path from 'path';
import { checkFolder, readFileChecked } from './files';
import { Dataset, DatasetError } from './types';

export const CIFAR10_BATCHES = [1, 2, 3, 4, 5].map((i) => `data_batch_${i}.bin`);
export const CIFAR10_CLASSES = [
  'airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck',
];
const RECORD = 3073;
const PLANE = 1024;

function batchesIn(dir: string): string[] {
  return CIFAR10_BATCHES.map((n) => path.join(dir, n)).filter((f) => fs.existsSync(f));
}

export function loadCifar10(spec: string, dir: string, limit?: number): Dataset {
  const fix = 'pass cifar10:DIR with the folder of the CIFAR-10 binary version (cifar-10-batches-bin)';
  checkFolder(dir, 'CIFAR-10 folder', fix);
  let files = batchesIn(dir);
  if (files.length === 0) files = batchesIn(path.join(dir, 'cifar-10-batches-bin'));
  if (files.length === 0) {
    throw new DatasetError(
      `no CIFAR-10 batches in ${dir}: expected one or more of ${CIFAR10_BATCHES.join(', ')}; ${fix}`,
      dir,
    );
  }
  const bufs: Buffer[] = [];
  let total = 0;
  const max = limit ?? Infinity;
  for (const file of files) {
    if (total >= max) break;
    const buf = readFileChecked(file, 'CIFAR-10 batch', fix);
    if (buf.length === 0 || buf.length % RECORD !== 0) {
      throw new DatasetError(
        `${file} has ${buf.length} bytes, not a whole number of ${RECORD}-byte CIFAR-10 records ` +
          '(1 label byte + 3072 pixel bytes); it is truncated or not a CIFAR-10 binary batch',
        file,
      );
    }
    bufs.push(buf);
    total += buf.length / RECORD;
  }
  const n = Math.min(total, max);
  const data = new Float32Array(n * PLANE * 3);
  const labels = new Uint8Array(n);
  const s = 1 / 255;
  let k = 0;
  for (let b = 0; b < bufs.length; b++) {
    const buf = bufs[b]!;
    const file = files[b]!;
    const records = buf.length / RECORD;
    for (let r = 0; r < records && k < n; r++, k++) {
      const off = r * RECORD;
      const label = buf[off]!;
      if (label > 9) {
        throw new DatasetError(
          `${file} record ${r} has label byte ${label}, but CIFAR-10 labels are 0-9; this is not a CIFAR-10 ` +
            'binary batch (CIFAR-100 records have two label bytes)',
          file,
        );
      }
      labels[k] = label;
      const out = k * PLANE * 3;
      for (let p = 0; p < PLANE; p++) {
        data[out + p * 3] = buf[off + 1 + p]! * s;
        data[out + p * 3 + 1] = buf[off + 1 + PLANE + p]! * s;
        data[out + p * 3 + 2] = buf[off + 1 + 2 * PLANE + p]! * s;
      }
    }
  }
  return {
    spec,
    name: 'CIFAR-10',
    kind: 'image',
    shape: [32, 32, 3],
    size: n,
    range: [0, 1],
    data,
    labels,
  };
}
