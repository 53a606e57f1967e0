/**
 * The extension in the real VS Code extension host (code-server's, started by
 * scripts/vscode-launcher.mjs): activation, commands, the backend, training through the commands,
 * progress, stop, a killed backend restarted and the interrupted run resumed.
 */
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import type { HighScoreApi } from '../../extension/api';
import * as P from '../../protocol/protocol';
import { suite, suiteSetup, test } from './tdd';

const EXTENSION_ID = 'highscore.high-score';

let api: HighScoreApi;

function waitFor<T>(what: string, ms: number, start: (done: (v: T) => void, fail: (e: Error) => void) => vscode.Disposable | void): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let sub: vscode.Disposable | void;
    const timer = setTimeout(() => { sub?.dispose(); reject(new Error(`timed out after ${ms / 1000} s waiting for ${what}`)); }, ms);
    const end = (f: () => void): void => { clearTimeout(timer); sub?.dispose(); f(); };
    sub = start((v) => end(() => resolve(v)), (e) => end(() => reject(e)));
  });
}

/** Collects a job's progress notifications and resolves with its jobEnded. */
class JobWatch {
  readonly progress: P.ProgressParams[] = [];
  private ended: P.JobEndedParams[] = [];
  private subs: vscode.Disposable[];
  private jobId?: string;
  constructor() {
    this.subs = [
      api.onNotification(P.Progress, (p) => { if (!this.jobId || p.jobId === this.jobId) this.progress.push(p); }),
      api.onNotification(P.JobEnded, (p) => this.ended.push(p)),
    ];
  }
  follow(jobId: string): void {
    this.jobId = jobId;
    this.progress.splice(0, this.progress.length, ...this.progress.filter((p) => p.jobId === jobId));
  }
  /** Resolves once a progress notification of the job matches. */
  async progressWhere(what: string, ms: number, ok: (p: P.ProgressParams) => boolean): Promise<P.ProgressParams> {
    const end = Date.now() + ms;
    for (;;) {
      const p = this.progress.find((q) => q.jobId === this.jobId && ok(q));
      if (p) return p;
      if (Date.now() > end) throw new Error(`timed out waiting for progress: ${what} (got ${this.progress.length} notifications)`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  async end(ms: number): Promise<P.JobEndedParams> {
    const limit = Date.now() + ms;
    for (;;) {
      const e = this.ended.find((q) => q.jobId === this.jobId);
      if (e) return e;
      if (Date.now() > limit) throw new Error(`job ${this.jobId} did not end within ${ms / 1000} s`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  dispose(): void {
    for (const s of this.subs) s.dispose();
  }
}

function readJson<T>(file: string): T {
  return JSON.parse(fs.readFileSync(file, 'utf8')) as T;
}

function assertCheckpoint(runDir: string): void {
  const latest = path.join(runDir, 'checkpoints', 'latest.json');
  assert.ok(fs.existsSync(latest), `no ${latest}`);
}

async function train(params: Partial<P.StartTrainingParams> & { data: string }): Promise<P.StartTrainingResult> {
  const r = await vscode.commands.executeCommand<P.StartTrainingResult>('highscore.train', params);
  assert.ok(r && typeof r.jobId === 'string' && typeof r.runDir === 'string', `highscore.train returned ${JSON.stringify(r)}`);
  return r;
}

suite('High Score in VS Code', () => {
  suiteSetup(async function () {
    this.timeout(120_000);
    const ext = vscode.extensions.getExtension<HighScoreApi>(EXTENSION_ID);
    assert.ok(ext, `extension ${EXTENSION_ID} is not installed in this host`);
    api = await ext.activate();
    assert.ok(api && typeof api.request === 'function', 'activate() did not return the HighScoreApi');
    await api.ready();
  });

  test('activates and registers every contributed command', async () => {
    const ext = vscode.extensions.getExtension(EXTENSION_ID)!;
    assert.strictEqual(ext.isActive, true);
    const contributed = (ext.packageJSON as { contributes: { commands: { command: string }[] } }).contributes.commands.map((c) => c.command);
    assert.ok(contributed.length >= 8, `only ${contributed.length} commands contributed`);
    const registered = new Set(await vscode.commands.getCommands(true));
    const missing = contributed.filter((c) => !registered.has(c));
    assert.deepStrictEqual(missing, [], `contributed but not registered: ${missing.join(', ')}`);
  });

  test('the backend answers listRuns and computeSchedule', async () => {
    assert.strictEqual(api.serverState(), 'running');
    assert.ok(typeof api.serverPid() === 'number' && api.serverPid()! > 0, 'no backend pid');
    const runs = await api.request(P.ListRuns, {});
    assert.ok(Array.isArray(runs), `listRuns gave ${JSON.stringify(runs)}`);
    const s = await api.request(P.ComputeSchedule, { data: 'toy:mixture' });
    assert.strictEqual(s.kind, 'points');
    assert.deepStrictEqual(s.shape, [2]);
    const sig = s.schedule.sigmas;
    assert.ok(sig.length >= 2, `schedule has ${sig.length} levels`);
    for (let i = 1; i < sig.length; i++) assert.ok(sig[i]! < sig[i - 1]!, 'sigmas must decrease');
  });

  test('toy:mixture trains to completion through highscore.train, with progress', async function () {
    this.timeout(600_000);
    const watch = new JobWatch();
    try {
      const r = await train({ data: 'toy:mixture', steps: 400, preset: 'mlp', runName: 'mix-400', logEvery: 25, seed: 1 });
      watch.follow(r.jobId);
      const end = await watch.end(540_000);
      assert.strictEqual(end.state, 'finished', end.message);
      assert.strictEqual(end.kind, 'train');
      const steps = watch.progress.map((p) => p.step);
      assert.ok(steps.length >= 3, `only ${steps.length} progress notifications`);
      for (let i = 1; i < steps.length; i++) assert.ok(steps[i]! > steps[i - 1]!, `steps not increasing: ${steps.join(',')}`);
      for (const p of watch.progress) assert.ok(Number.isFinite(p.loss) && p.loss > 0, `loss ${p.loss} at step ${p.step}`);
      assert.strictEqual(watch.progress.at(-1)!.totalSteps, 400);
      const status = readJson<P.RunStatus>(path.join(r.runDir, 'status.json'));
      assert.strictEqual(status.state, 'finished');
      assert.strictEqual(status.step, 400);
      assertCheckpoint(r.runDir);
      const listed = (await api.request(P.ListRuns, {})).find((x) => x.name === r.runId);
      assert.strictEqual(listed?.state, 'finished');
    } finally {
      watch.dispose();
    }
  });

  test('Stop ends a long run as stopped, with a checkpoint', async function () {
    this.timeout(300_000);
    const watch = new JobWatch();
    try {
      const r = await train({ data: 'toy:mixture', steps: 200_000, preset: 'mlp', runName: 'mix-stop', logEvery: 10 });
      watch.follow(r.jobId);
      await watch.progressWhere('step >= 20', 180_000, (p) => p.step >= 20);
      const stop = await vscode.commands.executeCommand<P.StopResult>('highscore.stopTraining', { runId: r.runId });
      assert.strictEqual(stop?.jobId, r.jobId);
      const end = await watch.end(120_000);
      assert.strictEqual(end.state, 'stopped', end.message);
      assertCheckpoint(r.runDir);
      assert.strictEqual(readJson<P.RunStatus>(path.join(r.runDir, 'status.json')).state, 'stopped');
    } finally {
      watch.dispose();
    }
  });

  test('a killed backend is restarted and the interrupted run resumes', async function () {
    this.timeout(600_000);
    const watch = new JobWatch();
    const states: P.ServerState[] = [];
    const stateSub = api.onServerStateChange((s) => states.push(s));
    try {
      const r = await train({ data: 'toy:mixture', steps: 100_000, preset: 'mlp', runName: 'mix-kill', logEvery: 10, checkpointEvery: 50 });
      watch.follow(r.jobId);
      await watch.progressWhere('step >= 120 (a checkpoint written)', 240_000, (p) => p.step >= 120);
      const oldPid = api.serverPid()!;
      process.kill(oldPid, 'SIGKILL');
      await waitFor<void>('the backend to restart', 120_000, (done) => {
        const check = (): void => { if (api.serverState() === 'running' && api.serverPid() !== oldPid && states.includes('restarting')) done(); };
        const sub = api.onServerStateChange(check);
        check();
        return sub;
      });
      assert.ok(states.indexOf('restarting') < states.lastIndexOf('running'), `states: ${states.join(' -> ')}`);
      assert.notStrictEqual(api.serverPid(), oldPid);
      const runs = await api.request(P.ListRuns, {});
      const run = runs.find((x) => x.name === r.runId);
      assert.ok(run, 'the interrupted run is not listed');
      assert.notStrictEqual(run.state, 'running', 'a run whose backend died must not be listed as running');
      assertCheckpoint(r.runDir);

      const resumed = new JobWatch();
      try {
        const rr = await vscode.commands.executeCommand<P.StartTrainingResult>('highscore.resumeTraining', { runDir: r.runDir, steps: 250 });
        assert.ok(rr && typeof rr.jobId === 'string', `resumeTraining returned ${JSON.stringify(rr)}`);
        resumed.follow(rr.jobId);
        const end = await resumed.end(300_000);
        assert.strictEqual(end.state, 'finished', end.message);
        assert.ok(resumed.progress.every((p) => p.step > 50), 'the resumed run started over instead of from its checkpoint');
        const status = readJson<P.RunStatus>(path.join(r.runDir, 'status.json'));
        assert.strictEqual(status.state, 'finished');
        assert.strictEqual(status.step, 250);
      } finally {
        resumed.dispose();
      }
    } finally {
      stateSub.dispose();
      watch.dispose();
    }
  });
});
