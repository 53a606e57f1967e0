/**
 * The VSIX: `npm run package`'s command makes a lean package (no sources, tests or node_modules;
 * under 8 MB), and installed into code-server with --install-extension, far from the repository's
 * node_modules, it works: the noise schedule of MNIST (the packed digits) and a short toy training
 * (the bundled TF.js wasm backend) from the palette.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { spawnSync } from 'child_process';
import type { Page } from 'playwright-core';
import { REPO, startCodeServer, type CodeServer } from '../support/codeServer';
import { openBrowser, openWorkbench, runCommand, pickRow, acceptInput, webviewFrame, type Browser } from '../support/browser';

// About 7 MB today: TF.js is in each of the four Node bundles that train or sample (worker, gradWorker,
// previewWorker; the CLI's and the bench's are left out) and the assignment checker carries the TypeScript compiler.
const MAX_BYTES = 8 * 1024 * 1024;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'hs-vsix-'));
const vsix = path.join(tmp, 'high-score.vsix');
let server: CodeServer | undefined;
let browser: Browser | undefined;
let page: Page;

/** The VSIX's file list (a zip; `unzip -Z1` lists it). */
function entries(file: string): string[] {
  const r = spawnSync('unzip', ['-Z1', file], { encoding: 'utf8' });
  assert.equal(r.status, 0, `unzip -Z1 failed: ${r.stderr}`);
  return r.stdout.split('\n').filter(Boolean);
}

before(() => {
  // What `npm run package` runs after the build (scripts/test.mjs has built dist/ already).
  const vsce = path.join(REPO, 'node_modules', '@vscode', 'vsce', 'vsce');
  const r = spawnSync(process.execPath, [vsce, 'package', '--no-dependencies', '--allow-missing-repository', '--no-rewrite-relative-links', '-o', vsix],
    { cwd: REPO, encoding: 'utf8', timeout: 180_000 });
  assert.equal(r.status, 0, `vsce package failed:\n${r.stdout}\n${r.stderr}`);
});

after(async () => {
  await browser?.close();
  await server?.stop();
  fs.rmSync(tmp, { recursive: true, force: true });
});

test('the VSIX is lean: bundles, wasm and packed data only, under 8 MB', () => {
  const size = fs.statSync(vsix).size;
  assert.ok(size < MAX_BYTES, `the VSIX is ${(size / 1e6).toFixed(2)} MB`);
  const files = entries(vsix);
  // TypeScript belongs only where students get it: the assignment's template (and the reference the
  // extension's own tests use) and TF.js's type declarations for their editor.
  const bad = files.map((f) => f.replace(/^extension\//, '')).filter((f) => !/^(assignment\/(template|reference)|dist\/types)\//.test(f))
    .filter((f) => /\.ts$|\.map$|(^|\/)(test|node_modules|src|server|protocol|scripts|\.tools)\//.test(f));
  assert.deepEqual(bad, [], `files that do not belong in the VSIX: ${bad.join(', ')}`);
  for (const f of ['package.json', 'dist/extension.js', 'dist/server.js', 'dist/worker.js', 'dist/tfjs-backend-wasm-simd.wasm',
    'dist/data/mnist-images-idx3-ubyte.gz', 'dist/data/mnist-labels-idx1-ubyte.gz', 'dist/webview/dashboard.js',
    'dist/assignmentChecker.js', 'dist/studentLoader.js', 'dist/types/@tensorflow/tfjs/index.d.ts', 'assignment/template/scoreModel.ts']) {
    assert.ok(files.includes(`extension/${f}`), `the VSIX lacks ${f}`);
  }
});

test('installed with --install-extension, it shows the MNIST schedule and trains a toy', { timeout: 600_000 }, async () => {
  const workspace = path.join(tmp, 'workspace');
  fs.mkdirSync(workspace);
  server = await startCodeServer({ install: [vsix], dir: path.join(tmp, 'code-server') });
  const installed = fs.readdirSync(server.extensionsDir).filter((n) => n.startsWith('highscore.high-score-'));
  assert.equal(installed.length, 1, `extensions dir: ${fs.readdirSync(server.extensionsDir).join(', ')}`);
  assert.ok(!fs.lstatSync(path.join(server.extensionsDir, installed[0]!)).isSymbolicLink());
  browser = await openBrowser();
  page = browser.page;
  await openWorkbench(page, server.workbenchUrl(workspace));

  await runCommand(page, 'High Score: Show Noise Schedule…');
  await pickRow(page, 'mnist');
  const frame = webviewFrame(page);
  await frame.locator('#sigmasChart canvas').first().waitFor({ timeout: 180_000 });
  assert.match(await frame.locator('#run-name').innerText(), /MNIST/i);

  await runCommand(page, 'High Score: Train…');
  await pickRow(page, 'toy:mixture');
  await pickRow(page, 'mlp');
  await acceptInput(page, '100');
  await frame.locator('#state-badge[data-state="finished"]').waitFor({ timeout: 480_000 });
  assert.match(await frame.locator('#stat-step').innerText(), /100\s*\/\s*100/);
  fs.mkdirSync(path.join(REPO, 'test-artifacts', 'ui'), { recursive: true });
  await page.screenshot({ path: path.join(REPO, 'test-artifacts', 'ui', 'vsix-installed.png') });

  // The assignment from the installed package: the template, and its checker (which loads TypeScript
  // from the loader bundle beside it) checks the untouched blanks.
  await runCommand(page, 'High Score: Create Assignment Workspace');
  await page.locator('.quick-input-widget .quick-input-title', { hasText: 'Create Assignment Workspace' }).waitFor({ timeout: 30_000 });
  await acceptInput(page);
  await page.locator('.tabs-container .tab', { hasText: 'scoreModel.ts' }).first().waitFor({ timeout: 60_000 });
  await runCommand(page, 'High Score: Check Assignment');
  await page.locator('.activitybar a[aria-label^="Testing"]').first().click();
  const moduleRow = page.locator('.test-explorer .monaco-list-row', { hasText: 'scoreModel.ts' }).first();
  await moduleRow.waitFor({ timeout: 60_000 });
  await moduleRow.click();
  await page.keyboard.press('ArrowRight'); // expand: one row per blank
  const notImplemented = page.locator('.test-explorer .monaco-list-row', { hasText: 'not implemented' });
  await notImplemented.first().waitFor({ timeout: 180_000 });
  await page.screenshot({ path: path.join(REPO, 'test-artifacts', 'ui', 'vsix-assignment.png') });
});
