/**
 * The fill-in-the-blank assignment in VS Code: "Create Assignment Workspace" copies the template,
 * and the blanks are tests in the Testing view (one item per blank, its checks as children), run
 * from the Test Explorer, the gutter, the backend's CodeLens ("Check") and the palette. The backend
 * does the checking (it runs the student's code in a separate process); this module only shows it.
 * Checking executes workspace code, so it runs only in a trusted workspace.
 */
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import * as P from '../protocol/protocol';
import type { Backend } from './backend';

const CONFIG_FILE = 'highscore-assignment.json';
const UNTRUSTED = 'Checking the assignment runs the code in this workspace, so High Score only does it in a trusted workspace. Trust the workspace (Manage Workspace Trust) to check your blanks.';

export interface AssignmentApi {
  /** Checks the blanks (all, or those given) of every student module; resolves with the results. */
  checkAll(blanks?: string[]): Promise<P.CheckAssignmentResult[]>;
  /** The Testing view's controller (tests read its items). */
  readonly controller: vscode.TestController;
  /** Whether these blanks of a student module passed their last check. */
  passes(file: string, blanks: readonly string[]): boolean;
}

/** The student modules of the workspace: files that a highscore-assignment.json names. */
async function findStudentModules(): Promise<string[]> {
  const configs = await vscode.workspace.findFiles(`**/${CONFIG_FILE}`, '**/node_modules/**', 20);
  const out: string[] = [];
  for (const uri of configs) {
    try {
      const cfg = JSON.parse(fs.readFileSync(uri.fsPath, 'utf8')) as { studentModule?: unknown };
      if (typeof cfg.studentModule === 'string') out.push(path.resolve(path.dirname(uri.fsPath), cfg.studentModule));
    } catch { /* not ours or broken: the server reports when the file is opened */ }
  }
  return out;
}

