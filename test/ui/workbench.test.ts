/**
 * The product as a user drives it: code-server with the extension (linked into its extensions dir),
 * a fresh workspace, headless chromium. Open the dashboard from the palette; Train… through the quick
 * picks (toy:mixture, mlp, 600 steps); the dashboard webview shows the loss curve and the sample
 * points; the Runs view lists the run. Screenshots go to test-artifacts/ui/.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import type { Page, FrameLocator } from 'playwright-core';
import { runCommand, pickRow, acceptInput, webviewFrame } from '../support/browser';
import { openWorkbenchSession, type WorkbenchSession } from '../support/workbench';

let session: WorkbenchSession | undefined;
let page: Page;
let workspace: string;
const shot = (name: string): Promise<void> => session!.shot(name);

/** The number of painted (non-transparent) pixels of the first canvas under `selector` in the webview. */
interface CanvasLike { width: number; height: number; getContext(kind: '2d'): { getImageData(x: number, y: number, w: number, h: number): { data: ArrayLike<number> } } | null }
async function paintedPixels(frame: FrameLocator, selector: string): Promise<number> {
  return frame.locator(`${selector} canvas`).first().evaluate((el) => {
    const c = el as unknown as CanvasLike; // (the tests compile without the DOM library)
    const ctx = c.getContext('2d');
    if (!ctx || !c.width || !c.height) return 0;
    const d = ctx.getImageData(0, 0, c.width, c.height).data;
    let n = 0;
    for (let i = 3; i < d.length; i += 4) if (d[i]! > 0) n++;
    return n;
  });
}

before(async () => {
  session = await openWorkbenchSession({ workspacePrefix: 'hs-ui-ws-' });
  ({ page, workspace } = session);
});

after(() => session?.close());

test('the dashboard opens from the palette', { timeout: 120_000 }, async () => {
  await runCommand(page, 'High Score: Open Dashboard');
  await page.locator('.tabs-container .tab', { hasText: 'High Score Dashboard' }).first().waitFor({ timeout: 60_000 });
  const frame = webviewFrame(page);
  await frame.locator('#run-name').waitFor({ timeout: 60_000 });
  await shot('01-dashboard-empty');
});

test('Train… on toy:mixture with mlp for 600 steps: loss curve, sample points, the run in the Runs view', { timeout: 600_000 }, async () => {
  await runCommand(page, 'High Score: Train…');
  await pickRow(page, 'toy:mixture');
  await pickRow(page, 'mlp');
  await acceptInput(page, '600');
  await page.locator('.tabs-container .tab', { hasText: 'High Score Dashboard' }).first().waitFor({ timeout: 60_000 });
  const frame = webviewFrame(page);
  await frame.locator('#state-badge[data-state="running"], #state-badge[data-state="finished"]').waitFor({ timeout: 120_000 });
  await frame.locator('#lossChart canvas').first().waitFor({ timeout: 120_000 });
  await shot('02-training');
  await frame.locator('#state-badge[data-state="finished"]').waitFor({ timeout: 480_000 });
  assert.match(await frame.locator('#stat-step').innerText(), /600\s*\/\s*600/);
  const loss = Number((await frame.locator('#stat-loss').innerText()).replace(/[^0-9.eE+-]/g, ''));
  assert.ok(Number.isFinite(loss) && loss > 0, `the loss shown is ${loss}`);
  assert.ok((await paintedPixels(frame, '#lossChart')) > 500, 'the loss chart canvas is blank');
  // The captions count what the charts drew: 600 steps logged every 50 (toys) give 12 points.
  const drawn = /(\d+) logged points \((\d+) drawn\)/.exec(await frame.locator('#loss-caption').innerText());
  assert.ok(drawn && Number(drawn[2]) >= 10, `loss caption: ${drawn?.[0]}`);
  const scatter = frame.locator('#card-samples .scatter:not([hidden])');
  await scatter.locator('canvas').first().waitFor({ timeout: 120_000 });
  assert.ok((await paintedPixels(frame, '#card-samples .scatter')) > 500, 'the sample plot is blank');
  assert.match(await frame.locator('#card-samples').innerText(), /step 600 · [\d,]+ points/);
  await shot('03-finished');
  await frame.locator('#card-samples').scrollIntoViewIfNeeded();
  await shot('03b-finished-samples');

  // The Runs view (High Score in the activity bar) lists the run.
  await page.locator('.activitybar .action-item a[aria-label^="High Score"]').first().click();
  const row = page.locator('.pane-body .monaco-list-row', { hasText: 'toy' }).first();
  await row.waitFor({ timeout: 60_000 });
  await shot('04-runs-view');
  const runs = fs.readdirSync(path.join(workspace, '.highscore', 'runs'));
  assert.equal(runs.length, 1, `runs folder: ${runs.join(', ')}`);
  assert.match(await row.innerText(), new RegExp(runs[0]!.slice(0, 10).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
});
