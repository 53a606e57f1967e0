#!/usr/bin/env node
// A stand-in for the `code` executable that @vscode/test-electron's runTests({ vscodeExecutablePath })
// starts: it takes VS Code's test arguments (--extensionDevelopmentPath=, --extensionTestsPath=, a
// folder; the rest is ignored), starts code-server with the smoke-test driver (test/support/codeServer),
// loads the workbench in headless chromium with the extension-test payload, forwards the extension
// host's log to stdout and exits with the Mocha suite's exit code. Always cleans up.
// Needs tsc's output (out/test/support) and scripts/setup-vscode.sh. HS_VSCODE_TIMEOUT_S: default 1200.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createRequire } from 'node:module';
import { format } from 'node:util';

const require = createRequire(import.meta.url);
const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const { startCodeServer } = require(path.join(root, 'out/test/support/codeServer.js'));
const { openBrowser } = require(path.join(root, 'out/test/support/browser.js'));

const argv = process.argv.slice(2);
const opt = (name) => argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const devPath = opt('extensionDevelopmentPath');
const testsPath = opt('extensionTestsPath');
const given = argv.find((a) => !a.startsWith('-'));
const folder = given ?? fs.mkdtempSync(path.join(os.tmpdir(), 'hs-vscode-ws-'));
const timeoutS = Number(process.env.HS_VSCODE_TIMEOUT_S ?? 1200);
if (!devPath || !testsPath) {
  console.error('vscode-launcher: needs --extensionDevelopmentPath=DIR and --extensionTestsPath=FILE');
  process.exit(2);
}

let server;
let browser;
let code = 1;
let exitWith;
const exited = new Promise((resolve) => { exitWith = resolve; });
// Ctrl-C (test-electron forwards it) and kills still end code-server and the browser.
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => { console.error(`vscode-launcher: ${sig}`); exitWith(130); });
try {
  server = await startCodeServer({
    smokeTestDriver: true,
    onLine: (l) => { if (process.env.HS_VSCODE_VERBOSE) console.log(`[code-server] ${l}`); },
  });
  browser = await openBrowser();
  const { page } = browser;
  await page.exposeFunction('codeAutomationExit', (c) => exitWith(Number(c)));
  // The extension host's console (Mocha's reporter included), as console arguments with a format string.
  // The workbench's own chatter, and the offline lookups of marketplace and sign-in hosts.
  const noise = /^(\[[A-Za-z:-]+\] |Resolv(ing|ed) connection token|Creating a socket|Updating additional builtin|Timed out waiting for authentication|getaddrinfo ENOTFOUND)/;
  await page.exposeFunction('codeAutomationLog', (type, args) => {
    const text = format(...(Array.isArray(args) ? args : [args]));
    if (!noise.test(text) || process.env.HS_VSCODE_VERBOSE) (type === 'error' ? console.error : console.log)(text);
  });
  page.on('pageerror', (e) => console.error(`[workbench page error] ${e.message}`));
  page.on('crash', () => { console.error('vscode-launcher: the workbench page crashed'); exitWith(1); });
  const payload = [
    ['extensionDevelopmentPath', server.remoteUri(devPath)],
    ['extensionTestsPath', server.remoteUri(testsPath)],
    ['skipWelcome', 'true'],
  ];
  await page.goto(server.workbenchUrl(path.resolve(folder), payload));
  let timer;
  const timedOut = new Promise((resolve) => { timer = setTimeout(() => resolve('timeout'), timeoutS * 1000); });
  const r = await Promise.race([exited, timedOut]);
  clearTimeout(timer);
  if (r === 'timeout') {
    console.error(`vscode-launcher: the extension tests did not finish within ${timeoutS} s`);
    fs.mkdirSync(path.join(root, 'test-artifacts'), { recursive: true });
    await page.screenshot({ path: path.join(root, 'test-artifacts', 'vscode-timeout.png') }).catch(() => undefined);
  } else code = r;
} catch (e) {
  console.error(`vscode-launcher: ${e instanceof Error ? e.stack : e}`);
  if (server) console.error(server.log().slice(-4000));
} finally {
  await browser?.close();
  await server?.stop();
  if (!given) fs.rmSync(folder, { recursive: true, force: true });
}
process.exit(code);
