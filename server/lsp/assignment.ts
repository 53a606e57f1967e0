/**
 * The server as the language server of an assignment's student module (issue 4): the
 * `highscore/checkAssignment` and `highscore/describeAssignment` requests, Information diagnostics
 * on each unfinished blank, a CodeLens above each blank (its state and "Check"), and hovers. A file
 * is a student module when a highscore-assignment.json in its folder names it as `studentModule`.
 * Checking runs the student's code (server/assignment/runner.ts, in a separate process): the client
 * must only ask for it in a trusted workspace.
 */
import * as fs from 'fs';
import * as path from 'path';
import { fileURLToPath, pathToFileURL } from 'url';
import { DiagnosticSeverity, ResponseError, type CodeLens, type Connection, type Diagnostic, type Hover } from 'vscode-languageserver/node';
import * as P from '../../protocol/protocol';
import { BLANKS } from '../assignment/blanks';
import { checkAssignment } from '../assignment/runner';
import { findBlanks } from '../assignment/source';

export const CONFIG_FILE = 'highscore-assignment.json';

interface AssignmentConfig { studentModule?: string; blanks?: string[] }

/** The assignment config naming this file as its student module, if any. */
export function assignmentConfigFor(file: string): { configFile: string; config: AssignmentConfig } | undefined {
  const configFile = path.join(path.dirname(file), CONFIG_FILE);
  try {
    const config = JSON.parse(fs.readFileSync(configFile, 'utf8')) as AssignmentConfig;
    if (typeof config.studentModule === 'string' && path.resolve(path.dirname(file), config.studentModule) === path.resolve(file)) return { configFile, config };
  } catch { /* no config or not JSON */ }
  return undefined;
}

const toPath = (uri: string) => (uri.startsWith('file:') ? fileURLToPath(uri) : uri);

export function describeAssignment(file: string, text: string, last?: Map<string, P.BlankCheckResult>): P.DescribeAssignmentResult {
  const found = assignmentConfigFor(file);
  const locs = findBlanks(text);
  return {
    file,
    isStudentModule: !!found,
    ...(found ? { configFile: found.configFile } : {}),
    blanks: BLANKS.map((b) => {
      const loc = locs.find((l) => l.id === b.id);
      const r = last?.get(b.id);
      return {
        id: b.id, title: b.title, description: b.description, hint: loc?.hint ?? b.hint,
        kind: b.group === 'integration' ? 'integration' as const : 'blank' as const,
        line: loc?.line ?? 0, endLine: loc?.endLine ?? 0, notImplemented: loc?.notImplemented ?? false,
        ...(r ? { lastResult: r } : {}),
      };
    }),
  };
}

/** Information diagnostics: one per unfinished blank, on its notImplemented call. */
export function blankDiagnostics(text: string): Diagnostic[] {
  return findBlanks(text).filter((l) => l.notImplemented).map((l) => {
    const info = BLANKS.find((b) => b.id === l.id)!;
    const line = (l.markerLine ?? l.line) - 1;
    const col = l.markerColumn ?? 0;
    return {
      severity: DiagnosticSeverity.Information, source: 'High Score', code: l.id,
      range: { start: { line, character: col }, end: { line, character: col + (l.markerLength ?? 1) } },
      message: `${info.title}: not implemented yet. Hint: ${l.hint ?? info.hint}`,
    };
  });
}

const STATE_LABEL: Record<P.BlankCheckStatus, string> = { pass: '$(pass) passed', fail: '$(error) failed', error: '$(error) error', timeout: '$(watch) timed out', 'not-implemented': '$(circle-outline) not started' };

