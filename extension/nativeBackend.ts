/**
 * "High Score: Install native backend" (command `highscore.installNativeBackend`): installs
 * @tensorflow/tfjs-node (CPU), @tensorflow/tfjs-node-gpu (NVIDIA, CUDA 11.2 + cuDNN 8.1) or WebGPU
 * (Dawn for Node with @tensorflow/tfjs-backend-webgpu: any GPU driver, experimental) with npm into
 * the extension's global storage folder, streaming npm's output to the log, with progress and
 * Cancel. The backend finds packages there through HIGHSCORE_NATIVE_PATH (server/engine/backend.ts);
 * after a restart of the backend, `auto` picks native TensorFlow. A failed install is explained in
 * plain words, leaves nothing half-installed behind, and the WebAssembly backend keeps working.
 *
 * `vscode` is required inside the command only, so the pure parts (arguments, failure explanations)
 * load in plain Node for the unit tests.
 */
import type * as vscode from 'vscode';
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';

export const INSTALL_NATIVE_COMMAND = 'highscore.installNativeBackend';
export const INSTALL_NATIVE_TITLE = 'Install Native Backend';
/** The tfjs version the bundles carry: the native package must match it. */
export const NATIVE_TFJS_VERSION = '4.22.0';
export const RESTART_COMMAND = 'highscore.restartServer';

export type NativePackage = '@tensorflow/tfjs-node' | '@tensorflow/tfjs-node-gpu' | 'webgpu';
/** Dawn for Node: the version whose prebuilt binaries the engine was checked with. */
export const DAWN_VERSION = '0.6.2';

/** The npm packages a choice installs (WebGPU needs Dawn and TF.js's WebGPU backend). */
export function npmPackages(pkg: NativePackage): { name: string; version: string }[] {
  return pkg === 'webgpu'
    ? [{ name: 'webgpu', version: DAWN_VERSION }, { name: '@tensorflow/tfjs-backend-webgpu', version: NATIVE_TFJS_VERSION }]
    : [{ name: pkg, version: NATIVE_TFJS_VERSION }];
}

/** The same as npm specs: name@version. */
const npmSpecs = (pkg: NativePackage): string[] => npmPackages(pkg).map((p) => `${p.name}@${p.version}`);

/** Where the packages go (and what the backend's HIGHSCORE_NATIVE_PATH must name): the global storage folder. */
export function nativeBackendPath(context: Pick<vscode.ExtensionContext, 'globalStorageUri'>): string {
  return context.globalStorageUri.fsPath;
}

export function npmCommand(platform = process.platform): string {
  return platform === 'win32' ? 'npm.cmd' : 'npm';
}

export function npmInstallArgs(pkg: NativePackage, prefix: string): string[] {
  return ['install', ...npmSpecs(pkg), '--prefix', prefix, '--no-audit', '--no-fund', '--no-update-notifier'];
}

export interface InstallOutcome {
  ok: boolean;
  cancelled: boolean;
  code: number | null;
  /** npm could not be started at all (spawn error). */
  spawnError?: string;
  /** npm's output (stdout and stderr), for the explanation. */
  output: string;
}

