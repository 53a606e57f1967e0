/**
 * The "Runs" view: every run in the runs folder with its state, step and last loss, kept fresh from
 * the backend's notifications and a file watcher (so runs started from the CLI appear too).
 */
import * as vscode from 'vscode';
import * as P from '../protocol/protocol';
import type { Backend } from './backend';
import { formatNumber, runLine } from './pickers';

const ICONS: Record<P.RunSummary['state'], [string, string | undefined]> = {
  running: ['sync~spin', 'charts.blue'],
  finished: ['pass', 'testing.iconPassed'],
  stopped: ['debug-pause', 'charts.yellow'],
  failed: ['error', 'testing.iconFailed'],
  unknown: ['question', undefined],
};

export class RunsView implements vscode.TreeDataProvider<P.RunSummary>, vscode.Disposable {
  private runs: P.RunSummary[] = [];
  private readonly changed = new vscode.EventEmitter<P.RunSummary | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  private readonly disposables: vscode.Disposable[] = [this.changed];
  private refreshTimer: NodeJS.Timeout | undefined;
  private watcher: vscode.FileSystemWatcher | undefined;

  constructor(private readonly backend: Backend, private readonly log: vscode.LogOutputChannel) {
    this.disposables.push(
      vscode.window.createTreeView('highscore.runs', { treeDataProvider: this, showCollapseAll: false }),
      backend.onNotification(P.Progress, (p) => this.updateLive(p)),
      backend.onNotification(P.JobEnded, () => this.refreshSoon(200)),
      backend.onStateChange((s) => {
        if (s === 'running') this.refreshSoon(0);
      }),
    );
  }

  /** Watches the runs folder for status changes made by other processes (the CLI). */
  watch(runsFolder: string): void {
    this.watcher?.dispose();
    const w = vscode.workspace.createFileSystemWatcher(new vscode.RelativePattern(vscode.Uri.file(runsFolder), '*/status.json'));
    w.onDidCreate(() => this.refreshSoon(500));
    w.onDidChange(() => this.refreshSoon(2000));
    w.onDidDelete(() => this.refreshSoon(200));
    this.watcher = w;
  }

  /** The runs as last listed. */
  list(): P.RunSummary[] {
    return this.runs;
  }

  async refresh(): Promise<P.RunSummary[]> {
    try {
      this.runs = await this.backend.request(P.ListRuns, {});
    } catch (err) {
      this.log.warn(`Could not list runs: ${err instanceof Error ? err.message : String(err)}`);
    }
    this.changed.fire(undefined);
    return this.runs;
  }

  refreshSoon(ms: number): void {
    if (this.refreshTimer) clearTimeout(this.refreshTimer);
    this.refreshTimer = setTimeout(() => void this.refresh(), ms);
  }

  private updateLive(p: P.ProgressParams): void {
    const run = this.runs.find((r) => r.name === p.runId);
    if (!run) {
      this.refreshSoon(0);
      return;
    }
    Object.assign(run, { state: 'running', step: p.step, totalSteps: p.totalSteps, lastLoss: p.loss, jobId: p.jobId, interrupted: false });
    this.changed.fire(run);
  }

  getChildren(element?: P.RunSummary): P.RunSummary[] {
    if (element) return [];
    return [...this.runs].sort((a, b) => (b.updatedAt ?? '').localeCompare(a.updatedAt ?? ''));
  }

  getTreeItem(r: P.RunSummary): vscode.TreeItem {
    const item = new vscode.TreeItem(r.name, vscode.TreeItemCollapsibleState.None);
    item.id = r.dir;
    const state = r.interrupted ? 'stopped' : r.state;
    item.description = runLine(r);
    const [icon, color] = ICONS[state];
    item.iconPath = new vscode.ThemeIcon(icon, color ? new vscode.ThemeColor(color) : undefined);
    item.contextValue = `run.${state}`;
    item.resourceUri = vscode.Uri.file(r.dir);
    const md = new vscode.MarkdownString(undefined, true);
    md.appendMarkdown(`**${r.name}** — ${r.interrupted ? 'interrupted (resume it from its last checkpoint)' : r.state}\n\n`);
    md.appendMarkdown(`- data: \`${r.data ?? '?'}\`, preset: \`${r.preset ?? '?'}\`\n`);
    md.appendMarkdown(`- step ${r.step}${r.totalSteps ? ` of ${r.totalSteps}` : ''}${r.lastLoss === null ? '' : `, last loss ${formatNumber(r.lastLoss)}`}\n`);
    if (r.updatedAt) md.appendMarkdown(`- updated ${new Date(r.updatedAt).toLocaleString()}\n`);
    if (r.message) md.appendMarkdown(`\n${r.message}\n`);
    item.tooltip = md;
    item.command = { command: 'highscore.runs.openDashboard', title: 'Open Dashboard', arguments: [r] };
    return item;
  }

  dispose(): void {
    if (this.refreshTimer) clearTimeout(this.refreshTimer);
    this.watcher?.dispose();
    for (const d of this.disposables) d.dispose();
  }
}
