/**
 * The protocol's requests (protocol/protocol.ts), answered on the connection's thread: params are
 * checked here, engine work goes to the job manager's worker threads, run folders are read with plain
 * file reads. Every failure becomes a JSON-RPC error whose message names the problem.
 */
import * as fs from 'fs';
import * as path from 'path';
import { ResponseError, type CancellationToken, type Connection } from 'vscode-languageserver/node';
import * as P from '../../protocol/protocol';
import { JobError, type JobManager } from './jobs';
import * as params from './params';
import { ParamsError } from './params';
import { defaultRunName, describeRun, isReallyRunning, isValidRunName, listRuns, readCheckpoints, RunFolderError } from './runs';
import { readConfig, readStatus } from '../engine/run';
import { runHistory } from './history';
import { registerPreviews } from './previews';

/** The server's settings, from `initialize`. */
export interface ServerSettings {
  /** The workspace folder; relative paths in requests are resolved against it. */
  root: string;
  /** The default runs folder (absolute). */
  runsFolder: string;
  /** The default compute backend. */
  backend: P.BackendRequest;
}

/** Any thrown value -> the JSON-RPC error the client sees. */
export function toResponseError(err: unknown): ResponseError<void> {
  if (err instanceof ResponseError) return err;
  const message = err instanceof Error ? err.message : String(err);
  if (err instanceof ParamsError) return new ResponseError(P.ErrorCodes.InvalidParams, message);
  if (err instanceof JobError) {
    const code = err.code === 'busy' ? P.ErrorCodes.TrainingBusy : err.code === 'not-found' ? P.ErrorCodes.NotFound : P.ErrorCodes.RequestFailed;
    return new ResponseError(code, message);
  }
  if (err instanceof RunFolderError) return new ResponseError(/does not exist/.test(message) ? P.ErrorCodes.NotFound : P.ErrorCodes.RequestFailed, message);
  return new ResponseError(P.ErrorCodes.RequestFailed, message);
}

