// The preview pages (webview/previews) in a real headless Chromium, standalone: the extension's page
// shell (dashboardHtml) with dist/webview/previews.{js,css}, served over a local HTTP server whose
// origin plays the webview's cspSource, and a fake host in the page that answers the page's requests
// from fixtures made here (and streams a job's notifications). Inpainting with a mask painted with the
// mouse, variations of two examples, the score field of toy:8gaussians with animated particles, the
// checkpoint editor and the side preview. Screenshots go to test-artifacts/ui/previews-*.png.
// Needs `node scripts/build.mjs` first.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Page } from 'playwright-core';
import { dashboardHtml, makeNonce } from '../../extension/dashboardHtml';
import { encodePng, imageGrid } from '../../server/engine/images';
import { makeSchedule } from '../../server/engine/schedule';
import { toyDistribution } from '../../server/engine/datasets/toys';
import { Rng } from '../../server/engine/random';
import { gridPoints } from '../../server/engine/scoreField';
import * as P from '../../protocol/protocol';
import { CHROMIUM, openBrowser } from '../support/browser';

const ROOT = resolve(__dirname, '../../..');
const ARTIFACTS = join(ROOT, 'test-artifacts/ui');
const DIST = join(ROOT, 'dist/webview');
const RUN = '/ws/.highscore/runs/mnist-tiny';
const TOY = '/ws/.highscore/runs/toy-8gaussians';

// ---- fixtures ----------------------------------------------------------------------------------------

/** n 28x28 ring/stroke "digits" in [0, 1]. */
function digits(n: number, seed = 1): Float32Array {
  const r = new Rng(seed);
  const out = new Float32Array(n * 784);
  for (let k = 0; k < n; k++) {
    const cx = 14 + 2 * r.normal(), cy = 14 + 2 * r.normal(), rad = 5 + 3 * r.next();
    for (let y = 0; y < 28; y++) for (let x = 0; x < 28; x++) out[k * 784 + y * 28 + x] = Math.exp(-((Math.hypot(x - cx, y - cy) - rad) ** 2) / 2);
  }
  return out;
}
/** The outline overlay canvas as the page evaluates it (the tests compile without the DOM library). */
interface OutlineCanvas {
  width: number;
  hidden: boolean;
  getContext(kind: '2d'): { getImageData(x: number, y: number, w: number, h: number): { data: ArrayLike<number> } } | null;
  parentElement: { querySelector(s: string): { naturalWidth: number } | null };
}
const grid = (d: Float32Array, n: number) => { const g = imageGrid(d, n, [28, 28, 1]); return encodePng(g.width, g.height, 1, g.data).toString('base64'); };
const png1 = (d: Float32Array) => encodePng(28, 28, 1, d).toString('base64');
const b64 = (d: Float32Array) => Buffer.from(d.buffer, d.byteOffset, d.byteLength).toString('base64');
const noisy = (d: Float32Array, s: number, seed: number) => { const r = new Rng(seed); return d.map((v) => v + s * r.normal()); };

const imgSchedule = makeSchedule(784, { sigmaMax: 30, sigmaMin: 0.01, levels: 40, stepsPerLevel: 2 }) as P.NoiseSchedule;
const toySchedule = makeSchedule(2, { sigmaMax: 4, sigmaMin: 0.1, levels: 10, stepsPerLevel: 10 }) as P.NoiseSchedule;

function config(image: boolean): P.RunConfig {
  return {
    dataSpec: image ? 'mnist' : 'toy:8gaussians', dataShape: image ? [28, 28, 1] : [2], dataKind: image ? 'image' : 'points', preset: image ? 'tiny' : 'mlp',
    network: image ? { kind: 'unet', base: 8, mults: [1, 2], blocks: 1 } : { kind: 'mlp', hidden: [128, 128, 128] }, parameters: image ? 13_425 : 33_794,
    schedule: image ? imgSchedule : toySchedule, steps: 400, batch: 16, learningRate: 1e-3, emaDecay: 0.999, gradClip: 1, seed: 0,
    checkpointEvery: 200, sampleEvery: 0, logEvery: 10, backend: 'wasm', createdAt: '2026-12-04T10:00:00.000Z',
  };
}

