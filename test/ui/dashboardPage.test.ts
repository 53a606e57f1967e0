// The dashboard webview in a real headless Chromium: the page is the extension's own shell
// (dashboardHtml) with the bundled dist/webview files, served over a local HTTP server whose origin
// plays the webview's cspSource. A fake acquireVsCodeApi records what the page posts and saves.
// Needs `node scripts/build.mjs` first (dist/webview/dashboard.{js,css}).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import * as tf from '@tensorflow/tfjs';
import { dashboardHtml, makeNonce } from '../../extension/dashboardHtml';
import { GaussianMixture2D, toyDistribution } from '../../server/engine/datasets/toys';
import { encodePng, imageGrid } from '../../server/engine/images';
import { Rng } from '../../server/engine/random';
import { makeSchedule } from '../../server/engine/schedule';
import { dataBounds, scoreField } from '../../server/engine/scoreField';
import type { ScoreFunction } from '../../server/engine/score';
import * as P from '../../protocol/protocol';

const ROOT = resolve(__dirname, '../../..');
const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = join(ROOT, 'test-artifacts/ui');
const DIST = join(ROOT, 'dist/webview');

// ---- realistic data ---------------------------------------------------------------------------------

function rng(seed: number) {
  let s = seed >>> 0;
  const next = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 4294967296);
  const normal = () => Math.sqrt(-2 * Math.log(1 - next())) * Math.cos(2 * Math.PI * next());
  return { next, normal };
}

/** n 28x28 gray "digits" (rings and strokes), HWC in [0, 1]. */
function fakeDigits(n: number, seed = 1): Float32Array {
  const r = rng(seed);
  const out = new Float32Array(n * 28 * 28);
  for (let k = 0; k < n; k++) {
    const cx = 14 + 2 * r.normal();
    const cy = 14 + 2 * r.normal();
    const rad = 5 + 3 * r.next();
    const ring = r.next() < 0.5;
    const ang = r.next() * Math.PI;
    for (let y = 0; y < 28; y++) {
      for (let x = 0; x < 28; x++) {
        const d = Math.hypot(x - cx, y - cy);
        const stroke = Math.abs((x - cx) * Math.sin(ang) - (y - cy) * Math.cos(ang));
        const v = ring ? Math.exp(-((d - rad) ** 2) / 2) : d < rad + 3 ? Math.exp(-(stroke ** 2) / 1.5) : 0;
        out[k * 784 + y * 28 + x] = v;
      }
    }
  }
  return out;
}

function pngGrid(data: Float32Array, n: number): string {
  const g = imageGrid(data, n, [28, 28, 1], { pad: 2 });
  return encodePng(g.width, g.height, 1, g.data).toString('base64');
}

/** The digits with Gaussian noise of std `sigma` (a chain snapshot at that level). */
function noisy(clean: Float32Array, sigma: number, seed: number): Float32Array {
  const r = rng(seed);
  return clean.map((v) => v + sigma * r.normal());
}

/** NCSN's 2D mixture, 0.8 N((5,5), I) + 0.2 N((-5,-5), I), flat [x0, y0, ...]. */
function mixture(n: number, seed: number, spread = 1): number[] {
  const r = rng(seed);
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const m = r.next() < 0.8 ? 5 : -5;
    out.push(m + spread * r.normal(), m + spread * r.normal());
  }
  return out;
}

/** A DSM-like loss at a step (decays over decades, noisy, a rare spike). */
function lossAt(step: number, D: number, r: { next(): number }): number {
  const base = D * 0.02 + D * 0.5 * Math.exp(-step / 1500);
  return base * (1 + 0.15 * (r.next() - 0.5)) * (step % 9990 === 0 ? 6 : 1);
}

function config(kind: 'image' | 'points', schedule: P.NoiseSchedule): P.RunConfig {
  const image = kind === 'image';
  return {
    dataSpec: image ? 'mnist' : 'toy:mixture', dataShape: image ? [28, 28, 1] : [2], dataKind: kind,
    preset: image ? 'small' : 'mlp',
    network: image ? { kind: 'unet', base: 32, mults: [1, 2, 2], blocks: 1 } : { kind: 'mlp', hidden: [128, 128, 128] },
    parameters: image ? 1_254_913 : 34_178, schedule, steps: 50_000, batch: image ? 32 : 128, learningRate: 2e-3,
    emaDecay: 0.999, gradClip: 1, seed: 0, checkpointEvery: 500, sampleEvery: 1000, logEvery: 10,
    backend: image ? 'tensorflow' : 'cpu', createdAt: '2025-06-01T10:00:00.000Z',
  };
}

function history(runId: string, kind: 'image' | 'points', schedule: P.NoiseSchedule, upTo: number, samples: P.TrainingSamplesParams): P.RunHistoryResult {
  const r = rng(7);
  const L = schedule.sigmas.length;
  const points: P.MetricPoint[] = [];
  for (let step = 10; step <= upTo; step += 10) {
    const loss = lossAt(step, schedule.D, r);
    points.push({ step, loss, perLevel: Array.from({ length: L }, (_, i) => loss * (0.6 + (0.8 * i) / L)), stepsPerSec: 41.5 });
  }
  return {
    runDir: `/ws/.highscore/runs/${runId}`, runId, config: config(kind, schedule),
    status: { state: 'running', step: upTo, totalSteps: 50_000, lastLoss: points[points.length - 1]!.loss, updatedAt: '2025-06-01T10:05:00.000Z' },
    points, loggedSteps: points.length, samples,
  };
}

