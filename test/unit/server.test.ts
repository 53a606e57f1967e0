/**
 * The backend server, end to end: the real server process (dist/server.js, else tsc's
 * out/server/lsp/main.js) over stdio, driven by a real JSON-RPC client (vscode-jsonrpc). Also the
 * protocol's shape guards. Timing targets (50 ms answers while training) belong in the bench: here
 * the latencies are recorded, and the test checks that every request was answered while training ran.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import { spawn, type ChildProcess } from 'child_process';
import { pathToFileURL } from 'url';
import { performance } from 'perf_hooks';
import { createMessageConnection, StreamMessageReader, StreamMessageWriter, ResponseError, type MessageConnection } from 'vscode-jsonrpc/node';
import * as P from '../../protocol/protocol';
import { REPO, tmpDir } from '../support/helpers';
import { JobManager, type JobSink } from '../../server/lsp/jobs';

// ---- a client for the real server process ----

interface Note { method: string; params: unknown; at: number }
interface WorkDone { token: string | number; value: { kind: 'begin' | 'report' | 'end'; title?: string; message?: string; percentage?: number; cancellable?: boolean } }

function serverScript(): string {
  const candidates = [process.env.HIGHSCORE_SERVER, path.join(REPO, 'dist', 'server.js'), path.join(REPO, 'out', 'server', 'lsp', 'main.js')];
  const found = candidates.find((p) => p && fs.existsSync(p));
  if (!found) throw new Error('No server build: run `node scripts/build.mjs` (dist/server.js) or tsc (out/server/lsp/main.js).');
  return found;
}

class Client {
  readonly notes: Note[] = [];
  /** Notifications that failed the protocol's guard (there must be none). */
  readonly malformed: Note[] = [];
  readonly workDone: WorkDone[] = [];
  readonly createdTokens: (string | number)[] = [];
  stderr = '';
  /** What the server answered to initialize. */
  initializeResult: unknown;
  private waiters: { test: (n: Note) => boolean; resolve: () => void }[] = [];

  private constructor(readonly child: ChildProcess, readonly conn: MessageConnection) {}

  static async start(workspace: string): Promise<Client> {
    const child = spawn(process.execPath, [serverScript(), '--stdio'], { cwd: workspace, stdio: ['pipe', 'pipe', 'pipe'] });
    const conn = createMessageConnection(new StreamMessageReader(child.stdout!), new StreamMessageWriter(child.stdin!));
    const c = new Client(child, conn);
    child.stderr!.on('data', (d) => (c.stderr += d));
    conn.onNotification((method: string, params: unknown) => {
      const note = { method, params, at: performance.now() };
      if (method.startsWith('highscore/') && !P.isNotification(method, params)) c.malformed.push(note);
      c.notes.push(note);
      c.waiters = c.waiters.filter((w) => (w.test(note) ? (w.resolve(), false) : true));
    });
    conn.onRequest('window/workDoneProgress/create', (p: { token: string | number }) => {
      c.createdTokens.push(p.token);
      return null;
    });
    conn.onUnhandledProgress((p: WorkDone) => {
      c.workDone.push(p);
      const note = { method: '$/progress', params: p, at: performance.now() };
      c.waiters = c.waiters.filter((w) => (w.test(note) ? (w.resolve(), false) : true));
    });
    conn.listen();
    const uri = pathToFileURL(workspace).href;
    c.initializeResult = await conn.sendRequest('initialize', {
      processId: process.pid, rootUri: uri, workspaceFolders: [{ uri, name: 'ws' }],
      capabilities: { window: { workDoneProgress: true } },
    });
    await conn.sendNotification('initialized', {});
    return c;
  }

  request<M extends P.RequestMethod>(method: M, params: P.RequestParams<M>): Promise<P.RequestResult<M>> {
    return P.sendRequest(this.conn, method, params);
  }

  /** A request with params the protocol's types would not allow: what a buggy client might send. */
  rawRequest(method: string, params: unknown): Promise<unknown> {
    return this.conn.sendRequest(method, params);
  }

  /** The notifications of one method so far (checked by the guards). */
  all<M extends P.NotificationMethod>(method: M, filter: (p: P.Notifications[M]) => boolean = () => true): P.Notifications[M][] {
    return this.notes.filter((n) => n.method === method && P.isNotification(method, n.params)).map((n) => n.params as P.Notifications[M]).filter(filter);
  }

  /** Waits for a notification (already received ones count). */
  async waitFor<M extends P.NotificationMethod>(method: M, filter: (p: P.Notifications[M]) => boolean, timeoutMs = 120_000): Promise<P.Notifications[M]> {
    const match = (n: Note) => n.method === method && P.isNotification(method, n.params) && filter(n.params);
    const seen = this.notes.find(match);
    if (seen) return seen.params as P.Notifications[M];
    await this.until(match, timeoutMs, `${method} notification`);
    return this.notes.find(match)!.params as P.Notifications[M];
  }

  /** Waits for a work-done progress value. */
  async waitForWorkDone(filter: (w: WorkDone) => boolean, timeoutMs = 60_000): Promise<WorkDone> {
    const seen = this.workDone.find(filter);
    if (seen) return seen;
    await this.until((n) => n.method === '$/progress' && filter(n.params as WorkDone), timeoutMs, 'work-done progress');
    return this.workDone.find(filter)!;
  }

  private until(test: (n: Note) => boolean, timeoutMs: number, what: string): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out waiting for a ${what}\nserver stderr:\n${this.stderr.slice(-2000)}`)), timeoutMs);
      this.waiters.push({ test, resolve: () => { clearTimeout(timer); resolve(); } });
    });
  }

  async stop(): Promise<void> {
    const exited = new Promise<void>((resolve) => {
      if (this.child.exitCode !== null) resolve();
      else this.child.once('exit', () => resolve());
    });
    try {
      await Promise.race([this.conn.sendRequest('shutdown'), new Promise((r) => setTimeout(r, 20_000).unref())]);
      await this.conn.sendNotification('exit');
    } catch { /* already gone */ }
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
    this.conn.dispose();
  }
}

/** The JSON-RPC error a request fails with (fails the test if it succeeds). */
async function rpcError(p: Promise<unknown>): Promise<ResponseError<unknown>> {
  try {
    const v = await p;
    assert.fail(`expected an error, got ${JSON.stringify(v).slice(0, 200)}`);
  } catch (err) {
    if (!(err instanceof ResponseError)) throw err;
    return err;
  }
}

// ---- the guards ----

test('the guards accept well-formed notifications and reject malformed ones', () => {
  const progress: P.ProgressParams = { jobId: 'job-1', runId: 'mix', step: 20, totalSteps: 100, loss: 0.9, perLevel: [1.2, null, 0.4], gradNorm: 3, stepsPerSec: 50, etaSec: 1.6 };
  assert.ok(P.isProgress(progress));
  assert.ok(P.isProgress({ ...progress, etaSec: null, gradNorm: null }));
  for (const bad of [null, 'x', [], {}, { ...progress, step: -1 }, { ...progress, step: 1.5 }, { ...progress, loss: '0.9' }, { ...progress, loss: null },
    { ...progress, perLevel: [1, 'a'] }, { ...progress, perLevel: 3 }, { ...progress, jobId: 7 }, { ...progress, stepsPerSec: -1 }]) {
    assert.equal(P.isProgress(bad), false, JSON.stringify(bad));
  }

  const samples: P.TrainingSamplesParams = { jobId: 'job-1', runId: 'mix', step: 100, n: 2, shape: [2], file: '/r/s.csv', points: [0, 1, 2, 3] };
  assert.ok(P.isTrainingSamples(samples));
  assert.ok(P.isTrainingSamples({ ...samples, shape: [28, 28, 1], points: undefined, png: 'iVBORw0KGgo=' }));
  assert.equal(P.isTrainingSamples({ ...samples, points: [0, 1, 2] }), false, 'points must match n * D');
  assert.equal(P.isTrainingSamples({ ...samples, points: undefined }), false, 'no image at all');
  assert.equal(P.isTrainingSamples({ ...samples, shape: [28, 28, 1], points: undefined, png: '<script>' }), false, 'png must be base64');
  assert.equal(P.isTrainingSamples({ ...samples, shape: [28, 28, 1] }), false, 'images need a png');

  const sp: P.SamplingProgressParams = { jobId: 'job-2', level: 3, levels: 20, sigma: 2.5, alpha: 0.01, done: 15, total: 101, scoreNorm: 1.1, noiseNorm: null };
  assert.ok(P.isSamplingProgress(sp));
  assert.ok(P.isSamplingProgress({ ...sp, snapshot: { png: 'AAAA' } }));
  for (const bad of [{ ...sp, level: 0 }, { ...sp, level: 21 }, { ...sp, done: 200 }, { ...sp, sigma: NaN }, { ...sp, snapshot: {} }, { ...sp, runId: 3 }]) {
    assert.equal(P.isSamplingProgress(bad), false, JSON.stringify(bad));
  }

  assert.ok(P.isLog({ level: 'info', message: 'backend: wasm' }));
  assert.ok(P.isLog({ level: 'error', message: 'x', jobId: 'job-1' }));
  assert.equal(P.isLog({ level: 'debug', message: 'x' }), false);
  assert.equal(P.isLog({ level: 'info' }), false);

  const ended: P.JobEndedParams = {
    jobId: 'job-1', runId: 'mix', kind: 'train', state: 'stopped', message: 'Stopped at step 40.',
    result: { type: 'training', runDir: '/r', step: 40, totalSteps: 100, lastLoss: 0.8 },
  };
  assert.ok(P.isJobEnded(ended));
  assert.ok(P.isJobEnded({ jobId: 'job-3', kind: 'sample', state: 'failed', message: 'no checkpoint' }));
  assert.ok(P.isJobEnded({
    jobId: 'job-3', kind: 'sample', state: 'finished', message: 'ok',
    result: { type: 'samples', file: '/r/s.csv', n: 1, shape: [2], dataKind: 'points', points: [1, 2], snapshots: [{ level: 20, sigma: 0.5, points: [1, 2] }], seconds: 1 },
  }));
  for (const bad of [{ ...ended, state: 'running' }, { ...ended, kind: 'schedule' }, { ...ended, result: { type: 'training', step: 4 } },
    { ...ended, result: { type: 'other' } }, { ...ended, message: undefined }]) {
    assert.equal(P.isJobEnded(bad), false, JSON.stringify(bad));
  }

  // The method-indexed form the webview uses for any message.
  assert.ok(P.isNotification(P.Progress, progress));
  assert.equal(P.isNotification(P.Progress, samples), false);
  assert.equal(P.isNotification('highscore/unknown', progress), false);
  assert.deepEqual(Object.keys(P.NOTIFICATION_GUARDS).sort(), [...P.NOTIFICATION_METHODS].sort());
});

test('the protocol module loads nothing: it bundles into the webview as it is', () => {
  const js = fs.readFileSync(path.join(REPO, 'out', 'protocol', 'protocol.js'), 'utf8');
  assert.deepEqual(js.match(/require\([^)]*\)/g) ?? [], []);
});

// ---- the job manager's last resorts, with stand-in workers ----

/** A JobManager whose workers run `source` (plain JS), collecting what it reports. */
function standInManager(source: string): { jobs: JobManager; ended: P.JobEndedParams[]; logs: P.LogParams[] } {
  const dir = tmpDir('hs-worker-');
  const script = path.join(dir, 'worker.js');
  fs.writeFileSync(script, source);
  const ended: P.JobEndedParams[] = [];
  const logs: P.LogParams[] = [];
  const sink: JobSink = {
    progress: () => {}, trainingSamples: () => {}, samplingProgress: () => {}, jobStarted: () => {},
    log: (p) => logs.push(p), jobEnded: (p) => ended.push(p),
  };
  return { jobs: new JobManager(sink, { workerScript: script, stopGraceMs: 300 }), ended, logs };
}

async function until(cond: () => boolean, ms = 10_000): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > ms) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}

test('a worker that ignores stop is terminated after the grace period; the run is marked stopped', async () => {
  // Starts, prints to its console (which must become log lines, not the server's stdout), then never listens.
  const { jobs, ended, logs } = standInManager(`
    const { parentPort } = require('worker_threads');
    parentPort.postMessage({ type: 'started' });
    console.log('hello from the worker');
    setInterval(() => {}, 1000);
  `);
  const runDir = tmpDir('hs-run-');
  fs.writeFileSync(path.join(runDir, 'status.json'), JSON.stringify({ state: 'running', step: 7, totalSteps: 10, lastLoss: 1, updatedAt: '' }));
  const job = await jobs.startTraining({ runId: 'r', runDir, resume: false, backend: 'cpu' });
  assert.throws(() => jobs.startTraining({ runId: 'r2', runDir, resume: false, backend: 'cpu' }), /A training run is already going: r\. Stop it first or wait\./);
  await until(() => logs.some((l) => l.message === 'hello from the worker'));
  jobs.stop(job.id);
  await until(() => ended.length === 1);
  assert.equal(ended[0]!.state, 'stopped');
  assert.match(ended[0]!.message, /did not stop within 0\.3 s and was terminated/);
  const status = JSON.parse(fs.readFileSync(path.join(runDir, 'status.json'), 'utf8')) as P.RunStatus;
  assert.equal(status.state, 'stopped');
  assert.equal(status.step, 7);
  assert.equal(jobs.activeTraining, undefined, 'the training slot is free again');
});

test('a worker that crashes ends its job as failed and frees the training slot', async () => {
  const { jobs, ended } = standInManager(`
    const { parentPort } = require('worker_threads');
    parentPort.postMessage({ type: 'started' });
    setTimeout(() => { throw new Error('out of memory (simulated)'); }, 50);
  `);
  const runDir = tmpDir('hs-run-');
  fs.writeFileSync(path.join(runDir, 'status.json'), JSON.stringify({ state: 'running', step: 3, totalSteps: 10, lastLoss: 1, updatedAt: '' }));
  await jobs.startTraining({ runId: 'r', runDir, resume: false, backend: 'cpu' });
  await until(() => ended.length === 1);
  assert.equal(ended[0]!.state, 'failed');
  assert.match(ended[0]!.message, /crashed: out of memory \(simulated\)/);
  assert.equal((JSON.parse(fs.readFileSync(path.join(runDir, 'status.json'), 'utf8')) as P.RunStatus).state, 'failed');
  assert.equal(jobs.activeTraining, undefined);
});

// ---- the server ----

let client: Client;
let workspace: string;
let runsFolder: string;

before(async () => {
  workspace = tmpDir('hs-server-');
  runsFolder = path.join(workspace, '.highscore', 'runs');
  client = await Client.start(workspace);
});

after(async () => {
  await client?.stop();
  assert.deepEqual(client?.malformed ?? [], [], 'every notification passes the protocol guards');
});

test('initialize: the server lists every protocol request and notification', () => {
  const caps = (client.initializeResult as { capabilities: { hoverProvider?: boolean; experimental?: { highscore?: { protocolVersion: number; requests: string[]; notifications: string[] } } } }).capabilities;
  assert.equal(caps.hoverProvider, true); // the assignment's hovers (server/lsp/assignment.ts)
  assert.equal(caps.experimental?.highscore?.protocolVersion, P.PROTOCOL_VERSION);
  assert.deepEqual(caps.experimental?.highscore?.requests, [...P.REQUEST_METHODS]);
  assert.deepEqual(caps.experimental?.highscore?.notifications, [...P.NOTIFICATION_METHODS]);
});

test('computeSchedule: toy:mixture and mnist give sigmas with their diagnostics', { timeout: 180_000 }, async () => {
  const mix = await client.request(P.ComputeSchedule, { data: 'toy:mixture' });
  assert.ok(P.isComputeScheduleResult(mix), 'the result has the protocol shape');
  assert.equal(mix.kind, 'points');
  assert.deepEqual(mix.shape, [2]);
  assert.equal(mix.schedule.sigmas.length, 20, "the toy's hand-chosen ladder");
  assert.equal(mix.schedule.sigmas[19], 0.5);
  assert.equal(mix.schedule.diagnostics.sources.sigmaMax, 'data');
  assert.ok(mix.schedule.diagnostics.objectiveCurve.eps.length > 10);

  const mnist = await client.request(P.ComputeSchedule, { data: 'mnist', stepsPerLevel: 5 });
  assert.ok(P.isComputeScheduleResult(mnist));
  assert.deepEqual(mnist.shape, [28, 28, 1]);
  assert.equal(mnist.size, 10_000);
  const s = mnist.schedule;
  assert.equal(s.D, 784);
  assert.ok(s.sigmas[0]! > 10 && s.sigmas[0]! < 40, `sigma_1 = ${s.sigmas[0]}`);
  assert.equal(s.sigmas[s.sigmas.length - 1], 0.01);
  assert.equal(s.diagnostics.sources.levels, 'overlap-rule');
  assert.ok(Math.abs(s.diagnostics.overlap - 0.5) < 0.02, `overlap ${s.diagnostics.overlap}`);
  // Technique 4's eps is the best on the plotted objective curve (with T = 5 it cannot reach 1 exactly).
  const bestOnCurve = Math.min(...s.diagnostics.objectiveCurve.value.map((v) => Math.abs(v - 1)));
  assert.ok(Math.abs(s.diagnostics.stepObjective - 1) <= bestOnCurve + 1e-9, `objective ${s.diagnostics.stepObjective}`);
  assert.ok(s.eps > 0 && s.eps < 0.01 ** 2);
  assert.ok(s.diagnostics.gammaRule !== undefined && s.gamma <= s.diagnostics.gammaRule + 1e-9);
});

test('bad params get JSON-RPC errors that name the problem, and the server keeps answering', { timeout: 120_000 }, async () => {
  let e = await rpcError(client.rawRequest(P.ComputeSchedule, { data: 'nope' }));
  assert.match(e.message, /unknown dataset "nope"/);
  assert.match(e.message, /toy:mixture/, 'lists the valid specs');

  e = await rpcError(client.rawRequest(P.StartTraining, { data: 'toy:nope' }));
  assert.match(e.message, /unknown toy dataset "nope"/);
  assert.ok(!fs.existsSync(runsFolder) || fs.readdirSync(runsFolder).every((d) => !fs.existsSync(path.join(runsFolder, d, 'config.json'))), 'no run was written');

  e = await rpcError(client.rawRequest(P.StartTraining, { steps: 10 }));
  assert.equal(e.code, P.ErrorCodes.InvalidParams);
  assert.match(e.message, /'data' is required/);

  e = await rpcError(client.rawRequest(P.StartTraining, { data: 'toy:mixture', steps: -3 }));
  assert.equal(e.code, P.ErrorCodes.InvalidParams);
  assert.match(e.message, /'steps' must be an integer from 1 \(got -3\)/);

  e = await rpcError(client.rawRequest(P.StartTraining, { data: 'toy:mixture', runName: '../escape' }));
  assert.match(e.message, /'runName' must be a plain folder name/);

  e = await rpcError(client.rawRequest(P.Sample, { n: 4 }));
  assert.equal(e.code, P.ErrorCodes.InvalidParams);
  assert.match(e.message, /highscore\/sample: 'runDir' is required/);

  e = await rpcError(client.rawRequest(P.Sample, { runDir: path.join(workspace, 'missing'), n: 4 }));
  assert.equal(e.code, P.ErrorCodes.NotFound);
  assert.match(e.message, /missing does not exist/);

  e = await rpcError(client.rawRequest(P.DescribeCheckpoint, { runDir: path.join(workspace, 'nowhere') }));
  assert.match(e.message, /nowhere does not exist/);

  e = await rpcError(client.rawRequest(P.Inpaint, { runDir: workspace, n: 1, image: 'not base64!', mask: [1] }));
  assert.match(e.message, /'image' must be a number array or a base64 string/);

  e = await rpcError(client.rawRequest(P.CancelJob, { jobId: 'job-999' }));
  assert.equal(e.code, P.ErrorCodes.NotFound);
  assert.match(e.message, /no running job 'job-999'/);

  e = await rpcError(client.rawRequest(P.ListRuns, [1, 2]));
  assert.match(e.message, /params must be an object/);

  // Still up, still answering.
  assert.deepEqual(await client.request(P.ListRuns, {}), []);
});

let runId: string;
let runDir: string;
let stoppedAt: number;

test('training streams progress and samples; requests are answered while it trains; a second start is refused; stop keeps a checkpoint', { timeout: 300_000 }, async (t) => {
  const started = await client.request(P.StartTraining, {
    data: 'toy:mixture', runName: 'mix', steps: 100_000, batch: 64, seed: 3, logEvery: 20, sampleEvery: 100, checkpointEvery: 100_000,
    schedule: { stepsPerLevel: 5 },
  });
  ({ runId, runDir } = started);
  assert.equal(runId, 'mix');
  assert.equal(runDir, path.join(runsFolder, 'mix'), 'the default runs folder is <workspace>/.highscore/runs');
  const jobId = started.jobId;
  const mine = (p: { jobId: string }) => p.jobId === jobId;

  // Progress with every field, and a preview from the EMA weights.
  await client.waitFor(P.Progress, (p) => mine(p) && p.step >= 60);
  for (const p of client.all(P.Progress, mine)) {
    assert.equal(p.runId, 'mix');
    assert.equal(p.totalSteps, 100_000);
    assert.ok(p.loss > 0 && p.stepsPerSec > 0 && p.etaSec !== null && p.etaSec > 0);
    assert.equal(p.perLevel.length, 20);
    assert.ok(p.perLevel.some((v) => v !== null && v > 0));
  }
  const preview = await client.waitFor(P.TrainingSamples, mine);
  assert.equal(preview.step % 100, 0);
  assert.deepEqual(preview.shape, [2]);
  assert.equal(preview.points!.length, preview.n * 2);
  assert.ok(fs.existsSync(preview.file));

  // While it trains: every request answered, before the job ends. The bench owns the 50 ms target; on this
  // shared machine only a generous bound is asserted (a blocked request thread would take seconds).
  const latencies: number[] = [];
  for (let i = 0; i < 50; i++) {
    const t0 = performance.now();
    const runs = await client.request(P.ListRuns, {});
    latencies.push(performance.now() - t0);
    const run = runs.find((r) => r.name === 'mix');
    assert.ok(run && P.isRunSummary(run));
    assert.equal(run.state, 'running');
    assert.equal(run.jobId, jobId);
  }
  assert.equal(client.all(P.JobEnded, mine).length, 0, 'all 50 answers came while training was still running');
  const stepsDuring = client.all(P.Progress, mine).length;
  const sorted = [...latencies].sort((a, b) => a - b);
  const p99 = sorted[Math.ceil(0.99 * sorted.length) - 1]!;
  t.diagnostic(`listRuns during training (50 requests): p99 ${p99.toFixed(1)} ms, median ${sorted[25]!.toFixed(1)} ms, max ${sorted[49]!.toFixed(1)} ms`);
  assert.ok(p99 < 500, `listRuns p99 ${p99.toFixed(1)} ms while training`);

  // One training job at a time.
  const e = await rpcError(client.request(P.StartTraining, { data: 'toy:mixture', runName: 'other', steps: 10 }));
  assert.equal(e.code, P.ErrorCodes.TrainingBusy);
  assert.equal(e.message, 'A training run is already going: mix. Stop it first or wait.');

  // VS Code's native progress: begun, cancellable, reported.
  const begin = await client.waitForWorkDone((w) => w.value.kind === 'begin' && (w.value.title ?? '').includes('mix'));
  assert.equal(begin.value.cancellable, true);
  assert.ok(client.createdTokens.includes(begin.token));
  await client.waitForWorkDone((w) => w.token === begin.token && w.value.kind === 'report' && (w.value.message ?? '').includes('loss'));

  // Stop: the engine writes a checkpoint and the job ends 'stopped'.
  const stop = await client.request(P.StopTraining, { runId: 'mix' });
  assert.equal(stop.jobId, jobId);
  const ended = await client.waitFor(P.JobEnded, mine);
  assert.equal(ended.state, 'stopped', ended.message);
  assert.equal(ended.kind, 'train');
  assert.equal(ended.result?.type, 'training');
  stoppedAt = ended.result!.step;
  assert.ok(stoppedAt >= 60 && stoppedAt < 100_000);
  assert.ok(client.all(P.Progress, mine).length >= stepsDuring);
  await client.waitForWorkDone((w) => w.token === begin.token && w.value.kind === 'end');

  const d = await client.request(P.DescribeCheckpoint, { runDir });
  assert.equal(d.status?.state, 'stopped');
  assert.equal(d.status?.step, stoppedAt);
  assert.ok(d.checkpoints.some((c) => c.step === stoppedAt), `a checkpoint at the stop step ${stoppedAt}: ${d.checkpoints.map((c) => c.name)}`);
  assert.equal(d.latest, `step-${String(stoppedAt).padStart(6, '0')}`);
});

test('resumeTraining continues the stopped run to finished', { timeout: 300_000 }, async () => {
  const total = stoppedAt + 100;
  const started = await client.request(P.ResumeTraining, { runDir, steps: total });
  assert.equal(started.runId, 'mix');
  assert.equal(started.runDir, runDir);
  const ended = await client.waitFor(P.JobEnded, (p) => p.jobId === started.jobId);
  assert.equal(ended.state, 'finished', ended.message);
  assert.equal(ended.result?.type === 'training' && ended.result.step, total);
  const steps = client.all(P.Progress, (p) => p.jobId === started.jobId).map((p) => p.step);
  assert.ok(steps.length > 0 && steps.every((s) => s > stoppedAt && s <= total), `resumed steps ${steps}`);
  assert.equal(steps[steps.length - 1], total);
  assert.ok(client.all(P.TrainingSamples, (p) => p.jobId === started.jobId && p.step === total).length === 1, 'the final preview');
});

test('sample on the finished run streams the Langevin levels and ends with the points and the CSV', { timeout: 300_000 }, async () => {
  const { jobId } = await client.request(P.Sample, { runDir, n: 200, seed: 1, stepsPerLevel: 3, snapshots: 2 });
  const ended = await client.waitFor(P.JobEnded, (p) => p.jobId === jobId);
  assert.equal(ended.state, 'finished', ended.message);
  assert.equal(ended.kind, 'sample');
  const levels = client.all(P.SamplingProgress, (p) => p.jobId === jobId);
  assert.deepEqual(levels.map((p) => p.level), Array.from({ length: 20 }, (_, i) => i + 1));
  assert.ok(levels.every((p, i) => p.levels === 20 && p.total === 20 * 3 + 1 && p.done === (i + 1) * 3 && p.runId === 'mix'));
  assert.ok(levels[0]!.sigma > levels[19]!.sigma);
  const r = ended.result;
  assert.ok(r && r.type === 'samples');
  assert.equal(r.dataKind, 'points');
  assert.equal(r.n, 200);
  assert.equal(r.points!.length, 400);
  assert.ok(r.file.endsWith('.csv') && fs.existsSync(r.file));
  assert.equal(fs.readFileSync(r.file, 'utf8').trim().split('\n').length, 201, 'a header and 200 rows');
  assert.deepEqual(r.snapshots.map((s) => s.level), [10, 20]);
});

test('sample with snapshots: each snapshot arrives live on its level\'s samplingProgress, before jobEnded', { timeout: 300_000 }, async () => {
  const { jobId } = await client.request(P.Sample, { runDir, n: 30, seed: 2, stepsPerLevel: 2, snapshots: 4 });
  const ended = await client.waitFor(P.JobEnded, (p) => p.jobId === jobId);
  assert.equal(ended.state, 'finished', ended.message);
  const mine = (n: Note) => (n.params as { jobId?: string }).jobId === jobId;
  const endIndex = client.notes.findIndex((n) => n.method === P.JobEnded && mine(n));
  const live = client.notes.filter((n) => n.method === P.SamplingProgress && mine(n));
  assert.ok(live.length === 20 && live.every((n) => P.isSamplingProgress(n.params) && client.notes.indexOf(n) < endIndex));
  const withSnapshot = live.map((n) => n.params as P.SamplingProgressParams).filter((p) => p.snapshot);
  assert.deepEqual(withSnapshot.map((p) => p.level), [5, 10, 15, 20], 'snapshots spread evenly over the 20 levels');
  assert.ok(withSnapshot.every((p) => p.snapshot!.points?.length === 60 && p.snapshot!.png === undefined));
  assert.ok(ended.result?.type === 'samples');
  assert.deepEqual(ended.result.snapshots.map((s) => ({ level: s.level, points: s.points })), withSnapshot.map((p) => ({ level: p.level, points: p.snapshot!.points })),
    'the result holds the snapshots that were streamed');
});

test('runHistory: the logged curve, downsampled to maxPoints with the first and last step exact, and the latest samples', { timeout: 60_000 }, async () => {
  const logged = fs.readFileSync(path.join(runDir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { type: string; step: number; loss: number })
    .filter((r) => r.type === 'step');
  const full = await client.request(P.RunHistory, { runDir });
  assert.ok(P.isRunHistoryResult(full));
  assert.equal(full.runDir, runDir);
  assert.equal(full.runId, 'mix');
  assert.equal(full.config.dataSpec, 'toy:mixture');
  assert.equal(full.status?.state, 'finished');
  assert.equal(full.loggedSteps, logged.length);
  assert.deepEqual(full.points.map((p) => [p.step, p.loss]), logged.map((r) => [r.step, r.loss]), 'under maxPoints: every logged step as it is');
  assert.ok(full.points.every((p) => p.perLevel?.length === 20 && p.stepsPerSec !== undefined));

  const small = await client.request(P.RunHistory, { runDir, maxPoints: 5 });
  assert.ok(P.isRunHistoryResult(small) && logged.length > 5);
  assert.equal(small.points.length, 5);
  assert.deepEqual(small.points[0], full.points[0]);
  assert.deepEqual(small.points[4], full.points[full.points.length - 1]);
  assert.ok(small.points.every((p, i) => i === 0 || p.step > small.points[i - 1]!.step));
  assert.equal(small.loggedSteps, logged.length);

  // The newest file in samples/: the CSV of the sampling job just before (30 points).
  const dir = path.join(runDir, 'samples');
  const newest = fs.readdirSync(dir).map((f) => path.join(dir, f)).sort((a, b) => fs.statSync(b).mtimeMs - fs.statSync(a).mtimeMs)[0]!;
  const s = full.samples;
  assert.ok(s && P.isTrainingSamples(s));
  assert.equal(s.file, newest);
  assert.deepEqual(s.shape, [2]);
  assert.equal(s.n, fs.readFileSync(newest, 'utf8').trim().split('\n').length - 1);
  assert.equal(s.points!.length, s.n * 2);
  assert.equal(s.step, stoppedAt + 100, "a sampling job's file gets the run's step");

  let e = await rpcError(client.rawRequest(P.RunHistory, { runDir: path.join(workspace, 'gone') }));
  assert.equal(e.code, P.ErrorCodes.NotFound);
  assert.match(e.message, /gone does not exist\. List runs with highscore\/listRuns/);
  e = await rpcError(client.rawRequest(P.RunHistory, { runDir, maxPoints: 1 }));
  assert.equal(e.code, P.ErrorCodes.InvalidParams);
  assert.match(e.message, /'maxPoints' must be an integer from 2 to 100000 \(got 1\)/);
  const broken = path.join(workspace, 'history-broken');
  fs.mkdirSync(broken);
  fs.writeFileSync(path.join(broken, 'config.json'), '{"dataSpec": "toy:mix');
  e = await rpcError(client.rawRequest(P.RunHistory, { runDir: broken }));
  assert.equal(e.code, P.ErrorCodes.RequestFailed);
  assert.match(e.message, /history-broken\/config\.json is not valid JSON/);
});

test('runHistory downsamples 10,000 logged steps to maxPoints (bucket means) and skips events and a torn last line', { timeout: 60_000 }, async () => {
  const dir = path.join(workspace, 'history-long');
  fs.mkdirSync(dir);
  fs.copyFileSync(path.join(runDir, 'config.json'), path.join(dir, 'config.json'));
  // Step 10 i, loss i, level 1's loss i and level 2 never drawn; an event every 1000 steps.
  const lines: string[] = [];
  for (let i = 1; i <= 10_000; i++) {
    lines.push(JSON.stringify({ type: 'step', step: 10 * i, loss: i, perLevel: [i, null], gradNorm: 1, stepsPerSec: 100, etaSec: 0, time: '' }));
    if (i % 1000 === 0) lines.push(JSON.stringify({ type: 'event', step: 10 * i, kind: 'checkpoint', message: 'x', time: '' }));
  }
  fs.writeFileSync(path.join(dir, 'metrics.jsonl'), lines.join('\n') + '\n{"type":"step","step":100010,"lo');
  const h = await client.request(P.RunHistory, { runDir: dir, maxPoints: 100 });
  assert.ok(P.isRunHistoryResult(h));
  assert.equal(h.loggedSteps, 10_000);
  assert.equal(h.status, null);
  assert.equal(h.samples, undefined, 'no samples folder');
  assert.equal(h.points.length, 100);
  assert.deepEqual(h.points[0], { step: 10, loss: 1, perLevel: [1, null], stepsPerSec: 100 });
  assert.deepEqual(h.points[99], { step: 100_000, loss: 10_000, perLevel: [10_000, null], stepsPerSec: 100 });
  for (const p of h.points.slice(1, -1)) {
    // A bucket of consecutive steps: its mean loss is its mean step / 10 (the step rounded).
    assert.ok(Math.abs(p.loss - p.step / 10) <= 0.05, JSON.stringify(p));
    assert.deepEqual(p.perLevel, [p.loss, null]);
  }
  assert.ok(h.points.every((p, i) => i === 0 || p.step > h.points[i - 1]!.step));
  const total = h.points.slice(1, -1).reduce((a, p) => a + p.loss, 0);
  assert.ok(total > 98 * 4000 && total < 98 * 6000, 'the buckets cover the middle evenly');
  assert.equal((await client.request(P.RunHistory, { runDir: dir })).points.length, 2000, 'the default maxPoints');
  fs.writeFileSync(path.join(dir, 'status.json'), '{"state": 3}');
  const two = await client.request(P.RunHistory, { runDir: dir, maxPoints: 2 });
  assert.deepEqual(two.points.map((p) => p.step), [10, 100_000]);
  assert.equal(two.status, null, 'a status.json that holds no status counts as missing');
});

test("the work-done progress's Cancel stops a sampling job", { timeout: 300_000 }, async () => {
  const { jobId } = await client.request(P.Sample, { runDir, n: 50, stepsPerLevel: 5000 });
  const begin = await client.waitForWorkDone((w) => w.value.kind === 'begin' && (w.value.title ?? '').includes('Sampling') && !client.workDone.some((o) => o.token === w.token && o.value.kind === 'end'));
  await client.conn.sendNotification('window/workDoneProgress/cancel', { token: begin.token });
  const ended = await client.waitFor(P.JobEnded, (p) => p.jobId === jobId);
  assert.equal(ended.state, 'stopped', ended.message);
  assert.ok(client.all(P.SamplingProgress, (p) => p.jobId === jobId).length < 20, 'it did not run to the end');
});

test('an image run: PNG previews while training; inpaint and vary return PNG grids; their bad inputs fail the request', { timeout: 300_000 }, async () => {
  // A tiny U-Net for two steps: enough to exercise every image path (sigma_1 given, so no 10k x 10k distances).
  const started = await client.request(P.StartTraining, {
    data: 'mnist', runName: 'digits', preset: 'tiny', steps: 2, batch: 4, schedule: { sigmaMax: 20, levels: 10, stepsPerLevel: 1 },
  });
  const ended = await client.waitFor(P.JobEnded, (p) => p.jobId === started.jobId);
  assert.equal(ended.state, 'finished', ended.message);
  const preview = await client.waitFor(P.TrainingSamples, (p) => p.jobId === started.jobId);
  assert.deepEqual(preview.shape, [28, 28, 1]);
  const isPng = (b64: string | undefined) => Buffer.from(b64 ?? '', 'base64').subarray(0, 4).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47]));
  assert.ok(isPng(preview.png), 'a base64 PNG grid');

  const D = 28 * 28;
  const image = Array.from({ length: D }, (_, i) => (Math.floor(i / 28) === 14 ? 1 : 0));
  const mask = new Float32Array(D).map((_, i) => (i < D / 2 ? 1 : 0));
  const maskB64 = Buffer.from(mask.buffer).toString('base64');
  const inp = await client.request(P.Inpaint, { runDir: started.runDir, image, mask: maskB64, n: 2, seed: 1 });
  let e0: Error;
  const inpEnd = await client.waitFor(P.JobEnded, (p) => p.jobId === inp.jobId);
  assert.equal(inpEnd.state, 'finished', inpEnd.message);
  assert.ok(inpEnd.result?.type === 'samples');
  assert.equal(inpEnd.result.n, 3);
  assert.equal(inpEnd.result.first, 'masked input');
  assert.ok(isPng(inpEnd.result.png) && inpEnd.result.file.endsWith('.png') && fs.existsSync(inpEnd.result.file));

  // A training example and a ready-made mask (what the palette's Inpaint… sends): the known half of the input is the example's.
  const inp2 = await client.request(P.Inpaint, { runDir: started.runDir, index: 3, maskPreset: 'right', n: 1, seed: 2 });
  const inp2End = await client.waitFor(P.JobEnded, (p) => p.jobId === inp2.jobId);
  assert.equal(inp2End.state, 'finished', inp2End.message);
  assert.ok(inp2End.result?.type === 'samples' && inp2End.result.n === 2 && isPng(inp2End.result.png));
  e0 = await rpcError(client.request(P.Inpaint, { runDir: started.runDir, index: 3, image, maskPreset: 'right', n: 1 }));
  assert.match(e0.message, /exactly one of 'image'.*and 'index'/);
  e0 = await rpcError(client.request(P.Inpaint, { runDir: started.runDir, index: 3, maskPreset: 'diagonal' as P.MaskPreset, n: 1 }));
  assert.match(e0.message, /'maskPreset' must be one of left, right, top, bottom, centre, random/);

  const vary = await client.request(P.Vary, { runDir: started.runDir, index: 0, level: 5, n: 2 });
  const varyEnd = await client.waitFor(P.JobEnded, (p) => p.jobId === vary.jobId);
  assert.equal(varyEnd.state, 'finished', varyEnd.message);
  assert.ok(varyEnd.result?.type === 'samples' && isPng(varyEnd.result.png));
  assert.equal(varyEnd.result.first, 'source example');
  assert.deepEqual(client.all(P.SamplingProgress, (p) => p.jobId === vary.jobId).map((p) => p.level), [5, 6, 7, 8, 9, 10], 'the chain runs from level 5 on');

  let e = await rpcError(client.request(P.Inpaint, { runDir: started.runDir, image: [0, 1, 0], mask: maskB64, n: 1 }));
  assert.match(e.message, /The image has 3 values; this run's examples are \[28, 28, 1\] = 784 values/);
  e = await rpcError(client.request(P.Vary, { runDir: started.runDir, index: 0, level: 11, n: 1 }));
  assert.match(e.message, /The level must be between 1 and 10 for this run \(got 11\)/);
  e = await rpcError(client.request(P.Vary, { runDir: started.runDir, index: 10_000, level: 1, n: 1 }));
  assert.match(e.message, /The index must be between 0 and 9999/);

  // runHistory reads the newest grid back (the variations: source + 2, in a 2 x 2 grid with an empty tile).
  const h = await client.request(P.RunHistory, { runDir: started.runDir });
  assert.ok(P.isRunHistoryResult(h) && h.samples);
  assert.equal(h.samples.file, varyEnd.result.file);
  assert.deepEqual(h.samples.shape, [28, 28, 1]);
  assert.equal(h.samples.n, 3);
  assert.equal(h.samples.png, varyEnd.result.png, 'the same grid the job reported');
  assert.equal(h.samples.step, 2);
});

test('listRuns shows the finished run and tolerates broken folders; describeCheckpoint returns the schedule', { timeout: 60_000 }, async () => {
  fs.mkdirSync(path.join(runsFolder, 'broken'));
  fs.writeFileSync(path.join(runsFolder, 'broken', 'config.json'), '{"dataSpec": "mnist", trunc');
  fs.mkdirSync(path.join(runsFolder, 'empty'));
  fs.writeFileSync(path.join(runsFolder, 'stray-file.txt'), 'not a run');
  // A run whose training process died (a killed server): status.json still says running.
  const dead = path.join(runsFolder, 'interrupted');
  fs.mkdirSync(dead);
  fs.copyFileSync(path.join(runDir, 'config.json'), path.join(dead, 'config.json'));
  fs.writeFileSync(path.join(dead, 'status.json'), JSON.stringify({ state: 'running', step: 40, totalSteps: 100, lastLoss: 1, pid: 2 ** 22 + 12345, updatedAt: new Date().toISOString() }));
  const runs = await client.request(P.ListRuns, { folder: runsFolder });
  assert.ok(runs.every(P.isRunSummary));
  const byName = new Map(runs.map((r) => [r.name, r]));
  assert.deepEqual([...byName.keys()].sort(), ['broken', 'digits', 'empty', 'interrupted', 'mix']);
  const interrupted = byName.get('interrupted')!;
  assert.equal(interrupted.state, 'stopped');
  assert.equal(interrupted.interrupted, true);
  assert.match(interrupted.message ?? '', /Interrupted at step 40.*Resume it/);
  const dashboardView = await client.request(P.RunHistory, { runDir: dead });
  assert.equal(dashboardView.status?.state, 'stopped', 'the dashboard shows an interrupted run as stopped, as listRuns does');
  assert.match(dashboardView.status?.message ?? '', /Interrupted at step 40/);
  const mix = byName.get('mix')!;
  assert.equal(mix.state, 'finished');
  assert.equal(mix.step, stoppedAt + 100);
  assert.equal(mix.totalSteps, stoppedAt + 100);
  assert.equal(mix.data, 'toy:mixture');
  assert.equal(mix.preset, 'mlp');
  assert.equal(mix.dataKind, 'points');
  assert.ok(mix.lastLoss !== null && mix.lastLoss > 0 && mix.updatedAt);
  assert.equal(mix.jobId, undefined);
  assert.equal(byName.get('broken')!.state, 'unknown');
  assert.match(byName.get('broken')!.message ?? '', /not valid JSON/);
  assert.match(byName.get('empty')!.message ?? '', /not a High Score run/);
  assert.deepEqual(await client.request(P.ListRuns, { folder: path.join(workspace, 'no-such-folder') }), []);

  const d = await client.request(P.DescribeCheckpoint, { runDir });
  assert.ok(P.isNoiseSchedule(d.schedule));
  assert.equal(d.schedule.sigmas.length, 20);
  assert.equal(d.config.dataSpec, 'toy:mixture');
  assert.equal(d.config.network.kind, 'mlp');
  assert.equal(d.status?.state, 'finished');
  assert.ok(d.checkpoints.length >= 1 && d.checkpoints.every((c) => fs.existsSync(c.dir)));
  assert.equal(d.checkpoints[d.checkpoints.length - 1]!.step, stoppedAt + 100);
  assert.ok(d.samples.some((f) => f.endsWith('.csv')));

  const e = await rpcError(client.rawRequest(P.DescribeCheckpoint, { runDir: path.join(runsFolder, 'broken') }));
  assert.match(e.message, /broken is not a readable High Score run/);
});
