/**
 * The Mocha entry VS Code's extension host loads (`extensionTestsPath`): runs test/vscode/*.test.js
 * inside the real extension host and writes `{ passed, failed, tests }` to the file named by
 * HS_VSCODE_RESULTS (the host inherits code-server's environment), so scripts/test.mjs can count them.
 * HS_TEST_GREP filters by test title.
 */
import * as fs from 'fs';
import * as path from 'path';
// A plain require with the little of Mocha used here: no @types/mocha in the program (see tdd.ts).
interface MochaTest { fullTitle(): string; duration?: number }
interface MochaRunner {
  total: number;
  on(event: 'pass', fn: (t: MochaTest) => void): MochaRunner;
  on(event: 'fail', fn: (t: MochaTest, err: Error) => void): MochaRunner;
}
interface MochaInstance { grep(re: string): void; addFile(f: string): void; run(done: (failures: number) => void): MochaRunner }
const Mocha = require('mocha') as new (opts: { ui: string; color: boolean; timeout: number; reporter: string }) => MochaInstance;

interface TestRecord { title: string; state: 'passed' | 'failed'; ms?: number; error?: string }

export function run(): Promise<void> {
  const mocha = new Mocha({ ui: 'tdd', color: false, timeout: 300_000, reporter: 'spec' });
  if (process.env.HS_TEST_GREP) mocha.grep(process.env.HS_TEST_GREP);
  for (const f of fs.readdirSync(__dirname).sort()) {
    if (f.endsWith('.test.js')) mocha.addFile(path.join(__dirname, f));
  }
  const tests: TestRecord[] = [];
  let total = 0;
  const write = (): void => {
    const out = process.env.HS_VSCODE_RESULTS;
    if (!out) return;
    const passed = tests.filter((t) => t.state === 'passed').length;
    // A failing hook skips the tests after it: those count as failed too, never as nothing.
    const failed = Math.max(tests.length - passed, total - passed);
    fs.writeFileSync(out, JSON.stringify({ passed, failed, tests }, null, 2));
  };
  return new Promise((resolve, reject) => {
    try {
      const runner = mocha.run((failures) => {
        write();
        if (failures > 0) reject(new Error(`${failures} test(s) failed`));
        else resolve();
      });
      total = runner.total;
      runner.on('pass', (t) => tests.push({ title: t.fullTitle(), state: 'passed', ms: t.duration ?? 0 }));
      runner.on('fail', (t, err: Error) => tests.push({ title: t.fullTitle(), state: 'failed', error: String(err?.stack ?? err) }));
    } catch (e) {
      tests.push({ title: 'loading the test files', state: 'failed', error: String((e as Error).stack ?? e) });
      write();
      reject(e);
    }
  });
}
