#!/usr/bin/env node
// The README's test command: compiles the TypeScript (and type-checks the webview), bundles, runs the
// suites and prints one closing line `N passed, N failed` counted across all of them.
//   node scripts/test.mjs                  every suite: unit, vscode, ui
//   node scripts/test.mjs unit [ui ...]    the named suites
//   --grep PATTERN (or HS_TEST_GREP)       unit/ui: the test files whose name contains PATTERN;
//                                          vscode: the tests whose title contains PATTERN
// unit and ui are node:test files (out/test/<suite>/*.test.js). vscode runs test/vscode/*.test.ts with
// Mocha inside the real extension host through @vscode/test-electron's runTests, whose "VS Code" is
// scripts/vscode-launcher.mjs (code-server + headless chromium); HS_VSCODE=download lets
// test-electron download a desktop VS Code instead (needs internet and a display).
// A suite that crashes or times out counts as a failure, never as 0 tests.
import { spawnSync, spawn } from 'node:child_process';
import { readdirSync, statSync, existsSync, mkdtempSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const args = process.argv.slice(2);
const gi = args.indexOf('--grep');
const grep = gi >= 0 ? args.splice(gi, 2)[1] : process.env.HS_TEST_GREP;
const SUITES = ['unit', 'vscode', 'ui'];
const wanted = args.length ? args : SUITES;
for (const s of wanted) {
  if (!SUITES.includes(s)) {
    console.error(`unknown suite '${s}'; the suites are ${SUITES.join(', ')}`);
    console.log('0 passed, 1 failed');
    process.exit(2);
  }
}

function step(cmd, argv) {
  const r = spawnSync(cmd, argv, { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) {
    console.error(`\n${cmd} ${argv.join(' ')} failed (exit ${r.status}).`);
    console.log('0 passed, 1 failed');
    process.exit(1);
  }
}

function testFiles(dir) {
  if (!existsSync(dir)) return [];
  const out = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...testFiles(p));
    else if (name.endsWith('.test.js') && (!grep || name.includes(grep))) out.push(p);
  }
  return out;
}

function runNodeTests(files, extraArgs = []) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--test', '--test-reporter=spec', ...extraArgs, ...files], {
      cwd: root, stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, HS_QUIET: '1' },
    });
    let text = '';
    child.stdout.on('data', (d) => { process.stdout.write(d); text += d; });
    child.on('close', (code) => {
      const num = (re) => { const m = text.match(re); return m ? Number(m[1]) : 0; };
      const passed = num(/^ℹ pass (\d+)/m);
      let failed = num(/^ℹ fail (\d+)/m) + num(/^ℹ cancelled (\d+)/m);
      if (code !== 0 && failed === 0) failed = 1; // the runner itself broke
      resolve({ passed, failed });
    });
  });
}

async function nodeSuite(suite) {
  const files = testFiles(join(root, 'out/test', suite));
  if (!files.length) {
    console.error(`no test files in out/test/${suite}${grep ? ` matching ${grep}` : ''}`);
    return { passed: 0, failed: 1 };
  }
  console.log(`\n== suite ${suite}: ${files.map((f) => relative(join(root, 'out/test'), f)).join(', ')}`);
  // The UI tests each start code-server and a browser: one file at a time on a small machine.
  return runNodeTests(files, suite === 'ui' ? ['--test-concurrency=1'] : []);
}

async function vscodeSuite() {
  console.log('\n== suite vscode: out/test/vscode/*.test.js in the extension host');
  const { runTests } = await import('@vscode/test-electron');
  const tmp = mkdtempSync(join(tmpdir(), 'hs-vscode-suite-'));
  const results = join(tmp, 'results.json');
  const workspace = join(tmp, 'workspace');
  let exitCode = 0;
  try {
    const download = process.env.HS_VSCODE === 'download';
    mkdirSync(workspace);
    exitCode = await runTests({
      ...(download ? {} : { vscodeExecutablePath: join(root, 'scripts/vscode-launcher.mjs') }),
      extensionDevelopmentPath: root,
      extensionTestsPath: join(root, 'out/test/vscode/index.js'),
      launchArgs: [workspace],
      extensionTestsEnv: { HS_VSCODE_RESULTS: results, ...(grep ? { HS_TEST_GREP: grep } : {}) },
    });
  } catch (e) {
    exitCode = typeof e?.code === 'number' ? e.code : 1;
    console.error(`vscode suite: ${e?.message ?? e}`);
  }
  let r = { passed: 0, failed: 0 };
  if (existsSync(results)) r = JSON.parse(readFileSync(results, 'utf8'));
  else console.error('vscode suite: no results file (the extension host did not run the tests)');
  rmSync(tmp, { recursive: true, force: true });
  if (exitCode !== 0 && r.failed === 0) r.failed = 1;
  if (r.passed + r.failed === 0) r.failed = 1;
  return { passed: r.passed, failed: r.failed };
}

step(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', '.']);
if (existsSync(join(root, 'webview/tsconfig.json'))) {
  step(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', 'webview/tsconfig.json', '--noEmit']);
}
step(process.execPath, [join(root, 'scripts/build.mjs')]);

let passed = 0;
let failed = 0;
for (const suite of wanted) {
  const r = suite === 'vscode' ? await vscodeSuite() : await nodeSuite(suite);
  console.log(`== suite ${suite}: ${r.passed} passed, ${r.failed} failed`);
  passed += r.passed;
  failed += r.failed;
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
