/** Shared test helpers: temp folders, the CLI as a child process, a Python with numpy/scipy. */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { spawn, spawnSync } from 'child_process';

export const REPO = path.resolve(__dirname, '..', '..', '..');

export function tmpDir(prefix = 'hs-test-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `highscore ARGS` (the bundled CLI, as `npx highscore` does) and collects its output. */
export function runCli(args: string[], opts: { timeoutMs?: number; env?: Record<string, string> } = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(REPO, 'bin', 'highscore.js'), ...args], {
      cwd: REPO, env: { ...process.env, ...opts.env }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`highscore ${args.join(' ')} timed out\n${stderr}`)); }, opts.timeoutMs ?? 600_000);
    child.on('close', (code) => { clearTimeout(timer); resolve({ code, stdout, stderr }); });
  });
}

/** The last JSON line of a --json output. */
export function lastJson<T = Record<string, unknown>>(stdout: string): T {
  const lines = stdout.trim().split('\n').filter((l) => l.startsWith('{'));
  if (!lines.length) throw new Error(`no JSON in output:\n${stdout}`);
  return JSON.parse(lines[lines.length - 1]!) as T;
}

/** A python3 that has numpy and scipy (the machine's, or Debian's), or undefined. */
export function pythonWithScipy(): string | undefined {
  for (const py of ['python3', '/usr/bin/python3']) {
    const r = spawnSync(py, ['-c', 'import numpy, scipy'], { stdio: 'ignore' });
    if (r.status === 0) return py;
  }
  return undefined;
}
