/**
 * The High Score backend: a language-server-style process (vscode-languageserver over stdio) that the
 * extension starts with vscode-languageclient. It answers the custom requests of protocol/protocol.ts
 * and streams progress, samples, logs and job ends as notifications. All engine work runs in worker
 * threads (jobs.ts), so this thread answers every request at once, also while a model trains.
 *
 *   node dist/server.js --stdio
 */
import * as path from 'path';
import { fileURLToPath } from 'url';
import { createConnection, ProposedFeatures, type InitializeParams, type InitializeResult } from 'vscode-languageserver/node';
import * as P from '../../protocol/protocol';
import { JobManager, type JobSink } from './jobs';
import { registerHandlers, type ServerSettings } from './handlers';
import { WorkDoneTracker } from './workDone';
import { registerAssignment } from './assignment';

const connection = createConnection(ProposedFeatures.all);

/** The workspace folder from `initialize` (a file: URI), else the working directory. */
function workspaceRoot(params: InitializeParams): string {
  const uri = params.workspaceFolders?.[0]?.uri ?? params.rootUri ?? undefined;
  if (uri?.startsWith('file:')) {
    try {
      return fileURLToPath(uri);
    } catch { /* not a local path */ }
  }
  return params.rootPath ?? process.cwd();
}

function backendFrom(value: unknown): P.BackendRequest | undefined {
  return P.BACKEND_REQUESTS.find((b) => b === value);
}

let settings: ServerSettings = {
  root: process.cwd(),
  runsFolder: path.join(process.cwd(), '.highscore', 'runs'),
  backend: backendFrom(process.env.HIGHSCORE_BACKEND) ?? 'auto',
};

connection.onInitialize((params): InitializeResult => {
  const root = workspaceRoot(params);
  const opts = (params.initializationOptions ?? {}) as P.InitializationOptions;
  settings = {
    root,
    runsFolder: path.resolve(root, typeof opts.runsFolder === 'string' && opts.runsFolder ? opts.runsFolder : path.join('.highscore', 'runs')),
    backend: backendFrom(opts.backend) ?? settings.backend,
  };
  return {
    capabilities: {
      // The assignment's student module (assignment.ts): full text sync, CodeLens and hovers.
      textDocumentSync: 1,
      hoverProvider: true,
      codeLensProvider: { resolveProvider: false },
      experimental: { highscore: { protocolVersion: P.PROTOCOL_VERSION, pid: process.pid, runsFolder: settings.runsFolder, requests: [...P.REQUEST_METHODS], notifications: [...P.NOTIFICATION_METHODS] } },
    },
    serverInfo: { name: 'High Score' },
  };
});

function notify<M extends P.NotificationMethod>(method: M, params: P.Notifications[M]): void {
  void connection.sendNotification(method, params);
}

const fmt = (v: number) => (Math.abs(v) >= 1e4 || (v !== 0 && Math.abs(v) < 1e-3) ? v.toExponential(2) : v.toPrecision(4));

let jobs: JobManager;
const workDone = new WorkDoneTracker(connection.window, (jobId) => {
  try {
    jobs.stop(jobId);
  } catch { /* it has ended already */ }
}, (message) => notify(P.Log, { level: 'warning', message }));

const sink: JobSink = {
  progress(p) {
    notify(P.Progress, p);
    const eta = p.etaSec === null ? '' : ` · ${Math.round(p.etaSec)} s left`;
    workDone.report(p.jobId, (100 * p.step) / Math.max(1, p.totalSteps), `step ${p.step}/${p.totalSteps} · loss ${fmt(p.loss)} · ${p.stepsPerSec.toFixed(1)} steps/s${eta}`);
  },
  trainingSamples: (p) => notify(P.TrainingSamples, p),
  samplingProgress(p) {
    notify(P.SamplingProgress, p);
    workDone.report(p.jobId, (100 * p.done) / Math.max(1, p.total), `level ${p.level}/${p.levels} · sigma ${fmt(p.sigma)}`);
  },
  log: (p) => notify(P.Log, p),
  jobStarted: (job) => workDone.begin(job.id, job.title),
  jobEnded(p) {
    workDone.end(p.jobId);
    notify(P.Log, { level: p.state === 'failed' ? 'error' : 'info', message: p.message, jobId: p.jobId });
    notify(P.JobEnded, p);
  },
};

jobs = new JobManager(sink);
registerHandlers(connection, jobs, () => settings);
registerAssignment(connection, () => settings.root);

// Shutdown: ask every job to stop (training writes a checkpoint), so the run can be resumed.
connection.onShutdown(() => jobs.stopAll());

connection.listen();