function progressMessages(runId: string, D: number, L: number, from: number, to: number): P.ToDashboard[] {
  const r = rng(11);
  const out: P.ToDashboard[] = [];
  for (let step = from; step <= to; step += 10) {
    const loss = lossAt(step, D, r);
    const params: P.ProgressParams = {
      jobId: 'job-7', runId, step, totalSteps: 50_000, loss,
      perLevel: Array.from({ length: L }, (_, i) => (i === 3 && step < 20_000 ? null : loss * (0.6 + (0.8 * i) / L) * (1 + 0.1 * (r.next() - 0.5)))),
      gradNorm: 3 + r.next(), stepsPerSec: 40 + 3 * r.next(), etaSec: (50_000 - step) / 41,
    };
    out.push({ type: 'notification', method: P.Progress, params });
  }
  return out;
}

// ---- the toy run's score field and particles, computed by the engine ---------------------------------

/**
 * A small "trained model" of toy:mixture (0.8 N((5,5), I) + 0.2 N((-5,-5), I)): a two-component mixture
 * whose means, weights and spread are a little off, as a ScoreFunction (tensors in, tensors out), so
 * the engine's scoreField() evaluates it on the grid as it does a network, beside the exact score.
 */
const learnedToy = new GaussianMixture2D([0.74, 0.26], [[4.7, 5.3], [-5.4, -4.6]], 1.25);
const toyModel: ScoreFunction = {
  score: (x: tf.Tensor, sigma: number) => tf.tensor2d(learnedToy.score(x.dataSync() as Float32Array, sigma), [x.shape[0]!, 2]),
};

/** What the backend answers to highscore/scoreField for the toy run (server/lsp/previewWork.ts, computeScoreField). */
async function toyScoreField(runDir: string, p: P.ScoreFieldParams, schedule: P.NoiseSchedule, data: number[]): Promise<P.ScoreFieldResult> {
  const bounds = p.bounds ?? (dataBounds(data) as P.Bounds);
  const grid = p.grid ?? 21;
  const sigma = schedule.sigmas[p.level - 1]!;
  const f = await scoreField(toyModel, sigma, bounds, grid, toyDistribution('mixture'));
  const r4 = (v: number) => Math.round(v * 1e4) / 1e4;
  return {
    runDir, checkpoint: 'step-050000', step: 50_000, dataSpec: 'toy:mixture', level: p.level, levels: schedule.sigmas.length, sigma, grid, bounds,
    learned: Array.from(f.learned, r4), true: Array.from(f.true!, r4), meanError: f.meanError!, meanTrueNorm: f.meanTrueNorm!, data, schedule,
  };
}

/** Annealed Langevin dynamics with the toy model: n particles, T steps per level, a snapshot after each level. */
function toyChain(schedule: P.NoiseSchedule, n: number, T: number, seed: number): { snapshots: P.SnapshotResult[]; points: number[] } {
  const r = new Rng(seed);
  const L = schedule.sigmas.length;
  const sigmaL = schedule.sigmas[L - 1]!;
  const x = Float32Array.from({ length: 2 * n }, () => schedule.sigmas[0]! * r.normal());
  const snapshots: P.SnapshotResult[] = [];
  schedule.sigmas.forEach((sigma, i) => {
    const alpha = schedule.eps * (sigma / sigmaL) ** 2;
    let scoreNorm = 0, noiseNorm = 0;
    for (let t = 0; t < T; t++) {
      const s = learnedToy.score(x, sigma);
      let ss = 0, zz = 0;
      for (let k = 0; k < x.length; k++) {
        const z = r.normal();
        x[k]! += (alpha / 2) * s[k]! + Math.sqrt(alpha) * z;
        ss += ((alpha / 2) * s[k]!) ** 2;
        zz += alpha * z * z;
      }
      scoreNorm = Math.sqrt(ss);
      noiseNorm = Math.sqrt(zz);
    }
    snapshots.push({ level: i + 1, sigma, alpha, scoreNorm, noiseNorm, points: Array.from(x, (v) => Math.round(v * 1e4) / 1e4) });
  });
  return { snapshots, points: snapshots[L - 1]!.points! };
}

// ---- themes (the variables VS Code injects on <html>, and its body classes) ---------------------------

