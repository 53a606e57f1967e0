/**
 * The job manager: every job (training, sampling, inpainting, variations, a schedule computation) runs
 * in its own worker thread (worker.ts), so the thread that answers requests stays free. At most one
 * training job runs at a time; sampling jobs may run beside it.
 *
 * A job's start resolves when the worker says 'started' (its inputs checked out) and rejects with the
 * worker's error otherwise, so a bad dataset spec or run folder fails the request that asked for it.
 * Once started, a job ends exactly once, through `JobSink.jobEnded`. Stopping posts 'stop' to the
 * worker (which aborts through an AbortSignal: training writes a checkpoint first); a worker that has
 * not ended after the grace period is terminated.
 */
import { Worker } from 'worker_threads';
import * as fs from 'fs';
import * as path from 'path';
import { readStatus, writeStatus } from '../engine/run';
import type {
  ComputeScheduleResult, JobEndedParams, JobEndState, JobKind, LogParams, ProgressParams, SamplingJobResult,
  SamplingProgressParams, TrainingJobResult, TrainingSamplesParams,
} from '../../protocol/protocol';
import type { ScheduleJob, TrainJob, WorkerJob, WorkerMessage, SampleJob, InpaintJob, VaryJob } from './workerMessages';

/** Where job output goes (main.ts sends it to the client). */
export interface JobSink {
  progress(p: ProgressParams): void;
  trainingSamples(p: TrainingSamplesParams): void;
  samplingProgress(p: SamplingProgressParams): void;
  log(p: LogParams): void;
  jobStarted(job: JobInfo): void;
  jobEnded(p: JobEndedParams): void;
}

/** A failed request the client can act on; `code` is one of the protocol's ErrorCodes. */
export class JobError extends Error {
  constructor(message: string, readonly code: 'busy' | 'not-found' | 'failed') {
    super(message);
    this.name = 'JobError';
  }
}

/** What the outside sees of a job. */
export interface JobInfo {
  id: string;
  kind: JobKind | 'schedule';
  runId?: string;
  runDir?: string;
  /** A title for progress UI. */
  title: string;
  startedAt: number;
}

interface Job extends JobInfo {
  worker: Worker;
  started: boolean;
  ended: boolean;
  stopRequested: boolean;
  stopTimer?: NodeJS.Timeout;
}

export interface JobManagerOptions {
  /** The worker script; default `resolveWorkerScript()`. */
  workerScript?: string;
  /** How long a stopped job may take to end before its worker is terminated; default 15 s (a big model's checkpoint takes a few). */
  stopGraceMs?: number;
}

/**
 * The worker script: `worker.js` beside this module's file (`__dirname`). In the bundle that is
 * dist/worker.js beside dist/server.js; under tsc's output it is out/server/lsp/worker.js beside
 * out/server/lsp/jobs.js. The HIGHSCORE_WORKER environment variable overrides it. Should only one of
 * the two builds hold a worker, each falls back to the other's copy in the same repository.
 */
export function resolveWorkerScript(dir = __dirname): string {
  const candidates = [
    process.env.HIGHSCORE_WORKER,
    path.join(dir, 'worker.js'),
    // From out/server/lsp: the repository's dist/worker.js.
    path.join(dir, '..', '..', '..', 'dist', 'worker.js'),
    // From dist: the repository's out/server/lsp/worker.js.
    path.join(dir, '..', 'out', 'server', 'lsp', 'worker.js'),
  ].filter((p): p is string => Boolean(p));
  const found = candidates.find((p) => fs.existsSync(p));
  if (!found) throw new Error(`The High Score worker script is missing (looked for ${candidates.join(', ')}). Run \`npm run build\`.`);
  return found;
}

type Outcome = { state: JobEndState; message: string; result?: TrainingJobResult | SamplingJobResult | ComputeScheduleResult };

export class JobManager {
  private readonly jobs = new Map<string, Job>();
  private training: Job | undefined;
  private nextId = 1;
  private readonly workerScript: string;
  private readonly stopGraceMs: number;

  constructor(private readonly sink: JobSink, opts: JobManagerOptions = {}) {
    this.workerScript = opts.workerScript ?? resolveWorkerScript();
    this.stopGraceMs = opts.stopGraceMs ?? 15_000;
  }

  /** The running training job, if any. */
  get activeTraining(): JobInfo | undefined {
    return this.training;
  }

  /** Every running job. */
  list(): JobInfo[] {
    return [...this.jobs.values()];
  }

