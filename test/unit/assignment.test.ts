/**
 * The fill-in-the-blank assignment (issue 4): the reference passes every check, each deliberately
 * wrong solution in assignment/mistakes/mistakes.json fails exactly the checks it should with its
 * specific message, the untouched template reports "not implemented" on every blank at its line, and
 * the pathological ones (an infinite loop, a throw, a syntax error, a type error, a huge allocation)
 * are reported on their blank while the other blanks are still checked.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { checkAssignment, type AssignmentCheckResult } from '../../server/assignment/runner';
import { findBlanks } from '../../server/assignment/source';
import { BLANKS } from '../../server/assignment/blanks';
import { spawn } from 'child_process';
import { pathToFileURL } from 'url';
import { createMessageConnection, StreamMessageReader, StreamMessageWriter } from 'vscode-jsonrpc/node';
import * as P from '../../protocol/protocol';

const root = path.resolve(__dirname, '../../..');
const assignment = path.join(root, 'assignment');
const reference = fs.readFileSync(path.join(assignment, 'reference/scoreModel.ts'), 'utf8');
const template = fs.readFileSync(path.join(assignment, 'template/scoreModel.ts'), 'utf8');

interface Mistake {
  id: string;
  plants: string;
  pathological?: boolean;
  typecheck?: boolean;
  replace: [string, string][];
  fails: Record<string, string>;
  status?: Record<string, string>;
  allStatus?: string;
  line?: Record<string, string>;
}
const MISTAKES = (JSON.parse(fs.readFileSync(path.join(assignment, 'mistakes/mistakes.json'), 'utf8')) as { mistakes: Mistake[] }).mistakes;

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'hs-assignment-'));
process.on('exit', () => fs.rmSync(tmp, { recursive: true, force: true }));

/** A student folder with the provided module and this scoreModel.ts; returns the module's path. */
function workspace(name: string, source: string): string {
  const dir = path.join(tmp, name);
  fs.mkdirSync(dir, { recursive: true });
  fs.copyFileSync(path.join(assignment, 'template/provided.ts'), path.join(dir, 'provided.ts'));
  fs.writeFileSync(path.join(dir, 'scoreModel.ts'), source);
  return path.join(dir, 'scoreModel.ts');
}

function planted(m: Mistake): string {
  let s = reference;
  for (const [from, to] of m.replace) {
    assert.equal(s.split(from).length, 2, `${m.id}: its replacement must match the reference exactly once: ${from}`);
    s = s.replace(from, to);
  }
  return s;
}

const lineOf = (source: string, text: string) => source.split('\n').findIndex((l) => l.includes(text)) + 1;
const summary = (r: AssignmentCheckResult) => r.blanks.map((b) => `${b.blank}: ${b.status} (${b.message})`).join('\n');
const ALL = BLANKS.map((b) => b.id);

test('the reference solution passes every check, and type-checks', async () => {
  const file = workspace('reference', reference);
  const r = await checkAssignment(file, { typecheck: true });
  assert.deepEqual(r.blanks.map((b) => b.blank), ALL);
  assert.equal(r.passed, r.total, summary(r));
  assert.deepEqual(r.moduleErrors, []);
  assert.ok(r.typecheck === 'done' || r.typecheck.startsWith('skipped'), r.typecheck);
  const locs = findBlanks(reference);
  for (const b of r.blanks) assert.equal(b.line, locs.find((l) => l.id === b.blank)!.line, b.blank);
});

test('the bundled checker (dist/assignmentChecker.js) passes the reference too', { skip: !fs.existsSync(path.join(root, 'dist/assignmentChecker.js')) }, async () => {
  const file = workspace('reference-bundle', reference);
  const r = await checkAssignment(file, { checkerPath: path.join(root, 'dist/assignmentChecker.js'), blanks: ['langevinStep', 'dsmLoss', 'decoderSkips', 'annealedLangevin'] });
  assert.equal(r.passed, r.total, summary(r));
});