function fixtures() {
  const ex = digits(48, 3);
  const examples: P.DatasetExample[] = Array.from({ length: 48 }, (_, i) => ({ index: i, png: png1(ex.subarray(i * 784, (i + 1) * 784)), values: b64(ex.slice(i * 784, (i + 1) * 784)) }));
  const describe: P.CheckpointDescription = {
    runDir: RUN, name: 'mnist-tiny', config: config(true), status: { state: 'finished', step: 400, totalSteps: 400, lastLoss: 120.5, updatedAt: '2026-12-04T10:05:00.000Z' },
    checkpoints: [{ name: 'step-000200', dir: `${RUN}/checkpoints/step-000200`, step: 200, loss: 180, createdAt: null }, { name: 'step-000400', dir: `${RUN}/checkpoints/step-000400`, step: 400, loss: 120.5, createdAt: null }],
    latest: 'step-000400', schedule: imgSchedule, samples: [],
  };
  const points: P.MetricPoint[] = Array.from({ length: 40 }, (_, i) => ({ step: 10 * (i + 1), loss: 400 * Math.exp(-i / 12) + 100 }));
  const history: P.RunHistoryResult = { runDir: RUN, runId: 'mnist-tiny', config: config(true), status: describe.status, points, loggedSteps: 40, samples: { jobId: 'j', runId: 'mnist-tiny', step: 400, n: 16, shape: [28, 28, 1], file: `${RUN}/samples/step-000400.png`, png: grid(noisy(ex.subarray(0, 16 * 784), 0.15, 9), 16) } };
  // Score fields of toy:8gaussians: the true score, and a "learned" one that is close but not equal.
  const toy = toyDistribution('8gaussians');
  const bounds: P.Bounds = [-3, 3, -3, 3];
  const pts = gridPoints(bounds, 21);
  const data = Array.from(toy.sample(400, new Rng(2)), (v) => Math.round(v * 1e4) / 1e4);
  const fields: P.ScoreFieldResult[] = toySchedule.sigmas.map((sigma, i) => {
    const exact = toy.score!(pts, sigma);
    const learned = exact.map((v, k) => v * 0.9 + 0.3 * Math.sin(k));
    let err = 0, norm = 0;
    for (let k = 0; k < exact.length; k += 2) { err += Math.hypot(learned[k]! - exact[k]!, learned[k + 1]! - exact[k + 1]!); norm += Math.hypot(exact[k]!, exact[k + 1]!); }
    return {
      runDir: TOY, checkpoint: 'step-002000', step: 2000, dataSpec: 'toy:8gaussians', level: i + 1, levels: 10, sigma, grid: 21, bounds,
      learned: Array.from(learned), true: Array.from(exact), meanError: err / 441, meanTrueNorm: norm / 441, data, schedule: toySchedule,
    };
  });
  // Particles: from wide noise (level 1) to the data (level 10).
  const start = new Rng(5);
  const init = Array.from({ length: 600 }, () => 3 * start.normal());
  const target = Array.from(toy.sample(300, new Rng(6)));
  const particles: P.PreviewResult = {
    runDir: TOY, checkpoint: 'step-002000', step: 2000, loss: 1.1, dataSpec: 'toy:8gaussians', n: 300, shape: [2], dataKind: 'points', stepsPerLevel: 10,
    seconds: 0.8, cached: false, points: target,
    snapshots: toySchedule.sigmas.map((sigma, i) => ({ level: i + 1, sigma, alpha: 0.01 * (sigma / 0.1) ** 2, scoreNorm: 1, noiseNorm: 1, points: init.map((v, k) => v + (target[k]! - v) * ((i + 1) / 10) ** 0.6) })),
  };
  const preview: P.PreviewResult = {
    runDir: RUN, checkpoint: 'step-000400', step: 400, loss: 120.5, dataSpec: 'mnist', n: 16, shape: [28, 28, 1], dataKind: 'image', stepsPerLevel: 1,
    seconds: 2.4, cached: false, snapshots: [], png: grid(noisy(ex.subarray(16 * 784, 32 * 784), 0.1, 4), 16),
  };
  // A sampling chain for inpainting/variations: 5 snapshots then the result (input first).
  const L = imgSchedule.sigmas.length;
  const chainOf = (first: Float32Array, n: number, seed: number) => {
    const clean = new Float32Array(784 * n);
    for (let k = 0; k < n; k++) clean.set(ex.subarray(((seed + k) % 48) * 784, ((seed + k) % 48 + 1) * 784), k * 784);
    const snaps: P.SnapshotResult[] = [8, 16, 24, 32, 40].map((level) => {
      const sigma = imgSchedule.sigmas[level - 1]!;
      return { level, sigma, alpha: imgSchedule.eps * (sigma / imgSchedule.sigmas[L - 1]!) ** 2, scoreNorm: 0.5 * sigma * 28, noiseNorm: sigma * 28, png: grid(noisy(clean, Math.min(sigma, 1.5), level), n) };
    });
    const all = new Float32Array(784 * (n + 1));
    all.set(first, 0);
    all.set(clean, 784);
    return { snaps, final: grid(all, n + 1) };
  };
  const masked = ex.slice(0, 784).map((v, i) => (i % 28 < 14 ? v : 0.5));
  const inpaint = chainOf(masked, 4, 10);
  const vary = chainOf(ex.slice(0, 784), 8, 20);
  return { examples, describe, history, fields, particles, preview, inpaint, vary, L };
}

