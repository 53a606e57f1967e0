/**
 * Ready-made inpainting masks (1 = known, kept; 0 = unknown, to fill) for one example of shape
 * [H, W, C]. The name says which part is unknown. 'random' hides a seeded random half of the pixels
 * (all channels of a pixel together).
 */
import { Rng } from './random';

export type MaskPreset = 'left' | 'right' | 'top' | 'bottom' | 'centre' | 'random';

export function presetMask(shape: number[], preset: MaskPreset, seed = 0): Float32Array {
  if (shape.length !== 3) throw new RangeError(`Mask presets are for images [H, W, C]; got shape [${shape.join(', ')}].`);
  const [H, W, C] = shape as [number, number, number];
  const rng = new Rng(seed);
  const mask = new Float32Array(H * W * C);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      let unknown: boolean;
      switch (preset) {
        case 'left': unknown = x < W / 2; break;
        case 'right': unknown = x >= W / 2; break;
        case 'top': unknown = y < H / 2; break;
        case 'bottom': unknown = y >= H / 2; break;
        case 'centre': unknown = Math.abs(x + 0.5 - W / 2) < W / 4 && Math.abs(y + 0.5 - H / 2) < H / 4; break;
        case 'random': unknown = rng.next() < 0.5; break;
      }
      for (let c = 0; c < C; c++) mask[(y * W + x) * C + c] = unknown ? 0 : 1;
    }
  }
  return mask;
}
