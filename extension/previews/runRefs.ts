/**
 * Finding runs in text: a run folder path (`.highscore/runs/NAME`, a checkpoint path under it) or a
 * known run's name; and the sampler functions of the assignment module. Pure (no vscode), tested.
 */

export interface RunRef {
  /** The run's name (its folder's name). */
  name: string;
  /** Offsets of the reference in the line. */
  start: number;
  end: number;
  /** The checkpoint named, for checkpoint paths (step-000400). */
  checkpoint?: string;
}

const PATH_RE = /(?:[\w./\\-]*[/\\])?\.highscore[/\\]runs[/\\]([A-Za-z0-9._-]+)(?:[/\\]checkpoints[/\\](step-\d+))?[\w./\\-]*/g;
const WORD_RE = /[A-Za-z0-9._:-]+/g;

/** The run references in one line: paths to run folders, and names of known runs. */
export function findRunRefs(line: string, knownRuns: readonly string[]): RunRef[] {
  const refs: RunRef[] = [];
  for (const m of line.matchAll(PATH_RE)) {
    refs.push({ name: m[1]!, start: m.index!, end: m.index! + m[0].length, ...(m[2] ? { checkpoint: m[2] } : {}) });
  }
  if (knownRuns.length) {
    const known = new Set(knownRuns);
    for (const m of line.matchAll(WORD_RE)) {
      const start = m.index!;
      const end = start + m[0].length;
      // A bare name, maybe with trailing punctuation; not inside a path found above.
      const word = m[0].replace(/[.:-]+$/, '');
      if (!known.has(word) || refs.some((r) => start < r.end && end > r.start)) continue;
      refs.push({ name: word, start, end: start + word.length });
    }
  }
  return refs.sort((a, b) => a.start - b.start);
}

/** A sampler definition in the assignment module: `annealedLangevin` or `sample` (TS/JS or Python). */
export const SAMPLER_RE = /^\s*(?:export\s+)?(?:async\s+)?(?:function\s*\*?\s*|def\s+|(?:const|let)\s+)(annealedLangevin|annealed_langevin|sample|sampleGrid|sample_grid)\b/;
