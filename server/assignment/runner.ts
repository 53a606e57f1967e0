/**
 * Checks a student module blank by blank in a separate process (checkerMain.ts), with a time limit
 * per check and a memory cap. A check that runs past its limit (an infinite loop), or a process that
 * dies (a huge allocation), gives a result on THAT blank; a fresh process then checks the next
 * blanks. Syntax and type errors are reported at their lines.
 */
import { fork, type ChildProcess } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { BLANKS, blankInfo } from './blanks';
import type { CaseStatus, CheckerArgs, FromChecker, SourceError } from './messages';
import { blankAtLine, findBlanks, type BlankLocation } from './source';

export type { CaseStatus, SourceError } from './messages';

export interface CaseResult {
  blank: string;
  case: string;
  status: CaseStatus;
  message: string;
  expected?: string;
  actual?: string;
  /** The student's line (1-based): where the error was thrown, else the blank's function. */
  line: number;
  ms: number;
}

export interface BlankResult {
  blank: string;
  title: string;
  status: CaseStatus;
  /** The first problem, or a summary when everything passes. */
  message: string;
  /** The blank's function line (1-based); 0 where the file lacks it. */
  line: number;
  cases: CaseResult[];
}

export interface AssignmentCheckResult {
  file: string;
  blanks: BlankResult[];
  passed: number;
  total: number;
  /** Syntax errors, and type errors outside any blank. */
  moduleErrors: SourceError[];
  /** 'done', 'not asked' or 'skipped: why'. */
  typecheck: string;
}

export interface CheckOptions {
  /** Blank ids to check (default: all, in the catalogue's order). */
  blanks?: string[];
  /** Time limit per check case in ms (cases may ask for more); default 10 s. */
  timeoutMs?: number;
  /** Time limit for starting the process, compiling and loading the module; default 60 s. */
  loadTimeoutMs?: number;
  /** The checker process's heap cap in MB; default 512. */
  memoryMb?: number;
  typecheck?: boolean;
  /** The checker entry (default: the bundle beside this file, else the compiled checkerMain.js). */
  checkerPath?: string;
  /** Called as each blank's result is complete. */
  onBlank?: (r: BlankResult) => void;
  signal?: AbortSignal;
}

export function defaultCheckerPath(): string {
  const bundled = path.join(__dirname, 'assignmentChecker.js');
  return fs.existsSync(bundled) ? bundled : path.join(__dirname, 'checkerMain.js');
}

const STATUS_ORDER: CaseStatus[] = ['not-implemented', 'timeout', 'error', 'fail', 'pass'];

function summarise(blank: string, line: number, cases: CaseResult[]): BlankResult {
  const status = STATUS_ORDER.find((s) => cases.some((c) => c.status === s)) ?? 'error';
  const bad = cases.find((c) => c.status !== 'pass');
  return {
    blank, title: blankInfo(blank)?.title ?? blank, status, line, cases,
    message: bad ? bad.message : cases.length ? `All ${cases.length} check${cases.length > 1 ? 's' : ''} pass.` : 'No checks ran.',
  };
}

interface Session {
  /** Blanks whose cases all arrived (in order). */
  finished: string[];
  /** Where the process stopped early: the blank in flight and why. */
  stopped?: { blank: string | undefined; reason: 'timeout' | 'crash' | 'load' | 'syntax' | 'aborted'; message: string; line?: number };
}