export function registerAssignment(connection: Connection, root: () => string): void {
  const texts = new Map<string, string>();
  const results = new Map<string, Map<string, P.BlankCheckResult>>();
  const textOf = (file: string) => texts.get(file) ?? fs.readFileSync(file, 'utf8');

  const publish = (uri: string, text: string) => {
    const file = toPath(uri);
    if (!assignmentConfigFor(file)) return;
    void connection.sendDiagnostics({ uri, diagnostics: blankDiagnostics(text) });
  };
  connection.onDidOpenTextDocument((p) => {
    texts.set(toPath(p.textDocument.uri), p.textDocument.text);
    publish(p.textDocument.uri, p.textDocument.text);
  });
  connection.onDidChangeTextDocument((p) => {
    const last = p.contentChanges[p.contentChanges.length - 1];
    if (!last || 'range' in last) return; // full sync only
    texts.set(toPath(p.textDocument.uri), last.text);
    publish(p.textDocument.uri, last.text);
  });
  connection.onDidSaveTextDocument((p) => {
    const file = toPath(p.textDocument.uri);
    publish(p.textDocument.uri, texts.get(file) ?? (fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : ''));
  });
  connection.onDidCloseTextDocument((p) => { texts.delete(toPath(p.textDocument.uri)); });

  connection.onCodeLens((p): CodeLens[] => {
    const file = toPath(p.textDocument.uri);
    if (!assignmentConfigFor(file)) return [];
    const last = results.get(file);
    return findBlanks(textOf(file)).map((l) => {
      const r = last?.get(l.id);
      const state = l.notImplemented && (!r || r.status === 'not-implemented') ? STATE_LABEL['not-implemented']
        : r ? `${STATE_LABEL[r.status]}${r.status === 'pass' ? '' : `: ${r.message.length > 80 ? `${r.message.slice(0, 77)}...` : r.message}`}` : '$(circle-large-outline) not checked';
      return {
        range: { start: { line: l.line - 1, character: 0 }, end: { line: l.line - 1, character: 0 } },
        command: { title: `${state} · Check`, command: P.CheckBlankCommand, arguments: [file, l.id] },
      };
    });
  });

  connection.onHover((p): Hover | null => {
    const file = toPath(p.textDocument.uri);
    if (!assignmentConfigFor(file)) return null;
    const loc = findBlanks(textOf(file)).find((l) => p.position.line + 1 >= l.line && p.position.line + 1 <= l.endLine);
    if (!loc) return null;
    const info = BLANKS.find((b) => b.id === loc.id)!;
    const r = results.get(file)?.get(loc.id);
    const state = r ? `\n\n**Last check:** ${r.status}${r.status === 'pass' ? '' : ` — ${r.message}`}` : loc.notImplemented ? '\n\n**Not started.**' : '';
    return { contents: { kind: 'markdown', value: `**${info.title}** (\`${info.id}\`)\n\n${info.description}\n\n*Hint:* ${loc.hint ?? info.hint}${state}` } };
  });

  const resolve = (f: unknown): string => {
    if (typeof f !== 'string' || !f) throw new ResponseError(P.ErrorCodes.InvalidParams, 'file must be a non-empty string (the student module).');
    const file = path.resolve(root(), toPath(f));
    if (!fs.existsSync(file)) throw new ResponseError(P.ErrorCodes.NotFound, `${file} does not exist.`);
    return file;
  };

  connection.onRequest(P.DescribeAssignment, (raw: unknown): P.DescribeAssignmentResult => {
    const file = resolve((raw as { file?: unknown } | undefined)?.file);
    return describeAssignment(file, textOf(file), results.get(file));
  });

  connection.onRequest(P.CheckAssignment, async (raw: unknown, token): Promise<P.CheckAssignmentResult> => {
    const params = (raw ?? {}) as Partial<P.CheckAssignmentParams>;
    const file = resolve(params.file);
    if (params.blanks !== undefined && !(Array.isArray(params.blanks) && params.blanks.every((b) => typeof b === 'string'))) {
      throw new ResponseError(P.ErrorCodes.InvalidParams, 'blanks must be an array of blank ids.');
    }
    const abort = new AbortController();
    token?.onCancellationRequested(() => abort.abort());
    const store = results.get(file) ?? new Map<string, P.BlankCheckResult>();
    results.set(file, store);
    const r = await checkAssignment(file, {
      ...(params.blanks ? { blanks: params.blanks } : {}),
      typecheck: params.typecheck !== false,
      signal: abort.signal,
      onBlank(result) {
        store.set(result.blank, result);
        void connection.sendNotification(P.AssignmentBlankChecked, { file, ...(params.checkId ? { checkId: params.checkId } : {}), result } satisfies P.AssignmentBlankCheckedParams);
      },
    });
    void connection.sendRequest('workspace/codeLens/refresh').catch(() => { /* the client does not support it */ });
    const uri = pathToFileURL(file).toString();
    if (texts.has(file)) publish(uri, texts.get(file)!);
    return r;
  });
}
