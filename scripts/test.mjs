#!/usr/bin/env node
// The README's test command: compiles the TypeScript, runs every suite, and prints one closing line
// `N passed, N failed` counted across all suites. `node scripts/test.mjs unit` runs one suite;
// `--grep PATTERN` (or HS_TEST_GREP) runs only the test files whose name contains PATTERN.
import { spawnSync, spawn } from 'node:child_process';
import { readdirSync, statSync, existsSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const args = process.argv.slice(2);
const gi = args.indexOf('--grep');
const grep = gi >= 0 ? args.splice(gi, 2)[1] : process.env.HS_TEST_GREP;
const wanted = args.length ? args : ['unit'];

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

function runNodeTests(files) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--test', '--test-reporter=spec', ...files], {
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

step(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', '.']);
step(process.execPath, [join(root, 'scripts/build.mjs')]);

let passed = 0;
let failed = 0;
for (const suite of wanted) {
  const files = testFiles(join(root, 'out/test', suite));
  if (!files.length) {
    console.error(`no test files in out/test/${suite}${grep ? ` matching ${grep}` : ''}`);
    failed += 1;
    continue;
  }
  console.log(`\n== suite ${suite}: ${files.map((f) => relative(join(root, 'out/test'), f)).join(', ')}`);
  const r = await runNodeTests(files);
  console.log(`== suite ${suite}: ${r.passed} passed, ${r.failed} failed`);
  passed += r.passed;
  failed += r.failed;
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
