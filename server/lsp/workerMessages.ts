/**
 * The messages between the job manager (jobs.ts, on the thread that answers requests) and a job's
 * worker thread (worker.ts). Types only. The worker gets its job as `workerData`, may receive 'stop',
 * and posts `WorkerMessage`s back; 'started' comes once the job's inputs checked out (so a bad input
 * fails the request), and exactly one of 'result' or 'error' comes last.
 */
import type {
  MaskPreset,
  BackendRequest, ComputeScheduleResult, ProgressParams, SamplingJobResult, SamplingProgressParams,
  ScheduleSettings, StartTrainingParams, TrainingJobResult, TrainingSamplesParams, LogParams, JobEndState,
} from '../../protocol/protocol';

/** A training job: a new run in runDir, or `resume` the run there. The settings are the request's. */
export interface TrainJob extends Pick<StartTrainingParams,
  'preset' | 'steps' | 'batch' | 'seed' | 'lr' | 'sampleEvery' | 'checkpointEvery' | 'logEvery' | 'schedule' | 'studentModule'> {
  kind: 'train';
  jobId: string;
  runId: string;
  runDir: string;
  resume: boolean;
  /** Dataset spec (a resumed run's comes from its config). */
  data?: string;
  backend: BackendRequest;
}

/** What the sampling jobs share. */
interface SamplingJobBase {
  jobId: string;
  runId: string;
  runDir: string;
  n: number;
  seed?: number;
  stepsPerLevel?: number;
  /** Snapshots along the chain, streamed live. */
  snapshots?: number;
  /** The output file (its extension may be added). */
  out: string;
  backend: BackendRequest;
}

export interface SampleJob extends SamplingJobBase {
  kind: 'sample';
  denoise?: boolean;
  /** Sample with the student's sampler (an absolute path). */
  studentModule?: string;
}

export interface InpaintJob extends SamplingJobBase {
  kind: 'inpaint';
  /** The pixels, or a training example of the run's dataset. */
  source: { image: Float32Array } | { index: number };
  /** 1 = known, 0 = to fill; or a preset naming the part to fill. */
  mask: Float32Array | MaskPreset;
}

export interface VaryJob extends SamplingJobBase {
  kind: 'vary';
  index: number;
  /** 1-based, as in the protocol. */
  level: number;
}

/** A schedule computation (a request answered with the result, no notifications). */
export interface ScheduleJob extends ScheduleSettings {
  kind: 'schedule';
  jobId: string;
  data: string;
  backend: BackendRequest;
}

export type WorkerJob = TrainJob | SampleJob | InpaintJob | VaryJob | ScheduleJob;

/** Parent -> worker. */
export type ParentMessage = { type: 'stop' };

/** Worker -> parent. Notification payloads leave out jobId and runId: the manager adds them. */
export type WorkerMessage =
  | { type: 'started' }
  | { type: 'progress'; progress: Omit<ProgressParams, 'jobId' | 'runId'> }
  | { type: 'trainingSamples'; samples: Omit<TrainingSamplesParams, 'jobId' | 'runId'> }
  | { type: 'samplingProgress'; progress: Omit<SamplingProgressParams, 'jobId' | 'runId'> }
  | { type: 'log'; level: LogParams['level']; message: string }
  | { type: 'result'; state: JobEndState; message: string; result?: TrainingJobResult | SamplingJobResult | ComputeScheduleResult }
  | { type: 'error'; name: string; message: string };
