/**
 * The assignment in the real VS Code extension host: Create Assignment Workspace, the Testing view's
 * checks on the untouched template (every blank not implemented, Information diagnostics at the
 * blanks), then on the reference solution (every blank passes), then on a solution with an endless
 * loop in one blank (stopped by the time limit; the other blanks still report).
 */
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import type { HighScoreApi } from '../../extension/api';
import type * as P from '../../protocol/protocol';
import { suite, suiteSetup, test } from './tdd';

const EXTENSION_ID = 'highscore.high-score';

suite('assignment', () => {
  let api: HighScoreApi;
  let folder: string;
  let moduleFile: string;
  let extensionPath: string;

  suiteSetup(async () => {
    const ext = vscode.extensions.getExtension<HighScoreApi>(EXTENSION_ID);
    assert.ok(ext, `${EXTENSION_ID} is installed`);
    api = await ext.activate();
    await api.ready();
    extensionPath = ext.extensionPath;
    const root = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
    assert.ok(root, 'the tests run with a workspace folder');
    folder = path.join(root, `assignment-${Date.now()}`);
    moduleFile = path.join(folder, 'scoreModel.ts');
  });

  const byBlank = (results: P.CheckAssignmentResult[]) => {
    assert.strictEqual(results.length, 1, 'one student module in the workspace');
    return new Map(results[0]!.blanks.map((b) => [b.blank, b]));
  };

  test('Create Assignment Workspace writes the template (never the reference) and opens the module', async () => {
    const created = await vscode.commands.executeCommand<string>('highscore.createAssignment', { folder, open: true });
    assert.strictEqual(created, folder);
    for (const f of ['scoreModel.ts', 'provided.ts', 'GUIDE.md', 'highscore-assignment.json']) assert.ok(fs.existsSync(path.join(folder, f)), `${f} written`);
    assert.ok(fs.existsSync(path.join(folder, '.highscore', 'types', '@tensorflow', 'tfjs', 'index.d.ts')), 'TF.js types for the editor');
    const written = fs.readFileSync(moduleFile, 'utf8');
    const reference = fs.readFileSync(path.join(extensionPath, 'assignment', 'reference', 'scoreModel.ts'), 'utf8');
    assert.notStrictEqual(written, reference, 'the student gets the template, not the solution');
    assert.match(written, /notImplemented\('initialSamples'/);
    assert.ok(vscode.window.visibleTextEditors.some((e) => e.document.uri.fsPath === moduleFile), 'the student module is open');
  });

  test('the untouched template: every blank reports not implemented, with Information diagnostics at the blanks', async () => {
    const uri = vscode.Uri.file(moduleFile);
    const deadline = Date.now() + 30_000;
    let infos: vscode.Diagnostic[] = [];
    while (Date.now() < deadline) {
      infos = vscode.languages.getDiagnostics(uri).filter((d) => d.severity === vscode.DiagnosticSeverity.Information);
      if (infos.length >= 12) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    assert.strictEqual(infos.length, 12, `one Information diagnostic per blank (got ${infos.map((d) => d.message).join(' | ')})`);
    const text = fs.readFileSync(moduleFile, 'utf8').split('\n');
    for (const d of infos) assert.match(text[d.range.start.line] ?? '', /notImplemented|function/, `diagnostic at a blank (line ${d.range.start.line + 1})`);

    const results = byBlank(await api.assignment.checkAll());
    const blanks = [...results.values()].filter((b) => b.blank !== 'annealedLangevin');
    assert.strictEqual(blanks.length, 12);
    for (const b of blanks) {
      assert.strictEqual(b.status, 'not-implemented', `${b.blank}: ${b.message}`);
      assert.ok(b.line > 0 && /notImplemented|function/.test(text[b.line - 1] ?? ''), `${b.blank} points at its line (${b.line})`);
    }
    // The Testing view has one item per blank under the module.
    const fileItem = api.assignment.controller.items.get(moduleFile);
    assert.ok(fileItem, 'a test item for the module');
    assert.strictEqual(fileItem.children.size, 13, 'twelve blanks and the integration check');
  });

  test('the reference solution: every blank passes', async () => {
    fs.copyFileSync(path.join(extensionPath, 'assignment', 'reference', 'scoreModel.ts'), moduleFile);
    const results = await api.assignment.checkAll();
    const failing = results[0]!.blanks.filter((b) => b.status !== 'pass').map((b) => `${b.blank}: ${b.status} ${b.message}`);
    assert.deepStrictEqual(failing, [], 'no failing blank');
    assert.strictEqual(results[0]!.passed, results[0]!.total);
  });

  test('an endless loop in one blank is stopped by the time limit; the other blanks still report', async () => {
    const mistakes = JSON.parse(fs.readFileSync(path.join(extensionPath, 'assignment', 'mistakes', 'mistakes.json'), 'utf8')) as {
      mistakes: { id: string; replace: [string, string][] }[];
    };
    const loop = mistakes.mistakes.find((m) => m.id === 'infinite-loop');
    assert.ok(loop, 'the planted endless loop');
    let text = fs.readFileSync(path.join(extensionPath, 'assignment', 'reference', 'scoreModel.ts'), 'utf8');
    for (const [from, to] of loop.replace) {
      assert.ok(text.includes(from), 'the planted change applies');
      text = text.replace(from, to);
    }
    fs.writeFileSync(moduleFile, text);
    const results = byBlank(await api.assignment.checkAll());
    assert.strictEqual(results.get('numLevels')?.status, 'timeout', results.get('numLevels')?.message);
    assert.match(results.get('numLevels')?.message ?? '', /time limit/i);
    for (const id of ['initialSamples', 'stepSize', 'langevinStep', 'denoise', 'dsmLoss', 'geometricSchedule']) {
      assert.strictEqual(results.get(id)?.status, 'pass', `${id} still checked: ${results.get(id)?.message}`);
    }
  });
});
