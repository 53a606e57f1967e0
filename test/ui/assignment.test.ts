/**
 * The assignment as a student sees it, in code-server with headless chromium: Create Assignment
 * Workspace from the palette; the CodeLens above each blank ("not started · Check"); Check Assignment;
 * the Test Explorer with every blank failing as not implemented and the "k/n blanks pass" status bar
 * item. Screenshots go to test-artifacts/ui/ (assignment-*.png).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { Page } from 'playwright-core';
import { REPO, startCodeServer, extensionFolderName, type CodeServer } from '../support/codeServer';
import { openBrowser, openWorkbench, runCommand, acceptInput, type Browser } from '../support/browser';

const SHOTS = path.join(REPO, 'test-artifacts', 'ui');
let server: CodeServer;
let browser: Browser;
let page: Page;
let workspace: string;

async function shot(name: string): Promise<void> {
  fs.mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SHOTS, `${name}.png`) });
}

before(async () => {
  workspace = fs.mkdtempSync(path.join(os.tmpdir(), 'hs-ui-asg-'));
  server = await startCodeServer({ link: { [extensionFolderName()]: REPO } });
  browser = await openBrowser();
  page = browser.page;
  await openWorkbench(page, server.workbenchUrl(workspace));
});

after(async () => {
  await browser?.close();
  await server?.stop();
  if (workspace) fs.rmSync(workspace, { recursive: true, force: true });
});

test('Create Assignment Workspace, a CodeLens per blank, and the Test Explorer after Check Assignment', { timeout: 300_000 }, async () => {
  await runCommand(page, 'High Score: Create Assignment Workspace');
  await page.locator('.quick-input-widget .quick-input-title', { hasText: 'Create Assignment Workspace' }).waitFor({ timeout: 30_000 });
  await acceptInput(page); // the default folder name, score-assignment
  const module = path.join(workspace, 'score-assignment', 'scoreModel.ts');
  await page.locator('.tabs-container .tab', { hasText: 'scoreModel.ts' }).first().waitFor({ timeout: 60_000 });
  assert.ok(fs.existsSync(module), 'the student module was written');
  // The backend's CodeLens above the blanks.
  const lens = page.locator('.contentWidgets .codelens-decoration, .codelens-decoration', { hasText: 'not started' }).first();
  await lens.waitFor({ timeout: 60_000 });
  assert.match(await lens.innerText(), /not started.*Check/s);
  await shot('assignment-1-codelens');

  await runCommand(page, 'High Score: Check Assignment');
  // The status bar counts the blanks: none pass on the untouched template.
  await page.locator('.statusbar-item', { hasText: '0/13 blanks pass' }).first().waitFor({ timeout: 180_000 });
  await runCommand(page, 'Testing: Focus on Test Explorer View');
  const row = page.locator('.test-explorer .monaco-list-row', { hasText: 'scoreModel.ts' }).first();
  await row.waitFor({ timeout: 30_000 });
  await row.click();
  await page.keyboard.press('ArrowRight'); // expand the module: one row per blank
  // Each blank's row says how its check ended: on the untouched template, not implemented.
  const done = page.locator('.test-explorer .monaco-list-row', { hasText: 'not implemented' });
  await page.waitForFunction(() => true);
  for (let i = 0; i < 600 && (await done.count()) < 12; i++) await page.waitForTimeout(250);
  assert.ok((await done.count()) >= 12, `every blank reports not implemented (${await done.count()} rows)`);
  await shot('assignment-2-test-explorer');
  await runCommand(page, 'View: Focus Problems (Errors, Warnings, Infos)');
  await page.waitForTimeout(1500);
  await shot('assignment-3-problems');
});
