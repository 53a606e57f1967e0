/**
 * Samples as the protocol carries them: a base64 PNG grid for images, rounded flat coordinates for
 * points. Runs in the worker threads (it uses the engine's PNG encoder).
 */
import { encodePng, imageGrid } from '../engine/images';
import type { SampleImage } from '../../protocol/protocol';

/** At most this many images go into a notification's grid (the file on disk has them all). */
export const MAX_GRID_IMAGES = 64;
/** At most this many points go into a notification. */
export const MAX_POINTS = 2000;

/** How many of `n` samples a message shows. */
export function shownCount(n: number, shape: readonly number[]): number {
  return Math.min(n, shape.length === 3 ? MAX_GRID_IMAGES : MAX_POINTS);
}

/** The first `shownCount` samples of `data` ([n, ...shape]) as a PNG grid or as points. */
export function sampleImage(data: Float32Array, n: number, shape: readonly number[]): SampleImage {
  const shown = shownCount(n, shape);
  if (shape.length === 3) {
    const grid = imageGrid(data, shown, shape);
    const channels = grid.channels === 1 ? 1 : 3;
    if (grid.channels !== 1 && grid.channels !== 3) throw new RangeError(`Images with ${grid.channels} channels cannot be shown as a PNG grid.`);
    return { png: encodePng(grid.width, grid.height, channels, grid.data).toString('base64') };
  }
  const size = shape.reduce((a, b) => a * b, 1);
  const points: number[] = new Array<number>(shown * size);
  // Four decimals are plenty on screen and keep the message small.
  for (let i = 0; i < shown * size; i++) {
    const v = data[i]!;
    points[i] = Number.isFinite(v) ? Math.round(v * 1e4) / 1e4 : 0;
  }
  return { points };
}

/** A finite number, or null (JSON has no NaN or infinity). */
export function finiteOrNull(v: number | undefined): number | null {
  return v !== undefined && Number.isFinite(v) ? v : null;
}