  /** The job training `runDir`, if any. */
  trainingOf(runDir: string): JobInfo | undefined {
    return this.training && path.resolve(this.training.runDir ?? '') === path.resolve(runDir) ? this.training : undefined;
  }

  /** Starts a training job; throws a JobError ('busy') while another runs. Resolves once the run has started. */
  startTraining(spec: Omit<TrainJob, 'kind' | 'jobId'>): Promise<JobInfo> {
    if (this.training) {
      throw new JobError(`A training run is already going: ${this.training.runId}. Stop it first or wait.`, 'busy');
    }
    const id = this.newId();
    const title = `${spec.resume ? 'Resuming' : 'Training'} ${spec.runId}`;
    const { job, started } = this.spawn({ ...spec, kind: 'train', jobId: id }, { title, runId: spec.runId, runDir: spec.runDir });
    this.training = job;
    return started;
  }

  /** Starts a sampling, inpainting or variations job. Resolves once the model is loaded and the inputs checked. */
  startSampling(spec: Omit<SampleJob, 'jobId'> | Omit<InpaintJob, 'jobId'> | Omit<VaryJob, 'jobId'>): Promise<JobInfo> {
    const id = this.newId();
    const verb = spec.kind === 'sample' ? 'Sampling' : spec.kind === 'inpaint' ? 'Inpainting' : 'Variations';
    const full = { ...spec, jobId: id } as SampleJob | InpaintJob | VaryJob;
    return this.spawn(full, { title: `${verb}: ${spec.runId}`, runId: spec.runId, runDir: spec.runDir }).started;
  }

  /** Computes a schedule in a worker; `onCancel` lets the caller stop it (the request was cancelled). */
  computeSchedule(spec: Omit<ScheduleJob, 'kind' | 'jobId'>, onCancel?: (cancel: () => void) => void): Promise<ComputeScheduleResult> {
    const id = this.newId();
    return new Promise<ComputeScheduleResult>((resolve, reject) => {
      const { job, started } = this.spawn({ ...spec, kind: 'schedule', jobId: id }, { title: `Schedule for ${spec.data}` }, (o) => {
        if (o.state === 'finished' && o.result && 'schedule' in o.result) resolve(o.result);
        else reject(new JobError(o.message, 'failed'));
      });
      started.catch(reject);
      onCancel?.(() => this.stopJob(job));
    });
  }

  /** Asks a job to stop. Returns what was stopped; throws a JobError when there is no such job. */
  stop(jobId: string): JobInfo {
    const job = this.jobs.get(jobId);
    if (!job) throw new JobError(`There is no running job '${jobId}'${this.jobs.size ? ` (running: ${[...this.jobs.keys()].join(', ')})` : ''}.`, 'not-found');
    this.stopJob(job);
    return job;
  }

  /** Stops the training job of a run, named by its runId or its folder. */
  stopTraining(runId: string): JobInfo {
    const t = this.training;
    if (!t || (t.runId !== runId && path.resolve(t.runDir ?? '') !== path.resolve(runId))) {
      throw new JobError(`No training run '${runId}' is going${t ? ` (the running one is ${t.runId})` : ''}.`, 'not-found');
    }
    this.stopJob(t);
    return t;
  }

  /** Stops every job, waiting up to the grace period; used at shutdown. */
  async stopAll(): Promise<void> {
    const pending = [...this.jobs.values()].map((job) => new Promise<void>((resolve) => {
      job.worker.once('exit', () => resolve());
      this.stopJob(job);
    }));
    await Promise.all(pending);
  }

  private newId(): string {
    return `job-${this.nextId++}`;
  }

  private stopJob(job: Job): void {
    if (job.ended || job.stopRequested) return;
    job.stopRequested = true;
    if (job.kind === 'schedule') {
      // Nothing to save: end the thread now (its 'exit' settles the job).
      void job.worker.terminate();
      return;
    }
    job.worker.postMessage({ type: 'stop' });
    job.stopTimer = setTimeout(() => {
      if (job.ended) return;
      const secs = Number((this.stopGraceMs / 1000).toFixed(1));
      void job.worker.terminate();
      this.end(job, { state: 'stopped', message: `The ${job.kind} job did not stop within ${secs} s and was terminated.${job.kind === 'train' ? ' Resume the run from its last checkpoint.' : ''}` });
    }, this.stopGraceMs);
    job.stopTimer.unref();
  }