const FONT = `-apple-system, BlinkMacSystemFont, "Segoe WPC", "Segoe UI", "Ubuntu", "Droid Sans", sans-serif`;
const common = { '--vscode-font-family': FONT, '--vscode-font-size': '13px', '--vscode-font-weight': 'normal', '--vscode-editor-font-family': `"Droid Sans Mono", monospace` };
const THEMES: Record<'light' | 'dark' | 'high-contrast', { cls: string; vars: Record<string, string> }> = {
  light: {
    cls: 'vscode-light',
    vars: {
      ...common, '--vscode-editor-background': '#ffffff', '--vscode-editor-foreground': '#3b3b3b', '--vscode-foreground': '#3b3b3b',
      '--vscode-descriptionForeground': '#717171', '--vscode-focusBorder': '#005fb8', '--vscode-panel-border': '#e5e5e5',
      '--vscode-button-background': '#005fb8', '--vscode-button-foreground': '#ffffff', '--vscode-button-hoverBackground': '#0258a8',
      '--vscode-button-border': '#0000001a', '--vscode-button-secondaryBackground': '#e5e5e5', '--vscode-button-secondaryForeground': '#3b3b3b',
      '--vscode-button-secondaryHoverBackground': '#cccccc', '--vscode-input-background': '#ffffff', '--vscode-input-foreground': '#3b3b3b',
      '--vscode-input-border': '#cecece', '--vscode-badge-background': '#cccccc', '--vscode-badge-foreground': '#3b3b3b',
      '--vscode-checkbox-background': '#f8f8f8', '--vscode-checkbox-border': '#cecece', '--vscode-checkbox-foreground': '#3b3b3b',
      '--vscode-settings-checkboxBackground': '#f8f8f8', '--vscode-settings-checkboxBorder': '#cecece', '--vscode-settings-checkboxForeground': '#3b3b3b',
      '--vscode-settings-dropdownListBorder': '#cecece', '--vscode-widget-shadow': '#00000029', '--vscode-list-activeSelectionForeground': '#000000',
      '--vscode-settings-dropdownBackground': '#ffffff', '--vscode-settings-dropdownBorder': '#cecece', '--vscode-settings-dropdownForeground': '#3b3b3b',
      '--vscode-dropdown-background': '#ffffff', '--vscode-dropdown-border': '#cecece', '--vscode-dropdown-foreground': '#3b3b3b',
      '--vscode-progressBar-background': '#005fb8', '--vscode-charts-foreground': '#616161', '--vscode-charts-lines': '#61616180',
      '--vscode-charts-blue': '#1a85ff', '--vscode-charts-orange': '#d18616', '--vscode-charts-green': '#388a34', '--vscode-charts-red': '#e51400',
      '--vscode-charts-purple': '#652d90', '--vscode-charts-yellow': '#bf8803', '--vscode-errorForeground': '#f85149',
      '--vscode-inputValidation-warningBackground': '#f6eeda', '--vscode-inputValidation-warningBorder': '#bf8803',
      '--vscode-list-activeSelectionBackground': '#e8e8e8', '--vscode-list-hoverBackground': '#f2f2f2',
    },
  },
  dark: {
    cls: 'vscode-dark',
    vars: {
      ...common, '--vscode-editor-background': '#1f1f1f', '--vscode-editor-foreground': '#cccccc', '--vscode-foreground': '#cccccc',
      '--vscode-descriptionForeground': '#9d9d9d', '--vscode-focusBorder': '#0078d4', '--vscode-panel-border': '#2b2b2b',
      '--vscode-button-background': '#0078d4', '--vscode-button-foreground': '#ffffff', '--vscode-button-hoverBackground': '#026ec1',
      '--vscode-button-border': '#ffffff12', '--vscode-button-secondaryBackground': '#313131', '--vscode-button-secondaryForeground': '#cccccc',
      '--vscode-button-secondaryHoverBackground': '#3c3c3c', '--vscode-input-background': '#313131', '--vscode-input-foreground': '#cccccc',
      '--vscode-input-border': '#3c3c3c', '--vscode-badge-background': '#616161', '--vscode-badge-foreground': '#f8f8f8',
      '--vscode-checkbox-background': '#313131', '--vscode-checkbox-border': '#3c3c3c', '--vscode-checkbox-foreground': '#cccccc',
      '--vscode-settings-checkboxBackground': '#313131', '--vscode-settings-checkboxBorder': '#3c3c3c', '--vscode-settings-checkboxForeground': '#cccccc',
      '--vscode-settings-dropdownListBorder': '#454545', '--vscode-widget-shadow': '#0000005c', '--vscode-list-activeSelectionForeground': '#ffffff',
      '--vscode-settings-dropdownBackground': '#313131', '--vscode-settings-dropdownBorder': '#3c3c3c', '--vscode-settings-dropdownForeground': '#cccccc',
      '--vscode-dropdown-background': '#313131', '--vscode-dropdown-border': '#3c3c3c', '--vscode-dropdown-foreground': '#cccccc',
      '--vscode-progressBar-background': '#0078d4', '--vscode-charts-foreground': '#cccccc', '--vscode-charts-lines': '#cccccc80',
      '--vscode-charts-blue': '#3794ff', '--vscode-charts-orange': '#d18616', '--vscode-charts-green': '#89d185', '--vscode-charts-red': '#f14c4c',
      '--vscode-charts-purple': '#b180d7', '--vscode-charts-yellow': '#cca700', '--vscode-errorForeground': '#f85149',
      '--vscode-inputValidation-warningBackground': '#352a05', '--vscode-inputValidation-warningBorder': '#b89500',
      '--vscode-list-activeSelectionBackground': '#04395e', '--vscode-list-hoverBackground': '#2a2d2e',
    },
  },
  'high-contrast': {
    cls: 'vscode-high-contrast',
    vars: {
      ...common, '--vscode-editor-background': '#000000', '--vscode-editor-foreground': '#ffffff', '--vscode-foreground': '#ffffff',
      '--vscode-descriptionForeground': '#ffffff', '--vscode-focusBorder': '#f38518', '--vscode-panel-border': '#6fc3df',
      '--vscode-contrastBorder': '#6fc3df', '--vscode-contrastActiveBorder': '#f38518',
      '--vscode-button-background': '#000000', '--vscode-button-foreground': '#ffffff', '--vscode-button-border': '#6fc3df',
      '--vscode-button-secondaryBackground': '#000000', '--vscode-button-secondaryForeground': '#ffffff',
      '--vscode-input-background': '#000000', '--vscode-input-foreground': '#ffffff', '--vscode-input-border': '#6fc3df',
      '--vscode-badge-background': '#000000', '--vscode-badge-foreground': '#ffffff',
      '--vscode-checkbox-background': '#000000', '--vscode-checkbox-border': '#6fc3df', '--vscode-checkbox-foreground': '#ffffff',
      '--vscode-settings-checkboxBackground': '#000000', '--vscode-settings-checkboxBorder': '#6fc3df', '--vscode-settings-checkboxForeground': '#ffffff',
      '--vscode-settings-dropdownListBorder': '#6fc3df', '--vscode-list-focusOutline': '#f38518',
      '--vscode-settings-dropdownBackground': '#000000', '--vscode-settings-dropdownBorder': '#6fc3df', '--vscode-settings-dropdownForeground': '#ffffff',
      '--vscode-dropdown-background': '#000000', '--vscode-dropdown-border': '#6fc3df', '--vscode-dropdown-foreground': '#ffffff',
      '--vscode-progressBar-background': '#6fc3df', '--vscode-charts-foreground': '#ffffff', '--vscode-charts-lines': '#ffffff',
      '--vscode-charts-blue': '#3794ff', '--vscode-charts-orange': '#d18616', '--vscode-charts-green': '#89d185', '--vscode-charts-red': '#f14c4c',
      '--vscode-charts-purple': '#b180d7', '--vscode-charts-yellow': '#cca700', '--vscode-errorForeground': '#f48771',
      '--vscode-inputValidation-warningBackground': '#000000', '--vscode-inputValidation-warningBorder': '#b89500',
    },
  },
};