export function registerAssignment(context: vscode.ExtensionContext, backend: Backend, output: vscode.LogOutputChannel): { disposables: vscode.Disposable[]; api: AssignmentApi } {
  const controller = vscode.tests.createTestController('highscore.assignment', 'High Score assignment');
  const status = vscode.window.createStatusBarItem('highscore.blanks', vscode.StatusBarAlignment.Left, 9);
  status.name = 'High Score blanks';
  status.command = 'workbench.view.testing.focus';
  const disposables: vscode.Disposable[] = [controller, status];
  /** Per file: blank id -> pass? (for the "k/n blanks pass" item). */
  const passing = new Map<string, Map<string, boolean>>();

  const updateStatus = () => {
    let k = 0;
    let n = 0;
    for (const m of passing.values()) {
      for (const ok of m.values()) {
        n++;
        if (ok) k++;
      }
    }
    if (!n) return status.hide();
    status.text = `$(beaker) ${k}/${n} blanks pass`;
    status.tooltip = 'High Score assignment: click for the Testing view';
    status.backgroundColor = k === n ? undefined : new vscode.ThemeColor('statusBarItem.warningBackground');
    status.show();
  };

  /** Creates or refreshes the items of one student module from the backend's description. */
  async function discover(file: string): Promise<vscode.TestItem | undefined> {
    const uri = vscode.Uri.file(file);
    let d: P.DescribeAssignmentResult;
    try {
      d = await backend.request(P.DescribeAssignment, { file });
    } catch (err) {
      output.warn(`Could not read the assignment ${file}: ${err instanceof Error ? err.message : String(err)}`);
      return undefined;
    }
    const fileItem = controller.items.get(file) ?? controller.createTestItem(file, path.basename(path.dirname(file)) + '/' + path.basename(file), uri);
    controller.items.add(fileItem);
    const states = passing.get(file) ?? new Map<string, boolean>();
    passing.set(file, states);
    for (const b of d.blanks) {
      const item = fileItem.children.get(b.id) ?? controller.createTestItem(b.id, b.title, uri);
      // The last check's outcome where there is one (a refresh of the tree must not hide it).
      const last = b.lastResult?.status;
      item.description = last ? statusText(last) : b.kind === 'integration' ? 'integration check' : b.notImplemented ? 'not started' : undefined;
      item.range = b.line > 0 ? new vscode.Range(b.line - 1, 0, Math.max(b.line, b.endLine) - 1, 0) : undefined;
      fileItem.children.add(item);
      if (!states.has(b.id)) states.set(b.id, b.lastResult?.status === 'pass');
    }
    updateStatus();
    return fileItem;
  }

  async function discoverAll(): Promise<void> {
    for (const file of await findStudentModules()) await discover(file);
  }

  controller.resolveHandler = async (item) => {
    if (!item) await discoverAll();
  };
  controller.refreshHandler = async () => discoverAll();

  /** Shows one blank's result on its test item and its sub-case items. */
  function report(run: vscode.TestRun, fileItem: vscode.TestItem, r: P.BlankCheckResult): void {
    const item = fileItem.children.get(r.blank);
    if (!item || !fileItem.uri) return;
    const uri = fileItem.uri;
    const at = (line: number) => new vscode.Location(uri, new vscode.Position(Math.max(0, (line || r.line || 1) - 1), 0));
    const messageOf = (c: { message: string; expected?: string; actual?: string; line: number }) => {
      const m = c.expected !== undefined && c.actual !== undefined ? vscode.TestMessage.diff(c.message, c.expected, c.actual) : new vscode.TestMessage(c.message);
      m.location = at(c.line);
      return m;
    };
    const ms = r.cases.reduce((a, c) => a + c.ms, 0);
    const seen = new Set<string>();
    for (const c of r.cases) {
      const id = `${r.blank}/${c.case}`;
      seen.add(id);
      const child = item.children.get(id) ?? controller.createTestItem(id, c.case, uri);
      child.range = item.range;
      item.children.add(child);
      if (c.status === 'pass') run.passed(child, c.ms);
      else if (c.status === 'error' || c.status === 'timeout') run.errored(child, messageOf(c), c.ms);
      else run.failed(child, messageOf(c), c.ms);
    }
    item.children.forEach((child) => {
      if (!seen.has(child.id)) item.children.delete(child.id);
    });
    const first = r.cases.find((c) => c.status !== 'pass');
    if (r.status === 'pass') run.passed(item, ms);
    else if (r.status === 'error' || r.status === 'timeout') run.errored(item, messageOf(first ?? r), ms);
    else run.failed(item, messageOf(first ?? r), ms);
    item.description = statusText(r.status);
    passing.get(fileItem.id)?.set(r.blank, r.status === 'pass');
    updateStatus();
  }

  let checks = 0;
  /** Runs the checks of the given items (blanks, cases or files); every blank of every file if none. */
  async function runChecks(request: vscode.TestRunRequest, token: vscode.CancellationToken): Promise<P.CheckAssignmentResult[]> {
    const run = controller.createTestRun(request, 'High Score checks', true);
    const results: P.CheckAssignmentResult[] = [];
    try {
      if (!vscode.workspace.isTrusted) {
        run.appendOutput(`${UNTRUSTED}\r\n`);
        void vscode.window.showWarningMessage(`High Score: ${UNTRUSTED}`, 'Manage Workspace Trust').then((c) => {
          if (c) void vscode.commands.executeCommand('workbench.trust.manage');
        });
        return results;
      }
      if (!controller.items.size) await discoverAll();
      // Group what to run by student module: a file item means all its blanks.
      const wanted = new Map<string, Set<string> | 'all'>();
      const roots = request.include ?? [...iterate(controller.items)];
      for (const item of roots) {
        const fileItem = item.parent?.parent ?? item.parent ?? item;
        const blank = item.parent?.parent ? item.parent.id : item.parent ? item.id : undefined;
        const cur = wanted.get(fileItem.id);
        if (blank === undefined) wanted.set(fileItem.id, 'all');
        else if (cur !== 'all') wanted.set(fileItem.id, new Set([...(cur ?? []), blank]));
      }
      for (const [file, blanks] of wanted) {
        if (token.isCancellationRequested) break;
        const fileItem = (await discover(file)) ?? controller.items.get(file);
        if (!fileItem) continue;
        fileItem.children.forEach((item) => {
          if (blanks === 'all' || blanks.has(item.id)) run.started(item);
        });
        await saveIfDirty(file);
        const checkId = `check-${++checks}`;
        const sub = backend.onNotification(P.AssignmentBlankChecked, (p) => {
          if (p.checkId === checkId) report(run, fileItem, p.result);
        });
        try {
          const result = await backend.request(P.CheckAssignment, { file, checkId, ...(blanks === 'all' ? {} : { blanks: [...blanks] }) }, token);
          for (const r of result.blanks) report(run, fileItem, r);
          for (const e of result.moduleErrors) run.appendOutput(`${path.basename(file)}:${e.line}: ${e.message}\r\n`, new vscode.Location(fileItem.uri!, new vscode.Position(Math.max(0, e.line - 1), 0)));
          run.appendOutput(`${result.passed}/${result.total} blanks pass (type check: ${result.typecheck})\r\n`);
          results.push(result);
        } catch (err) {
          const message = err instanceof Error ? err.message : String(err);
          run.appendOutput(`The check of ${file} failed: ${message}\r\n`);
          fileItem.children.forEach((item) => {
            if (blanks === 'all' || blanks.has(item.id)) run.errored(item, new vscode.TestMessage(message));
          });
        } finally {
          sub.dispose();
        }
      }
    } finally {
      run.end();
    }
    return results;
  }

  controller.createRunProfile('Check blanks', vscode.TestRunProfileKind.Run, (request, token) => void runChecks(request, token), true);

  const api: AssignmentApi = {
    controller,
    passes: (file, blanks) => blanks.every((b) => passing.get(file)?.get(b) === true),
    async checkAll(blanks?: string[]) {
      if (!controller.items.size) await discoverAll();
      const include: vscode.TestItem[] = [];
      controller.items.forEach((fileItem) => {
        if (!blanks) include.push(fileItem);
        else fileItem.children.forEach((b) => { if (blanks.includes(b.id)) include.push(b); });
      });
      return runChecks(new vscode.TestRunRequest(include), new vscode.CancellationTokenSource().token);
    },
  };

  disposables.push(
    vscode.commands.registerCommand('highscore.createAssignment', (arg?: { folder?: string; open?: boolean }) => createAssignmentWorkspace(context, output, arg)),
    vscode.commands.registerCommand('highscore.checkAssignment', () => api.checkAll()),
    // The backend's CodeLens "Check" above a blank.
    vscode.commands.registerCommand(P.CheckBlankCommand, async (file: string, blank: string) => {
      const fileItem = controller.items.get(file) ?? (await discover(file));
      const item = fileItem?.children.get(blank);
      if (!item) return undefined;
      return runChecks(new vscode.TestRunRequest([item]), new vscode.CancellationTokenSource().token);
    }),
    vscode.workspace.onDidSaveTextDocument((doc) => {
      if (controller.items.get(doc.uri.fsPath)) void discover(doc.uri.fsPath);
    }),
    vscode.workspace.onDidGrantWorkspaceTrust(() => void discoverAll()),
  );
  void discoverAll();
  return { disposables, api };
}

