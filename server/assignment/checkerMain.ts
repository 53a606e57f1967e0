/**
 * The checker process: `node dist/assignmentChecker.js '<CheckerArgs as JSON>'`, forked by runner.ts
 * with a memory cap. It compiles the student module (TypeScript, transpiled per file with inline
 * source maps, so stacks show the student's lines), loads it with `@tensorflow/tfjs` mapped to this
 * bundle's own TF.js, runs the checks of the blanks asked for, and reports each case over IPC. The
 * runner kills it when a case runs past its time limit and starts a fresh one for the next blank.
 */
import * as fs from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { CHECKS, CheckFailure, type StudentModule } from './checks';
import { findBlanks, lineFromStack } from './source';
// The checker's bundle leaves this module (and TypeScript in it) to dist/studentLoader.js.
import { COMPILER_OPTIONS, installStudentHooks, ts } from './studentModule';
import type { CheckerArgs, FromChecker, SourceError } from './messages';

const send = (m: FromChecker) => new Promise<void>((resolve) => {
  if (process.send) process.send(m, () => resolve());
  else {
    process.stdout.write(JSON.stringify(m) + '\n');
    resolve();
  }
});


function lineOf(sf: ts.SourceFile | undefined, pos: number | undefined): { line: number; column: number } {
  if (!sf || pos === undefined) return { line: 1, column: 0 };
  const lc = sf.getLineAndCharacterOfPosition(pos);
  return { line: lc.line + 1, column: lc.character };
}

/** The folder holding node_modules/<pkg>, searching up from each start folder. */
function findNodeModules(pkg: string, starts: string[]): string | undefined {
  for (const s of starts) {
    let dir = s;
    for (;;) {
      if (fs.existsSync(path.join(dir, 'node_modules', pkg, 'package.json'))) return path.join(dir, 'node_modules');
      const up = path.dirname(dir);
      if (up === dir) break;
      dir = up;
    }
  }
  return undefined;
}

function typecheck(file: string): { errors: SourceError[]; status: string } {
  const starts = [path.dirname(file), __dirname];
  const modules = findNodeModules('@tensorflow/tfjs', starts);
  const tsLib = findNodeModules('typescript', starts);
  if (!modules || !tsLib) return { errors: [], status: `skipped: ${modules ? 'the TypeScript library files' : "@tensorflow/tfjs's type declarations"} are not installed` };
  const options: ts.CompilerOptions = {
    ...COMPILER_OPTIONS, noEmit: true, strict: true, skipLibCheck: true, types: [], baseUrl: modules,
    moduleResolution: ts.ModuleResolutionKind.Node10, lib: ['lib.es2022.d.ts'],
  };
  const host = ts.createCompilerHost(options);
  const libDir = path.join(tsLib, 'typescript', 'lib');
  host.getDefaultLibLocation = () => libDir;
  host.getDefaultLibFileName = (o) => path.join(libDir, ts.getDefaultLibFileName(o));
  const program = ts.createProgram([file], options, host);
  const norm = path.resolve(file);
  const errors = ts.getPreEmitDiagnostics(program)
    .filter((d) => d.category === ts.DiagnosticCategory.Error && d.file && path.resolve(d.file.fileName) === norm)
    .map((d) => ({ ...lineOf(d.file, d.start), message: ts.flattenDiagnosticMessageText(d.messageText, '\n') }));
  return { errors, status: 'done' };
}

function describeError(err: unknown): string {
  if (err instanceof Error) return `${err.name}: ${err.message}`;
  return `threw ${typeof err === 'string' ? JSON.stringify(err) : String(err)}`;
}

