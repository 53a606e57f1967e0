/**
 * High Score's extension entry: starts the backend (a language-server-style process), and wires the
 * palette commands, the Runs view, the status bar and the dashboard to it. It never imports the
 * engine; it talks to the backend through protocol/protocol.ts only.
 */
import * as vscode from 'vscode';
import * as P from '../protocol/protocol';
import type { HighScoreApi } from './api';
import { registerAssignment } from './assignment';
import { Backend } from './backend';
import { registerCommands, showError } from './commands';
import { Dashboard } from './dashboardPanel';
import { wasForeground } from './jobProgress';
import { formatNumber } from './pickers';
import { RunsView } from './runsView';
import { readSettings, resolveRunsFolder, type Settings } from './settings';
import { StatusBar } from './statusBar';
import { registerPreviews } from './previews';
import { nativeBackendPath, registerNativeBackendCommand } from './nativeBackend';

let backend: Backend | undefined;

export function activate(context: vscode.ExtensionContext): HighScoreApi {
  const output = vscode.window.createOutputChannel('High Score', { log: true });
  context.subscriptions.push(output);

  let settings: Settings = loadSettings(output);
  backend = new Backend(context.extensionPath, output, () => settings, nativeBackendPath(context));
  const be = backend;
  const runs = new RunsView(be, output);
  const dashboard = new Dashboard(context.extensionUri, be, (action, runDir) => {
    const commandFor: Record<P.DashboardAction, string> = {
      stop: 'highscore.stopTraining', resume: 'highscore.resumeTraining', sample: 'highscore.sample', showLog: 'highscore.showLog', revealRun: 'highscore.runs.reveal',
    };
    const arg = action === 'stop' ? (runDir ? { runId: runDir } : undefined) : action === 'resume' && runDir ? runs.list().find((r) => r.dir === runDir) ?? runDir : runDir ?? undefined;
    void vscode.commands.executeCommand(commandFor[action], arg);
  }, output);
  const assignment = registerAssignment(context, be, output);
  context.subscriptions.push(runs, dashboard, new StatusBar(be), ...assignment.disposables,
    ...registerCommands({ backend: be, dashboard, runs, output, settings: () => settings, assignment: assignment.api }));
  context.subscriptions.push(registerNativeBackendCommand(context, output));
  context.subscriptions.push(...registerPreviews({ context, backend: be, output, dashboard, assignment: assignment.api }));

  // Tell the user how jobs they started ended, with the next step one click away.
  context.subscriptions.push(be.onNotification(P.JobEnded, (p) => {
    if (wasForeground(p.jobId) || p.kind === 'train') void announceJobEnd(p, output);
  }));
  let trainingRun: string | undefined;
  context.subscriptions.push(
    be.onNotification(P.Progress, (p) => (trainingRun = p.runId)),
    be.onNotification(P.JobEnded, (p) => {
      if (p.kind === 'train') trainingRun = undefined;
    }),
    be.onCrash((message) => {
      const interrupted = trainingRun;
      trainingRun = undefined;
      output.error(message);
      const actions = ['Show Log', ...(interrupted ? [`Resume ${interrupted}`] : [])];
      void vscode.window.showWarningMessage(`High Score: ${message}${interrupted ? ` The run ${interrupted} was interrupted.` : ''}`, ...actions).then((choice) => {
        if (choice === 'Show Log') output.show(true);
        else if (choice && interrupted) {
          const run = runs.list().find((r) => r.name === interrupted);
          void vscode.commands.executeCommand('highscore.resumeTraining', run);
        }
      });
    }),
    be.onStateChange((state) => {
      if (state === 'running') {
        const folder = be.runsFolder() ?? resolveRunsFolder(settings.runsFolder);
        if (folder) runs.watch(folder);
      }
    }),
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (!e.affectsConfiguration('highscore')) return;
      const before = settings;
      settings = loadSettings(output);
      if (before.backend !== settings.backend || before.runsFolder !== settings.runsFolder) {
        void be.restart().then(() => runs.refresh(), (err) => showError(err, output));
      }
    }),
  );

  be.start().then(
    () => output.info(`Backend ready (process ${be.pid() ?? '?'}), runs in ${be.runsFolder() ?? '?'}`),
    (err) => void showError(err, output),
  );

  return {
    ready: () => be.ready(),
    request: (method, params) => be.request(method, params),
    onNotification: (method, handler) => be.onNotification(method, handler),
    serverPid: () => be.pid(),
    serverState: () => be.serverState(),
    onServerStateChange: be.onStateChange,
    runsFolder: () => be.runsFolder() ?? resolveRunsFolder(settings.runsFolder) ?? '',
    assignment: assignment.api,
  };
}

export async function deactivate(): Promise<void> {
  await backend?.dispose();
  backend = undefined;
}

function loadSettings(output: vscode.LogOutputChannel): Settings {
  const { settings, problems } = readSettings();
  for (const p of problems) {
    output.warn(p);
    void vscode.window.showWarningMessage(`High Score: ${p}`, 'Open Settings').then((c) => {
      if (c) void vscode.commands.executeCommand('workbench.action.openSettings', 'highscore');
    });
  }
  return settings;
}

async function announceJobEnd(p: P.JobEndedParams, output: vscode.LogOutputChannel): Promise<void> {
  if (p.state === 'failed') {
    const choice = await vscode.window.showErrorMessage(`High Score: ${p.message}`, 'Show Log', ...(p.kind === 'train' ? ['Open Dashboard'] : []));
    if (choice === 'Show Log') output.show(true);
    if (choice === 'Open Dashboard') void vscode.commands.executeCommand('highscore.openDashboard', p.result?.type === 'training' ? p.result.runDir : undefined);
    return;
  }
  if (p.kind === 'train') {
    const r = p.result?.type === 'training' ? p.result : undefined;
    const loss = r?.lastLoss === null || r?.lastLoss === undefined ? '' : `, loss ${formatNumber(r.lastLoss)}`;
    const text = p.state === 'finished' ? `Training of ${p.runId ?? 'the run'} finished at step ${r?.step ?? '?'}${loss}.` : `Training of ${p.runId ?? 'the run'} stopped at step ${r?.step ?? '?'}; its checkpoint is saved.`;
    const choice = await vscode.window.showInformationMessage(`High Score: ${text}`, 'Sample…', 'Open Dashboard');
    if (choice === 'Sample…') void vscode.commands.executeCommand('highscore.sample', r?.runDir);
    if (choice === 'Open Dashboard') void vscode.commands.executeCommand('highscore.openDashboard', r?.runDir);
    return;
  }
  if (p.state === 'finished' && p.result?.type === 'samples') {
    const file = p.result.file;
    const choice = await vscode.window.showInformationMessage(`High Score: ${p.message}`, 'Open File');
    if (choice === 'Open File') void vscode.commands.executeCommand('vscode.open', vscode.Uri.file(file), vscode.ViewColumn.Beside);
  }
}