/** What went wrong, in plain words, from npm's output. */
export function explainInstallFailure(pkg: NativePackage, o: InstallOutcome): string {
  const out = o.output;
  if (o.cancelled) return `The installation of ${pkg} was cancelled.`;
  if (o.spawnError) {
    return `npm could not be started (${o.spawnError}). Installing a native backend needs Node.js and npm on the PATH of VS Code; ` +
      'install Node.js from nodejs.org, restart VS Code, and try again.';
  }
  if (/ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ECONNRESET|ETIMEDOUT|getaddrinfo|network (is )?unreachable|socket hang up|request to https?:\/\/\S+ failed/i.test(out)) {
    if (pkg === 'webgpu') return 'No network connection: webgpu (Dawn for Node, about 30 MB with its prebuilt binaries) and @tensorflow/tfjs-backend-webgpu come from the npm registry. Connect to the internet (or set npm\'s proxy) and try again.';
    return `No network connection: ${pkg} is downloaded from the npm registry, and its install script then downloads ` +
      "libtensorflow (about 100-400 MB) from Google's storage (storage.googleapis.com). Connect to the internet (or set npm's proxy) and try again.";
  }
  if (/storage\.googleapis\.com|libtensorflow/i.test(out) && /403|404|Forbidden|Not Found|failed|error/i.test(out)) {
    return `${pkg} was downloaded, but its install script could not fetch libtensorflow from Google's storage (storage.googleapis.com). ` +
      'A firewall or proxy may block it; allow that host, or install from a machine that can reach it.';
  }
  if (/ENOSPC/.test(out)) return `The disk is full: ${pkg} with libtensorflow needs several hundred MB. Free some space and try again.`;
  if (/EACCES|EPERM/.test(out)) return `npm was not allowed to write the install folder (permission denied). Check the permissions of VS Code's global storage folder.`;
  if (/gyp ERR|node-pre-gyp|node-gyp|make: \*\*\*|g\+\+|cl\.exe/i.test(out)) {
    return `${pkg} had no prebuilt binding for this system, and building one failed (it needs Python 3, make and a C++ compiler). ` +
      `Native TensorFlow supports 64-bit Linux, macOS (x64) and Windows${pkg.endsWith('-gpu') ? '; the GPU package needs Linux or Windows with CUDA 11.2 and cuDNN 8.1' : ''}.`;
  }
  if (/ETARGET|E404|notarget/i.test(out)) return `npm could not find ${npmSpecs(pkg).join(' or ')} in its registry. Check npm's registry setting.`;
  return `npm exited with code ${o.code ?? '?'} while installing ${pkg}. The log (High Score: Show Log) has npm's output.`;
}

/** Removes a half-installed package, so the backend does not keep reporting a broken install. */
export function removePartialInstall(prefix: string, pkg: NativePackage): void {
  for (const p of npmPackages(pkg)) fs.rmSync(path.join(prefix, 'node_modules', ...p.name.split('/')), { recursive: true, force: true });
}

/** Runs npm with its output streamed line by line; resolves when it exits, is cancelled or fails to start. */
export function runNpmInstall(
  pkg: NativePackage, prefix: string, onLine: (line: string) => void, cancel?: { onCancellationRequested(cb: () => void): unknown },
  npm = npmCommand(),
): Promise<InstallOutcome> {
  return new Promise((resolve) => {
    let output = '';
    let cancelled = false;
    let settled = false;
    const done = (o: Omit<InstallOutcome, 'output'>) => {
      if (settled) return;
      settled = true;
      resolve({ ...o, output });
    };
    fs.mkdirSync(prefix, { recursive: true });
    const child = spawn(npm, npmInstallArgs(pkg, prefix), {
      cwd: prefix, shell: process.platform === 'win32', stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, npm_config_progress: 'false', npm_config_loglevel: 'http' },
    });
    let partial = '';
    const feed = (d: Buffer) => {
      const text = d.toString();
      output += text;
      const lines = (partial + text).split(/\r?\n/);
      partial = lines.pop() ?? '';
      for (const l of lines) if (l.trim()) onLine(l);
    };
    child.stdout!.on('data', feed);
    child.stderr!.on('data', feed);
    cancel?.onCancellationRequested(() => {
      cancelled = true;
      child.kill();
    });
    child.on('error', (err) => done({ ok: false, cancelled, code: null, spawnError: err.message }));
    child.on('close', (code) => {
      if (partial.trim()) onLine(partial);
      done({ ok: code === 0 && !cancelled, cancelled, code });
    });
  });
}

