/**
 * The status bar item: the running job's live step, loss and speed (click: the dashboard), or the
 * backend's trouble (click: the log). Hidden when nothing runs and all is well.
 */
import * as vscode from 'vscode';
import * as P from '../protocol/protocol';
import type { Backend } from './backend';
import { formatNumber } from './pickers';

export class StatusBar implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem('highscore.status', vscode.StatusBarAlignment.Left, 10);
  private readonly disposables: vscode.Disposable[] = [this.item];
  private training: P.ProgressParams | undefined;
  private sampling: P.SamplingProgressParams | undefined;

  constructor(backend: Backend) {
    this.item.name = 'High Score';
    this.disposables.push(
      backend.onNotification(P.Progress, (p) => {
        this.training = p;
        this.render(backend.serverState());
      }),
      backend.onNotification(P.SamplingProgress, (p) => {
        this.sampling = p;
        this.render(backend.serverState());
      }),
      backend.onNotification(P.JobEnded, (p) => {
        if (this.training?.jobId === p.jobId) this.training = undefined;
        if (this.sampling?.jobId === p.jobId) this.sampling = undefined;
        this.render(backend.serverState());
      }),
      backend.onStateChange((state) => {
        if (state !== 'running') {
          this.training = undefined;
          this.sampling = undefined;
        }
        this.render(state);
      }),
    );
  }

  /** What the item says now (also read by the tests). */
  text(): string {
    return this.item.text;
  }

  private render(state: P.ServerState): void {
    const item = this.item;
    if (state === 'restarting' || state === 'stopped') {
      item.text = state === 'restarting' ? '$(sync~spin) High Score: restarting backend' : '$(warning) High Score: backend stopped';
      item.tooltip = 'Click to see the log.';
      item.command = 'highscore.showLog';
      item.backgroundColor = state === 'stopped' ? new vscode.ThemeColor('statusBarItem.warningBackground') : undefined;
      item.show();
      return;
    }
    item.backgroundColor = undefined;
    const t = this.training;
    const s = this.sampling;
    if (!t && !s) {
      item.hide();
      return;
    }
    const parts: string[] = [];
    if (t) {
      const eta = t.etaSec === null ? '' : ` · ${formatDuration(t.etaSec)} left`;
      parts.push(`$(pulse) ${t.runId} ${t.step}/${t.totalSteps} · loss ${formatNumber(t.loss)} · ${t.stepsPerSec.toFixed(1)} steps/s${eta}`);
    }
    if (s) parts.push(`$(sparkle) sampling level ${s.level}/${s.levels}`);
    item.text = parts.join('   ');
    item.tooltip = 'High Score: click to open the dashboard.';
    item.command = 'highscore.openDashboard';
    item.show();
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
  }
}

/** 75 -> "1m 15s". */
export function formatDuration(sec: number): string {
  const s = Math.max(0, Math.round(sec));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${s % 60}s`;
  return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
}