async function applyTheme(page: Page, name: keyof typeof THEMES): Promise<void> {
  const t = THEMES[name];
  await page.evaluate(({ cls, vars }) => {
    const doc = (globalThis as unknown as BG).document;
    const html = doc.documentElement;
    html.removeAttribute('style');
    for (const [k, v] of Object.entries(vars)) html.style.setProperty(k, v);
    doc.body.className = cls;
    doc.body.setAttribute('data-vscode-theme-kind', cls);
  }, t);
  await frames(page, 3);
}

/** Waits for n animation frames (the page redraws at most once per frame). */
async function frames(page: Page, n = 2): Promise<void> {
  await page.evaluate((k) => new Promise<void>((res) => {
    const w = globalThis as unknown as BG;
    let left = k;
    const tick = () => {
      if (--left <= 0) res();
      else w.requestAnimationFrame(tick);
    };
    w.requestAnimationFrame(tick);
  }), n);
}

async function send(page: Page, messages: unknown[]): Promise<void> {
  for (let i = 0; i < messages.length; i += 1000) {
    await page.evaluate((batch) => {
      for (const m of batch) (globalThis as unknown as BG).postMessage(m, '*');
    }, messages.slice(i, i + 1000));
  }
  // postMessage events are queued tasks: let them run, then let the page draw.
  await page.evaluate(() => new Promise<void>((r) => (globalThis as unknown as BG).setTimeout(() => r(), 0)));
  await frames(page, 2);
}

/** What Dashboard.debug() returns (webview/dashboard/app.ts). */
interface Debug {
  runDir: string | null; runState: string | null; live: boolean; lossLogged: number; lossDrawn: number; lossChartCreated: boolean;
  levelsDrawn: number; levelLines: number; sigmasDrawn: number; overlapDrawn: number; objectiveDrawn: number;
  frames: number; frameIndex: number; playing: boolean; dropped: number; logScale: boolean; smoothing: number;
  field: { level: number; levels: number; fields: number; particles: number; t: number; playing: boolean; meanError: number | null } | null;
  requestsWaiting: number; resultsDropped: number;
}

/**
 * The fake host's side of the request relay: answers each `request` the page posted (once), as the
 * extension's relayPageRequest does, until `done` says so.
 */
async function serveRequests(page: Page, answered: Set<number>, answer: (m: P.PageRequestMessage) => unknown, done: () => Promise<boolean>, timeoutMs = 60_000): Promise<P.PageRequestMessage[]> {
  const served: P.PageRequestMessage[] = [];
  const until = Date.now() + timeoutMs;
  while (!(await done())) {
    if (Date.now() > until) throw new Error(`requests still unanswered after ${timeoutMs} ms: ${JSON.stringify(await debug(page))}`);
    const posted = await page.evaluate(() => (globalThis as unknown as BG).__posted) as P.FromDashboard[];
    const fresh = posted.filter((m): m is P.PageRequestMessage => m.type === 'request' && !answered.has(m.id));
    for (const m of fresh) {
      answered.add(m.id);
      served.push(m);
      assert.ok(P.isFromDashboard(m), 'the request passes the extension\'s check');
      let reply: P.PageResponseMessage;
      try {
        reply = { type: 'response', id: m.id, result: answer(m) };
      } catch (e) {
        reply = { type: 'response', id: m.id, error: e instanceof Error ? e.message : String(e) };
      }
      await send(page, [reply]);
    }
    if (!fresh.length) await frames(page, 2);
  }
  return served;
}

/** Pixels of the canvas close to `rgb` (the arrows of one layer, the particles). */
function countColor(page: Page, selector: string, rgb: [number, number, number], tol = 60): Promise<number> {
  return page.locator(selector).evaluate((el: unknown, [c, tl]) => {
    const canvas = el as { width: number; height: number; getContext(k: '2d'): { getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray } } };
    const d = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
    let n = 0;
    for (let i = 0; i < d.length; i += 4) if (Math.abs(d[i]! - c[0]) + Math.abs(d[i + 1]! - c[1]) + Math.abs(d[i + 2]! - c[2]) < tl) n++;
    return n;
  }, [rgb, tol] as const);
}

/**
 * The page's globals as the callbacks below use them. This test compiles without the DOM library
 * (the project's tsconfig is Node's), so each callback casts globalThis to this shape.
 */
interface El {
  style: { setProperty(k: string, v: string): void };
  removeAttribute(k: string): void;
  setAttribute(k: string, v: string): void;
  className: string;
}
interface Img { naturalWidth: number; naturalHeight: number; src: string; getBoundingClientRect(): { width: number } }
interface BG {
  highScoreDashboard?: { debug(): Debug };
  __posted: unknown[];
  __state: unknown;
  __csp: string[];
  postMessage(m: unknown, origin: string): void;
  requestAnimationFrame(cb: () => void): number;
  setTimeout(cb: () => void, ms: number): number;
  acquireVsCodeApi?: () => unknown;
  document: {
    documentElement: El;
    body: El;
    addEventListener(type: string, cb: (e: { violatedDirective: string; blockedURI: string }) => void): void;
    querySelector(sel: string): Img | null;
  };
}

