/**
 * The backend process: starts dist/server.js with vscode-languageclient over stdio, restarts it when it
 * dies (and says so), and gives the rest of the extension typed requests and checked notifications.
 * The extension never imports the engine: everything goes through protocol/protocol.ts, so the
 * backend can run on a remote machine (Remote-SSH, Dev Containers, Codespaces) with the data.
 */
import * as path from 'path';
import * as vscode from 'vscode';
import {
  CloseAction, ErrorAction, LanguageClient, State, TransportKind,
  type ErrorHandler, type LanguageClientOptions, type ServerOptions,
} from 'vscode-languageclient/node';
import * as P from '../protocol/protocol';
import type { Settings } from './settings';

/** How many crashes in how long before we stop restarting (a server that dies at start would loop). */
const MAX_RESTARTS = 4;
const RESTART_WINDOW_MS = 3 * 60 * 1000;

export class Backend implements vscode.Disposable {
  private client: LanguageClient | undefined;
  private state: P.ServerState = 'stopped';
  private info: P.ServerInfo | undefined;
  private readyPromise: Promise<void> | undefined;
  private crashes: number[] = [];
  private intentionalStop = false;
  private readonly stateEmitter = new vscode.EventEmitter<P.ServerState>();
  private readonly crashEmitter = new vscode.EventEmitter<string>();
  /** Every state change: 'starting' -> 'running'; a crash gives 'restarting', then 'running' again. */
  readonly onStateChange = this.stateEmitter.event;
  /** The backend died unexpectedly (the argument says what happened); it is being restarted. */
  readonly onCrash = this.crashEmitter.event;
  private readonly handlers: { method: P.NotificationMethod; handler: (params: never) => void }[] = [];

  constructor(
    private readonly extensionPath: string,
    private readonly output: vscode.LogOutputChannel,
    private readonly settings: () => Settings,
    /** Where "Install Native Backend" puts tfjs-node(-gpu); the engine also looks there. */
    private readonly nativePath?: string,
  ) {}

  serverState(): P.ServerState {
    return this.state;
  }

  pid(): number | undefined {
    return this.state === 'running' ? this.info?.pid : undefined;
  }

  /** The runs folder the server uses (absolute), once it runs. */
  runsFolder(): string | undefined {
    return this.info?.runsFolder;
  }

  /** Starts the backend (once); resolves when it has answered `initialize`. */
  start(): Promise<void> {
    this.readyPromise ??= this.startClient();
    return this.readyPromise;
  }

  /** Resolves once the backend runs (starting it if needed). */
  ready(): Promise<void> {
    return this.start();
  }

  /** Stops and starts the backend again (the Restart Backend command, or a settings change). */
  async restart(): Promise<void> {
    const old = this.client;
    this.client = undefined;
    this.readyPromise = undefined;
    if (old) {
      this.intentionalStop = true;
      try {
        await old.stop(20_000);
      } catch (err) {
        this.output.warn(`The backend did not stop cleanly: ${String(err)}`);
      } finally {
        this.intentionalStop = false;
      }
    }
    await this.start();
  }

  /** A typed request; `token` cancels it (the backend stops the work where it can). */
  async request<M extends P.RequestMethod>(method: M, params: P.RequestParams<M>, token?: vscode.CancellationToken): Promise<P.RequestResult<M>> {
    await this.ready();
    const client = this.client;
    if (!client) throw new Error('The High Score backend is not running. Run "High Score: Restart Backend".');
    if (token) return client.sendRequest(method, params, token) as Promise<P.RequestResult<M>>;
    return P.sendRequest(client, method, params);
  }

  /** A checked notification handler; it stays registered across restarts. */
  onNotification<M extends P.NotificationMethod>(method: M, handler: (params: P.Notifications[M]) => void): vscode.Disposable {
    const entry = { method, handler: handler as (params: never) => void };
    this.handlers.push(entry);
    return new vscode.Disposable(() => {
      const i = this.handlers.indexOf(entry);
      if (i >= 0) this.handlers.splice(i, 1);
    });
  }

  private dispatch(method: P.NotificationMethod, raw: unknown): void {
    if (!P.isNotification(method, raw)) {
      this.output.warn(`Ignored a malformed ${method} notification from the backend.`);
      return;
    }
    for (const h of [...this.handlers]) {
      if (h.method !== method) continue;
      try {
        (h.handler as (params: unknown) => void)(raw);
      } catch (err) {
        this.output.error(`A ${method} handler failed: ${err instanceof Error ? err.stack ?? err.message : String(err)}`);
      }
    }
  }

