/**
 * LSP work-done progress for long jobs: VS Code shows its native progress (with a working Cancel) for
 * each training and sampling job. Server-initiated: `window/workDoneProgress/create`, then `$/progress`
 * begin / report / end. Where the client does not support it the library hands out a no-op reporter.
 */
import type { CancellationToken, WorkDoneProgressServerReporter } from 'vscode-languageserver/node';

/** What the tracker needs from the connection. */
export interface ProgressFactory {
  createWorkDoneProgress(): Promise<WorkDoneProgressServerReporter>;
}

interface Entry {
  reporter?: WorkDoneProgressServerReporter;
  /** The last report made before the reporter existed, sent right after begin. */
  pending?: { percentage?: number; message: string };
  ended: boolean;
}

export class WorkDoneTracker {
  private readonly entries = new Map<string, Entry>();

  /** `cancel` is called with a job's id when the user presses Cancel on its progress. */
  constructor(private readonly factory: ProgressFactory, private readonly cancel: (jobId: string) => void, private readonly onError: (message: string) => void) {}

  /** Begins a cancellable progress for a job. Returns at once; the reporter arrives when the client answers. */
  begin(jobId: string, title: string): void {
    const entry: Entry = { ended: false };
    this.entries.set(jobId, entry);
    this.factory.createWorkDoneProgress().then(
      (reporter) => {
        if (entry.ended) {
          reporter.done();
          return;
        }
        entry.reporter = reporter;
        reporter.begin(`High Score: ${title}`, 0, entry.pending?.message ?? 'starting…', true);
        if (entry.pending) this.send(entry, entry.pending.percentage, entry.pending.message);
        watchCancel(reporter.token, () => this.cancel(jobId));
      },
      (err: unknown) => this.onError(`Could not create a progress indicator: ${(err as Error).message}`),
    );
  }

  /** Reports a job's progress (percentage 0..100). */
  report(jobId: string, percentage: number | undefined, message: string): void {
    const entry = this.entries.get(jobId);
    if (!entry || entry.ended) return;
    if (!entry.reporter) {
      entry.pending = { ...(percentage !== undefined ? { percentage } : {}), message };
      return;
    }
    this.send(entry, percentage, message);
  }

  /** Ends a job's progress. */
  end(jobId: string): void {
    const entry = this.entries.get(jobId);
    if (!entry) return;
    entry.ended = true;
    entry.reporter?.done();
    this.entries.delete(jobId);
  }

  private send(entry: Entry, percentage: number | undefined, message: string): void {
    if (percentage === undefined) entry.reporter!.report(message);
    else entry.reporter!.report(Math.max(0, Math.min(100, Math.round(percentage))), message);
  }
}

function watchCancel(token: CancellationToken, onCancel: () => void): void {
  if (token.isCancellationRequested) onCancel();
  else token.onCancellationRequested(onCancel);
}