async function main(): Promise<void> {
  const args = JSON.parse(process.argv[2] ?? '{}') as CheckerArgs;
  const file = path.resolve(args.file);
  const source = fs.readFileSync(file, 'utf8');
  process.setSourceMapsEnabled(true);

  // Syntax: transpile reports the syntactic diagnostics with their positions.
  const sf = ts.createSourceFile(file, source, ts.ScriptTarget.ES2022, true);
  const out = ts.transpileModule(source, { fileName: file, compilerOptions: COMPILER_OPTIONS, reportDiagnostics: true });
  const syntaxErrors = (out.diagnostics ?? []).filter((d) => d.category === ts.DiagnosticCategory.Error)
    .map((d) => ({ ...lineOf(d.file ?? sf, d.start), message: ts.flattenDiagnosticMessageText(d.messageText, '\n') }));
  let typeErrors: SourceError[] = args.typeErrors ?? [];
  let typecheckStatus = 'not asked';
  if (!syntaxErrors.length && args.typecheck) {
    const r = typecheck(file);
    typeErrors = r.errors;
    typecheckStatus = r.status;
  }
  await send({ type: 'compiled', syntaxErrors, typeErrors, typecheck: typecheckStatus });
  if (syntaxErrors.length) return;

  await tf.setBackend('cpu');
  (tf.backend() as unknown as { firstUse?: boolean }).firstUse = false;
  installStudentHooks(tf);
  let mod: StudentModule;
  try {
    mod = { ...(require(file) as StudentModule) };
    const provided = path.join(path.dirname(file), 'provided.ts');
    if (fs.existsSync(provided)) mod.__provided_buildUNet = (require(provided) as StudentModule).buildUNet;
  } catch (err) {
    await send({ type: 'loadError', message: describeError(err), ...(lineFromStack(err, file) ? { line: lineFromStack(err, file)! } : {}) });
    return;
  }
  await send({ type: 'loaded' });

  const locs = findBlanks(source);
  for (const blank of args.blanks) {
    const loc = locs.find((l) => l.id === blank);
    const typeError = loc ? typeErrors.find((e) => e.line >= loc.line && e.line <= loc.endLine) : undefined;
    if (typeError) {
      await send({ type: 'case', blank, case: 'type check', status: 'error', message: `Type error at line ${typeError.line}: ${typeError.message}`, line: typeError.line, ms: 0 });
      continue;
    }
    for (const c of CHECKS[blank] ?? []) {
      await send({ type: 'begin', blank, case: c.name, ...(c.timeoutMs ? { timeoutMs: c.timeoutMs } : {}) });
      const t0 = Date.now();
      let msg: FromChecker;
      try {
        const r = await c.run(mod);
        msg = { type: 'case', blank, case: c.name, status: r.status, message: r.message, ...(r.expected !== undefined ? { expected: r.expected } : {}), ...(r.actual !== undefined ? { actual: r.actual } : {}), ms: Date.now() - t0 };
      } catch (err) {
        const line = lineFromStack(err, file);
        const base = { type: 'case' as const, blank, case: c.name, ms: Date.now() - t0, ...(line ? { line } : {}) };
        const e = err as { name?: string; blank?: string; hint?: string; expected?: string; actual?: string };
        if (err instanceof CheckFailure) {
          msg = { ...base, status: 'fail', message: err.message, ...(e.expected !== undefined ? { expected: e.expected } : {}), ...(e.actual !== undefined ? { actual: e.actual } : {}) };
        } else if (e?.name === 'NotImplementedError') {
          const other = e.blank && e.blank !== blank;
          msg = { ...base, status: 'not-implemented', message: other ? `This check needs ${e.blank}, which is not implemented yet.` : `Not implemented yet. Hint: ${e.hint ?? ''}` };
        } else {
          msg = { ...base, status: 'error', message: `Your code threw ${describeError(err)}` };
        }
      }
      await send(msg);
      tf.disposeVariables();
      if (msg.type === 'case' && msg.status === 'not-implemented') break;
    }
  }
  await send({ type: 'done' });
}

main().then(() => process.exit(0), async (err) => {
  await send({ type: 'loadError', message: `The checker failed: ${describeError(err)}` });
  process.exit(1);
});
