/**
 * The dashboard: one webview panel beside the code that shows one run live (loss curves, per-level
 * loss, the noise schedule, samples, the sampling chain, the score field of 2D runs). The panel only
 * exchanges the protocol's typed messages (its backend requests go through the preview pages' relay);
 * every message from it is checked (isFromDashboard) before use. A serializer brings it back, on the
 * same run, after a window reload.
 */
import * as vscode from 'vscode';
import * as P from '../protocol/protocol';
import type { Backend } from './backend';
import { dashboardHtml, makeNonce } from './dashboardHtml';
import { relayPageRequest } from './previews/pageHost';

export const DASHBOARD_VIEW_TYPE = 'highscore.dashboard';
const TITLE = 'High Score Dashboard';

export class Dashboard implements vscode.Disposable {
  private panel: vscode.WebviewPanel | undefined;
  private runDir: string | null = null;
  private runId: string | null = null;
  /** Jobs whose notifications belong on the shown panel (sampling jobs started for the shown run). */
  private readonly followedJobs = new Set<string>();
  private readonly disposables: vscode.Disposable[] = [];

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly backend: Backend,
    private readonly onAction: (action: P.DashboardAction, runDir: string | null) => void,
    private readonly log: vscode.LogOutputChannel,
  ) {
    for (const method of P.NOTIFICATION_METHODS) {
      this.disposables.push(backend.onNotification(method, (params) => this.forward(method, params)));
    }
    this.disposables.push(backend.onStateChange((state) => {
      this.post({ type: 'server', state, ...(state === 'restarting' ? { message: 'The backend stopped unexpectedly and is restarting. Runs keep their last checkpoint: resume them from the Runs view.' } : {}) });
      // Back after a restart: the shown run's state has changed (an interrupted run is now stopped).
      if (state === 'running') void this.sendRun();
    }));
    this.disposables.push(vscode.window.registerWebviewPanelSerializer(DASHBOARD_VIEW_TYPE, {
      deserializeWebviewPanel: async (panel, state) => {
        this.adopt(panel, P.isDashboardState(state) ? state.runDir : null);
      },
    }));
  }

  /** The run shown, if any. */
  shownRun(): string | null {
    return this.runDir;
  }

  /** Opens (or reveals) the panel on a run; null keeps the current run. */
  show(runDir: string | null, preserveFocus = false): void {
    if (runDir !== null) this.setRun(runDir);
    if (this.panel) {
      this.panel.reveal(undefined, preserveFocus);
      if (runDir !== null) void this.sendRun();
      return;
    }
    const panel = vscode.window.createWebviewPanel(DASHBOARD_VIEW_TYPE, TITLE, { viewColumn: vscode.ViewColumn.Beside, preserveFocus }, {
      enableScripts: true,
      retainContextWhenHidden: true,
      localResourceRoots: [vscode.Uri.joinPath(this.extensionUri, 'dist', 'webview'), vscode.Uri.joinPath(this.extensionUri, 'media')],
    });
    this.adopt(panel, this.runDir);
  }

  /** Follow a sampling job's notifications on the panel. */
  follow(jobId: string): void {
    this.followedJobs.add(jobId);
  }

  /** Plots a noise schedule (Show Noise Schedule). */
  showSchedule(result: P.ComputeScheduleResult): void {
    this.show(null);
    this.post({ type: 'schedule', result });
  }

  private setRun(runDir: string): void {
    this.runDir = runDir;
    this.runId = runDir.split(/[\\/]/).filter(Boolean).pop() ?? null;
  }

  private adopt(panel: vscode.WebviewPanel, runDir: string | null): void {
    this.panel?.dispose();
    this.panel = panel;
    if (runDir) this.setRun(runDir);
    panel.iconPath = vscode.Uri.joinPath(this.extensionUri, 'media', 'highscore.svg');
    panel.webview.options = {
      enableScripts: true,
      localResourceRoots: [vscode.Uri.joinPath(this.extensionUri, 'dist', 'webview'), vscode.Uri.joinPath(this.extensionUri, 'media')],
    };
    const asset = (name: string) => panel.webview.asWebviewUri(vscode.Uri.joinPath(this.extensionUri, 'dist', 'webview', name)).toString();
    panel.webview.html = dashboardHtml({ cspSource: panel.webview.cspSource, nonce: makeNonce(), scriptUri: asset('dashboard.js'), styleUri: asset('dashboard.css'), title: TITLE });
    panel.webview.onDidReceiveMessage((raw: unknown) => this.receive(raw));
    panel.onDidDispose(() => {
      if (this.panel === panel) this.panel = undefined;
    });
  }

  private receive(raw: unknown): void {
    if (!P.isFromDashboard(raw)) {
      this.log.warn(`Ignored a malformed message from the dashboard: ${JSON.stringify(raw)?.slice(0, 200)}`);
      return;
    }
    if (raw.type === 'ready') {
      if (!this.runDir && raw.runDir) this.setRun(raw.runDir);
      this.post({ type: 'server', state: this.backend.serverState() });
      void this.sendRun();
    } else if (raw.type === 'request') {
      // The score field card's requests, relayed as the preview pages' are (jobs it starts are followed).
      void relayPageRequest(this.backend, raw, (r) => this.post(r), (jobId) => this.follow(jobId));
    } else {
      this.onAction(raw.action, raw.runDir ?? this.runDir);
    }
  }

  /** Sends the shown run's history (config, curve, latest samples). */
  private async sendRun(): Promise<void> {
    const runDir = this.runDir;
    if (!runDir || !this.panel) return;
    try {
      const history = await this.backend.request(P.RunHistory, { runDir, maxPoints: 2000 });
      if (runDir !== this.runDir) return;
      const live = history.status?.state === 'running';
      this.post({ type: 'run', history, live });
    } catch (err) {
      this.log.warn(`The dashboard could not load ${runDir}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  private forward<M extends P.NotificationMethod>(method: M, params: P.Notifications[M]): void {
    if (!this.panel) return;
    const p = params as { runId?: string; jobId?: string };
    if (method === P.Log) return; // the Output channel has them
    const ours = (p.runId !== undefined && p.runId === this.runId) || (p.jobId !== undefined && this.followedJobs.has(p.jobId));
    if (!ours) return;
    this.post({ type: 'notification', method, params });
    if (method === P.JobEnded && p.jobId) this.followedJobs.delete(p.jobId);
  }

  private post(message: P.ToDashboard): void {
    void this.panel?.webview.postMessage(message);
  }

  dispose(): void {
    this.panel?.dispose();
    for (const d of this.disposables) d.dispose();
  }
}