const GPU_DETAIL = 'NVIDIA GPU: needs CUDA 11.2 and cuDNN 8.1 installed (Linux or Windows, x64). Downloads about 400 MB.';
const CPU_DETAIL = 'Native TensorFlow on the CPU (multi-threaded, AVX). Linux, macOS (x64) or Windows. Downloads about 100 MB.';
const WEBGPU_DETAIL = 'Experimental: TF.js on WebGPU through Dawn, on any GPU with a Vulkan (Linux), Metal (macOS) or D3D12 (Windows) driver; no CUDA. ' +
  'Used when the highscore.backend setting is webgpu. Downloads about 30 MB.';

/**
 * Registers the command. `output` is the extension's log channel. On success the user is offered a
 * backend restart (`highscore.restartServer`); the running backend is left alone until then.
 */
export function registerNativeBackendCommand(context: vscode.ExtensionContext, output: vscode.LogOutputChannel): vscode.Disposable {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const vs = require('vscode') as typeof vscode;
  return vs.commands.registerCommand(INSTALL_NATIVE_COMMAND, async () => {
    const items: (vscode.QuickPickItem & { pkg: NativePackage })[] = [
      { label: '@tensorflow/tfjs-node', description: 'CPU', detail: CPU_DETAIL, pkg: '@tensorflow/tfjs-node' },
      { label: '@tensorflow/tfjs-node-gpu', description: 'NVIDIA GPU (CUDA 11.2 + cuDNN 8.1)', detail: GPU_DETAIL, pkg: '@tensorflow/tfjs-node-gpu' },
      { label: 'WebGPU', description: 'any GPU (Dawn), experimental', detail: WEBGPU_DETAIL, pkg: 'webgpu' },
    ];
    const pick = await vs.window.showQuickPick(items, {
      title: 'High Score: Install Native Backend',
      placeHolder: 'Native TensorFlow trains much faster than WebAssembly. Its install downloads libtensorflow from Google (needs internet).',
      matchOnDetail: true,
    });
    if (!pick) return;
    const prefix = nativeBackendPath(context);
    output.info(`Installing ${npmSpecs(pick.pkg).join(' ')} into ${prefix} (npm ${npmInstallArgs(pick.pkg, prefix).join(' ')})`);
    const outcome = await vs.window.withProgress(
      { location: vs.ProgressLocation.Notification, title: `Installing ${pick.pkg}`, cancellable: true },
      (progress, token) => runNpmInstall(pick.pkg, prefix, (line) => {
        output.info(`npm: ${line}`);
        progress.report({ message: line.length > 80 ? `${line.slice(0, 77)}...` : line });
      }, token),
    );
    if (outcome.ok) {
      output.info(`${pick.pkg} installed in ${prefix}.`);
      if (pick.pkg === 'webgpu') {
        const use = await vs.window.showInformationMessage(
          'WebGPU is installed. High Score uses it when the highscore.backend setting is webgpu (auto keeps native TensorFlow or WebAssembly).', 'Use WebGPU');
        // The settings change restarts the backend (extension.ts).
        if (use === 'Use WebGPU') await vs.workspace.getConfiguration('highscore').update('backend', 'webgpu', vs.ConfigurationTarget.Global);
        return;
      }
      const choice = await vs.window.showInformationMessage(
        `${pick.pkg} is installed. Restart the backend to use it (High Score: Restart Backend); the Runs view's log then names the backend in use.`,
        'Restart Backend');
      if (choice === 'Restart Backend') await vs.commands.executeCommand(RESTART_COMMAND);
      return;
    }
    removePartialInstall(prefix, pick.pkg);
    const why = explainInstallFailure(pick.pkg, outcome);
    output.error(`${why}${outcome.cancelled ? '' : ` (npm exit code ${outcome.code ?? 'none'})`}`);
    const msg = `${why} The WebAssembly backend keeps working.`;
    const choice = outcome.cancelled
      ? await vs.window.showInformationMessage(msg)
      : await vs.window.showErrorMessage(msg, 'Show Log');
    if (choice === 'Show Log') output.show(true);
  });
}