  private spawn(
    data: WorkerJob,
    info: { title: string; runId?: string; runDir?: string },
    onOutcome?: (o: Outcome) => void,
  ): { job: Job; started: Promise<JobInfo> } {
    // stdout/stderr: true keeps the worker's console output off the server's stdout (the JSON-RPC stream).
    const worker = new Worker(this.workerScript, { workerData: data, stdout: true, stderr: true });
    const job: Job = {
      id: data.jobId, kind: data.kind, title: info.title, startedAt: Date.now(), worker, started: false, ended: false, stopRequested: false,
      ...(info.runId !== undefined ? { runId: info.runId } : {}), ...(info.runDir !== undefined ? { runDir: info.runDir } : {}),
    };
    this.jobs.set(job.id, job);
    let resolveStart!: (j: JobInfo) => void;
    let rejectStart!: (e: Error) => void;
    const started = new Promise<JobInfo>((res, rej) => { resolveStart = res; rejectStart = rej; });
    const finish = (o: Outcome) => {
      if (job.ended) return;
      if (!job.started) {
        // It never started: the request fails with the reason, and no jobEnded follows (the client has no job id).
        this.forget(job);
        rejectStart(new JobError(o.message, 'failed'));
        onOutcome?.(o);
        return;
      }
      onOutcome?.(o);
      this.end(job, o);
    };
    this.forwardOutput(job, worker.stdout, 'info');
    this.forwardOutput(job, worker.stderr, 'warning');
    worker.on('message', (m: WorkerMessage) => {
      switch (m.type) {
        case 'started':
          if (job.started) return;
          job.started = true;
          if (data.kind !== 'schedule') this.sink.jobStarted(job);
          resolveStart(job);
          return;
        case 'progress':
          this.sink.progress({ jobId: job.id, runId: job.runId ?? '', ...m.progress });
          return;
        case 'trainingSamples':
          this.sink.trainingSamples({ jobId: job.id, runId: job.runId ?? '', ...m.samples });
          return;
        case 'samplingProgress':
          this.sink.samplingProgress({ jobId: job.id, ...(job.runId ? { runId: job.runId } : {}), ...m.progress });
          return;
        case 'log':
          this.sink.log({ level: m.level, message: m.message, jobId: job.id });
          return;
        case 'result':
          finish({ state: m.state, message: m.message, ...(m.result ? { result: m.result } : {}) });
          return;
        case 'error':
          finish({ state: 'failed', message: m.message });
          return;
      }
    });
    worker.on('error', (err) => finish({ state: 'failed', message: `The ${job.kind} job crashed: ${err.message}` }));
    worker.on('exit', (code) => {
      if (job.ended || !this.jobs.has(job.id)) return;
      finish(job.stopRequested
        ? { state: 'stopped', message: `The ${job.kind} job was stopped.` }
        : { state: 'failed', message: `The ${job.kind} job's worker exited unexpectedly (exit code ${code}).` });
    });
    return { job, started };
  }

  /** Forwards a worker's console output, line by line, as log notifications. */
  private forwardOutput(job: Job, stream: NodeJS.ReadableStream, level: LogParams['level']): void {
    let buffered = '';
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      buffered += chunk;
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? '';
      for (const line of lines) if (line.trim()) this.sink.log({ level, message: line, jobId: job.id });
    });
  }

  private forget(job: Job): void {
    job.ended = true;
    if (job.stopTimer) clearTimeout(job.stopTimer);
    this.jobs.delete(job.id);
    if (this.training === job) this.training = undefined;
    // The worker has posted its last message (or died); make sure the thread is gone.
    void job.worker.terminate();
  }

  private end(job: Job, o: Outcome): void {
    if (job.ended) return;
    this.forget(job);
    if (job.kind === 'train' && job.runDir) this.settleStatus(job.runDir, o);
    if (job.kind === 'schedule') return;
    const result = o.result && !('schedule' in o.result) ? o.result : undefined;
    this.sink.jobEnded({
      jobId: job.id, kind: job.kind, state: o.state, message: o.message,
      ...(job.runId ? { runId: job.runId } : {}), ...(result ? { result } : {}),
    });
  }

  /** A training worker that died or was terminated leaves status.json at 'running': say what happened. */
  private settleStatus(runDir: string, o: Outcome): void {
    const status = readStatus(runDir);
    if (!status || status.state !== 'running') return;
    try {
      writeStatus(runDir, { ...status, state: o.state === 'finished' ? 'stopped' : o.state, message: o.message });
    } catch (err) {
      this.sink.log({ level: 'warning', message: `Could not update ${runDir}/status.json: ${(err as Error).message}` });
    }
  }
}
