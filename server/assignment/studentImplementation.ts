/**
 * The student's implementation for training and sampling ("Train with my implementation"): their
 * dsmLoss, geometricSchedule and the provided annealedLangevin (which calls their initialSamples,
 * stepSize, langevinStep and denoise). A throw or a non-finite result stops the run with a message
 * that names the blank and its line in their file.
 */
import * as fs from 'fs';
import * as path from 'path';
import { ImplementationError, type Implementation, type NetOutput } from '../engine/implementation';
import { findBlanks, lineFromStack } from './source';
import type { StudentModule } from './studentModule';
import type * as tf from '@tensorflow/tfjs';

type Fn = (...args: unknown[]) => unknown;

export function studentImplementation(file: string, mod: { student: StudentModule; provided: StudentModule | undefined }): Implementation {
  const blanks = findBlanks(fs.readFileSync(file, 'utf8'));
  const name = path.basename(file);
  const where = (blank: string) => `${name}:${blanks.find((b) => b.id === blank)?.line ?? '?'}`;
  const fn = (m: StudentModule | undefined, id: string, blank: string): Fn => {
    const f = m?.[id];
    if (typeof f !== 'function') throw new ImplementationError(`${name} has no function ${id} (the ${blank} blank). Restore it from the assignment's template.`);
    return f as Fn;
  };
  /** Calls a blank; a throw becomes an error naming the blank and the line. */
  const call = <T>(blank: string, f: () => T): T => {
    try {
      return f();
    } catch (err) {
      if (err instanceof ImplementationError) throw err;
      const e = err as { name?: string; message?: string };
      // The blank whose lines hold the throwing frame (the sampler calls several), else the one called.
      const line = lineFromStack(err, file);
      const inner = line === undefined ? undefined : blanks.find((b) => line >= b.line && line <= b.endLine);
      const what = e?.name === 'NotImplementedError' ? 'is not implemented yet' : `threw ${e?.name ?? 'Error'}: ${e?.message ?? String(err)}`;
      throw new ImplementationError(`Your ${inner?.id ?? blank} (${name}:${line ?? where(blank).split(':')[1]}) ${what}. The run stopped; fix it, check it in the Test Explorer, then resume.`);
    }
  };
  const dsmLoss = fn(mod.student, 'dsmLoss', 'dsmLoss');
  const geometricSchedule = fn(mod.student, 'geometricSchedule', 'geometricSchedule');
  const sampler = fn(mod.student, 'annealedLangevin', 'annealedLangevin');
  return {
    label: `your ${name}`,
    file,
    nanHint: `The loss comes from your dsmLoss (${where('dsmLoss')}): check it in the Test Explorer.`,
    loss: (net: NetOutput, x: tf.Tensor, sigmas: tf.Tensor1D, z: tf.Tensor) => call('dsmLoss', () => dsmLoss(net, x, sigmas, z) as tf.Tensor1D),
    sigmas(sigma1: number, sigmaL: number, L: number) {
      const s = call('geometricSchedule', () => geometricSchedule(sigma1, sigmaL, L)) as unknown;
      if (!Array.isArray(s) || s.length !== L || !s.every((v) => typeof v === 'number' && Number.isFinite(v) && v > 0)) {
        throw new ImplementationError(`Your geometricSchedule (${where('geometricSchedule')}) must return ${L} positive finite numbers; it returned ${JSON.stringify(s)?.slice(0, 120)}.`);
      }
      for (let i = 1; i < s.length; i++) {
        if (!(s[i]! < s[i - 1]!)) throw new ImplementationError(`Your geometricSchedule (${where('geometricSchedule')}) must be descending (sigma_1 > ... > sigma_L); it is not at index ${i}.`);
      }
      return s as number[];
    },
    sample: (net, sigmas, eps, T, n, shape, seed) => call('annealedLangevin', () => sampler(net, sigmas, eps, T, n, shape, seed) as tf.Tensor),
  };
}
