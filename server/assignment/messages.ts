/** What the checker process (checkerMain.ts) and the runner (runner.ts) say to each other over IPC. */
export type CaseStatus = 'pass' | 'fail' | 'error' | 'timeout' | 'not-implemented';

export interface CheckerArgs {
  /** The student module (absolute path). */
  file: string;
  /** Blank ids to check, in order. */
  blanks: string[];
  /** Type-check the module first (slower: a few seconds). */
  typecheck: boolean;
  /** Type errors found by an earlier process of the same check (their blanks are reported, not run). */
  typeErrors?: SourceError[];
}

export interface SourceError {
  /** 1-based. */
  line: number;
  column?: number;
  message: string;
}

export type FromChecker =
  | { type: 'compiled'; syntaxErrors: SourceError[]; typeErrors: SourceError[]; typecheck: string }
  | { type: 'loaded' }
  | { type: 'loadError'; message: string; line?: number }
  | { type: 'begin'; blank: string; case: string; timeoutMs?: number }
  | { type: 'case'; blank: string; case: string; status: CaseStatus; message: string; expected?: string; actual?: string; line?: number; ms: number }
  | { type: 'done' };
