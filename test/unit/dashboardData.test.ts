// The dashboard's pure data modules (webview/dashboard/series.ts), its page shell and its messages.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  LossSeries, MinMaxDownsampler, PerLevelHistory, ema, formatCount, formatDuration, formatNumber, perLevelSeries,
  pointBox, positiveOrNull, schedulePlots,
} from '../../webview/dashboard/series';
import { dashboardCsp, dashboardHtml, makeNonce } from '../../extension/dashboardHtml';
import * as P from '../../protocol/protocol';

/** A 50k-point DSM-like curve: decaying, noisy, with a few spikes. */
function curve(n: number): { steps: number[]; loss: number[]; spikes: number[] } {
  let seed = 12345;
  const rand = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
  const steps: number[] = [];
  const loss: number[] = [];
  const spikes = [777, 12_345, 33_333, 49_001];
  for (let i = 0; i < n; i++) {
    steps.push((i + 1) * 10);
    let v = 15 + 380 * Math.exp(-i / 800) + 3 * rand();
    if (spikes.includes(i)) v = 5000 + i / 100;
    loss.push(v);
  }
  return { steps, loss, spikes };
}

test('min/max downsampling of a 50k-point curve is bounded, keeps the ends, every spike and the minimum', () => {
  const { steps, loss, spikes } = curve(50_000);
  const s = new LossSeries(0.6, 2000);
  for (let i = 0; i < steps.length; i++) s.append(steps[i]!, loss[i]!);
  const v = s.view();
  assert.equal(s.length, 50_000);
  assert.ok(v.x.length <= 2000, `drawn ${v.x.length} points, want <= 2000`);
  assert.ok(v.x.length >= 1000, `drawn ${v.x.length} points, want the budget mostly used`);
  assert.equal(v.x[0], steps[0]);
  assert.equal(v.raw[0], loss[0]);
  assert.equal(v.x[v.x.length - 1], steps[steps.length - 1]);
  assert.equal(v.raw[v.raw.length - 1], loss[loss.length - 1]);
  for (let j = 1; j < v.x.length; j++) assert.ok(v.x[j]! > v.x[j - 1]!, 'x ascends strictly');
  for (const i of spikes) assert.ok(v.x.includes(steps[i]!), `spike at step ${steps[i]} survives`);
  assert.equal(Math.max(...v.raw), Math.max(...loss));
  assert.equal(Math.min(...v.raw), Math.min(...loss));
  assert.equal(s.min(), Math.min(...loss));
  // The envelope survives: in every 5% window, the drawn max within one bucket (<= 128 points) of it
  // reaches the window's true max, and the drawn min goes down to its true min.
  const W = 2500;
  const margin = 128 * 10;
  for (let k = 0; k + W <= steps.length; k += W) {
    const near = v.x.map((_x, j) => j).filter((j) => v.x[j]! >= steps[k]! - margin && v.x[j]! <= steps[k + W - 1]! + margin);
    const win = loss.slice(k, k + W);
    assert.ok(Math.max(...near.map((j) => v.raw[j]!)) >= Math.max(...win), `window ${k}: max kept`);
    assert.ok(Math.min(...near.map((j) => v.raw[j]!)) <= Math.min(...win), `window ${k}: min kept`);
  }
  // Every drawn point is a real one.
  const real = new Map(steps.map((st, i) => [st, loss[i]!]));
  v.x.forEach((x, j) => assert.equal(real.get(x), v.raw[j]));
});

test('the downsampler stays bounded for any length and keeps a monotone series monotone', () => {
  const vals: number[] = [];
  const ds = new MinMaxDownsampler({ get: (i) => vals[i]! }, 100);
  for (let n = 1; n <= 5000; n++) {
    vals.push(n);
    ds.add();
    const idx = ds.indices();
    assert.ok(idx.length <= 100, `n=${n}: ${idx.length} > 100`);
    assert.equal(idx[0], 0);
    assert.equal(idx[idx.length - 1], n - 1);
  }
  assert.throws(() => new MinMaxDownsampler({ get: () => 0 }, 3), RangeError);
});

