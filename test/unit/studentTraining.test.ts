/**
 * "Train with my implementation" (and the sampler's preview) through the real backend (dist/server.js, its worker and the
 * student-module loader bundle): a run trained with the reference solution's dsmLoss and
 * geometricSchedule finishes, is marked as the student's, and samples with the student's sampler;
 * a student dsmLoss that throws mid-run stops the run with a message naming the blank and its line.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { spawn } from 'child_process';
import { pathToFileURL } from 'url';
import { createMessageConnection, StreamMessageReader, StreamMessageWriter } from 'vscode-jsonrpc/node';
import * as P from '../../protocol/protocol';

const root = path.resolve(__dirname, '../../..');
const assignment = path.join(root, 'assignment');
const reference = fs.readFileSync(path.join(assignment, 'reference/scoreModel.ts'), 'utf8');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'hs-student-train-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** A student folder with the template's files and this scoreModel.ts. */
function studentFolder(name: string, source: string): string {
  const dir = path.join(tmp, name);
  fs.mkdirSync(dir, { recursive: true });
  for (const f of ['provided.ts', 'highscore-assignment.json']) fs.copyFileSync(path.join(assignment, 'template', f), path.join(dir, f));
  fs.writeFileSync(path.join(dir, 'scoreModel.ts'), source);
  return path.join(dir, 'scoreModel.ts');
}

test('training and sampling with the student implementation; a throwing blank stops the run at its line', { timeout: 300_000 }, async () => {
  const child = spawn(process.execPath, [path.join(root, 'dist/server.js'), '--stdio'], { cwd: tmp, stdio: ['pipe', 'pipe', 'inherit'], env: { ...process.env, HIGHSCORE_BACKEND: 'wasm' } });
  const conn = createMessageConnection(new StreamMessageReader(child.stdout!), new StreamMessageWriter(child.stdin!));
  const ended: P.JobEndedParams[] = [];
  conn.onNotification(P.JobEnded, (p: P.JobEndedParams) => { ended.push(p); });
  conn.listen();
  const jobEnd = async (jobId: string) => {
    for (let i = 0; i < 2400; i++) {
      const e = ended.find((p) => p.jobId === jobId);
      if (e) return e;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`job ${jobId} did not end`);
  };
  try {
    const uri = pathToFileURL(tmp).href;
    await conn.sendRequest('initialize', { processId: process.pid, rootUri: uri, workspaceFolders: [{ uri, name: 'ws' }], capabilities: {} });
    await conn.sendNotification('initialized', {});

    const good = studentFolder('good', reference);
    const run = await P.sendRequest(conn, P.StartTraining, { data: 'toy:mixture', preset: 'mlp', steps: 300, runName: 'mine', studentModule: good, sampleEvery: 0 });
    const end = await jobEnd(run.jobId);
    assert.equal(end.state, 'finished', end.message);
    const config = JSON.parse(fs.readFileSync(path.join(run.runDir, 'config.json'), 'utf8')) as P.RunConfig;
    assert.equal(config.implementation, good, 'the run is marked as the student\'s');
    const h = await P.sendRequest(conn, P.RunHistory, { runDir: run.runDir });
    assert.ok(h.points.length > 0 && h.points.every((p) => Number.isFinite(p.loss)), 'a finite loss curve');
    assert.equal(h.config.implementation, good);

    const s = await P.sendRequest(conn, P.Sample, { runDir: run.runDir, n: 200, studentModule: good });
    const sEnd = await jobEnd(s.jobId);
    assert.equal(sEnd.state, 'finished', sEnd.message);
    assert.ok(sEnd.result?.type === 'samples' && sEnd.result.points?.length === 400 && sEnd.result.points.every(Number.isFinite), 'the student sampler drew 200 finite points');

    // The quick preview (the sampler's CodeLens) with the student's sampler, cached until the file changes.
    const pv = await P.sendRequest(conn, P.Preview, { runDir: run.runDir, n: 100, studentModule: good });
    assert.ok(P.isPreviewResult(pv) && pv.points?.length === 200 && pv.points.every(Number.isFinite), 'a preview from the student sampler');
    assert.equal((await P.sendRequest(conn, P.Preview, { runDir: run.runDir, n: 100, studentModule: good })).cached, true);
    const later = new Date(Date.now() + 5000);
    fs.utimesSync(good, later, later);
    assert.equal((await P.sendRequest(conn, P.Preview, { runDir: run.runDir, n: 100, studentModule: good })).cached, false, 'an edited module is sampled afresh');

    // A dsmLoss that throws: the run fails, and the message names the blank and its line.
    const badSource = reference.replace(/export function dsmLoss\(([^)]*)\)([^{]*)\{/, (m) => `${m}\n  throw new Error('oops');`);
    assert.notEqual(badSource, reference, 'the planted throw applies');
    const bad = studentFolder('bad', badSource);
    const throwLine = badSource.split('\n').findIndex((l) => l.includes("throw new Error('oops')")) + 1;
    const run2 = await P.sendRequest(conn, P.StartTraining, { data: 'toy:mixture', preset: 'mlp', steps: 50, runName: 'broken', studentModule: bad });
    const end2 = await jobEnd(run2.jobId);
    assert.equal(end2.state, 'failed');
    assert.match(end2.message, new RegExp(`Your dsmLoss \\(scoreModel\\.ts:${throwLine}\\) threw Error: oops`));
    const status = JSON.parse(fs.readFileSync(path.join(run2.runDir, 'status.json'), 'utf8')) as P.RunStatus;
    assert.equal(status.state, 'failed', 'the run folder says failed, not running');

    // A missing module is refused up front with the fix.
    await assert.rejects(P.sendRequest(conn, P.StartTraining, { data: 'toy:mixture', studentModule: path.join(tmp, 'nope', 'scoreModel.ts') }), /does not exist.*Create Assignment Workspace/);
  } finally {
    conn.dispose();
    child.kill();
  }
});