/** A blank's outcome as its Test Explorer row describes it. */
function statusText(s: P.BlankCheckStatus): string {
  return s === 'pass' ? 'passed' : s === 'not-implemented' ? 'not implemented' : s;
}

function* iterate(items: vscode.TestItemCollection): Iterable<vscode.TestItem> {
  const list: vscode.TestItem[] = [];
  items.forEach((i) => list.push(i));
  yield* list;
}

async function saveIfDirty(file: string): Promise<void> {
  const doc = vscode.workspace.textDocuments.find((d) => d.uri.fsPath === file);
  if (doc?.isDirty) await doc.save();
}

/**
 * Copies the template (never the reference solution) into a new folder and opens the guide and the
 * student module. `arg.folder` skips the questions (tests, walkthrough links).
 */
async function createAssignmentWorkspace(context: vscode.ExtensionContext, output: vscode.LogOutputChannel, arg?: { folder?: string; open?: boolean }): Promise<string | undefined> {
  let target = arg?.folder;
  if (!target) {
    const root = vscode.workspace.workspaceFolders?.[0]?.uri;
    const name = await vscode.window.showInputBox({
      title: 'High Score: Create Assignment Workspace', prompt: root ? `A new folder in ${root.fsPath}` : 'A new folder (absolute path)',
      value: root ? 'score-assignment' : path.join(process.env.HOME ?? '/tmp', 'score-assignment'),
      validateInput: (v) => (!v.trim() ? 'Type a folder name.' : /[<>:"|?*]/.test(v) ? 'A folder name cannot contain < > : " | ? *' : undefined),
    });
    if (!name) return undefined;
    target = root && !path.isAbsolute(name) ? path.join(root.fsPath, name) : name;
  }
  if (fs.existsSync(target) && fs.readdirSync(target).length) {
    void vscode.window.showErrorMessage(`High Score: ${target} already exists and is not empty; nothing was overwritten. Choose another folder.`);
    return undefined;
  }
  const template = path.join(context.extensionPath, 'assignment', 'template');
  fs.mkdirSync(target, { recursive: true });
  fs.cpSync(template, target, { recursive: true });
  // TF.js's types for the editor (the template's tsconfig points there): no npm install needed.
  const types = path.join(context.extensionPath, 'dist', 'types');
  if (fs.existsSync(types)) fs.cpSync(types, path.join(target, '.highscore', 'types'), { recursive: true });
  output.info(`Created the assignment in ${target}`);
  const inWorkspace = vscode.workspace.getWorkspaceFolder(vscode.Uri.file(target));
  if (arg?.open !== false) {
    if (inWorkspace) {
      const module = vscode.Uri.file(path.join(target, 'scoreModel.ts'));
      const editor = await vscode.window.showTextDocument(module, { preview: false });
      await vscode.commands.executeCommand('markdown.showPreviewToSide', vscode.Uri.file(path.join(target, 'GUIDE.md')));
      // The guide opens beside the module; the keyboard goes back to the module, where the work is.
      await vscode.window.showTextDocument(editor.document, { viewColumn: editor.viewColumn, preview: false });
    } else {
      const choice = await vscode.window.showInformationMessage(`High Score: the assignment is in ${target}. Open it?`, 'Open Folder');
      if (choice) await vscode.commands.executeCommand('vscode.openFolder', vscode.Uri.file(target));
    }
  }
  return target;
}