test('EMA smoothing: debiased, identity at 0, flat on a constant, incremental equals batch', () => {
  assert.deepEqual(ema([3, 1, 4, 1, 5], 0), [3, 1, 4, 1, 5]);
  for (const v of ema([2, 2, 2, 2], 0.9)) assert.ok(Math.abs(v - 2) < 1e-12, 'a constant stays constant (debiased)');
  const xs = [10, 0, 10, 0, 10, 0];
  const sm = ema(xs, 0.5);
  assert.equal(sm[0], 10);
  assert.ok(Math.max(...sm.slice(2)) < 10 && Math.min(...sm.slice(2)) > 0, 'smoothed stays inside the range');
  // weight clamped
  assert.deepEqual(ema([1, 2], -1), [1, 2]);
  const s = new LossSeries(0.5, 100);
  xs.forEach((v, i) => s.append(i, v));
  const last = s.last()!;
  assert.ok(Math.abs(last.smooth - sm[sm.length - 1]!) < 1e-12);
  // Re-smoothing recomputes from every point.
  s.setSmoothing(0);
  assert.equal(s.last()!.smooth, 0);
  s.setSmoothing(0.9);
  const want = ema(xs, 0.9);
  assert.ok(Math.abs(s.last()!.smooth - want[want.length - 1]!) < 1e-12);
});

test('a step at or before the last one (a resume) drops the later points', () => {
  const s = new LossSeries(0, 100);
  for (let i = 1; i <= 10; i++) s.append(i * 10, i);
  s.append(60, 0.5);
  assert.equal(s.length, 6);
  assert.deepEqual(s.view().x, [10, 20, 30, 40, 50, 60]);
  assert.equal(s.last()!.loss, 0.5);
  assert.equal(s.min(), 0.5);
  assert.equal(s.append(70, NaN), false);
  assert.equal(s.length, 6);
});

test('per-level series: levels 1..L, or sigmas ascending for a log axis; history thinned and picked evenly', () => {
  const sigmas = [50, 10, 2, 0.4];
  const h = new PerLevelHistory(8);
  for (let step = 10; step <= 1000; step += 10) h.add(step, [4, 3, null, step]);
  assert.ok(h.length <= 8);
  assert.equal(h.latest()!.step, 1000);
  const picked = h.pick(3);
  assert.equal(picked.length, 3);
  assert.equal(picked[picked.length - 1]!.step, 1000);
  assert.ok(picked[0]!.step < picked[1]!.step);

  const byLevel = perLevelSeries([h.latest()!], sigmas, 'level');
  assert.equal(byLevel.axis, 'level');
  assert.deepEqual(byLevel.x, [1, 2, 3, 4]);
  assert.deepEqual(byLevel.ys[0], [4, 3, null, 1000]);

  const bySigma = perLevelSeries([h.latest()!], sigmas, 'sigma');
  assert.equal(bySigma.axis, 'sigma');
  assert.deepEqual(bySigma.x, [0.4, 2, 10, 50]);
  assert.deepEqual(bySigma.ys[0], [1000, null, 3, 4]);

  // Mismatched sigmas: fall back to levels.
  assert.equal(perLevelSeries([h.latest()!], [1, 0.1], 'sigma').axis, 'level');
  // No data yet.
  assert.deepEqual(perLevelSeries([], null, 'level').x, []);
  assert.deepEqual(positiveOrNull([1, 0, -2, null, 3]), [1, null, null, null, 3]);
});

test('schedule plots: sorted curves, markers at the chosen gamma and eps', () => {
  const plots = schedulePlots({
    sigmas: [10, 3, 1], D: 784, gamma: 3.16, stepsPerLevel: 5, eps: 2e-5,
    diagnostics: {
      overlap: 0.51, stepObjective: 1.02, gammaRule: 1.08,
      objectiveCurve: { eps: [1e-4, 1e-6, 1e-5], value: [2, 1.1, 1.0] },
      overlapCurve: { gamma: [1.2, 1, 1.1], value: [0.2, 1, 0.5] },
    },
  });
  assert.deepEqual(plots.sigmas, { x: [1, 2, 3], y: [10, 3, 1] });
  assert.deepEqual(plots.overlap.x, [1, 1.1, 1.2]);
  assert.deepEqual(plots.overlap.y, [1, 0.5, 0.2]);
  assert.deepEqual(plots.objective.x, [1e-6, 1e-5, 1e-4]);
  assert.deepEqual(plots.objective.y, [1.1, 1.0, 2]);
  assert.equal(plots.overlap.gammaRule, 1.08);
  assert.equal(plots.objective.eps, 2e-5);
});