type Fixtures = ReturnType<typeof fixtures>;

/** The fake host, run in the page before its script: answers requests from the fixtures. */
function fakeHost(f: Fixtures & { RUN: string; TOY: string; M: Record<string, string> }): void {
  type W = { __posted: unknown[]; __state: unknown; __csp: string[]; acquireVsCodeApi?: () => unknown; postMessage(m: unknown, o: string): void; setTimeout(cb: () => void, ms: number): number; document: { addEventListener(t: string, cb: (e: { violatedDirective: string; blockedURI: string }) => void): void } };
  const w = globalThis as unknown as W;
  w.__posted = [];
  w.__csp = [];
  w.document.addEventListener('securitypolicyviolation', (e) => w.__csp.push(`${e.violatedDirective} ${e.blockedURI}`));
  const send = (m: unknown, delay = 5) => w.setTimeout(() => w.postMessage(m, '*'), delay);
  let job = 0;
  const runJob = (kind: 'inpaint' | 'vary', chain: { snaps: { level: number; sigma: number; alpha?: number; scoreNorm?: number | null; noiseNorm?: number | null; png?: string }[]; final: string }, n: number) => {
    const jobId = `job-${++job}`;
    chain.snaps.forEach((s, i) => send({
      type: 'notification', method: f.M.SamplingProgress,
      params: { jobId, runId: 'mnist-tiny', level: s.level, levels: f.L, sigma: s.sigma, alpha: s.alpha, done: s.level * 2, total: f.L * 2 + 1, scoreNorm: s.scoreNorm, noiseNorm: s.noiseNorm, snapshot: { png: s.png } },
    }, 60 + 60 * i));
    send({
      type: 'notification', method: f.M.JobEnded,
      params: { jobId, runId: 'mnist-tiny', kind, state: 'finished', message: 'done', result: { type: 'samples', file: '/x.png', n: n + 1, shape: [28, 28, 1], dataKind: 'image', first: kind === 'inpaint' ? 'masked input' : 'source example', snapshots: chain.snaps, seconds: 3.2, png: chain.final } },
    }, 60 + 60 * chain.snaps.length + 40);
    return { jobId };
  };
  w.acquireVsCodeApi = () => ({
    getState: () => w.__state,
    setState: (s: unknown) => { w.__state = s; },
    postMessage: (raw: unknown) => {
      const m = JSON.parse(JSON.stringify(raw)) as { type: string; id: number; method: string; params: Record<string, unknown> };
      w.__posted.push(m);
      if (m.type !== 'request') return;
      const p = m.params;
      let result: unknown;
      switch (m.method) {
        case f.M.DatasetExamples: {
          const off = (p.offset as number) ?? 0;
          result = { data: 'mnist', name: 'MNIST', kind: 'image', shape: [28, 28, 1], size: 48, offset: off, examples: f.examples.slice(off, off + ((p.count as number) ?? 16)) };
          break;
        }
        case f.M.DescribeCheckpoint: result = f.describe; break;
        case f.M.RunHistory: result = f.history; break;
        case f.M.ScoreField: result = f.fields[(p.level as number) - 1]; break;
        case f.M.Preview: result = p.runDir === f.TOY ? f.particles : { ...f.preview, cached: (p.seed as number) > 1 }; break;
        case f.M.Inpaint: result = runJob('inpaint', f.inpaint, p.n as number); break;
        case f.M.Vary: result = runJob('vary', f.vary, p.n as number); break;
        case f.M.CancelJob: result = { jobId: p.jobId, kind: 'inpaint' }; break;
      }
      send({ type: 'response', id: m.id, result }, 20);
    },
  });
}