test('the untouched template reports "not implemented" on every blank, at its line, with its hint', async () => {
  const file = workspace('template', template);
  const r = await checkAssignment(file);
  const locs = findBlanks(template);
  assert.equal(locs.filter((l) => l.notImplemented).length, ALL.length - 1, 'every blank but the integration check calls notImplemented');
  for (const b of r.blanks) {
    assert.equal(b.status, 'not-implemented', `${b.blank}: ${b.message}`);
    const loc = locs.find((l) => l.id === b.blank)!;
    assert.equal(b.line, loc.line);
    assert.ok(b.line > 0);
    if (loc.notImplemented) {
      assert.ok(loc.hint && b.message.includes(loc.hint), `${b.blank}: the message carries the hint`);
      assert.ok(b.cases[0]!.line >= loc.line && b.cases[0]!.line <= loc.endLine, `${b.blank}: reported within the blank`);
    }
  }
  assert.match(r.blanks.find((b) => b.blank === 'annealedLangevin')!.message, /needs initialSamples/);
});

test('the template and the reference declare the same functions, and the config lists the blanks', () => {
  const sig = (s: string) => s.split('\n').filter((l) => l.startsWith('export function'));
  assert.deepEqual(sig(template), sig(reference));
  const cfg = JSON.parse(fs.readFileSync(path.join(assignment, 'template/highscore-assignment.json'), 'utf8')) as { blanks: string[]; integrationChecks: string[]; studentModule: string };
  assert.deepEqual([...cfg.blanks, ...cfg.integrationChecks], ALL);
  assert.ok(fs.existsSync(path.join(assignment, 'template', cfg.studentModule)));
  assert.ok(!fs.readdirSync(path.join(assignment, 'template')).some((f) => /reference|mistake/i.test(f)), 'no solution in the template');
});

for (const m of MISTAKES) {
  test(`mistake '${m.id}': ${m.plants}`, async () => {
    const source = planted(m);
    const file = workspace(`mistake-${m.id}`, source);
    const t0 = Date.now();
    const r = await checkAssignment(file, { typecheck: !!m.typecheck, timeoutMs: 4000, memoryMb: 256 });
    const failing = r.blanks.filter((b) => b.status !== 'pass').map((b) => b.blank).sort();
    if (m.allStatus) {
      assert.deepEqual(failing, [...ALL].sort(), summary(r));
      for (const b of r.blanks) assert.equal(b.status, m.allStatus, `${b.blank}: ${b.message}`);
    } else {
      assert.deepEqual(failing, Object.keys(m.fails).sort(), `${m.id} must fail exactly ${Object.keys(m.fails).join(', ')}:\n${summary(r)}`);
    }
    for (const [blank, pattern] of Object.entries(m.fails)) {
      const b = r.blanks.find((x) => x.blank === blank)!;
      assert.match(b.message, new RegExp(pattern, 'i'), `${m.id} / ${blank}`);
      assert.equal(b.status, m.status?.[blank] ?? m.allStatus ?? 'fail', `${m.id} / ${blank}: ${b.message}`);
      const bad = b.cases.find((c) => c.status !== 'pass')!;
      if (bad.status === 'fail' && bad.case !== 'type check') assert.ok(bad.expected !== undefined && bad.actual !== undefined, `${m.id} / ${blank}: expected and actual given`);
      const want = m.line?.[blank] ? lineOf(source, m.line[blank]!) : b.line;
      assert.equal(bad.line, want, `${m.id} / ${blank}: reported at line ${want}`);
    }
    if (m.id === 'infinite-loop') assert.ok(Date.now() - t0 < 60_000, 'the loop is stopped by the time limit');
  });
}