export async function checkAssignment(file: string, opts: CheckOptions = {}): Promise<AssignmentCheckResult> {
  file = path.resolve(file);
  const source = fs.readFileSync(file, 'utf8');
  const wanted = opts.blanks?.length ? opts.blanks : BLANKS.map((b) => b.id);
  const locs = findBlanks(source, wanted);
  const locOf = (id: string): BlankLocation | undefined => locs.find((l) => l.id === id);
  const cases = new Map<string, CaseResult[]>(wanted.map((b) => [b, []]));
  const results = new Map<string, BlankResult>();
  const moduleErrors: SourceError[] = [];
  let typecheck = opts.typecheck ? 'not run' : 'not asked';
  let typeErrors: SourceError[] | undefined;
  /** The case in flight when a process stopped (set by runSession). */
  let currentCase: string | undefined;

  const finish = (blank: string) => {
    if (results.has(blank)) return;
    const r = summarise(blank, locOf(blank)?.line ?? 0, cases.get(blank) ?? []);
    results.set(blank, r);
    opts.onBlank?.(r);
  };
  const addCase = (c: CaseResult) => cases.get(c.blank)?.push(c);

  for (const b of wanted) {
    if (!blankInfo(b)) {
      addCase({ blank: b, case: 'exists', status: 'error', message: `There is no blank '${b}' in this assignment.`, line: 0, ms: 0 });
      finish(b);
    } else if (!locOf(b)) {
      addCase({ blank: b, case: 'exists', status: 'error', message: `The module has no function \`${b}\`: keep the blank's function, its name and its \`export\`.`, line: 0, ms: 0 });
      finish(b);
    }
  }
  let remaining = wanted.filter((b) => !results.has(b));
  let first = true;
  while (remaining.length) {
    if (opts.signal?.aborted) break;
    const args: CheckerArgs = { file, blanks: remaining, typecheck: first && !!opts.typecheck, ...(typeErrors ? { typeErrors } : {}) };
    const session = await runSession(args, opts, {
      compiled(m) {
        if (!first) return;
        if (m.typecheck !== 'not asked') typecheck = m.typecheck;
        typeErrors = m.typeErrors;
        moduleErrors.push(...m.syntaxErrors);
        moduleErrors.push(...m.typeErrors.filter((e) => !blankAtLine(locs, e.line)));
      },
      caseDone(m) {
        addCase({ blank: m.blank, case: m.case, status: m.status, message: m.message, ...(m.expected !== undefined ? { expected: m.expected } : {}), ...(m.actual !== undefined ? { actual: m.actual } : {}), line: m.line ?? locOf(m.blank)?.line ?? 0, ms: m.ms });
      },
      blankDone: finish,
    });
    first = false;
    for (const b of session.finished) finish(b);
    const stop = session.stopped;
    if (!stop) break;
    if (stop.reason === 'syntax' || stop.reason === 'load' || stop.reason === 'aborted' || stop.blank === undefined) {
      // Nothing more can run: say so on every blank not yet reported.
      const syntaxLine = stop.line;
      for (const b of remaining) {
        if (results.has(b)) continue;
        const loc = locOf(b)!;
        const here = syntaxLine !== undefined && syntaxLine >= loc.line && syntaxLine <= loc.endLine;
        const message = stop.reason === 'syntax'
          ? (here ? stop.message : `Not checked: ${stop.message.replace(/^Syntax error/, 'the module has a syntax error')}`)
          : stop.reason === 'aborted' ? 'Cancelled.' : stop.message;
        addCase({ blank: b, case: 'compiles and loads', status: stop.reason === 'aborted' ? 'error' : stop.reason === 'load' && /took over/.test(stop.message) ? 'timeout' : 'error', message, line: here ? syntaxLine! : (stop.reason === 'load' && syntaxLine !== undefined && blankAtLine(locs, syntaxLine)?.id === b ? syntaxLine : loc.line), ms: 0 });
        finish(b);
      }
      break;
    }
    // A timeout or a crash in one blank: report it there and go on with the next blanks.
    addCase({ blank: stop.blank, case: currentCase ?? 'check', status: stop.reason === 'timeout' ? 'timeout' : 'error', message: stop.message, line: locOf(stop.blank)?.line ?? 0, ms: 0 });
    finish(stop.blank);
    remaining = remaining.filter((b) => !results.has(b));
  }
  const blanks = wanted.map((b) => results.get(b) ?? summarise(b, locOf(b)?.line ?? 0, cases.get(b) ?? []));
  return { file, blanks, passed: blanks.filter((b) => b.status === 'pass').length, total: blanks.length, moduleErrors, typecheck };

  function runSession(args: CheckerArgs, o: CheckOptions, on: {
    compiled(m: Extract<FromChecker, { type: 'compiled' }>): void;
    caseDone(m: Extract<FromChecker, { type: 'case' }>): void;
    blankDone(blank: string): void;
  }): Promise<Session> {
    const timeoutMs = o.timeoutMs ?? 10_000;
    const memoryMb = o.memoryMb ?? 512;
    const session: Session = { finished: [] };
    currentCase = undefined;
    return new Promise((resolve) => {
      let child: ChildProcess;
      try {
        child = fork(o.checkerPath ?? defaultCheckerPath(), [JSON.stringify(args)], {
          execArgv: [`--max-old-space-size=${memoryMb}`],
          stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
          env: { ...process.env, HS_QUIET: '1', TF_CPP_MIN_LOG_LEVEL: '2' },
        });
      } catch (err) {
        session.stopped = { blank: undefined, reason: 'load', message: `The checker process could not start: ${(err as Error).message}` };
        resolve(session);
        return;
      }
      let stderr = '';
      child.stderr?.on('data', (d: Buffer) => { stderr = (stderr + d.toString()).slice(-4000); });
      child.stdout?.on('data', () => { /* the student's console.log: not shown */ });
      let timer: NodeJS.Timeout | undefined;
      let current: string | undefined;
      let ended = false;
      const arm = (ms: number, onTimeout: () => void) => {
        if (timer) clearTimeout(timer);
        timer = setTimeout(onTimeout, ms);
      };
      const end = () => {
        if (ended) return;
        ended = true;
        if (timer) clearTimeout(timer);
        o.signal?.removeEventListener('abort', onAbort);
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
        resolve(session);
      };
      const onAbort = () => {
        session.stopped = { blank: current, reason: 'aborted', message: 'Cancelled.' };
        end();
      };
      o.signal?.addEventListener('abort', onAbort);
      const loadLimit = o.loadTimeoutMs ?? 60_000;
      arm(loadLimit, () => {
        session.stopped = { blank: undefined, reason: 'load', message: `Loading the module took over ${Math.round(loadLimit / 1000)} s and was stopped: does code at the top level of the file loop forever?` };
        end();
      });
      const blankSwitch = (blank: string) => {
        if (current && current !== blank) {
          session.finished.push(current);
          on.blankDone(current);
        }
        current = blank;
      };
      child.on('message', (raw: unknown) => {
        const m = raw as FromChecker;
        switch (m.type) {
          case 'compiled':
            on.compiled(m);
            if (m.syntaxErrors.length) {
              const e = m.syntaxErrors[0]!;
              session.stopped = { blank: undefined, reason: 'syntax', message: `Syntax error at line ${e.line}: ${e.message}`, line: e.line };
              end();
            }
            break;
          case 'loadError':
            session.stopped = { blank: undefined, reason: 'load', message: `The module failed to load: ${m.message}`, ...(m.line !== undefined ? { line: m.line } : {}) };
            end();
            break;
          case 'loaded':
            if (timer) clearTimeout(timer);
            break;
          case 'begin': {
            blankSwitch(m.blank);
            currentCase = m.case;
            const limit = Math.max(timeoutMs, m.timeoutMs ?? 0);
            arm(limit, () => {
              session.stopped = { blank: m.blank, reason: 'timeout', message: `Stopped after ${limit / 1000} s (the time limit of this check): does it loop forever, or do far too much work?` };
              end();
            });
            break;
          }
          case 'case':
            blankSwitch(m.blank);
            if (timer) clearTimeout(timer);
            currentCase = undefined;
            on.caseDone(m);
            break;
          case 'done':
            if (current) {
              session.finished.push(current);
              on.blankDone(current);
              current = undefined;
            }
            end();
            break;
        }
      });
      child.on('exit', (code, signal) => {
        if (ended) return;
        // Let the last IPC messages arrive first.
        setTimeout(() => {
          if (ended) return;
          const oom = /heap out of memory|Allocation failed|Reached heap limit|Invalid array length|ERR_WORKER_OUT_OF_MEMORY/.test(stderr);
          const why = oom
            ? `Ran out of memory: the checker's memory is capped at ${memoryMb} MB. Does this blank allocate something huge (an array or tensor sized by a wrong formula)?`
            : `The checker process died (${signal ?? `exit code ${code}`})${stderr.trim() ? `: ${stderr.trim().split('\n').slice(-3).join(' ')}` : ''}.`;
          session.stopped = current
            ? { blank: current, reason: 'crash', message: why }
            : { blank: undefined, reason: 'load', message: why };
          end();
        }, 50);
      });
    });
  }
}
