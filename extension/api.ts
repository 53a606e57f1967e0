/**
 * What the extension's `activate` returns: a small typed handle on the backend, for other extensions
 * and for the integration tests (which run in the real extension host). Everything in it goes through
 * the protocol; the engine is never imported here.
 */
import type * as vscode from 'vscode';
import type * as P from '../protocol/protocol';
import type { AssignmentApi } from './assignment';

export interface HighScoreApi {
  /** Resolves once the backend has answered `initialize` (it starts on activation). */
  ready(): Promise<void>;
  /** A typed request to the backend. */
  request<M extends P.RequestMethod>(method: M, params: P.RequestParams<M>): Promise<P.RequestResult<M>>;
  /** Checked notifications from the backend (only messages that pass the protocol's guard). */
  onNotification<M extends P.NotificationMethod>(method: M, handler: (params: P.Notifications[M]) => void): vscode.Disposable;
  /** The backend's process id while it runs (the restart test kills it). */
  serverPid(): number | undefined;
  /** The backend's state as the extension sees it. */
  serverState(): P.ServerState;
  /** Fires on every change of the backend's state (a crash gives 'restarting', then 'running'). */
  readonly onServerStateChange: vscode.Event<P.ServerState>;
  /** The absolute runs folder in use. */
  runsFolder(): string;
  /** The assignment's checks (the Testing view's controller, and a way to run them). */
  readonly assignment: AssignmentApi;
}