test('the server: describeAssignment, diagnostics, CodeLens, hover and checkAssignment with per-blank notifications', { skip: !fs.existsSync(path.join(root, 'dist/server.js')) }, async () => {
  const dir = path.join(tmp, 'server-ws');
  fs.mkdirSync(dir, { recursive: true });
  for (const f of ['provided.ts', 'highscore-assignment.json']) fs.copyFileSync(path.join(assignment, 'template', f), path.join(dir, f));
  // A half-done module: the reference's stepSize, the template's other blanks.
  const refStep = reference.split('\n').find((l) => l.includes('return (eps * sigma * sigma)'))!;
  const half = template.replace(/return notImplemented\('stepSize'.*\);/, refStep.trim());
  const file = path.join(dir, 'scoreModel.ts');
  fs.writeFileSync(file, half);
  const child = spawn(process.execPath, [path.join(root, 'dist/server.js'), '--stdio'], { cwd: dir, stdio: ['pipe', 'pipe', 'pipe'] });
  const conn = createMessageConnection(new StreamMessageReader(child.stdout!), new StreamMessageWriter(child.stdin!));
  const notes: { method: string; params: unknown }[] = [];
  conn.onNotification((method: string, params: unknown) => { notes.push({ method, params }); });
  conn.onRequest('workspace/codeLens/refresh', () => null);
  conn.listen();
  try {
    const uri = pathToFileURL(dir).href;
    const init = await conn.sendRequest('initialize', { processId: process.pid, rootUri: uri, workspaceFolders: [{ uri, name: 'ws' }], capabilities: {} }) as { capabilities: Record<string, unknown> };
    assert.equal(init.capabilities.hoverProvider, true);
    assert.ok(init.capabilities.codeLensProvider);
    await conn.sendNotification('initialized', {});
    const docUri = pathToFileURL(file).href;
    await conn.sendNotification('textDocument/didOpen', { textDocument: { uri: docUri, languageId: 'typescript', version: 1, text: half } });
    const d = await P.sendRequest(conn, P.DescribeAssignment, { file: 'scoreModel.ts' });
    assert.ok(P.isDescribeAssignmentResult(d));
    assert.equal(d.isStudentModule, true);
    assert.equal(d.blanks.filter((b) => b.notImplemented).length, 11);
    assert.equal(d.blanks.find((b) => b.id === 'stepSize')!.notImplemented, false);
    // Diagnostics (Information) on the unfinished blanks.
    for (let i = 0; i < 50 && !notes.some((n) => n.method === 'textDocument/publishDiagnostics'); i++) await new Promise((r) => setTimeout(r, 100));
    const diag = notes.find((n) => n.method === 'textDocument/publishDiagnostics')!.params as { diagnostics: { severity: number; code: string; range: { start: { line: number } } }[] };
    assert.equal(diag.diagnostics.length, 11);
    assert.ok(diag.diagnostics.every((x) => x.severity === 3));
    const lsDiag = diag.diagnostics.find((x) => x.code === 'langevinStep')!;
    assert.equal(lsDiag.range.start.line + 1, d.blanks.find((b) => b.id === 'langevinStep')!.line + 1);
    const r = await P.sendRequest(conn, P.CheckAssignment, { file, blanks: ['stepSize', 'denoise'], checkId: 'c1', typecheck: false });
    assert.ok(P.isCheckAssignmentResult(r));
    assert.deepEqual(r.blanks.map((b) => b.status), ['pass', 'not-implemented']);
    const checked = notes.filter((n) => n.method === P.AssignmentBlankChecked).map((n) => n.params);
    assert.ok(checked.every((c) => P.isAssignmentBlankChecked(c)));
    assert.deepEqual(checked.map((c) => (c as P.AssignmentBlankCheckedParams).result.blank), ['stepSize', 'denoise']);
    const lenses = await conn.sendRequest('textDocument/codeLens', { textDocument: { uri: docUri } }) as { command: { title: string; command: string; arguments: unknown[] } }[];
    assert.equal(lenses.length, 13);
    assert.ok(lenses.every((l) => l.command.command === 'highscore.checkBlank'));
    assert.ok(lenses.some((l) => /passed/.test(l.command.title) && l.command.arguments[1] === 'stepSize'));
    assert.ok(lenses.some((l) => /not started/.test(l.command.title) && l.command.arguments[1] === 'denoise'));
    const line = d.blanks.find((b) => b.id === 'dsmLoss')!.line;
    const hover = await conn.sendRequest('textDocument/hover', { textDocument: { uri: docUri }, position: { line, character: 4 } }) as { contents: { value: string } };
    assert.match(hover.contents.value, /Denoising score matching loss/);
  } finally {
    conn.dispose();
    child.kill();
  }
});
