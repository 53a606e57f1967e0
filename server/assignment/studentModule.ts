/**
 * Loading a student's TypeScript module into this process: `.ts` files compile on require
 * (transpiled per file, with inline source maps so stacks show the student's lines) and
 * `@tensorflow/tfjs` resolves to the TF.js instance given (the caller's own, already on its backend).
 * Used by the checker process (checkerMain.ts) and, as the bundle dist/studentLoader.js, by the
 * training worker when a run uses the student's implementation. The worker loads that bundle only
 * then: TypeScript is large.
 */
import * as fs from 'fs';
import * as path from 'path';
import Module from 'module';
import ts from 'typescript';

/** TypeScript itself, for the checker: the checker's bundle takes it from this one (dist/studentLoader.js). */
export { ts };

export const COMPILER_OPTIONS: ts.CompilerOptions = {
  module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true, inlineSourceMap: true, inlineSources: false,
};

export type StudentModule = Record<string, unknown>;

let hooked: unknown;

/** Installs the hooks once: `.ts` compiles on require, TF.js is `tf`. */
export function installStudentHooks(tf: unknown): void {
  if (hooked) return;
  hooked = tf;
  process.setSourceMapsEnabled(true);
  const M = Module as unknown as {
    _extensions: Record<string, (m: { _compile(code: string, f: string): void }, f: string) => void>;
    _load: (request: string, parent: unknown, isMain: boolean) => unknown;
  };
  M._extensions['.ts'] = (m, filename) => {
    const out = ts.transpileModule(fs.readFileSync(filename, 'utf8'), { fileName: filename, compilerOptions: COMPILER_OPTIONS });
    m._compile(out.outputText, filename);
  };
  const load = M._load;
  M._load = function (request: string, parent: unknown, isMain: boolean) {
    if (request === '@tensorflow/tfjs' || request === '@tensorflow/tfjs-core' || request === '@tensorflow/tfjs-layers') return hooked;
    return load.call(this, request, parent, isMain);
  };
}

/** The student module and, as `__provided`, the provided module beside it (its sampler and U-Net). */
export function loadStudentModule(file: string, tf: unknown): { student: StudentModule; provided: StudentModule | undefined } {
  installStudentHooks(tf);
  const providedFile = path.join(path.dirname(file), 'provided.ts');
  // A long-lived thread (the preview worker) loads the files again after the student edits them.
  for (const f of [file, providedFile]) delete require.cache[f];
  const student = { ...(require(file) as StudentModule) };
  const provided = fs.existsSync(providedFile) ? (require(providedFile) as StudentModule) : undefined;
  return { student, provided };
}