/** `yyyymmdd-hhmmss` for default output names. */
function stamp(now = new Date()): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${now.getFullYear()}${p(now.getMonth() + 1)}${p(now.getDate())}-${p(now.getHours())}${p(now.getMinutes())}${p(now.getSeconds())}`;
}

export function registerHandlers(connection: Connection, jobs: JobManager, settings: () => ServerSettings): void {
  const resolvePath = (p: string) => path.resolve(settings().root, p);

  /** Registers a request; what arrives is unchecked (`raw`), the answer is typed by the protocol. */
  function handle<M extends P.RequestMethod>(method: M, fn: (raw: unknown, token: CancellationToken) => Promise<P.RequestResult<M>> | P.RequestResult<M>): void {
    // The library calls the handler with (token) without params, (params, token) with an object, (...params, token) with an array.
    connection.onRequest(method, async (...args: unknown[]) => {
      const token = args[args.length - 1] as CancellationToken;
      const raw = args.length === 1 ? undefined : args.length === 2 ? args[0] : args.slice(0, -1);
      try {
        return await fn(raw, token);
      } catch (err) {
        throw toResponseError(err);
      }
    });
  }

  /** An existing run folder, or a RunFolderError naming it. */
  /** The student module of a request, resolved and checked to exist. */
  function studentModule(file: string | undefined): { studentModule?: string } {
    if (file === undefined) return {};
    const abs = resolvePath(file);
    if (!fs.existsSync(abs)) throw new ParamsError(`The student module ${abs} does not exist. Create the assignment (High Score: Create Assignment Workspace) or give the path of your scoreModel.ts.`);
    return { studentModule: abs };
  }

  function existingRun(runDir: string): string {
    const dir = resolvePath(runDir);
    if (!fs.existsSync(dir)) throw new RunFolderError(`Run folder ${dir} does not exist. List runs with highscore/listRuns, or train one first.`);
    return dir;
  }

  handle(P.StartTraining, async (raw) => {
    const p = params.startTrainingParams(P.StartTraining, raw);
    const busy = jobs.activeTraining;
    if (busy) throw new JobError(`A training run is already going: ${busy.runId}. Stop it first or wait.`, 'busy');
    let runDir: string;
    if (p.runDir) {
      runDir = resolvePath(p.runDir);
    } else {
      const folder = p.runsFolder ? resolvePath(p.runsFolder) : settings().runsFolder;
      const name = p.runName ?? defaultRunName(p.data, folder);
      if (!isValidRunName(name)) {
        throw new ParamsError(`${P.StartTraining}: 'runName' must be a plain folder name of letters, digits, '.', '_' and '-' (got ${JSON.stringify(name)}).`);
      }
      runDir = path.join(folder, name);
    }
    if (fs.existsSync(path.join(runDir, 'config.json'))) {
      throw new RunFolderError(`${runDir} already holds a run (${readStatus(runDir)?.state ?? 'state unknown'}). Resume it with ${P.ResumeTraining} or choose another run name; nothing was overwritten.`);
    }
    const { runsFolder: _f, runName: _n, runDir: _d, backend, studentModule: sm, ...rest } = p;
    const job = await jobs.startTraining({ ...rest, ...studentModule(sm), runId: path.basename(runDir), runDir, resume: false, backend: backend ?? settings().backend });
    return { jobId: job.id, runId: path.basename(runDir), runDir };
  });

  handle(P.ResumeTraining, async (raw) => {
    const p = params.resumeTrainingParams(P.ResumeTraining, raw);
    const runDir = existingRun(p.runDir);
    try {
      readConfig(runDir);
    } catch (err) {
      throw new RunFolderError(`${runDir} cannot be resumed: ${(err as Error).message}`);
    }
    const status = readStatus(runDir);
    if (status?.state === 'running' && isReallyRunning(status.pid, jobs.trainingOf(runDir) !== undefined)) {
      throw new JobError(`${runDir} is being trained right now (process ${status.pid ?? '?'}). Stop it first.`, 'busy');
    }
    if (!readCheckpoints(runDir).checkpoints.length) throw new RunFolderError(`${runDir} has no checkpoint to resume from.`);
    const { runDir: _d, backend, ...rest } = p;
    const job = await jobs.startTraining({ ...rest, runId: path.basename(runDir), runDir, resume: true, backend: backend ?? settings().backend });
    return { jobId: job.id, runId: path.basename(runDir), runDir };
  });

  handle(P.StopTraining, (raw) => {
    const p = params.stopTrainingParams(P.StopTraining, raw);
    const job = jobs.stopTraining(p.runId);
    return { jobId: job.id, kind: 'train', ...(job.runId ? { runId: job.runId } : {}) };
  });

  handle(P.CancelJob, (raw) => {
    const p = params.cancelJobParams(P.CancelJob, raw);
    const known = jobs.list().find((j) => j.id === p.jobId && j.kind !== 'schedule');
    if (!known) throw new JobError(`There is no running job '${p.jobId}'.`, 'not-found');
    const job = jobs.stop(p.jobId);
    return { jobId: job.id, kind: job.kind as P.JobKind, ...(job.runId ? { runId: job.runId } : {}) };
  });

  /** Where a sampling job writes its file: the request's `out`, else `<runDir>/samples/<kind>-<time>`. */
  const outFile = (runDir: string, kind: string, out: string | undefined) => (out ? resolvePath(out) : path.join(runDir, 'samples', `${kind}-${stamp()}`));

  handle(P.Sample, async (raw) => {
    const p = params.sampleParams(P.Sample, raw);
    const runDir = existingRun(p.runDir);
    const { runDir: _d, out, backend, studentModule: sm, ...rest } = p;
    const job = await jobs.startSampling({
      ...rest, ...studentModule(sm), kind: 'sample', runId: path.basename(runDir), runDir, out: outFile(runDir, 'sample', out), backend: backend ?? settings().backend,
    });
    return { jobId: job.id };
  });

  handle(P.Inpaint, async (raw) => {
    const p = params.inpaintParams(P.Inpaint, raw);
    const runDir = existingRun(p.runDir);
    const { runDir: _d, out, backend, ...rest } = p;
    const job = await jobs.startSampling({
      ...rest, kind: 'inpaint', runId: path.basename(runDir), runDir, out: outFile(runDir, 'inpaint', out), backend: backend ?? settings().backend,
    });
    return { jobId: job.id };
  });

  handle(P.Vary, async (raw) => {
    const p = params.varyParams(P.Vary, raw);
    const runDir = existingRun(p.runDir);
    const { runDir: _d, out, backend, ...rest } = p;
    const job = await jobs.startSampling({
      ...rest, kind: 'vary', runId: path.basename(runDir), runDir, out: outFile(runDir, 'vary', out), backend: backend ?? settings().backend,
    });
    return { jobId: job.id };
  });

  handle(P.ComputeSchedule, (raw, token) => {
    const p = params.computeScheduleParams(P.ComputeSchedule, raw);
    return jobs.computeSchedule({ ...p, backend: settings().backend }, (cancel) => token.onCancellationRequested(cancel));
  });

  handle(P.ListRuns, (raw) => {
    const p = params.listRunsParams(P.ListRuns, raw);
    return listRuns(p.folder ? resolvePath(p.folder) : settings().runsFolder, (dir) => jobs.trainingOf(dir)?.id);
  });

  handle(P.DescribeCheckpoint, (raw) => {
    const p = params.describeCheckpointParams(P.DescribeCheckpoint, raw);
    return describeRun(resolvePath(p.runDir));
  });

  handle(P.RunHistory, (raw) => {
    const p = params.runHistoryParams(P.RunHistory, raw);
    const runDir = existingRun(p.runDir);
    return runHistory(runDir, p.maxPoints, jobs.trainingOf(runDir) !== undefined);
  });

  registerPreviews(handle, existingRun, () => settings().backend);
}
