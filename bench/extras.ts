/**
 * The bench's figures besides raw speed (bench.ts prints them):
 *  - peak RSS and steps/s while the engine's own train() trains the default MNIST preset on MNIST
 *    (a child: `bench.js --extra train-rss '<json>'`, so the RSS is that run's alone);
 *  - the backend (dist/server.js over stdio, driven with vscode-jsonrpc as test/unit/server.test.ts
 *    does): ready time from spawn to the `initialize` result, and request latency (highscore/listRuns)
 *    while a training job of the default MNIST preset runs;
 *  - the extension: the module load time of dist/extension.js in a fresh Node with a stub `vscode`
 *    module, plus activate() against that stub where it completes (not the real extension host:
 *    code-server's activation cannot be timed honestly from here; see the README).
 */
import { spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { pathToFileURL } from 'url';
import { createMessageConnection, StreamMessageReader, StreamMessageWriter } from 'vscode-jsonrpc/node';
import { selectBackend } from '../server/engine/backend';
import { loadDataset } from '../server/engine/datasets';
import { train } from '../server/engine/train';
import { DEFAULT_IMAGE_PRESET, getPreset } from '../server/engine/network';
import { defaultWorkers } from '../server/engine/parallel';

export interface Stats {
  min: number;
  median: number;
  max: number;
  runs: number[];
}

function stats(runs: number[]): Stats {
  const s = [...runs].sort((a, b) => a - b);
  return { min: s[0]!, median: s[Math.floor(s.length / 2)]!, max: s[s.length - 1]!, runs };
}

export interface TrainRssResult {
  preset: string;
  batch: number;
  steps: number;
  threads: number;
  stepsPerSec: number;
  peakRssMB: number;
}

export interface ExtraResults {
  trainRss?: TrainRssResult | { error: string };
  server?: {
    readyMs: Stats;
    latency: { requests: number; p50: number; p99: number; max: number; trainingSteps: number } | { error: string };
  } | { error: string };
  extension?: { loadMs: Stats; activateMs: Stats | null; activateNote: string } | { error: string };
}

// ---------------------------------------------------------------------------------------------
// Peak RSS of a real training run (runs in a child: `--extra train-rss`)

export async function extraMain(kind: string, json: string): Promise<void> {
  if (kind !== 'train-rss') throw new Error(`unknown --extra ${kind}`);
  const { steps } = JSON.parse(json) as { steps: number };
  await selectBackend('wasm');
  const ds = await loadDataset('mnist');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hs-bench-'));
  let rate = 0;
  try {
    const res = await train({
      runDir: path.join(dir, 'run'), dataset: ds, backend: 'wasm', steps, logEvery: Math.max(1, Math.floor(steps / 3)),
      checkpointEvery: steps, previewCount: 16, workers: defaultWorkers('image'), onProgress: (m) => { rate = m.stepsPerSec; },
    });
    const out: TrainRssResult = {
      preset: DEFAULT_IMAGE_PRESET, batch: getPreset(DEFAULT_IMAGE_PRESET).batch, steps: res.step, threads: res.threads,
      stepsPerSec: rate, peakRssMB: process.resourceUsage().maxRSS / 1024,
    };
    process.stdout.write(`${JSON.stringify(out)}\n`);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

function lastJson<T>(stdout: string): T | undefined {
  const line = stdout.split('\n').map((l) => l.trim()).filter((l) => l.startsWith('{')).pop();
  return line ? (JSON.parse(line) as T) : undefined;
}

function measureTrainRss(benchJs: string, root: string, quick: boolean): TrainRssResult | { error: string } {
  const r = spawnSync(process.execPath, [benchJs, '--extra', 'train-rss', JSON.stringify({ steps: quick ? 4 : 30 })], {
    cwd: root, encoding: 'utf8', timeout: 600_000, maxBuffer: 16 * 1024 * 1024,
  });
  const res = r.status === 0 ? lastJson<TrainRssResult>(r.stdout) : undefined;
  return res ?? { error: `exit ${r.status ?? r.signal}: ${(r.stderr ?? '').split('\n').slice(-5).join(' ')}` };
}

// ---------------------------------------------------------------------------------------------
// The backend over stdio

interface ServerHandle {
  kill(): void;
  request(method: string, params: unknown): Promise<unknown>;
  waitFor(method: string, test: (p: unknown) => boolean, timeoutMs: number): Promise<unknown>;
  readyMs: number;
}

async function startServer(serverJs: string, workspace: string): Promise<ServerHandle> {
  const t0 = performance.now();
  const child = spawn(process.execPath, [serverJs, '--stdio'], { cwd: workspace, stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, HS_QUIET: '1' } });
  child.stderr!.resume();
  const conn = createMessageConnection(new StreamMessageReader(child.stdout!), new StreamMessageWriter(child.stdin!));
  const waiters: { method: string; test: (p: unknown) => boolean; resolve: (p: unknown) => void }[] = [];
  conn.onNotification((method: string, params: unknown) => {
    for (let i = waiters.length - 1; i >= 0; i--) {
      const w = waiters[i]!;
      if (w.method === method && w.test(params)) {
        waiters.splice(i, 1);
        w.resolve(params);
      }
    }
  });
  conn.onRequest('window/workDoneProgress/create', () => null);
  conn.onUnhandledProgress(() => undefined);
  conn.listen();
  const uri = pathToFileURL(workspace).href;
  await conn.sendRequest('initialize', { processId: process.pid, rootUri: uri, workspaceFolders: [{ uri, name: 'ws' }], capabilities: {} });
  const readyMs = performance.now() - t0;
  await conn.sendNotification('initialized', {});
  return {
    readyMs,
    request: (m, p) => conn.sendRequest(m, p),
    waitFor: (method, test, timeoutMs) => new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no ${method} within ${timeoutMs / 1000} s`)), timeoutMs);
      waiters.push({ method, test, resolve: (p) => { clearTimeout(timer); resolve(p); } });
    }),
    kill: () => {
      conn.dispose();
      child.kill('SIGKILL');
    },
  };
}

async function measureServer(root: string, quick: boolean): Promise<ExtraResults['server']> {
  const serverJs = path.join(root, 'dist', 'server.js');
  if (!fs.existsSync(serverJs)) return { error: 'dist/server.js is missing (npm run build)' };
  const ready: number[] = [];
  const repeats = quick ? 2 : 5;
  let latency: NonNullable<Extract<ExtraResults['server'], { readyMs: Stats }>>['latency'] = { error: 'not measured' };
  for (let r = 0; r < repeats; r++) {
    const ws = fs.mkdtempSync(path.join(os.tmpdir(), 'hs-bench-ws-'));
    const s = await startServer(serverJs, ws);
    ready.push(s.readyMs);
    try {
      if (r === repeats - 1) {
        // A training job of the default MNIST preset keeps both cores busy while requests come in.
        const started = await s.request('highscore/startTraining', { data: 'mnist', runName: 'bench', steps: 100_000, logEvery: 1, checkpointEvery: 100_000 }) as { jobId: string };
        let steps = 0;
        await s.waitFor('highscore/progress', (p) => (p as { jobId: string }).jobId === started.jobId, 120_000);
        const lat: number[] = [];
        const until = performance.now() + (quick ? 3000 : 15_000);
        while (performance.now() < until) {
          const t0 = performance.now();
          await s.request('highscore/listRuns', {});
          lat.push(performance.now() - t0);
          await new Promise((res) => setTimeout(res, 20));
        }
        const runs = await s.request('highscore/listRuns', {}) as { name: string; step?: number | null }[];
        steps = runs.find((x) => x.name === 'bench')?.step ?? 0;
        const sorted = [...lat].sort((a, b) => a - b);
        const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;
        latency = { requests: lat.length, p50: at(0.5), p99: at(0.99), max: sorted[sorted.length - 1]!, trainingSteps: steps };
        await s.request('highscore/stopTraining', { runId: 'bench' }).catch(() => undefined);
      }
    } catch (err) {
      latency = { error: (err as Error).message };
    } finally {
      s.kill();
      fs.rmSync(ws, { recursive: true, force: true });
    }
  }
  return { readyMs: stats(ready), latency };
}

// ---------------------------------------------------------------------------------------------
// The extension module with a stub `vscode`

const EXTENSION_PROBE = String.raw`
const Module = require('module');
const path = require('path');
// A stub vscode: every property is a callable proxy that returns another (disposables, events, ...);
// its promises never settle.
const stub = () => new Proxy(function () {}, {
  get: (t, k) => (k === 'then' ? () => undefined : k === Symbol.toPrimitive ? () => '' : k === 'dispose' ? () => {} : stub()),
  set: () => true,
  defineProperty: () => true,
  apply: () => stub(),
  construct: () => stub(),
});
// The module itself: a plain object (the bundle copies its own keys) with every name the bundle reads off a module.
const vscode = {};
const names = new Set(require('fs').readFileSync(process.argv[1], 'utf8').match(/\.[A-Za-z_]\w*/g).map((m) => m.slice(1)));
for (const n of names) vscode[n] = stub();
const load = Module._load;
Module._load = function (request, parent, isMain) { return request === 'vscode' ? vscode : load.call(this, request, parent, isMain); };
const t0 = performance.now();
const ext = require(process.argv[1]);
const loadMs = performance.now() - t0;
let activateMs = null;
let note = '';
const ctx = stub();
const t1 = performance.now();
try { ext.activate(ctx); activateMs = performance.now() - t1; } catch (e) { note = String(e && e.message || e).split('\n')[0]; }
process.stdout.write(JSON.stringify({ loadMs, activateMs, note }) + '\n');
process.exit(0);
`;

function measureExtension(root: string, quick: boolean): ExtraResults['extension'] {
  const ext = path.join(root, 'dist', 'extension.js');
  if (!fs.existsSync(ext)) return { error: 'dist/extension.js is missing (npm run build)' };
  const load: number[] = [];
  const act: number[] = [];
  let note = '';
  for (let r = 0; r < (quick ? 2 : 5); r++) {
    const p = spawnSync(process.execPath, ['-e', EXTENSION_PROBE, ext], { cwd: root, encoding: 'utf8', timeout: 60_000 });
    const res = lastJson<{ loadMs: number; activateMs: number | null; note: string }>(p.stdout ?? '');
    if (!res) return { error: `probe failed: ${(p.stderr ?? '').split('\n').slice(0, 3).join(' ')}` };
    load.push(res.loadMs);
    if (res.activateMs !== null) act.push(res.activateMs);
    else note = res.note;
  }
  return {
    loadMs: stats(load), activateMs: act.length ? stats(act) : null,
    activateNote: act.length ? 'activate() against a stub vscode (synchronous part; the backend start it triggers is the ready time)' : `activate() against the stub threw: ${note}`,
  };
}

export async function measureExtras(benchJs: string, root: string, quick: boolean, log: (m: string) => void): Promise<ExtraResults> {
  const out: ExtraResults = {};
  log('  extras: training the default MNIST preset with the engine (peak RSS)');
  out.trainRss = measureTrainRss(benchJs, root, quick);
  log('  extras: the backend over stdio (ready time, latency while training)');
  try {
    out.server = await measureServer(root, quick);
  } catch (err) {
    out.server = { error: (err as Error).message };
  }
  log('  extras: the extension module');
  out.extension = measureExtension(root, quick);
  return out;
}