  private setState(state: P.ServerState): void {
    if (state === this.state) return;
    this.state = state;
    this.stateEmitter.fire(state);
  }

  private async startClient(): Promise<void> {
    const s = this.settings();
    const serverModule = path.join(this.extensionPath, 'dist', 'server.js');
    const env = {
      ...process.env, ...(s.backend === 'auto' ? {} : { HIGHSCORE_BACKEND: s.backend }),
      ...(this.nativePath ? { HIGHSCORE_NATIVE_PATH: this.nativePath } : {}),
    };
    const serverOptions: ServerOptions = {
      run: { module: serverModule, transport: TransportKind.stdio, options: { env } },
      debug: { module: serverModule, transport: TransportKind.stdio, options: { env, execArgv: ['--inspect=6019'] } },
    };
    const initializationOptions: P.InitializationOptions = { runsFolder: s.runsFolder, backend: s.backend };
    const clientOptions: LanguageClientOptions = {
      // The assignment's student module: the backend publishes diagnostics, CodeLens and hovers for it.
      documentSelector: [{ scheme: 'file', language: 'typescript', pattern: '**/scoreModel.ts' }],
      outputChannel: this.output,
      initializationOptions,
      errorHandler: this.errorHandler(),
    };
    const client = new LanguageClient('highscore', 'High Score backend', serverOptions, clientOptions);
    // The client would show the backend's work-done progress in the status bar, without Cancel and
    // beside our own item; jobProgress.ts shows it as a notification with Cancel instead. Registered
    // after the built-in features, this one has the last word on the capability.
    client.registerFeature({
      fillClientCapabilities: (c) => {
        c.window = { ...c.window, workDoneProgress: false };
      },
      initialize: () => undefined,
      getState: () => ({ kind: 'static' }),
      clear: () => undefined,
    });
    for (const method of P.NOTIFICATION_METHODS) client.onNotification(method, (raw: unknown) => this.dispatch(method, raw));
    client.onDidChangeState((e) => {
      if (client !== this.client) return;
      if (e.newState === State.Running) {
        this.info = serverInfo(client.initializeResult?.capabilities.experimental);
        this.setState('running');
      } else if (e.newState === State.Starting) {
        this.setState(this.state === 'restarting' ? 'restarting' : 'starting');
      } else if (e.newState === State.Stopped && this.state !== 'restarting') {
        this.setState('stopped');
      }
    });
    this.client = client;
    this.setState('starting');
    try {
      await client.start();
    } catch (err) {
      this.setState('stopped');
      this.readyPromise = undefined;
      const message = err instanceof Error ? err.message : String(err);
      throw new Error(`The High Score backend did not start: ${message}. See "High Score: Show Log".`);
    }
  }

  private errorHandler(): ErrorHandler {
    return {
      error: (_error, _message, count) => ({ action: count !== undefined && count <= 3 ? ErrorAction.Continue : ErrorAction.Shutdown }),
      closed: () => {
        if (this.intentionalStop) return { action: CloseAction.DoNotRestart, handled: true };
        const now = Date.now();
        this.crashes = [...this.crashes.filter((t) => now - t < RESTART_WINDOW_MS), now];
        if (this.crashes.length > MAX_RESTARTS) {
          this.setState('stopped');
          const message = `The High Score backend stopped ${this.crashes.length} times in 3 minutes, so it is not restarted. See the log, then run "High Score: Restart Backend".`;
          this.crashEmitter.fire(message);
          return { action: CloseAction.DoNotRestart, message, handled: true };
        }
        this.setState('restarting');
        this.crashEmitter.fire('The High Score backend stopped unexpectedly and is being restarted. Runs it was training keep their last checkpoint and can be resumed.');
        return { action: CloseAction.Restart, handled: true };
      },
    };
  }

  async dispose(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    this.intentionalStop = true;
    if (client) await client.stop(20_000).catch(() => undefined);
    this.stateEmitter.dispose();
    this.crashEmitter.dispose();
  }
}

/** The server's own description in `initialize` (capabilities.experimental.highscore), checked. */
function serverInfo(experimental: unknown): P.ServerInfo | undefined {
  const hs = (experimental as { highscore?: unknown } | undefined)?.highscore as Partial<P.ServerInfo> | undefined;
  if (!hs || typeof hs.pid !== 'number' || typeof hs.runsFolder !== 'string') return undefined;
  return { protocolVersion: Number(hs.protocolVersion), pid: hs.pid, runsFolder: hs.runsFolder, requests: hs.requests ?? [], notifications: hs.notifications ?? [] };
}
