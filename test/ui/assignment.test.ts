/**
 * The assignment as a student sees it, in code-server with headless chromium: Create Assignment
 * Workspace from the palette; the CodeLens above each blank ("not started · Check"); Check Assignment;
 * the Test Explorer with every blank failing as not implemented and the "k/n blanks pass" status bar
 * item. Screenshots go to test-artifacts/ui/ (assignment-*.png).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import type { Page } from 'playwright-core';
import { runCommand, acceptInput } from '../support/browser';
import { openWorkbenchSession, type WorkbenchSession } from '../support/workbench';

let session: WorkbenchSession | undefined;
let page: Page;
let workspace: string;
const shot = (name: string): Promise<void> => session!.shot(name);

before(async () => {
  session = await openWorkbenchSession({ workspacePrefix: 'hs-ui-asg-', shotPrefix: 'assignment-' });
  ({ page, workspace } = session);
});

after(() => session?.close());

test('Create Assignment Workspace, a CodeLens per blank, and the Test Explorer after Check Assignment', { timeout: 300_000 }, async () => {
  await runCommand(page, 'High Score: Create Assignment Workspace');
  await page.locator('.quick-input-widget .quick-input-title', { hasText: 'Create Assignment Workspace' }).waitFor({ timeout: 30_000 });
  await acceptInput(page); // the default folder name, score-assignment
  const module = path.join(workspace, 'score-assignment', 'scoreModel.ts');
  await page.locator('.tabs-container .tab', { hasText: 'scoreModel.ts' }).first().waitFor({ timeout: 60_000 });
  assert.ok(fs.existsSync(module), 'the student module was written');
  // The guide opens beside it (the markdown preview, which may come a few seconds later).
  await page.locator('.tabs-container .tab', { hasText: 'Preview GUIDE.md' }).first().waitFor({ timeout: 60_000 });
  // The backend's CodeLens above the blanks.
  const lens = page.locator('.contentWidgets .codelens-decoration, .codelens-decoration', { hasText: 'not started' }).first();
  await lens.waitFor({ timeout: 60_000 });
  assert.match(await lens.innerText(), /not started.*Check/s);
  await shot('1-codelens');

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
  await shot('2-test-explorer');
  await runCommand(page, 'View: Focus Problems (Errors, Warnings, Infos)');
  await page.waitForTimeout(1500);
  await shot('3-problems');
});
