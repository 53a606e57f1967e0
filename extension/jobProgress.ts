/**
 * VS Code's native progress, with a working Cancel, for each job the user starts (training, sampling,
 * inpainting, variations). It follows the job's notifications and ends with its `jobEnded` (or when
 * the backend goes away). Cancel asks the backend to stop the job: training writes a checkpoint first.
 *
 * The backend also reports LSP work-done progress, which other LSP clients show; vscode-languageclient
 * would put it in the status bar without a Cancel, next to our own status bar item, so the client
 * does not announce work-done support (backend.ts) and this module shows the progress instead.
 */
import * as vscode from 'vscode';
import * as P from '../protocol/protocol';
import type { Backend } from './backend';
import { formatNumber } from './pickers';
import { formatDuration } from './statusBar';

/** Jobs the user started from a command (their end is announced); the interactive panels show their own. */
const foreground = new Set<string>();

/** Whether the job was started from a command, forgetting it (call once, at its end). */
export function wasForeground(jobId: string): boolean {
  return foreground.delete(jobId);
}

export function showJobProgress(backend: Backend, jobId: string, title: string): void {
  foreground.add(jobId);
  void vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `High Score: ${title}`, cancellable: true }, (progress, token) =>
    new Promise<void>((resolve) => {
      let percent = 0;
      const advance = (to: number, message: string) => {
        const inc = Math.max(0, to - percent);
        percent = Math.max(percent, to);
        progress.report({ increment: inc, message });
      };
      const subs: vscode.Disposable[] = [];
      const finish = () => {
        for (const s of subs) s.dispose();
        resolve();
      };
      subs.push(
        backend.onNotification(P.Progress, (p) => {
          if (p.jobId !== jobId) return;
          const eta = p.etaSec === null ? '' : ` · ${formatDuration(p.etaSec)} left`;
          advance((100 * p.step) / Math.max(1, p.totalSteps), `step ${p.step}/${p.totalSteps} · loss ${formatNumber(p.loss)} · ${p.stepsPerSec.toFixed(1)} steps/s${eta}`);
        }),
        backend.onNotification(P.SamplingProgress, (p) => {
          if (p.jobId !== jobId) return;
          advance((100 * p.done) / Math.max(1, p.total), `level ${p.level}/${p.levels} · sigma ${formatNumber(p.sigma)}`);
        }),
        backend.onNotification(P.JobEnded, (p) => {
          if (p.jobId === jobId) finish();
        }),
        backend.onStateChange((s) => {
          if (s !== 'running') finish();
        }),
        token.onCancellationRequested(() => {
          progress.report({ message: 'stopping…' });
          backend.request(P.CancelJob, { jobId }).catch(() => finish());
        }),
      );
    }));
}