const debug = (page: Page): Promise<Debug> => page.evaluate(() => (globalThis as unknown as BG).highScoreDashboard!.debug());

// ---- the test ---------------------------------------------------------------------------------------

test('dashboard webview in headless Chromium: messages, charts, samples, actions, themes', { timeout: 180_000 }, async (t) => {
  if (!existsSync(CHROMIUM)) {
    t.skip(`${CHROMIUM} is missing (apt-get install chromium) — the dashboard UI test needs a real browser`);
    return;
  }
  assert.ok(existsSync(join(DIST, 'dashboard.js')) && existsSync(join(DIST, 'dashboard.css')), 'dist/webview is missing: run node scripts/build.mjs first');
  const { chromium } = await import('playwright-core');
  mkdirSync(ARTIFACTS, { recursive: true });

  // A tiny server: the page shell and the two bundled files.
  let html = '';
  const server: Server = createServer((req, res) => {
    const url = (req.url ?? '/').split('?')[0];
    const file = url === '/dashboard.js' ? 'dashboard.js' : url === '/dashboard.css' ? 'dashboard.css' : null;
    if (url === '/favicon.ico') {
      res.writeHead(204); // a browser tab asks for one; a webview does not
      res.end();
    } else if (url === '/') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end(html);
    } else if (file) {
      res.writeHead(200, { 'content-type': file.endsWith('.js') ? 'text/javascript' : 'text/css' });
      res.end(readFileSync(join(DIST, file)));
    } else {
      res.writeHead(404);
      res.end();
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  html = dashboardHtml({ cspSource: origin, nonce: makeNonce(), scriptUri: `${origin}/dashboard.js`, styleUri: `${origin}/dashboard.css`, title: 'High Score' });

  let browser: Browser | undefined;
  try {
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, deviceScaleFactor: 1 });
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(`console: ${m.text()}`);
    });
    page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
    page.on('requestfailed', (r) => errors.push(`request failed: ${r.url()}`));

    const toyDir = '/ws/.highscore/runs/toy-mixture-1';
    await page.addInitScript((saved) => {
      const w = globalThis as unknown as BG;
      w.__posted = [];
      w.__state = saved;
      w.__csp = [];
      w.document.addEventListener('securitypolicyviolation', (e) => w.__csp.push(`${e.violatedDirective} ${e.blockedURI}`));
      w.acquireVsCodeApi = () => ({
        postMessage: (m: unknown) => w.__posted.push(JSON.parse(JSON.stringify(m))),
        getState: () => w.__state,
        setState: (st: unknown) => { w.__state = JSON.parse(JSON.stringify(st)); },
      });
    }, { runDir: toyDir, logScale: true, smoothing: 0.8 } satisfies P.DashboardState);

    await page.goto(`${origin}/`);
    await page.waitForFunction(() => (globalThis as unknown as BG).highScoreDashboard !== undefined);
    await applyTheme(page, 'dark');

    // ready with the saved run, and the empty state
    const posted = () => page.evaluate(() => (globalThis as unknown as BG).__posted) as Promise<P.FromDashboard[]>;
    assert.deepEqual((await posted())[0], { type: 'ready', runDir: toyDir });
    assert.ok(await page.locator('#empty').isVisible(), 'empty state shown before any run');
    assert.match(await page.locator('#empty').innerText(), /High Score: Train… or pick a run in the Runs view/);
    assert.equal((await debug(page)).smoothing, 0.8, 'saved smoothing restored');

    // ---- the toy run ----
    const toySchedule = makeSchedule(2, { sigmaMax: 20, sigmaMin: 0.01, stepsPerLevel: 100 }) as P.NoiseSchedule;
    const toyPts = mixture(500, 3);
    const toySamples: P.TrainingSamplesParams = { jobId: 'job-7', runId: 'toy-mixture-1', step: 2000, n: 500, shape: [2], file: '/x/samples/step-2000.csv', points: toyPts };
    await send(page, [{ type: 'run', history: history('toy-mixture-1', 'points', toySchedule, 2000, toySamples), live: true }]);
    let d = await debug(page);
    assert.equal(d.runDir, toyDir);
    assert.equal(d.lossLogged, 200);
    assert.ok(d.lossDrawn > 0, 'the loss chart has points');
    const t0 = Date.now();
    await send(page, progressMessages('toy-mixture-1', 2, toySchedule.sigmas.length, 2010, 50_000));
    const ms = Date.now() - t0;
    d = await debug(page);
    assert.equal(d.lossLogged, 5000);
    assert.ok(d.lossDrawn > 500 && d.lossDrawn <= 2000, `loss drawn: ${d.lossDrawn}`);
    t.diagnostic(`4,800 progress messages delivered and drawn in ${ms} ms`);
    assert.ok(await page.locator('#card-samples .scatter canvas').count() > 0, 'toy samples drawn as a scatter');
    assert.equal(await page.locator('#stat-step').innerText(), '50,000 / 50,000');

    // ---- the toy run's score field card: the fake host answers its requests (the relay's messages) ----
    assert.ok(await page.locator('#card-field').isVisible(), 'a toy run shows the score field card');
    const toyL = toySchedule.sigmas.length;
    const toyData = Array.from(toyDistribution('mixture').sample(500, new Rng(2)), (v) => Math.round(v * 1e4) / 1e4);
    const particles = toyChain(toySchedule, 300, 100, 4);
    const answered = new Set<number>();
    // The card asks for each level's field on the default grid (21) around the data (the first without
    // bounds, the others with the first one's): computed up front, since the fake host answers synchronously.
    const fields = await Promise.all(toySchedule.sigmas.map((_, i) => toyScoreField(toyDir, { runDir: toyDir, level: i + 1, grid: 21 }, toySchedule, toyData)));
    const served = await serveRequests(page, answered, (m) => {
      assert.equal((m.params as { runDir: string }).runDir, toyDir);
      if (m.method === P.ScoreField) {
        const p = m.params as P.ScoreFieldParams;
        assert.equal(p.grid, 21, 'the default grid');
        if (p.bounds) assert.deepEqual(p.bounds, fields[0]!.bounds, 'the other levels on the first field\'s bounds (around the data)');
        return fields[p.level - 1]!;
      }
      if (m.method === P.Preview) {
        assert.equal((m.params as P.PreviewParams).snapshots, toyL, 'one particle snapshot per level');
        return {
          runDir: toyDir, checkpoint: 'step-050000', step: 50_000, loss: 1.9, dataSpec: 'toy:mixture', n: 300, shape: [2], dataKind: 'points',
          stepsPerLevel: 100, snapshots: particles.snapshots, seconds: 0.6, cached: false, points: particles.points,
        } satisfies P.PreviewResult;
      }
      throw new Error(`${m.method} is not expected from the score field card`);
    }, async () => {
      const f = (await debug(page)).field;
      return f !== null && f.fields === toyL && f.particles === 300;
    });
    assert.deepEqual(served[0], { type: 'request', id: served[0]!.id, method: P.ScoreField, params: { runDir: toyDir, level: 1, grid: 21 } });
    assert.equal(served.filter((m) => m.method === P.ScoreField).length, toyL, 'one request per level, cached');
    d = await debug(page);
    assert.equal(d.resultsDropped, 0, 'every answer passed its guard');
    assert.ok(d.field!.meanError! > 0, 'the mean error between the learned and the true score');
    assert.match(await page.locator('#field-stats').innerText(), new RegExp(`^Level ${toyL} of ${toyL}, σ = .* Mean \\|learned − true\\| = `));
    assert.match(await page.locator('#field-level-value').innerText(), new RegExp(`^${toyL} / ${toyL} · σ = 0.01$`));
    const blue: [number, number, number] = [0x37, 0x94, 0xff], orange: [number, number, number] = [0xd1, 0x86, 0x16], green: [number, number, number] = [0x89, 0xd1, 0x85];
    const learnedPx = await countColor(page, '#field-canvas', blue);
    const truePx = await countColor(page, '#field-canvas', orange);
    assert.ok(learnedPx > 300 && truePx > 300, `arrows drawn: ${learnedPx} learned-score pixels, ${truePx} true-score pixels`);
    // The level slider moves to the noisiest level; the arrows change.
    await page.locator('#field-level').focus();
    await page.keyboard.press('Home');
    await frames(page, 3);
    assert.equal((await debug(page)).field!.level, 1);
    assert.match(await page.locator('#field-level-value').innerText(), /^1 \/ 10 · σ = 20$/);
    // Particles: play through the levels, pause halfway.
    await page.locator('#field-play:not([disabled])').click();
    await page.waitForFunction(() => ((globalThis as unknown as BG).highScoreDashboard!.debug().field?.t ?? 0) >= 5.5, undefined, { timeout: 20_000 });
    await page.locator('#field-play').click();
    d = await debug(page);
    assert.equal(d.field!.playing, false);
    assert.ok(d.field!.level >= 6, `the shown level follows the particles: ${d.field!.level}`);
    assert.ok(await countColor(page, '#field-canvas', green) > 100, 'particles drawn');

    // A sampling job on the toy run: its chain as point clouds.
    const toyChainRun = toyChain(toySchedule, 500, 100, 9);
    const toyJob: P.ToDashboard[] = toyChainRun.snapshots.map((sn) => ({
      type: 'notification', method: P.SamplingProgress,
      params: { jobId: 'job-t', runId: 'toy-mixture-1', level: sn.level, levels: toyL, sigma: sn.sigma, alpha: sn.alpha!, done: sn.level * 100, total: toyL * 100 + 1, scoreNorm: sn.scoreNorm!, noiseNorm: sn.noiseNorm!, ...(sn.level % 3 === 1 ? { snapshot: { points: sn.points! } } : {}) } satisfies P.SamplingProgressParams,
    }));
    await send(page, toyJob);
    await send(page, [{ type: 'notification', method: P.JobEnded, params: {
      jobId: 'job-t', runId: 'toy-mixture-1', kind: 'sample', state: 'finished', message: 'Sampled 500 points in 0.9 s.',
      result: { type: 'samples', file: `${toyDir}/samples/sample-1.csv`, n: 500, shape: [2], dataKind: 'points', snapshots: toyChainRun.snapshots.filter((sn) => sn.level % 3 === 1), seconds: 0.9, points: toyChainRun.points },
    } satisfies P.JobEndedParams }]);
    d = await debug(page);
    assert.equal(d.frames, 5, 'four point-cloud snapshots and the final points');
    assert.ok(await page.locator('#card-sampling canvas.scatter-canvas').isVisible(), 'the chain of a 2D run is drawn as points');
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-toy-dark.png'), fullPage: true });
    await applyTheme(page, 'light');
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-toy-light.png'), fullPage: true });
    await applyTheme(page, 'dark');
    const requestsBefore = (await posted()).filter((m) => m.type === 'request').length;

    // ---- the image run ----
    const imgSchedule = makeSchedule(784, { sigmaMax: 40 }) as P.NoiseSchedule;
    const L = imgSchedule.sigmas.length;
    const digits = fakeDigits(36, 5);
    const imgRunId = 'mnist-20250601-100000';
    const imgDir = `/ws/.highscore/runs/${imgRunId}`;
    const firstSamples: P.TrainingSamplesParams = { jobId: 'job-8', runId: imgRunId, step: 1000, n: 36, shape: [28, 28, 1], file: '/x/s.png', png: pngGrid(noisy(digits, 0.4, 1), 36) };
    await send(page, [{ type: 'run', history: history(imgRunId, 'image', imgSchedule, 1000, firstSamples), live: true }]);
    assert.ok(await page.locator('#card-field').isHidden(), 'an image run has no score field card');
    assert.equal((await debug(page)).field, null);
    await send(page, progressMessages(imgRunId, 784, L, 1010, 42_000));
    await send(page, [{ type: 'notification', method: P.TrainingSamples, params: { ...firstSamples, step: 42_000, png: pngGrid(digits, 36) } }]);
    await send(page, [{ type: 'schedule', result: { data: 'mnist', name: 'MNIST', kind: 'image', shape: [28, 28, 1], size: 60_000, schedule: imgSchedule } satisfies P.ComputeScheduleResult }]);
    d = await debug(page);
    assert.equal(d.runDir, imgDir);
    assert.ok(d.lossDrawn > 500 && d.lossDrawn <= 2000);
    assert.equal(d.levelsDrawn, L, 'per-level chart has one point per level');
    assert.equal(d.sigmasDrawn, L);
    assert.ok(d.overlapDrawn > 50 && d.objectiveDrawn > 50, 'schedule diagnostics curves drawn');
    await page.waitForFunction(() => ((globalThis as unknown as BG).document.querySelector('#card-samples img')?.naturalWidth ?? 0) > 0);
    const img = await page.locator('#card-samples img').evaluate((el: Img) => ({ w: el.naturalWidth, h: el.naturalHeight, shown: el.getBoundingClientRect().width, src: el.src.slice(0, 22) }));
    assert.equal(img.src, 'data:image/png;base64,');
    assert.ok(img.w > 100 && img.h > 100, `natural size ${img.w}x${img.h}`);
    assert.ok(img.shown >= img.w, 'scaled up (integer factor) in the card');

    // sampling: live snapshots at 5 levels, then the result with the final grid
    const snapLevels = [1, Math.round(L / 4), Math.round(L / 2), Math.round((3 * L) / 4), L];
    const sampling: P.ToDashboard[] = [];
    for (let level = 1; level <= L; level++) {
      const sigma = imgSchedule.sigmas[level - 1]!;
      const params: P.SamplingProgressParams = {
        jobId: 'job-9', runId: imgRunId, level, levels: L, sigma, alpha: imgSchedule.eps * (sigma / imgSchedule.sigmas[L - 1]!) ** 2,
        done: level * 5, total: L * 5 + 1, scoreNorm: 0.8 * Math.sqrt(784) * sigma, noiseNorm: Math.sqrt(784) * sigma,
      };
      if (snapLevels.includes(level)) params.snapshot = { png: pngGrid(noisy(digits, Math.min(sigma, 2), level), 36) };
      sampling.push({ type: 'notification', method: P.SamplingProgress, params });
      if (level === Math.round(L / 2)) break; // stop halfway for the live checks
    }
    await send(page, sampling);
    d = await debug(page);
    assert.equal(d.frames, 3);
    assert.equal(d.frameIndex, 2, 'the slider follows the newest snapshot');
    assert.match(await page.locator('#sampling-message').innerText(), new RegExp(`level ${Math.round(L / 2)} of ${L}, σ = `));
    assert.equal(await page.locator('#chain-level').innerText(), `${Math.round(L / 2)} / ${L}`);
    assert.equal(await page.locator('#chain-ratio').innerText(), '0.8', 'the ratio ‖α·score‖ / ‖noise‖ of the shown snapshot');
    assert.notEqual(await page.locator('#chain-alpha').innerText(), '—');

    // ---- screenshots in three themes (running, mid-sampling) ----
    for (const name of ['light', 'dark', 'high-contrast'] as const) {
      await applyTheme(page, name);
      await page.screenshot({ path: join(ARTIFACTS, `dashboard-${name}.png`), fullPage: true });
    }
    await applyTheme(page, 'dark');

    const snapshots: P.SnapshotResult[] = snapLevels.map((level) => {
      const sigma = imgSchedule.sigmas[level - 1]!;
      const noiseNorm = Math.sqrt(784 * imgSchedule.eps) * (sigma / imgSchedule.sigmas[L - 1]!);
      return { level, sigma, alpha: imgSchedule.eps * (sigma / imgSchedule.sigmas[L - 1]!) ** 2, scoreNorm: noiseNorm * (1.6 - level / L), noiseNorm, png: pngGrid(noisy(digits, Math.min(sigma, 2), level), 36) };
    });
    const ended: P.JobEndedParams = {
      jobId: 'job-9', runId: imgRunId, kind: 'sample', state: 'finished', message: 'Sampled 36 images in 12.3 s.',
      result: { type: 'samples', file: `${imgDir}/samples/sample-1.png`, n: 36, shape: [28, 28, 1], dataKind: 'image', snapshots, seconds: 12.3, png: pngGrid(digits, 36) },
    };
    await send(page, [{ type: 'notification', method: P.JobEnded, params: ended }]);
    d = await debug(page);
    assert.equal(d.frames, 6, 'five snapshots and the final grid');
    assert.equal(d.frameIndex, 5);
    const chainSrc = () => page.locator('#card-sampling img').evaluate((el: Img) => el.src);
    const finalSrc = await chainSrc();
    assert.match(await page.locator('#chain-label').innerText(), /6\/6 · final result/);
    assert.equal(await page.locator('#chain-alpha').innerText(), '—', 'the final result has no step size');
    // The slider moves through the snapshots (keyboard, as a user would).
    await page.locator('#chain-slider').focus();
    await page.keyboard.press('Home');
    await frames(page);
    assert.equal((await debug(page)).frameIndex, 0);
    assert.match(await page.locator('#chain-label').innerText(), new RegExp(`^1/6 · level 1 of ${L}$`));
    assert.notEqual(await chainSrc(), finalSrc);
    const stats = async () => ({ alpha: await page.locator('#chain-alpha').innerText(), ratio: await page.locator('#chain-ratio').innerText(), sigma: await page.locator('#chain-sigma').innerText() });
    const first = await stats();
    assert.equal(first.ratio, String(Number((1.6 - 1 / L).toPrecision(3))), 'per-snapshot ratio from the result\'s scoreNorm / noiseNorm');
    await page.keyboard.press('ArrowRight');
    await frames(page);
    assert.match(await page.locator('#chain-label').innerText(), new RegExp(`^2/6 · level ${snapLevels[1]} of ${L}$`));
    assert.equal(await page.locator('#chain-slider').getAttribute('aria-valuetext'), await page.locator('#chain-label').innerText().then((s) => s.replace('/', ' of ').replace(' · ', ': ')));
    const second = await stats();
    assert.ok(second.alpha !== first.alpha && second.ratio !== first.ratio && second.sigma !== first.sigma, `per-snapshot stats: ${JSON.stringify([first, second])}`);
    // Play: the frames advance on their own, the stats with them, and it stops on the final result.
    await page.locator('#chain-play').click();
    assert.equal((await debug(page)).playing, true);
    assert.equal(await page.locator('#chain-play').innerText(), 'Pause');
    await page.waitForFunction(() => (globalThis as unknown as BG).highScoreDashboard!.debug().frameIndex >= 3, undefined, { timeout: 10_000 });
    assert.notEqual((await stats()).alpha, second.alpha);
    await page.waitForFunction(() => !(globalThis as unknown as BG).highScoreDashboard!.debug().playing, undefined, { timeout: 10_000 });
    assert.equal((await debug(page)).frameIndex, 5, 'played to the final result');
    assert.equal(await chainSrc(), finalSrc);
    assert.equal(await page.locator('#chain-play').innerText(), 'Play');
    assert.equal((await posted()).filter((m) => m.type === 'request').length, requestsBefore, 'an image run makes no score field requests');

    // ---- buttons post actions ----
    const before = (await posted()).length;
    assert.ok(await page.locator('#btn-stop').isVisible(), 'Stop shown while live');
    await page.locator('#btn-stop').click();
    await page.locator('#btn-sample').click();
    await page.locator('#btn-showLog').click();
    const acts = (await posted()).slice(before);
    assert.deepEqual(acts, [
      { type: 'action', action: 'stop', runDir: imgDir },
      { type: 'action', action: 'sample', runDir: imgDir },
      { type: 'action', action: 'showLog', runDir: imgDir },
    ]);

    // ---- controls save state ----
    await page.locator('#log-scale').click();
    await frames(page);
    let saved = await page.evaluate(() => (globalThis as unknown as BG).__state) as P.DashboardState;
    assert.equal(saved.runDir, imgDir);
    assert.equal(saved.logScale, false);
    await page.locator('#smoothing').focus();
    await page.keyboard.press('Home');
    await page.locator('#smoothing').dispatchEvent('change');
    await frames(page);
    saved = await page.evaluate(() => (globalThis as unknown as BG).__state) as P.DashboardState;
    assert.equal(saved.smoothing, 0);
    assert.ok((await debug(page)).lossDrawn > 0);
    await page.locator('#log-scale').click();

    // ---- malformed messages are ignored ----
    const droppedBefore = (await debug(page)).dropped;
    await send(page, [
      { type: 'run', history: { runDir: 42 }, live: true },
      { type: 'notification', method: P.Progress, params: { jobId: 'j', runId: imgRunId, step: 'many', loss: 'NaN' } },
      { type: 'notification', method: 'highscore/evil', params: {} },
      { type: 'server', state: 'exploded' },
      'hello',
      null,
    ]);
    d = await debug(page);
    assert.equal(d.dropped - droppedBefore, 6);
    assert.equal(d.runDir, imgDir, 'a bad run message did not replace the run');

    // ---- server banner, then the training job ends ----
    await send(page, [{ type: 'server', state: 'restarting', message: 'The backend stopped unexpectedly and is restarting.' }]);
    assert.ok(await page.locator('#server-banner').isVisible());
    assert.match(await page.locator('#server-banner').innerText(), /restarting/);
    await send(page, [{ type: 'server', state: 'running' }]);
    assert.ok(!(await page.locator('#server-banner').isVisible()));
    await send(page, [{ type: 'notification', method: P.JobEnded, params: {
      jobId: 'job-7', runId: imgRunId, kind: 'train', state: 'finished', message: 'Training finished: 50,000 steps, loss 15.9.',
      result: { type: 'training', runDir: imgDir, step: 50_000, totalSteps: 50_000, lastLoss: 15.9 },
    } satisfies P.JobEndedParams }]);
    d = await debug(page);
    assert.equal(d.runState, 'finished');
    assert.equal(d.live, false);
    assert.equal(await page.locator('#state-badge').innerText().then((s) => s.toLowerCase()), 'finished');
    assert.ok(!(await page.locator('#btn-stop').isVisible()), 'no Stop once finished');
    assert.ok(await page.locator('#btn-resume').isVisible());
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-finished-dark.png'), fullPage: true });

    // ---- nothing blocked, nothing broken ----
    const csp = await page.evaluate(() => (globalThis as unknown as BG).__csp);
    assert.deepEqual(csp, [], `CSP violations: ${csp.join('; ')}`);
    assert.deepEqual(errors, []);
  } finally {
    await browser?.close();
    await new Promise((r) => server.close(r));
  }
});
