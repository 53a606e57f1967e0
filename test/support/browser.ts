/**
 * Headless Debian chromium driven by playwright-core (never a downloaded browser), and the few
 * workbench gestures the UI tests and the test launcher need.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { chromium, type BrowserContext, type Page, type FrameLocator, type Locator } from 'playwright-core';

export const CHROMIUM = process.env.HS_CHROMIUM ?? '/usr/bin/chromium';
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync'];

export interface Browser {
  readonly context: BrowserContext;
  readonly page: Page;
  close(): Promise<void>;
}

/** Chromium with a fresh profile folder (removed on close) and one page. */
export async function openBrowser(viewport = { width: 1400, height: 900 }): Promise<Browser> {
  if (!fs.existsSync(CHROMIUM)) throw new Error(`no chromium at ${CHROMIUM}; install Debian's chromium (scripts/setup.sh does)`);
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'hs-chromium-'));
  const context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: ARGS, viewport });
  const page = context.pages()[0] ?? (await context.newPage());
  return {
    context, page,
    async close() {
      await context.close().catch(() => undefined);
      fs.rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** Loads the workbench and waits for it to be drawn. */
export async function openWorkbench(page: Page, url: string, timeoutMs = 60_000): Promise<void> {
  await page.goto(url);
  await page.locator('.monaco-workbench').waitFor({ timeout: timeoutMs });
}

/** The open quick input's row labelled exactly `label` (its aria-label, which may add ", description"). */
function row(page: Page, label: string, state = ''): Locator {
  const q = JSON.stringify(label);
  const q2 = JSON.stringify(`${label}, `);
  const list = '.quick-input-widget .quick-input-list .monaco-list-row';
  return page.locator(`${list}${state}[aria-label=${q}], ${list}${state}[aria-label^=${q2}]`).first();
}

/**
 * Types `text` into the open quick input and accepts the row labelled `label` once it is the focused
 * one: Enter, not a click (the list re-renders while results arrive, so a click can wait forever for
 * a stable row), and never before that row has focus (Enter on the first row that shows up can run a
 * stale command). The query is typed again until the row shows up, within `timeoutMs`.
 */
async function typeAndAccept(page: Page, text: string, label: string, timeoutMs: number, reopen?: () => Promise<void>): Promise<void> {
  const input = page.locator('.quick-input-widget input');
  const end = Date.now() + timeoutMs;
  for (;;) {
    // A window that takes the focus (a preview opening late, a notification) closes the quick input.
    if (reopen && !(await input.isVisible())) await reopen();
    try {
      const slice = Math.min(5000, Math.max(1, end - Date.now()));
      await input.waitFor({ state: 'visible', timeout: slice });
      await input.fill(text.startsWith('>') ? '>' : '', { timeout: slice });
      await input.fill(text, { timeout: slice });
      await row(page, label, '.focused').waitFor({ timeout: slice });
      break;
    } catch (e) {
      if (Date.now() >= end) throw e;
    }
  }
  await input.press('Enter');
}

/**
 * Runs a palette command by its full title ("High Score: Train…"). The palette lists an extension's
 * commands only once the extension host has scanned it, hence the retyping in typeAndAccept.
 */
export async function runCommand(page: Page, title: string, timeoutMs = 60_000): Promise<void> {
  await openPalette(page);
  await typeAndAccept(page, `>${title}`, title, timeoutMs, () => openPalette(page));
}

/**
 * Opens the command palette with F1. A webview (the markdown preview, our panels) that holds the
 * focus can keep the key to itself, so the focus is taken out of any iframe first and F1 is pressed
 * again until the palette shows.
 */
export async function openPalette(page: Page, attempts = 5): Promise<void> {
  const input = page.locator('.quick-input-widget input');
  for (let i = 0; !(await input.isVisible()); i++) {
    if (i === attempts) throw new Error(`the command palette did not open after ${attempts} presses of F1`);
    await page.evaluate("document.activeElement?.tagName === 'IFRAME' && document.activeElement.blur()");
    await page.keyboard.press('F1');
    await input.waitFor({ state: 'visible', timeout: 3000 }).catch(() => undefined);
  }
}

/** Picks the row labelled `label` in the open quick pick (typing the label filters the list to it). */
export async function pickRow(page: Page, label: string, timeoutMs = 60_000): Promise<void> {
  await row(page, label).waitFor({ timeout: timeoutMs });
  await typeAndAccept(page, label, label, timeoutMs);
}

/** Types into the open input box and accepts it (empty: accept the default). */
export async function acceptInput(page: Page, text = ''): Promise<void> {
  const input = page.locator('.quick-input-widget input');
  await input.waitFor({ state: 'visible' });
  if (text) await input.fill(text);
  await input.press('Enter');
}

/** The content frame of the (first visible) webview. */
export function webviewFrame(page: Page): FrameLocator {
  return page.frameLocator('iframe.webview.ready').frameLocator('#active-frame');
}