// ---- page helpers -------------------------------------------------------------------------------------

interface PW {
  highScorePreview?: { page: { debug(): Record<string, unknown> } | null; host: { dropped: number } };
  __posted: { type: string }[];
  __csp: string[];
  postMessage(m: unknown, o: string): void;
}
const dbg = <T = Record<string, unknown>>(page: Page) => page.evaluate(() => (globalThis as unknown as PW).highScorePreview!.page!.debug()) as Promise<T>;
const posted = (page: Page) => page.evaluate(() => (globalThis as unknown as PW).__posted);

async function openPage(page: Page, origin: string, init: P.PreviewPageInit): Promise<void> {
  await page.goto(`${origin}/`);
  await page.waitForFunction(() => (globalThis as unknown as PW).highScorePreview !== undefined);
  await page.evaluate((m) => (globalThis as unknown as PW).postMessage(m, '*'), { type: 'init', init } satisfies P.ToPreviewPage);
  await page.waitForFunction(() => (globalThis as unknown as PW).highScorePreview?.page !== null);
}

// ---- the test -----------------------------------------------------------------------------------------

test('preview pages in headless Chromium: inpainting, variations, score field, checkpoint editor, side preview', { timeout: 240_000 }, async (t) => {
  if (!existsSync(CHROMIUM)) return t.skip(`${CHROMIUM} is missing (apt-get install chromium)`);
  assert.ok(existsSync(join(DIST, 'previews.js')) && existsSync(join(DIST, 'previews.css')), 'dist/webview/previews.* missing: run node scripts/build.mjs');
  mkdirSync(ARTIFACTS, { recursive: true });
  let html = '';
  const server: Server = createServer((req, res) => {
    const url = (req.url ?? '/').split('?')[0];
    if (url === '/') { res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }); res.end(html); return; }
    const file = url === '/previews.js' || url === '/previews.css' ? url.slice(1) : null;
    if (!file) { res.writeHead(url === '/favicon.ico' ? 204 : 404); res.end(); return; }
    res.writeHead(200, { 'content-type': file.endsWith('.js') ? 'text/javascript' : 'text/css' });
    res.end(readFileSync(join(DIST, file)));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  html = dashboardHtml({ cspSource: origin, nonce: makeNonce(), scriptUri: `${origin}/previews.js`, styleUri: `${origin}/previews.css`, title: 'High Score' });
  const browser = await openBrowser({ width: 1200, height: 900 });
  try {
    const page = browser.page;
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
    const M = { DatasetExamples: P.DatasetExamples, DescribeCheckpoint: P.DescribeCheckpoint, RunHistory: P.RunHistory, ScoreField: P.ScoreField, Preview: P.Preview, Inpaint: P.Inpaint, Vary: P.Vary, CancelJob: P.CancelJob, SamplingProgress: P.SamplingProgress, JobEnded: P.JobEnded };
    await page.addInitScript(fakeHost, { ...fixtures(), RUN, TOY, M });
    await page.evaluate(() => undefined);
    await page.emulateMedia({ colorScheme: 'dark' });
    const dark = async () => page.evaluate(() => {
      const d = (globalThis as unknown as { document: { body: { className: string }; documentElement: { style: { setProperty(k: string, v: string): void } } } }).document;
      d.body.className = 'vscode-dark';
      for (const [k, v] of Object.entries({ '--vscode-editor-background': '#1f1f1f', '--vscode-editor-foreground': '#cccccc', '--vscode-foreground': '#cccccc', '--vscode-descriptionForeground': '#9d9d9d', '--vscode-panel-border': '#2b2b2b', '--vscode-button-background': '#0078d4', '--vscode-button-foreground': '#ffffff', '--vscode-button-secondaryBackground': '#313131', '--vscode-button-secondaryForeground': '#cccccc', '--vscode-focusBorder': '#0078d4', '--vscode-charts-blue': '#3794ff', '--vscode-charts-orange': '#d18616', '--vscode-charts-green': '#89d185', '--vscode-font-family': 'sans-serif', '--vscode-font-size': '13px' })) d.documentElement.style.setProperty(k, v);
    });

    // ---- inpainting: pick an example, preset, paint with the mouse, run, scrub, save ----
    await openPage(page, origin, { page: 'inpaint', runDir: RUN });
    await dark();
    await page.locator('.strip-item').first().waitFor();
    await page.locator('.strip-item[data-index="3"]').click();
    await page.locator('#preset-left').click();
    let d = await dbg<{ painted: number; hasImage: boolean }>(page);
    assert.ok(d.hasImage);
    assert.equal(d.painted, 14 * 28, 'left half to fill');
    await page.locator('#preset-clear').click();
    const box = (await page.locator('#mask-canvas').boundingBox())!;
    // A stroke across the middle, then erase a bit of it.
    await page.mouse.move(box.x + box.width * 0.2, box.y + box.height * 0.5);
    await page.mouse.down();
    for (let i = 0; i <= 10; i++) await page.mouse.move(box.x + box.width * (0.2 + 0.06 * i), box.y + box.height * 0.5);
    await page.mouse.up();
    const afterPaint = (await dbg<{ painted: number }>(page)).painted;
    assert.ok(afterPaint > 20 && afterPaint < 200, `painted ${afterPaint} pixels with the brush`);
    await page.locator('#mode-erase').click();
    await page.mouse.move(box.x + box.width * 0.5, box.y + box.height * 0.5);
    await page.mouse.down();
    await page.mouse.up();
    const afterErase = (await dbg<{ painted: number }>(page)).painted;
    assert.ok(afterErase < afterPaint, 'the eraser gives pixels back');
    await page.locator('#mode-paint').click();
    await page.locator('#run').click();
    await page.waitForFunction(() => ((globalThis as unknown as PW).highScorePreview!.page!.debug() as { chain: { frames: number } }).chain.frames >= 3);
    await page.screenshot({ path: join(ARTIFACTS, 'previews-inpaint-running.png'), fullPage: true });
    await page.waitForFunction(() => ((globalThis as unknown as PW).highScorePreview!.page!.debug() as { chain: { frames: number } }).chain.frames === 6);
    const req = (await posted(page)).find((m) => (m as { method?: string }).method === P.Inpaint) as unknown as { params: P.InpaintParams };
    assert.equal(req.params.runDir, RUN);
    assert.equal(typeof req.params.mask, 'string');
    assert.equal(Buffer.from(req.params.mask as string, 'base64').length, 784 * 4, 'the painted mask goes as float32 values');
    assert.equal(req.params.snapshots, 10);
    assert.match(await page.locator('#inpaint-chain-label').innerText(), /6\/6 · final result/);
    // The painted region is outlined in each tile of the final grid (3 x 2 tiles: input + 4 completions,
    // the sixth empty): lines in the first tile, none in the empty one.
    const outline = await page.locator('#inpaint-chain .sample-outline').evaluate((el) => {
      const c = el as unknown as OutlineCanvas;
      const r = c.width / c.parentElement.querySelector('img')!.naturalWidth;
      const painted = (x0: number, y0: number) => {
        const d = c.getContext('2d')!.getImageData(Math.round((x0 + 1) * r), Math.round((y0 + 1) * r), Math.round(26 * r), Math.round(26 * r)).data;
        let n = 0;
        for (let i = 3; i < d.length; i += 4) if (d[i]! > 0) n++;
        return n;
      };
      return { hidden: c.hidden, first: painted(2, 2), empty: painted(62, 32) };
    });
    assert.equal(outline.hidden, false, 'the outline overlay is shown');
    assert.ok(outline.first > 0, 'the unknown region is outlined in the first tile');
    assert.equal(outline.empty, 0, 'the empty tile has no outline');
    await page.locator('#inpaint-chain-slider').focus();
    await page.keyboard.press('Home');
    assert.match(await page.locator('#inpaint-chain-label').innerText(), /1\/6 · level 8 of 40/);
    assert.notEqual(await page.locator('#inpaint-chain-ratio').innerText(), '—', 'the score/noise ratio per snapshot');
    await page.locator('#inpaint-chain-play').click();
    await page.waitForFunction(() => ((globalThis as unknown as PW).highScorePreview!.page!.debug() as { chain: { index: number } }).chain.index >= 2);
    await page.locator('#save').click();
    assert.ok((await posted(page)).some((m) => m.type === 'savePng'), 'Save PNG posts the result');
    await page.screenshot({ path: join(ARTIFACTS, 'previews-inpaint.png'), fullPage: true });

    // ---- variations: two examples, a start level, two grids ----
    await openPage(page, origin, { page: 'vary', runDir: RUN, index: 5 });
    await dark();
    await page.locator('.strip-item[data-index="5"][aria-selected="true"]').waitFor();
    await page.locator('.strip-item[data-index="7"]').click();
    await page.locator('#level').focus();
    await page.keyboard.press('End');
    assert.match(await page.locator('#level-note').innerText(), /close variations/);
    await page.locator('#run').click();
    await page.locator('.result-grid').nth(1).waitFor({ timeout: 20_000 });
    const vd = await dbg<{ picked: number[]; results: number; level: number }>(page);
    assert.deepEqual(vd.picked, [5, 7]);
    assert.equal(vd.level, 40);
    await page.waitForFunction(() => ((globalThis as unknown as PW).highScorePreview!.page!.debug() as { results: number }).results === 2);
    await page.screenshot({ path: join(ARTIFACTS, 'previews-vary.png'), fullPage: true });

    // ---- score field of toy:8gaussians ----
    await openPage(page, origin, { page: 'field', runDir: TOY });
    await dark();
    await page.waitForFunction(() => ((globalThis as unknown as PW).highScorePreview!.page!.debug() as { fields: number; particles: number }).fields === 10);
    let fd = await dbg<{ level: number; meanError: number; particles: number }>(page);
    assert.equal(fd.level, 10, 'starts at the smallest level');
    assert.equal(fd.particles, 300);
    assert.match(await page.locator('#field-stats').innerText(), /Mean \|learned − true\| = /);
    await page.locator('#field-play:not([disabled])').click();
    await page.waitForFunction(() => ((globalThis as unknown as PW).highScorePreview!.page!.debug() as { playing: boolean }).playing, undefined, { timeout: 5000 })
      .catch(async () => assert.fail(`Play did not start the animation: ${JSON.stringify(await dbg(page))}`));
    await page.waitForFunction(() => ((globalThis as unknown as PW).highScorePreview!.page!.debug() as { t: number }).t > 1.5);
    fd = await dbg<{ level: number; meanError: number; particles: number }>(page);
    assert.ok(fd.level >= 2 && fd.level <= 6, `the arrows follow the particles' level: ${JSON.stringify(fd)}`);
    await page.screenshot({ path: join(ARTIFACTS, 'previews-field-playing.png'), fullPage: true });
    await page.locator('#field-play').click();
    await page.locator('#field-level').focus();
    await page.keyboard.press('End');
    await page.waitForTimeout(100);
    await page.screenshot({ path: join(ARTIFACTS, 'previews-field.png'), fullPage: true });

    // ---- checkpoint editor ----
    await openPage(page, origin, { page: 'checkpoint', runDir: RUN, source: 'step-000400' });
    await dark();
    await page.waitForFunction(() => ((globalThis as unknown as PW).highScorePreview!.page!.debug() as { loaded: boolean }).loaded);
    assert.match(await page.locator('#config').innerText(), /mnist \[28×28×1\]/);
    await page.locator('#sample-more').click();
    await page.waitForFunction(() => ((globalThis as unknown as PW).highScorePreview!.page!.debug() as { previews: number }).previews === 1);
    await page.locator('#open-vary').click();
    assert.ok((await posted(page)).some((m) => m.type === 'open'), 'Vary… asks the extension to open the panel');
    await page.waitForTimeout(300);
    await page.screenshot({ path: join(ARTIFACTS, 'previews-checkpoint.png'), fullPage: true });

    // ---- side preview ----
    await openPage(page, origin, { page: 'preview', runDir: RUN });
    await dark();
    await page.evaluate((m) => (globalThis as unknown as PW).postMessage(m, '*'), { type: 'preview', busy: true, source: 'scoreModel.ts → mnist-tiny' } satisfies P.ToPreviewPage);
    await page.waitForFunction(() => ((globalThis as unknown as PW).highScorePreview!.page!.debug() as { busy: boolean }).busy);
    const fx = fixtures();
    await page.evaluate((m) => (globalThis as unknown as PW).postMessage(m, '*'), { type: 'preview', busy: false, result: fx.preview } satisfies P.ToPreviewPage);
    await page.waitForFunction(() => ((globalThis as unknown as PW).highScorePreview!.page!.debug() as { step: number | null }).step === 400);
    await page.waitForTimeout(200);
    await page.screenshot({ path: join(ARTIFACTS, 'previews-panel.png'), fullPage: true });

    assert.deepEqual(await page.evaluate(() => (globalThis as unknown as PW).__csp), [], 'no CSP violations');
    assert.equal(await page.evaluate(() => (globalThis as unknown as PW).highScorePreview!.host.dropped), 0, 'no message failed its guard');
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
    server.close();
  }
});
