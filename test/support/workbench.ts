/**
 * One UI test file's VS Code: code-server with the extension linked from this repository, a fresh
 * workspace folder, headless chromium on the workbench, and screenshots into test-artifacts/ui/.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { Page } from 'playwright-core';
import { REPO, startCodeServer, extensionFolderName, type CodeServer } from './codeServer';
import { openBrowser, openWorkbench, type Browser } from './browser';

export const SHOTS = path.join(REPO, 'test-artifacts', 'ui');

export interface WorkbenchSession {
  readonly server: CodeServer;
  readonly browser: Browser;
  readonly page: Page;
  readonly workspace: string;
  /** Saves test-artifacts/ui/<shotPrefix><name>.png. */
  shot(name: string): Promise<void>;
  /** Saves a last screenshot (`zz-last`), closes the browser and code-server, removes the workspace. */
  close(): Promise<void>;
}

export interface WorkbenchOptions {
  /** The temporary workspace folder's name prefix. */
  workspacePrefix: string;
  /** Prepended to every screenshot's name. */
  shotPrefix?: string;
  viewport?: { width: number; height: number };
  /** Runs once code-server has its folders, before the workbench loads (user settings, keybindings). */
  prepare?: (server: CodeServer) => void;
}

export async function openWorkbenchSession(opts: WorkbenchOptions): Promise<WorkbenchSession> {
  const workspace = fs.mkdtempSync(path.join(os.tmpdir(), opts.workspacePrefix));
  let server: CodeServer | undefined;
  let browser: Browser | undefined;
  try {
    server = await startCodeServer({ link: { [extensionFolderName()]: REPO } });
    opts.prepare?.(server);
    browser = await openBrowser(opts.viewport);
    await openWorkbench(browser.page, server.workbenchUrl(workspace));
  } catch (e) {
    await browser?.close();
    await server?.stop();
    fs.rmSync(workspace, { recursive: true, force: true });
    throw e;
  }
  const page = browser.page;
  const shot = async (name: string): Promise<void> => {
    fs.mkdirSync(SHOTS, { recursive: true });
    await page.screenshot({ path: path.join(SHOTS, `${opts.shotPrefix ?? ''}${name}.png`) });
  };
  const [srv, br] = [server, browser];
  return {
    server: srv, browser: br, page, workspace, shot,
    async close() {
      await shot('zz-last').catch(() => undefined);
      await br.close();
      await srv.stop();
      fs.rmSync(workspace, { recursive: true, force: true });
    },
  };
}
