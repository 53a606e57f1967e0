/**
 * Fashion-MNIST from its original gzipped IDX files (the 60,000 training images), as installed by the
 * Debian package `dataset-fashion-mnist` in /usr/share/datasets/fashion-mnist. Values /255 in [0, 1].
 */
import * as path from 'path';
import { checkFolder } from './files';
import { readIdxImages, readIdxLabels } from './idx';
import { Dataset, DatasetError } from './types';

export const FASHION_MNIST_DEFAULT_DIR = '/usr/share/datasets/fashion-mnist';
export const FASHION_MNIST_IMAGES = 'train-images-idx3-ubyte.gz';
export const FASHION_MNIST_LABELS = 'train-labels-idx1-ubyte.gz';
export const FASHION_MNIST_CLASSES = [
  'T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot',
];

const FIX = 'install it with: sudo apt-get install dataset-fashion-mnist, or pass fashion-mnist:DIR';

export function loadFashionMnist(spec: string, dir: string, limit?: number): Dataset {
  checkFolder(dir, 'Fashion-MNIST folder', FIX);
  const imagesFile = path.join(dir, FASHION_MNIST_IMAGES);
  const labelsFile = path.join(dir, FASHION_MNIST_LABELS);
  const fix = `${FIX} (a folder holding ${FASHION_MNIST_IMAGES} and ${FASHION_MNIST_LABELS})`;
  const img = readIdxImages(imagesFile, limit, fix);
  const labels = readIdxLabels(labelsFile, limit, fix);
  if (labels.length !== img.size) {
    throw new DatasetError(
      `${labelsFile} holds ${labels.length} labels but ${imagesFile} holds ${img.size} images; ` +
        'they must come from the same release',
      labelsFile,
    );
  }
  return {
    spec,
    name: 'Fashion-MNIST (train)',
    kind: 'image',
    shape: img.shape,
    size: img.size,
    range: [0, 1],
    data: img.data,
    labels,
  };
}
