/**
 * The CLI end to end, as a user runs it (`npx highscore ...`), on real datasets. The toy-quality tests
 * train for a few minutes each.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import { PNG } from 'pngjs';
import { loadDataset } from '../../server/engine/datasets';
import { modeWeights, slicedWasserstein } from '../../server/engine/quality';
import { Rng } from '../../server/engine/random';
import { lastJson, runCli, tmpDir } from '../support/helpers';

function readCsv(file: string): Float32Array {
  const rows = fs.readFileSync(file, 'utf8').trim().split('\n').slice(1);
  return Float32Array.from(rows.flatMap((r) => r.split(',').map(Number)));
}

async function trainAndSample(spec: string, steps: number, n: number): Promise<Float32Array> {
  const dir = path.join(tmpDir(), 'run');
  const t = await runCli(['train', '--data', spec, '--out', dir, '--steps', String(steps), '--seed', '1', '--json']);
  assert.equal(t.code, 0, t.stderr);
  const result = lastJson<{ type: string; state: string }>(t.stdout);
  assert.equal(result.type, 'result');
  assert.equal(result.state, 'finished');
  const out = path.join(dir, 'samples.csv');
  const s = await runCli(['sample', '--run', dir, '--n', String(n), '--out', out, '--seed', '2', '--json']);
  assert.equal(s.code, 0, s.stderr);
  assert.equal(lastJson<{ n: number }>(s.stdout).n, n);
  return readCsv(out);
}

test('toy:mixture trained from the CLI recovers the 0.8/0.2 mode weights within 0.05', async () => {
  const ds = await loadDataset('toy:mixture');
  const samples = await trainAndSample('toy:mixture', 4000, 2000);
  const comps = ds.toy!.components!;
  const w = modeWeights(samples, comps.means);
  comps.weights.forEach((expected, k) => assert.ok(Math.abs(w[k]! - expected) < 0.05, `mode ${k}: ${w[k]} vs ${expected}`));
});

for (const spec of ['toy:8gaussians', 'toy:swissroll']) {
  test(`${spec} trained from the CLI is within 1.5x of the data-vs-data sliced Wasserstein distance`, async () => {
    const ds = await loadDataset(spec);
    const n = 2000;
    const samples = await trainAndSample(spec, 4000, n);
    const fresh = ds.toy!.sample(n, new Rng(1001));
    const fresh2 = ds.toy!.sample(n, new Rng(2002));
    const floor = slicedWasserstein(fresh2, fresh);
    const ours = slicedWasserstein(samples, fresh);
    assert.ok(ours <= 1.5 * floor, `SW ${ours.toFixed(4)} vs data-vs-data ${floor.toFixed(4)} (${(ours / floor).toFixed(2)}x)`);
  });
}

test('train, info, sample, inpaint and vary on MNIST images write what they say', async () => {
  const dir = path.join(tmpDir(), 'run');
  const t = await runCli(['train', '--data', 'mnist', '--out', dir, '--preset', 'tiny', '--steps', '6', '--batch', '4', '--json']);
  assert.equal(t.code, 0, t.stderr);
  const info = await runCli(['info', dir, '--json']);
  assert.equal(info.code, 0, info.stderr);
  const i = lastJson<{ state: string; step: number; data: string; levels: number; checkpoints: string[]; lastLoss: number }>(info.stdout);
  assert.equal(i.state, 'finished');
  assert.equal(i.step, 6);
  assert.equal(i.data, 'mnist');
  assert.ok(i.levels > 80);
  assert.ok(i.checkpoints.includes('step-000006'));
  assert.ok(i.lastLoss > 0);
  const text = await runCli(['info', dir]);
  assert.match(text.stdout, /steps\s+6 \/ 6/);

  const grid = path.join(dir, 'grid.png');
  const s = await runCli(['sample', '--run', dir, '--n', '4', '--out', grid, '--steps-per-level', '1', '--json']);
  assert.equal(s.code, 0, s.stderr);
  const png = PNG.sync.read(fs.readFileSync(grid));
  assert.ok(png.width > 56 && png.height > 56);

  // Inpainting: a real MNIST digit as the image, the left half known.
  const ds = await loadDataset('mnist', { limit: 1 });
  const img = new PNG({ width: 28, height: 28 });
  const mask = new PNG({ width: 28, height: 28 });
  for (let p = 0; p < 784; p++) {
    const v = Math.round(ds.data[p]! * 255);
    img.data.set([v, v, v, 255], p * 4);
    const m = p % 28 < 14 ? 255 : 0;
    mask.data.set([m, m, m, 255], p * 4);
  }
  const imgFile = path.join(dir, 'digit.png');
  const maskFile = path.join(dir, 'mask.png');
  fs.writeFileSync(imgFile, PNG.sync.write(img));
  fs.writeFileSync(maskFile, PNG.sync.write(mask));
  const out = path.join(dir, 'inpaint.png');
  const ip = await runCli(['inpaint', '--run', dir, '--image', imgFile, '--mask', maskFile, '--out', out, '--n', '3', '--json']);
  assert.equal(ip.code, 0, ip.stderr);
  assert.equal(lastJson<{ knownPixels: number }>(ip.stdout).knownPixels, 392);
  assert.ok(fs.existsSync(out));

  const v = await runCli(['vary', '--run', dir, '--index', '0', '--level', '90', '--n', '3', '--out', path.join(dir, 'vary.png'), '--json']);
  assert.equal(v.code, 0, v.stderr);
  assert.equal(lastJson<{ level: number }>(v.stdout).level, 90);

  // Bad inputs to the same run.
  const bigLevel = await runCli(['vary', '--run', dir, '--index', '0', '--level', '999', '--n', '2', '--out', path.join(dir, 'x.png')]);
  assert.notEqual(bigLevel.code, 0);
  assert.match(bigLevel.stderr, /--level must be between 1 and \d+/);
  const wrongSize = path.join(dir, 'small.png');
  fs.writeFileSync(wrongSize, PNG.sync.write(new PNG({ width: 10, height: 10 })));
  const bad = await runCli(['inpaint', '--run', dir, '--image', wrongSize, '--mask', maskFile, '--out', out]);
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /is 10x10; this run's images are 28x28/);
  const allWhite = new PNG({ width: 28, height: 28 });
  allWhite.data.fill(255);
  fs.writeFileSync(maskFile, PNG.sync.write(allWhite));
  const white = await runCli(['inpaint', '--run', dir, '--image', imgFile, '--mask', maskFile, '--out', out]);
  assert.match(white.stderr, /all white/);
});

test('bad command lines get a message that names the problem and the fix', async () => {
  const cases: [string[], RegExp][] = [
    [['frobnicate'], /Unknown command 'frobnicate'/],
    [['train', '--data', 'toy:mixture'], /--out is required/],
    [['train', '--data', 'toy:mixture', '--out', path.join(tmpDir(), 'r'), '--steps', 'ten'], /--steps must be a whole number/],
    [['train', '--data', 'toy:mixture', '--out', path.join(tmpDir(), 'r'), '--batch', '0'], /--batch must be a whole number >= 1/],
    [['train', '--data', 'toy:mixture', '--out', path.join(tmpDir(), 'r'), '--preset', 'huge'], /Unknown preset 'huge'/],
    [['train', '--data', 'nosuch', '--out', path.join(tmpDir(), 'r')], /nosuch/],
    [['train', '--data', 'idx:/no/such/file.gz', '--out', path.join(tmpDir(), 'r')], /\/no\/such\/file\.gz/],
    [['train', '--data', 'toy:mixture', '--out', path.join(tmpDir(), 'r'), '--backend', 'tensorflow'], /npm install @tensorflow\/tfjs-node/],
    [['train', '--data', 'toy:mixture', '--out', path.join(tmpDir(), 'r'), '--backend', 'gpu'], /--backend must be one of auto, tensorflow, wasm, webgpu, cpu \(got 'gpu'\)/],
    [['sample', '--run', '/no/such/run', '--n', '4', '--out', 'x.png'], /does not exist/],
    [['schedule', '--data', 'mnist', '--sigma-min', '100'], /sigma_min .* smaller than sigma_max/],
    [['train', '--data', 'toy:mixture', '--out', path.join(tmpDir(), 'r'), '--bogus'], /Unknown option '--bogus'/],
  ];
  for (const [args, re] of cases) {
    const r = await runCli(args);
    assert.notEqual(r.code, 0, args.join(' '));
    assert.match(r.stderr, re, `${args.join(' ')}:\n${r.stderr}`);
    assert.doesNotMatch(r.stderr, /^\s+at /m, 'no stack trace');
  }
});