test('point box: square, robust to an outlier, counts what it leaves out', () => {
  const pts: number[] = [];
  for (let i = 0; i < 1000; i++) pts.push(Math.cos(i) * 2, Math.sin(i));
  pts.push(1e6, 1e6);
  const b = pointBox(pts);
  assert.equal(b.n, 1001);
  assert.ok(b.r > 1.9 && b.r < 3, `r = ${b.r}`);
  assert.equal(b.outside, 1);
  assert.deepEqual(pointBox([]), { cx: 0, cy: 0, r: 1, outside: 0, n: 0 });
});

test('dashboard messages: backend requests and their answers use the preview pages\' relay, whitelist kept', () => {
  const req = { type: 'request', id: 3, method: P.ScoreField, params: { runDir: '/r', level: 1, grid: 21 } };
  assert.ok(P.isFromDashboard(req));
  assert.ok(P.isFromPreviewPage(req), 'the same message shape as a preview page\'s');
  assert.ok(!P.isFromDashboard({ ...req, method: P.StartTraining }), 'a request outside PAGE_REQUESTS is refused');
  assert.ok(!P.isFromDashboard({ ...req, id: -1 }));
  assert.ok(!P.isFromDashboard({ ...req, params: 'x' }));
  assert.ok(P.isToDashboard({ type: 'response', id: 3, result: { anything: true } }), 'results are checked by the page (PAGE_RESULT_GUARDS)');
  assert.ok(P.isToDashboard({ type: 'response', id: 3, error: 'no checkpoint yet' }));
  assert.ok(!P.isToDashboard({ type: 'response', id: 'x' }));
  assert.ok(!P.isToDashboard({ type: 'response', id: 3, error: 42 }));
});

test('formatting', () => {
  assert.equal(formatNumber(0.012345), '0.01235');
  assert.equal(formatNumber(null), '—');
  assert.equal(formatNumber(2e-5, 3), '2.0e-5');
  assert.equal(formatCount(50000), '50,000');
  assert.equal(formatDuration(42), '42s');
  assert.equal(formatDuration(185), '3m 05s');
  assert.equal(formatDuration(3720), '1h 02m');
  assert.equal(formatDuration(null), '—');
});

test('page shell: strict CSP with the nonce, the stylesheet, a root and the nonce’d script; escaping', () => {
  const nonce = makeNonce();
  assert.match(nonce, /^[A-Za-z0-9]{32}$/);
  assert.notEqual(makeNonce(), nonce);
  assert.match(makeNonce(() => 0.5), /^[A-Za-z0-9]{32}$/);
  const html = dashboardHtml({ cspSource: 'https://x.vscode-cdn.net', nonce, scriptUri: 'https://x/a.js?x=1&y=2', styleUri: 'https://x/a.css', title: 'A <b>' });
  assert.ok(html.includes(`script-src 'nonce-${nonce}'`));
  assert.ok(html.includes(`default-src 'none'`));
  assert.ok(html.includes(`<script nonce="${nonce}" src="https://x/a.js?x=1&amp;y=2"></script>`));
  assert.ok(html.includes('<link rel="stylesheet" href="https://x/a.css">'));
  assert.ok(html.includes('<div id="root"'));
  assert.ok(html.includes('<title>A &lt;b&gt;</title>'));
  assert.ok(!/unsafe-eval/.test(html));
  assert.equal(dashboardCsp('S', 'N'.repeat(16)).split(';').filter(Boolean).length, 7);
  assert.throws(() => dashboardHtml({ cspSource: 's', nonce: "x' 'unsafe-inline", scriptUri: 'a', styleUri: 'b' }));
});
