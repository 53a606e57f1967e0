/**
 * The High Score protocol: the custom JSON-RPC requests and notifications between the extension, the
 * backend server (server/lsp) and the dashboard webview, in the spirit of rust-analyzer's lsp_ext.ts.
 *
 * This module imports nothing: no engine, no node, no vscode, no JSON-RPC library. It declares
 *  - the method names as string constants (`StartTraining`, `Progress`, ...);
 *  - the params and results as interfaces;
 *  - `Requests` (method -> [params, result]) and `Notifications` (method -> params), so a caller gets
 *    typed requests with any JSON-RPC library (`sendRequest` / `onNotification` below take any object
 *    with the usual `sendRequest(method, params)` / `onNotification(method, handler)` methods);
 *  - shape-checking guards (`isProgress`, ...) for every message a receiver must not trust blindly
 *    (the webview checks each message it gets before using it).
 * So it bundles into the extension (node), the server (node) and the webview (browser) alike.
 *
 * Conventions: paths are absolute file-system paths as the server sees them; noise levels are counted
 * from 1 (level 1 = sigma_1, the largest; level L = sigma_L, the smallest), as the CLI's `vary --level`;
 * `png` fields are base64-encoded PNG files (no `data:` prefix); numbers that JSON cannot carry (NaN,
 * infinity) are sent as null.
 */

/** Bumped when a message changes incompatibly; the server reports it in `initialize`'s result. */
export const PROTOCOL_VERSION = 1;

// ---------------------------------------------------------------------------------------------------
// Method names
// ---------------------------------------------------------------------------------------------------

/** Request: start a new training run. Answered once the run has started (data loaded, run folder written). */
export const StartTraining = 'highscore/startTraining';
/** Request: ask the running training job to stop; it writes a checkpoint, then `jobEnded` says 'stopped'. */
export const StopTraining = 'highscore/stopTraining';
/** Request: continue a stopped (or finished, with more steps) run from its latest checkpoint. */
export const ResumeTraining = 'highscore/resumeTraining';
/** Request: draw samples from a run's EMA weights with annealed Langevin dynamics. */
export const Sample = 'highscore/sample';
/** Request: fill the unknown pixels of an image (NCSN inpainting). */
export const Inpaint = 'highscore/inpaint';
/** Request: variations of one training example, starting from a noise level. */
export const Vary = 'highscore/vary';
/** Request: the noise schedule for a dataset (techniques 1, 2, 4) with its diagnostics. */
export const ComputeSchedule = 'highscore/computeSchedule';
/** Request: the runs in a runs folder, with their state. */
export const ListRuns = 'highscore/listRuns';
/** Request: a run's config, status, checkpoints and schedule. */
export const DescribeCheckpoint = 'highscore/describeCheckpoint';
/** Request: cancel any job (training, sampling, inpainting, variations) by its id. */
export const CancelJob = 'highscore/cancelJob';
/** Request: a run's logged loss curve (downsampled) and its latest samples, for the dashboard. */
export const RunHistory = 'highscore/runHistory';
/** Request (previews): a 2D run's learned score on a grid at one level, in one batched evaluation (plus the true score for analytic toys). */
export const ScoreField = 'highscore/scoreField';
/** Request (previews): a quick small sample grid from a run's latest checkpoint, cached by checkpoint and params. */
export const Preview = 'highscore/preview';
/** Request (previews): a few training examples as thumbnails, for a browsable strip. */
export const DatasetExamples = 'highscore/datasetExamples';

/** Notification (server -> client): training progress, once per logging interval. */
export const Progress = 'highscore/progress';
/** Notification (server -> client): a preview grid (or point cloud) from the EMA weights during training. */
export const TrainingSamples = 'highscore/trainingSamples';
/** Notification (server -> client): one annealed-Langevin level done. */
export const SamplingProgress = 'highscore/samplingProgress';
/** Notification (server -> client): a log line (backend choice, training events, worker output). */
export const Log = 'highscore/log';
/** Notification (server -> client): a job finished, stopped or failed. Every started job gets exactly one. */
export const JobEnded = 'highscore/jobEnded';

/** Request (assignment): check a student module blank by blank (runs the student's code: trusted workspaces only). */
export const CheckAssignment = 'highscore/checkAssignment';
/** Request (assignment): the blanks of a student module, with lines, hints and what each must do. */
export const DescribeAssignment = 'highscore/describeAssignment';
/** Notification (assignment, server -> client): one blank's check result, as it arrives during `checkAssignment`. */
export const AssignmentBlankChecked = 'highscore/assignmentBlankChecked';
/** The command a blank's CodeLens runs (client side), with arguments [file, blankId]. */
export const CheckBlankCommand = 'highscore.checkBlank';

/** Every request method, for registration loops and checks. */
export const REQUEST_METHODS = [
  StartTraining, StopTraining, ResumeTraining, Sample, Inpaint, Vary, ComputeSchedule, ListRuns, DescribeCheckpoint, CancelJob, RunHistory,
  ScoreField, Preview, DatasetExamples,
  CheckAssignment, DescribeAssignment,
] as const;

/** Every notification method. */
export const NOTIFICATION_METHODS = [Progress, TrainingSamples, SamplingProgress, Log, JobEnded, AssignmentBlankChecked] as const;

/**
 * Error codes of the server's JSON-RPC errors (the message always names the problem and the fix).
 * -32602 and -32803 are JSON-RPC's and LSP's own; the others are in JSON-RPC's server-defined range.
 */
export const ErrorCodes = {
  /** The params are missing a field or have one of the wrong type or range. */
  InvalidParams: -32602,
  /** The request was well-formed but could not be done (unknown dataset, broken run folder, ...). */
  RequestFailed: -32803,
  /** A training run is already going (only one at a time). */
  TrainingBusy: -32001,
  /** No such job, run or folder. */
  NotFound: -32002,
} as const;

// ---------------------------------------------------------------------------------------------------
// Shared shapes (redeclared structurally: the protocol does not import the engine)
// ---------------------------------------------------------------------------------------------------

/** Which compute backend to use; 'auto' takes native TensorFlow if installed, else wasm. */
export type BackendRequest = 'auto' | 'tensorflow' | 'wasm' | 'webgpu' | 'cpu';
/** Every backend a client may ask for (`webgpu` only when asked: `auto` never picks it). */
export const BACKEND_REQUESTS: readonly BackendRequest[] = ['auto', 'tensorflow', 'wasm', 'webgpu', 'cpu'];

/** A run's state as written in its status.json. */
export type RunState = 'running' | 'finished' | 'failed' | 'stopped';

/** How a job ended. */
export type JobEndState = 'finished' | 'stopped' | 'failed';

/** The kinds of job the server runs in worker threads. */
export type JobKind = 'train' | 'sample' | 'inpaint' | 'vary';

/** Noise-schedule settings; anything absent follows NCSNv2's techniques (sigma_1 from the data, L from the overlap rule, eps from technique 4). */
export interface ScheduleSettings {
  /** sigma_1; default: the largest distance between two training examples (technique 1). */
  sigmaMax?: number;
  /** sigma_L; default 0.01 for images, a per-toy value for the 2D toys. */
  sigmaMin?: number;
  /** L, the number of levels; default from the overlap rule (technique 2). */
  levels?: number;
  /** T, Langevin steps per level; default 5 for images, 100 for 2D points. */
  stepsPerLevel?: number;
  /** eps, the step size; default from technique 4. */
  eps?: number;
}

/** The schedule's diagnostics, for the dashboard's plots (the engine's ScheduleDiagnostics). */
export interface ScheduleDiagnostics {
  /** The overlap rule's value at the ladder's gamma (target 0.5). */
  overlap: number;
  /** The technique-4 objective at the chosen eps (target 1). */
  stepObjective: number;
  /** How each quantity was obtained. */
  sources: {
    sigmaMax: 'data' | 'given' | 'hand-set';
    levels: 'overlap-rule' | 'given' | 'hand-set' | 'low-dimension-default' | 'dataset-default';
    eps: 'technique-4' | 'given';
  };
  /** The gamma the overlap rule asks for (absent where it has no solution, as in 2D). */
  gammaRule?: number;
  /** The technique-4 objective over a range of eps. */
  objectiveCurve: { eps: number[]; value: number[] };
  /** The overlap rule's value over a range of gamma. */
  overlapCurve: { gamma: number[]; value: number[] };
}

/** A noise schedule (the engine's NoiseSchedule). */
export interface NoiseSchedule {
  /** sigma_1 > ... > sigma_L. */
  sigmas: number[];
  /** The data dimension. */
  D: number;
  /** sigma_{i-1} / sigma_i. */
  gamma: number;
  /** T. */
  stepsPerLevel: number;
  /** The Langevin step size eps (alpha_i = eps sigma_i^2 / sigma_L^2). */
  eps: number;
  diagnostics: ScheduleDiagnostics;
}

/** The network of a run (the engine's NetworkConfig). */
export type NetworkConfig =
  | { kind: 'unet'; base: number; mults: number[]; blocks: number }
  | { kind: 'mlp'; hidden: number[] };

/** A run's config.json (the engine's TrainConfig). */
export interface RunConfig {
  dataSpec: string;
  dataShape: number[];
  dataKind: 'image' | 'points';
  preset: string;
  network: NetworkConfig;
  parameters: number;
  schedule: NoiseSchedule;
  steps: number;
  batch: number;
  learningRate: number;
  emaDecay: number;
  gradClip: number;
  seed: number;
  checkpointEvery: number;
  sampleEvery: number;
  logEvery: number;
  backend: string;
  createdAt: string;
  /** Whose maths trained it, where not the built-in engine's: the student module's path. */
  implementation?: string;
}

/** A run's status.json (the engine's RunStatus). */
export interface RunStatus {
  state: RunState;
  step: number;
  totalSteps: number;
  lastLoss: number | null;
  message?: string;
  pid?: number;
  updatedAt: string;
}

/**
 * Float values (one example, HWC, in [0, 1] for images): a plain array, or a base64 string of the
 * little-endian float32 bytes (a quarter the size on the wire).
 */
export type FloatValues = number[] | string;

/** Samples as people look at them: a PNG grid for images, flat [x0, y0, x1, y1, ...] for 2D points. */
export interface SampleImage {
  /** Base64 PNG grid (images). */
  png?: string;
  /** Flat coordinates, n * D values (points). */
  points?: number[];
}

// ---------------------------------------------------------------------------------------------------
// Requests
// ---------------------------------------------------------------------------------------------------

/** Options the client passes in `initialize`'s `initializationOptions`. */
export interface InitializationOptions {
  /** The default runs folder; default `<workspace>/.highscore/runs`. Relative paths are from the workspace. */
  runsFolder?: string;
  /** The default compute backend; default the HIGHSCORE_BACKEND environment variable, else 'auto'. */
  backend?: BackendRequest;
}

/** What the server puts in `initialize`'s result under `capabilities.experimental.highscore`. */
export interface ServerInfo {
  protocolVersion: number;
  /** The backend's process id. */
  pid: number;
  /** The default runs folder the server resolved (absolute). */
  runsFolder: string;
  requests: string[];
  notifications: string[];
}

/** Params of `highscore/startTraining`. */
export interface StartTrainingParams {
  /** Dataset spec: `mnist`, `fashion-mnist[:DIR]`, `idx:FILE`, `folder:DIR`, `cifar10:DIR`, `toy:NAME`. */
  data: string;
  /** The folder holding runs; default the server's runs folder (`<workspace>/.highscore/runs`). */
  runsFolder?: string;
  /** The run's folder name inside runsFolder (letters, digits, `.`, `_`, `-`); default `<data>-<date>-<time>`. */
  runName?: string;
  /** An explicit run folder; overrides runsFolder and runName. */
  runDir?: string;
  /** Model preset: tiny, small, reference (U-Nets), mlp (2D toys). Default: small for images, mlp for points. */
  preset?: string;
  /** Total training steps; default 2000. */
  steps?: number;
  /** Batch size; default the preset's. */
  batch?: number;
  /** Seed of the initialisation, the data order and the noise; default 0. */
  seed?: number;
  /** Adam's learning rate; default the preset's. */
  lr?: number;
  /** Preview samples every this many steps (0: only at the end); default 0. */
  sampleEvery?: number;
  /** Checkpoint every this many steps; default a quarter of the run, at most 500. */
  checkpointEvery?: number;
  /** Report progress every this many steps; default 50 for points, 10 for images. */
  logEvery?: number;
  /** Compute backend; default the server's. */
  backend?: BackendRequest;
  /** Noise-schedule settings. */
  schedule?: ScheduleSettings;
  /**
   * Train with the student's implementation: the assignment's student module (its dsmLoss and
   * geometricSchedule; previews with its sampler). Its blanks should pass their checks first.
   */
  studentModule?: string;
}

/** Result of `highscore/startTraining` and `highscore/resumeTraining`. */
export interface StartTrainingResult {
  /** The training job (for `cancelJob`; also in every progress notification). */
  jobId: string;
  /** The run's name (its folder's name). */
  runId: string;
  /** The run's folder. */
  runDir: string;
}

/** Params of `highscore/stopTraining`. */
export interface StopTrainingParams {
  /** The run's name or folder, as `startTraining` returned them. */
  runId: string;
}

/** Result of `highscore/stopTraining` and `highscore/cancelJob`: the stop was asked for; `jobEnded` follows. */
export interface StopResult {
  jobId: string;
  kind: JobKind;
  runId?: string;
}

/** Params of `highscore/resumeTraining`. */
export interface ResumeTrainingParams {
  /** The run's folder. */
  runDir: string;
  /** The new total number of steps; default the run's. */
  steps?: number;
  sampleEvery?: number;
  checkpointEvery?: number;
  logEvery?: number;
  backend?: BackendRequest;
}

/** What the sampling requests share. */
export interface SamplingCommon {
  /** The run's folder (its latest loadable checkpoint is used). */
  runDir: string;
  /** Number of samples (completions, variations). */
  n: number;
  /** Seed of the chain; default 0. */
  seed?: number;
  /** T for this chain (eps re-derived by technique 4); default the run's. */
  stepsPerLevel?: number;
  /** Snapshots kept along the chain (evenly over the levels), streamed live in samplingProgress; default 0. */
  snapshots?: number;
  /** Where to write the grid (.png) or points (.csv); default `<runDir>/samples/<kind>-<time>`. */
  out?: string;
  backend?: BackendRequest;
}

/** Params of `highscore/sample`. */
export interface SampleParams extends SamplingCommon {
  /** Sample with the student's sampler (the assignment's student module) instead of the built-in one (no snapshots). */
  studentModule?: string;
  /** Snapshots kept along the chain (evenly over the levels); default 0. */
  snapshots?: number;
  /** The final denoising step; default true. */
  denoise?: boolean;
}

/** Ready-made inpainting masks: the part that is unknown (to fill). 'random' hides a random half of the pixels. */
export type MaskPreset = 'left' | 'right' | 'top' | 'bottom' | 'centre' | 'random';
export const MASK_PRESETS: readonly MaskPreset[] = ['left', 'right', 'top', 'bottom', 'centre', 'random'];

/** Params of `highscore/inpaint`: the image is `image` or the run's training example `index`; the mask is `mask` or `maskPreset`. */
export interface InpaintParams extends SamplingCommon {
  /** The image, one example HWC in [0, 1]. */
  image?: FloatValues;
  /** Or: this training example of the run's dataset, from 0. */
  index?: number;
  /** The mask, one example's shape: 1 = known (kept), 0 = to fill. */
  mask?: FloatValues;
  /** Or: a ready-made mask naming the part to fill. */
  maskPreset?: MaskPreset;
}

/** Params of `highscore/vary`. */
export interface VaryParams extends SamplingCommon {
  /** The training example to vary, from 0. */
  index: number;
  /** The noise level to start from, 1 (sigma_1: new samples) .. L (close copies). */
  level: number;
}

/** Result of the sampling requests: the job started; its progress and end come as notifications. */
export interface JobStartedResult {
  jobId: string;
}

/** Params of `highscore/computeSchedule`. */
export interface ComputeScheduleParams extends ScheduleSettings {
  /** Dataset spec, as in startTraining. */
  data: string;
}

/** Result of `highscore/computeSchedule`. */
export interface ComputeScheduleResult {
  data: string;
  /** A short label of the dataset. */
  name: string;
  kind: 'image' | 'points';
  /** One example's shape. */
  shape: number[];
  /** Number of examples. */
  size: number;
  schedule: NoiseSchedule;
}

/** Params of `highscore/listRuns`. */
export interface ListRunsParams {
  /** The runs folder; default the server's. */
  folder?: string;
}

/** One run in a listing. Broken folders are listed too, with state 'unknown' or 'failed' and a message. */
export interface RunSummary {
  /** The folder's name (the runId). */
  name: string;
  /** The folder. */
  dir: string;
  /** 'unknown' where status.json is missing or unreadable. A 'running' run whose process is gone is listed as 'stopped'. */
  state: RunState | 'unknown';
  step: number;
  totalSteps: number | null;
  lastLoss: number | null;
  /** The dataset spec (null where config.json is unreadable). */
  data: string | null;
  preset: string | null;
  dataKind: 'image' | 'points' | null;
  /** When status.json was last written (ISO time), or null. */
  updatedAt: string | null;
  /** The status message, or what is wrong with the folder. */
  message?: string;
  /** True where status.json says running but its process is gone (resume it from the last checkpoint). */
  interrupted?: boolean;
  /** The job of this server that is training it right now. */
  jobId?: string;
}

/** Result of `highscore/listRuns`. */
export type ListRunsResult = RunSummary[];

/** Params of `highscore/describeCheckpoint`. */
export interface DescribeCheckpointParams {
  runDir: string;
}

/** One checkpoint of a run. */
export interface CheckpointSummary {
  /** Folder name, `step-000500`. */
  name: string;
  dir: string;
  step: number;
  loss: number | null;
  createdAt: string | null;
}

/** Result of `highscore/describeCheckpoint`. */
export interface CheckpointDescription {
  runDir: string;
  name: string;
  config: RunConfig;
  /** null where status.json is missing or unreadable. */
  status: RunStatus | null;
  /** Oldest first. */
  checkpoints: CheckpointSummary[];
  /** The checkpoint latest.json names (sampling uses it), or null. */
  latest: string | null;
  /** The run's schedule (from the latest checkpoint, else the config). */
  schedule: NoiseSchedule;
  /** Files in the run's samples folder, oldest first. */
  samples: string[];
}

/** Params of `highscore/cancelJob`. */
export interface CancelJobParams {
  jobId: string;
}

/** Params of `highscore/runHistory`. */
export interface RunHistoryParams {
  runDir: string;
  /** At most this many curve points (the server keeps each bucket's mean, and the first and last point); default 2000. */
  maxPoints?: number;
}

/** One point of a loss curve (a logged step, or the mean of a bucket of them). */
export interface MetricPoint {
  step: number;
  loss: number;
  /** Per-level loss, level 1 first (null: no example drew the level). */
  perLevel?: (number | null)[];
  stepsPerSec?: number;
}

/** Result of `highscore/runHistory`. */
export interface RunHistoryResult {
  runDir: string;
  runId: string;
  config: RunConfig;
  status: RunStatus | null;
  /** The loss curve, oldest first, at most maxPoints long. */
  points: MetricPoint[];
  /** How many logged steps the run has in all (points may be fewer). */
  loggedSteps: number;
  /** The latest samples the run wrote (training previews or a sampling job), if any. */
  samples?: TrainingSamplesParams;
}

// ---------------------------------------------------------------------------------------------------
// Notifications
// ---------------------------------------------------------------------------------------------------

/** `highscore/progress`: a training job's progress, once per logging interval. */
export interface ProgressParams {
  jobId: string;
  runId: string;
  step: number;
  totalSteps: number;
  /** Mean loss over the logging window. */
  loss: number;
  /** Mean loss per noise level over the window, level 1 first (null where no example drew that level). */
  perLevel: (number | null)[];
  /** Mean gradient norm before clipping over the window. */
  gradNorm: number | null;
  stepsPerSec: number;
  /** Seconds to the end at the current speed (null: unknown). */
  etaSec: number | null;
}

/** `highscore/trainingSamples`: samples from the EMA weights during (and at the end of) training. */
export interface TrainingSamplesParams extends SampleImage {
  jobId: string;
  runId: string;
  step: number;
  /** Number of samples shown. */
  n: number;
  /** One example's shape: [H, W, C] (png is set) or [2] (points is set). */
  shape: number[];
  /** The file the engine wrote (PNG grid or CSV). */
  file: string;
}

/** `highscore/samplingProgress`: one level of an annealed Langevin chain done. */
export interface SamplingProgressParams {
  jobId: string;
  runId?: string;
  /** The level just finished, 1..levels. */
  level: number;
  levels: number;
  sigma: number;
  /** The Langevin step size at this level. */
  alpha: number;
  /** Network evaluations done and in all. */
  done: number;
  total: number;
  /** Mean per-example norm of alpha * score at the level's last step (null: not measured). */
  scoreNorm: number | null;
  /** Mean per-example norm of the noise sqrt(2 alpha) z at the level's last step. */
  noiseNorm: number | null;
  /** The chain at this level, where a snapshot was asked for and the engine reports it live. */
  snapshot?: SampleImage;
}

/** `highscore/log`: a line for the Output channel. */
export interface LogParams {
  level: 'info' | 'warning' | 'error';
  message: string;
  jobId?: string;
}

/** What a finished training job reports in `jobEnded.result`. */
export interface TrainingJobResult {
  type: 'training';
  runDir: string;
  step: number;
  totalSteps: number | null;
  lastLoss: number | null;
}

/** A snapshot along a sampling chain. */
export interface SnapshotResult extends SampleImage {
  /** 1..L. */
  level: number;
  sigma: number;
  /** The Langevin step size at this level. */
  alpha?: number;
  /** Mean per-example norms of alpha * score and of the noise at the level's last step (their ratio shows who drives the chain). */
  scoreNorm?: number | null;
  noiseNorm?: number | null;
}

/** What a finished sampling, inpainting or variations job reports in `jobEnded.result`. */
export interface SamplingJobResult extends SampleImage {
  type: 'samples';
  /** The file written: a PNG grid (images) or a CSV (points). */
  file: string;
  /** Number of items in the grid or point set (inpainting and variations put the input first). */
  n: number;
  shape: number[];
  dataKind: 'image' | 'points';
  /** What the first item is, where it is not a sample: 'masked input' or 'source example'. */
  first?: string;
  /** Snapshots along the chain (sample with `snapshots`), in level order. */
  snapshots: SnapshotResult[];
  seconds: number;
}

/** `highscore/jobEnded`: a job finished, was stopped or failed. */
export interface JobEndedParams {
  jobId: string;
  runId?: string;
  kind: JobKind;
  state: JobEndState;
  /** In plain words: what happened and, on failure, what to do. */
  message: string;
  result?: TrainingJobResult | SamplingJobResult;
}

// ---------------------------------------------------------------------------------------------------
// The fill-in-the-blank assignment (issue 4): checking a student module blank by blank
// ---------------------------------------------------------------------------------------------------

/** How one check case (or a whole blank) came out. */
export type BlankCheckStatus = 'pass' | 'fail' | 'error' | 'timeout' | 'not-implemented';
export const BLANK_CHECK_STATUSES: readonly BlankCheckStatus[] = ['pass', 'fail', 'error', 'timeout', 'not-implemented'];

/** The blanks that training and sampling with the student's implementation use: they must pass first. */
export const STUDENT_TRAINING_BLANKS: readonly string[] = ['initialSamples', 'stepSize', 'langevinStep', 'denoise', 'dsmLoss', 'geometricSchedule'];

/** Params of `highscore/checkAssignment`. */
export interface CheckAssignmentParams {
  /** The student module (absolute, or relative to the workspace folder). */
  file: string;
  /** Blank ids to check (default: all, in order). */
  blanks?: string[];
  /** Echoed in each `assignmentBlankChecked` notification, so the client can match them to this request. */
  checkId?: string;
  /** Type-check the module first (a few seconds more); default true. */
  typecheck?: boolean;
}

/** One sub-case of a blank's checks. */
export interface BlankCheckCase {
  blank: string;
  /** The sub-case's name, e.g. 'shape and dtype', 'noise variance is 2 alpha (statistical test)'. */
  case: string;
  status: BlankCheckStatus;
  /** In plain words; for a known mistake, the specific explanation. */
  message: string;
  /** For a diff: what the reference gives and what the student's code gave (absent where not meaningful). */
  expected?: string;
  actual?: string;
  /** The student's line (1-based): where their code threw, else the blank's function line (0: not in the file). */
  line: number;
  ms: number;
}

/** One blank's result: the worst of its cases. */
export interface BlankCheckResult {
  blank: string;
  title: string;
  status: BlankCheckStatus;
  /** The first problem, or 'All N checks pass.'. */
  message: string;
  /** The blank's function line (1-based; 0: the file lacks it). */
  line: number;
  cases: BlankCheckCase[];
}

/** A position-tagged problem in the module (1-based line). */
export interface SourceProblem {
  line: number;
  column?: number;
  message: string;
}

/** Result of `highscore/checkAssignment`. */
export interface CheckAssignmentResult {
  file: string;
  blanks: BlankCheckResult[];
  passed: number;
  total: number;
  /** Syntax errors, and type errors outside any blank. */
  moduleErrors: SourceProblem[];
  /** 'done', 'not asked' or 'skipped: why'. */
  typecheck: string;
}

/** `highscore/assignmentBlankChecked`: one blank's result during a `checkAssignment` request. */
export interface AssignmentBlankCheckedParams {
  file: string;
  checkId?: string;
  result: BlankCheckResult;
}

/** Params of `highscore/describeAssignment`. */
export interface DescribeAssignmentParams {
  file: string;
}

/** One blank as the editor shows it. */
export interface AssignmentBlank {
  id: string;
  title: string;
  /** What the function must do (for hovers). */
  description: string;
  /** The hint of the file's notImplemented call, else the built-in one. */
  hint: string;
  /** 'integration': a check of provided code that calls the blanks, not a blank to fill. */
  kind: 'blank' | 'integration';
  /** The function's line and last line (1-based); 0 where the file lacks it. */
  line: number;
  endLine: number;
  /** Whether its body still calls notImplemented(...). */
  notImplemented: boolean;
  /** The latest check result this server has for it, if any. */
  lastResult?: BlankCheckResult;
}

/** Result of `highscore/describeAssignment`. */
export interface DescribeAssignmentResult {
  file: string;
  /** Whether the file is the student module of an assignment (a highscore-assignment.json beside it names it). */
  isStudentModule: boolean;
  /** The highscore-assignment.json found, if any. */
  configFile?: string;
  blanks: AssignmentBlank[];
}

// ---------------------------------------------------------------------------------------------------
// Method maps and typed helpers
// ---------------------------------------------------------------------------------------------------

/** Every request: method -> [params, result]. */
export interface Requests {
  [StartTraining]: [StartTrainingParams, StartTrainingResult];
  [StopTraining]: [StopTrainingParams, StopResult];
  [ResumeTraining]: [ResumeTrainingParams, StartTrainingResult];
  [Sample]: [SampleParams, JobStartedResult];
  [Inpaint]: [InpaintParams, JobStartedResult];
  [Vary]: [VaryParams, JobStartedResult];
  [ComputeSchedule]: [ComputeScheduleParams, ComputeScheduleResult];
  [ListRuns]: [ListRunsParams, ListRunsResult];
  [DescribeCheckpoint]: [DescribeCheckpointParams, CheckpointDescription];
  [CancelJob]: [CancelJobParams, StopResult];
  [RunHistory]: [RunHistoryParams, RunHistoryResult];
  [CheckAssignment]: [CheckAssignmentParams, CheckAssignmentResult];
  [DescribeAssignment]: [DescribeAssignmentParams, DescribeAssignmentResult];
  [ScoreField]: [ScoreFieldParams, ScoreFieldResult];
  [Preview]: [PreviewParams, PreviewResult];
  [DatasetExamples]: [DatasetExamplesParams, DatasetExamplesResult];
}

/** Every notification: method -> params. */
export interface Notifications {
  [Progress]: ProgressParams;
  [TrainingSamples]: TrainingSamplesParams;
  [SamplingProgress]: SamplingProgressParams;
  [Log]: LogParams;
  [JobEnded]: JobEndedParams;
  [AssignmentBlankChecked]: AssignmentBlankCheckedParams;
}

export type RequestMethod = keyof Requests;
export type NotificationMethod = keyof Notifications;
export type RequestParams<M extends RequestMethod> = Requests[M][0];
export type RequestResult<M extends RequestMethod> = Requests[M][1];

/** Anything that sends JSON-RPC requests by method name (vscode-jsonrpc's MessageConnection, vscode-languageclient's LanguageClient). */
export interface RequestSender {
  sendRequest(method: string, params: unknown): Promise<unknown>;
}

/** Anything that receives notifications by method name. */
export interface NotificationReceiver {
  // The handler's parameter is what arrives on the wire, unchecked: the libraries type it `any`.
  onNotification(method: string, handler: (params: unknown) => void): unknown;
}

/** A typed request: the params and the result follow `Requests`. */
export function sendRequest<M extends RequestMethod>(sender: RequestSender, method: M, params: RequestParams<M>): Promise<RequestResult<M>> {
  return sender.sendRequest(method, params) as Promise<RequestResult<M>>;
}

/**
 * A typed, checked notification handler: `handler` only sees params that passed the method's guard;
 * the others go to `onInvalid` (default: dropped).
 */
export function onNotification<M extends NotificationMethod>(
  receiver: NotificationReceiver,
  method: M,
  handler: (params: Notifications[M]) => void,
  onInvalid?: (raw: unknown) => void,
): unknown {
  const guard = NOTIFICATION_GUARDS[method] as (x: unknown) => x is Notifications[M];
  return receiver.onNotification(method, (raw: unknown) => {
    if (guard(raw)) handler(raw);
    else onInvalid?.(raw);
  });
}

// ---------------------------------------------------------------------------------------------------
// Guards: check a message's shape before trusting it
// ---------------------------------------------------------------------------------------------------

type Obj = Record<string, unknown>;

/** A plain object (not null, not an array). */
function isObj(x: unknown): x is Obj {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}
const isStr = (x: unknown): x is string => typeof x === 'string';
const isNum = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x);
const isNumOrNull = (x: unknown): x is number | null => x === null || isNum(x);
const isCount = (x: unknown): x is number => isNum(x) && Number.isInteger(x) && x >= 0;
const strOrNull = (v: unknown): v is string | null => v === null || isStr(v);
const isNumArray = (x: unknown): x is number[] => Array.isArray(x) && x.every(isNum);
const optional = (x: unknown, check: (v: unknown) => boolean) => x === undefined || check(x);
const isShape = (x: unknown): x is number[] => Array.isArray(x) && x.length > 0 && x.every((v) => isCount(v) && v > 0);
const JOB_KINDS: readonly string[] = ['train', 'sample', 'inpaint', 'vary'];
const END_STATES: readonly string[] = ['finished', 'stopped', 'failed'];
const RUN_STATES: readonly string[] = ['running', 'finished', 'failed', 'stopped', 'unknown'];

/** A sample image: a non-empty base64 PNG, or a numeric point list, or both; nothing else. */
function isSampleImage(x: unknown): x is SampleImage {
  if (!isObj(x)) return false;
  const hasPng = x.png !== undefined;
  const hasPoints = x.points !== undefined;
  if (!hasPng && !hasPoints) return false;
  return optional(x.png, (v) => isStr(v) && v.length > 0 && /^[A-Za-z0-9+/]+=*$/.test(v)) && optional(x.points, isNumArray);
}

/** A `highscore/progress` notification. */
export function isProgress(x: unknown): x is ProgressParams {
  return isObj(x) && isStr(x.jobId) && isStr(x.runId) && isCount(x.step) && isCount(x.totalSteps) && isNum(x.loss) &&
    Array.isArray(x.perLevel) && x.perLevel.every(isNumOrNull) && isNumOrNull(x.gradNorm) && isNum(x.stepsPerSec) &&
    x.stepsPerSec >= 0 && isNumOrNull(x.etaSec);
}

/** A `highscore/trainingSamples` notification (the image or the points must match n and shape). */
export function isTrainingSamples(x: unknown): x is TrainingSamplesParams {
  if (!(isObj(x) && isStr(x.jobId) && isStr(x.runId) && isCount(x.step) && isCount(x.n) && x.n > 0 && isShape(x.shape) && isStr(x.file) && isSampleImage(x))) {
    return false;
  }
  const shape = x.shape as number[];
  if (shape.length === 3) return isStr(x.png);
  const points = x.points;
  return Array.isArray(points) && points.length === (x.n as number) * shape.reduce((a, b) => a * b, 1);
}

/** A `highscore/samplingProgress` notification. */
export function isSamplingProgress(x: unknown): x is SamplingProgressParams {
  return isObj(x) && isStr(x.jobId) && optional(x.runId, isStr) && isCount(x.level) && isCount(x.levels) &&
    x.level >= 1 && x.level <= x.levels && isNum(x.sigma) && isNum(x.alpha) && isCount(x.done) && isCount(x.total) &&
    x.done <= x.total && isNumOrNull(x.scoreNorm) && isNumOrNull(x.noiseNorm) && optional(x.snapshot, isSampleImage);
}

/** A `highscore/log` notification. */
export function isLog(x: unknown): x is LogParams {
  return isObj(x) && (x.level === 'info' || x.level === 'warning' || x.level === 'error') && isStr(x.message) && optional(x.jobId, isStr);
}

function isTrainingJobResult(x: Obj): boolean {
  return isStr(x.runDir) && isCount(x.step) && isNumOrNull(x.totalSteps) && isNumOrNull(x.lastLoss);
}

function isSamplingJobResult(x: Obj): boolean {
  return isStr(x.file) && isCount(x.n) && isShape(x.shape) && (x.dataKind === 'image' || x.dataKind === 'points') &&
    optional(x.first, isStr) && isNum(x.seconds) && (x.png !== undefined || x.points !== undefined) &&
    optional(x.png, isStr) && optional(x.points, isNumArray) && Array.isArray(x.snapshots) &&
    x.snapshots.every((s) => isSampleImage(s) && isCount((s as Obj).level) && isNum((s as Obj).sigma));
}

/** A `highscore/jobEnded` notification, with its result checked by type. */
export function isJobEnded(x: unknown): x is JobEndedParams {
  if (!(isObj(x) && isStr(x.jobId) && optional(x.runId, isStr) && isStr(x.kind) && JOB_KINDS.includes(x.kind) &&
    isStr(x.state) && END_STATES.includes(x.state) && isStr(x.message))) return false;
  if (x.result === undefined) return true;
  const r = x.result;
  if (!isObj(r)) return false;
  if (r.type === 'training') return isTrainingJobResult(r);
  if (r.type === 'samples') return isSamplingJobResult(r);
  return false;
}

/** A noise schedule with its diagnostics (the computeSchedule result's `schedule`). */
export function isNoiseSchedule(x: unknown): x is NoiseSchedule {
  if (!(isObj(x) && isNumArray(x.sigmas) && x.sigmas.length >= 2 && isCount(x.D) && isNum(x.gamma) && isCount(x.stepsPerLevel) && isNum(x.eps))) return false;
  const d = x.diagnostics;
  if (!(isObj(d) && isNum(d.overlap) && isNum(d.stepObjective) && isObj(d.sources) && optional(d.gammaRule, isNum))) return false;
  const oc = d.objectiveCurve;
  const vc = d.overlapCurve;
  return isObj(oc) && isNumArray(oc.eps) && isNumArray(oc.value) && oc.eps.length === oc.value.length &&
    isObj(vc) && isNumArray(vc.gamma) && isNumArray(vc.value) && vc.gamma.length === vc.value.length;
}

/** A `highscore/computeSchedule` result. */
export function isComputeScheduleResult(x: unknown): x is ComputeScheduleResult {
  return isObj(x) && isStr(x.data) && isStr(x.name) && (x.kind === 'image' || x.kind === 'points') && isShape(x.shape) &&
    isCount(x.size) && isNoiseSchedule(x.schedule);
}

/** One entry of a `highscore/listRuns` result. */
export function isRunSummary(x: unknown): x is RunSummary {
  return isObj(x) && isStr(x.name) && isStr(x.dir) && isStr(x.state) && RUN_STATES.includes(x.state) && isCount(x.step) &&
    isNumOrNull(x.totalSteps) && isNumOrNull(x.lastLoss) && strOrNull(x.data) && strOrNull(x.preset) &&
    (x.dataKind === null || x.dataKind === 'image' || x.dataKind === 'points') && strOrNull(x.updatedAt) &&
    optional(x.message, isStr) && optional(x.interrupted, (v) => typeof v === 'boolean') && optional(x.jobId, isStr);
}

// ---- assignment guards ----

function isBlankCheckCase(x: unknown): x is BlankCheckCase {
  return isObj(x) && isStr(x.blank) && isStr(x.case) && isStr(x.status) && (BLANK_CHECK_STATUSES as readonly string[]).includes(x.status) &&
    isStr(x.message) && optional(x.expected, isStr) && optional(x.actual, isStr) && isCount(x.line) && isNum(x.ms);
}

/** One blank's check result. */
export function isBlankCheckResult(x: unknown): x is BlankCheckResult {
  return isObj(x) && isStr(x.blank) && isStr(x.title) && isStr(x.status) && (BLANK_CHECK_STATUSES as readonly string[]).includes(x.status) &&
    isStr(x.message) && isCount(x.line) && Array.isArray(x.cases) && x.cases.every(isBlankCheckCase);
}

/** A `highscore/checkAssignment` result. */
export function isCheckAssignmentResult(x: unknown): x is CheckAssignmentResult {
  return isObj(x) && isStr(x.file) && Array.isArray(x.blanks) && x.blanks.every(isBlankCheckResult) && isCount(x.passed) && isCount(x.total) &&
    Array.isArray(x.moduleErrors) && x.moduleErrors.every((e) => isObj(e) && isCount(e.line) && isStr(e.message)) && isStr(x.typecheck);
}

/** A `highscore/assignmentBlankChecked` notification. */
export function isAssignmentBlankChecked(x: unknown): x is AssignmentBlankCheckedParams {
  return isObj(x) && isStr(x.file) && optional(x.checkId, isStr) && isBlankCheckResult(x.result);
}

/** A `highscore/describeAssignment` result. */
export function isDescribeAssignmentResult(x: unknown): x is DescribeAssignmentResult {
  return isObj(x) && isStr(x.file) && typeof x.isStudentModule === 'boolean' && optional(x.configFile, isStr) && Array.isArray(x.blanks) &&
    x.blanks.every((b) => isObj(b) && isStr(b.id) && isStr(b.title) && isStr(b.description) && isStr(b.hint) && (b.kind === 'blank' || b.kind === 'integration') &&
      isCount(b.line) && isCount(b.endLine) && typeof b.notImplemented === 'boolean' && optional(b.lastResult, isBlankCheckResult));
}

/** The guard of each notification, so a receiver can check any message by its method. */
export const NOTIFICATION_GUARDS: { readonly [M in NotificationMethod]: (x: unknown) => x is Notifications[M] } = {
  [Progress]: isProgress,
  [TrainingSamples]: isTrainingSamples,
  [SamplingProgress]: isSamplingProgress,
  [Log]: isLog,
  [JobEnded]: isJobEnded,
  [AssignmentBlankChecked]: isAssignmentBlankChecked,
};

/** Whether `method` is a High Score notification and `params` has its shape. */
export function isNotification<M extends NotificationMethod>(method: M, params: unknown): params is Notifications[M];
export function isNotification(method: string, params: unknown): boolean;
export function isNotification(method: string, params: unknown): boolean {
  const guard = (NOTIFICATION_GUARDS as Record<string, ((x: unknown) => boolean) | undefined>)[method];
  return guard !== undefined && guard(params);
}

// ---------------------------------------------------------------------------------------------------
// Dashboard messages: extension <-> webview (postMessage). The webview checks each message with
// `isToDashboard`; the extension checks each with `isFromDashboard`.
// ---------------------------------------------------------------------------------------------------

/** The backend's state, as the extension sees it. */
export type ServerState = 'starting' | 'running' | 'restarting' | 'stopped';

/** Extension -> webview. */
export type ToDashboard =
  /** Show this run: its config, curve so far and latest samples (sent on open, on reload and on run switch). */
  | { type: 'run'; history: RunHistoryResult; live: boolean }
  /** A server notification, forwarded unchanged; the webview checks `params` with `isNotification(method, params)`. */
  | { type: 'notification'; method: NotificationMethod; params: unknown }
  /** A noise schedule to plot (Show Noise Schedule, or the shown run's). */
  | { type: 'schedule'; result: ComputeScheduleResult }
  /** The backend's state, with a message when it died or restarted. */
  | { type: 'server'; state: ServerState; message?: string }
  /** The answer to one of the dashboard's backend requests (the score field card's). */
  | PageResponseMessage;

/**
 * A backend request from a webview, relayed by the extension: the preview pages' request message, which
 * the dashboard sends too (only PAGE_REQUESTS; the webview checks the result with PAGE_RESULT_GUARDS).
 */
export type PageRequestMessage = Extract<FromPreviewPage, { type: 'request' }>;
/** The extension's answer to a PageRequestMessage: `result` or `error`. */
export type PageResponseMessage = Extract<ToPreviewPage, { type: 'response' }>;

/** What the dashboard's buttons ask for. */
export type DashboardAction = 'stop' | 'resume' | 'sample' | 'showLog' | 'revealRun';

/** Webview -> extension. */
export type FromDashboard =
  /** The page has loaded (or reloaded); `runDir` is the run it showed before, from its saved state. */
  | { type: 'ready'; runDir: string | null }
  /** A button: act on the shown run. */
  | { type: 'action'; action: DashboardAction; runDir: string | null }
  /** A backend request, relayed like a preview page's (the score field card). */
  | PageRequestMessage;

/** What the webview saves with `vscode.setState` (and the serializer gets back after a reload). */
export interface DashboardState {
  runDir: string | null;
  logScale?: boolean;
  smoothing?: number;
}

const DASHBOARD_ACTIONS: readonly string[] = ['stop', 'resume', 'sample', 'showLog', 'revealRun'];
const SERVER_STATES: readonly string[] = ['starting', 'running', 'restarting', 'stopped'];

function isRunConfigShape(x: unknown): x is RunConfig {
  return isObj(x) && isStr(x.dataSpec) && isShape(x.dataShape) && (x.dataKind === 'image' || x.dataKind === 'points') &&
    isStr(x.preset) && isCount(x.steps) && isNoiseSchedule(x.schedule);
}

function isMetricPoint(x: unknown): x is MetricPoint {
  return isObj(x) && isCount(x.step) && isNum(x.loss) && optional(x.perLevel, (v) => Array.isArray(v) && v.every(isNumOrNull)) &&
    optional(x.stepsPerSec, isNum);
}

/** A `highscore/runHistory` result. */
export function isRunHistoryResult(x: unknown): x is RunHistoryResult {
  if (!(isObj(x) && isStr(x.runDir) && isStr(x.runId) && isRunConfigShape(x.config) && Array.isArray(x.points) &&
    x.points.every(isMetricPoint) && isCount(x.loggedSteps) && optional(x.samples, isTrainingSamples))) return false;
  const st = x.status;
  return st === null || (isObj(st) && isStr(st.state) && RUN_STATES.includes(st.state) && isCount(st.step) && isCount(st.totalSteps) && isNumOrNull(st.lastLoss));
}

/** A message the webview may act on. */
export function isToDashboard(x: unknown): x is ToDashboard {
  if (!isObj(x)) return false;
  switch (x.type) {
    case 'run': return isRunHistoryResult(x.history) && typeof x.live === 'boolean';
    case 'notification': return isStr(x.method) && isNotification(x.method, x.params);
    case 'schedule': return isComputeScheduleResult(x.result);
    case 'server': return isStr(x.state) && SERVER_STATES.includes(x.state) && optional(x.message, isStr);
    case 'response': return isToPreviewPage(x);
    default: return false;
  }
}

/** A message the extension may act on. */
export function isFromDashboard(x: unknown): x is FromDashboard {
  if (!isObj(x)) return false;
  if (x.type === 'ready') return strOrNull(x.runDir);
  if (x.type === 'action') return isStr(x.action) && DASHBOARD_ACTIONS.includes(x.action) && strOrNull(x.runDir);
  if (x.type === 'request') return isFromPreviewPage(x);
  return false;
}

/** The webview's saved state, checked (it comes back from VS Code after a reload). */
export function isDashboardState(x: unknown): x is DashboardState {
  return isObj(x) && strOrNull(x.runDir) && optional(x.logScale, (v) => typeof v === 'boolean') && optional(x.smoothing, isNum);
}

// ---------------------------------------------------------------------------------------------------
// Previews and interactive tools: quick previews, the score field of 2D runs, dataset strips, and the
// messages of the preview pages (inpainting, variations, score field, checkpoint editor, preview panel).
// ---------------------------------------------------------------------------------------------------

/** [xMin, xMax, yMin, yMax]. */
export type Bounds = [number, number, number, number];

/** Params of `highscore/scoreField` (2D runs only). */
export interface ScoreFieldParams {
  runDir: string;
  /** The noise level, 1 (sigma_1) .. L. */
  level: number;
  /** Grid points per side; default 21 (at most 101). */
  grid?: number;
  /** The region; default the data's bounding box with a margin. */
  bounds?: Bounds;
  /** How many data points to return (a subsample); default 500. */
  points?: number;
}

/**
 * Result of `highscore/scoreField`. Grid point (i, j), i the column and j the row from the bottom, is at
 * x = xMin + i (xMax - xMin) / (grid - 1), y = yMin + j (yMax - yMin) / (grid - 1); its vector is at
 * index 2 (j grid + i) of `learned` / `true`.
 */
export interface ScoreFieldResult {
  runDir: string;
  /** The checkpoint evaluated (folder name) and its step. */
  checkpoint: string;
  step: number;
  dataSpec: string;
  level: number;
  levels: number;
  sigma: number;
  grid: number;
  bounds: Bounds;
  /** The learned score s(x, sigma) at each grid point, flat [sx, sy, ...]. */
  learned: number[];
  /** The exact score of the noised data density (analytic toys only). */
  true?: number[];
  /** Mean over the grid of |learned - true| (analytic toys only). */
  meanError?: number;
  /** Mean over the grid of |true|, to judge meanError against. */
  meanTrueNorm?: number;
  /** A subsample of the training data, flat [x0, y0, ...]. */
  data: number[];
  schedule: NoiseSchedule;
}

/** Params of `highscore/preview`. */
export interface PreviewParams {
  runDir: string;
  /** Samples; default 16 images or 500 points (at most 64 images, 2000 points). */
  n?: number;
  /** T for the preview chain; default 1 for images, 10 for points (a quick look, not the run's full T). */
  stepsPerLevel?: number;
  /** Snapshots along the chain; default 0 (the score field view asks for one per level to animate particles). */
  snapshots?: number;
  seed?: number;
  /** Sample with the student's sampler (the assignment's student module) instead of the built-in one; no snapshots. */
  studentModule?: string;
}

/** Result of `highscore/preview`: the grid (for points also drawn as a PNG scatter, for hovers). */
export interface PreviewResult extends SampleImage {
  runDir: string;
  checkpoint: string;
  step: number;
  loss: number | null;
  dataSpec: string;
  n: number;
  shape: number[];
  dataKind: 'image' | 'points';
  stepsPerLevel: number;
  snapshots: SnapshotResult[];
  seconds: number;
  /** True when this answer came from the cache (same checkpoint and params). */
  cached: boolean;
}

/** Params of `highscore/datasetExamples`: the dataset is `data` or the run's. */
export interface DatasetExamplesParams {
  data?: string;
  runDir?: string;
  /** First example, from 0; default 0. */
  offset?: number;
  /** How many; default 16, at most 64. */
  count?: number;
}

/** One training example. */
export interface DatasetExample {
  index: number;
  /** A PNG thumbnail (images). */
  png?: string;
  /** The example's values (HWC in [0, 1] for images; [x, y] for points). */
  values: FloatValues;
}

/** Result of `highscore/datasetExamples`. */
export interface DatasetExamplesResult {
  data: string;
  name: string;
  kind: 'image' | 'points';
  shape: number[];
  /** Examples in the dataset. */
  size: number;
  offset: number;
  examples: DatasetExample[];
}

const isBounds = (x: unknown): x is Bounds => isNumArray(x) && x.length === 4 && x[0]! < x[1]! && x[2]! < x[3]!;
const isFloatValues = (x: unknown): x is FloatValues => isStr(x) || isNumArray(x);

function isSnapshotResult(x: unknown): x is SnapshotResult {
  return isSampleImage(x) && isCount((x as Obj).level) && isNum((x as Obj).sigma) && optional((x as Obj).alpha, isNum) &&
    optional((x as Obj).scoreNorm, isNumOrNull) && optional((x as Obj).noiseNorm, isNumOrNull);
}

/** A `highscore/scoreField` result (the vectors match the grid). */
export function isScoreFieldResult(x: unknown): x is ScoreFieldResult {
  if (!(isObj(x) && isStr(x.runDir) && isStr(x.checkpoint) && isCount(x.step) && isStr(x.dataSpec) && isCount(x.level) && isCount(x.levels) &&
    isNum(x.sigma) && isCount(x.grid) && x.grid >= 2 && isBounds(x.bounds) && isNumArray(x.learned) && isNumArray(x.data) && isNoiseSchedule(x.schedule))) return false;
  const cells = 2 * (x.grid as number) ** 2;
  return x.learned.length === cells && optional(x.true, (v) => isNumArray(v) && v.length === cells) && optional(x.meanError, isNum) && optional(x.meanTrueNorm, isNum);
}

/** A `highscore/preview` result. */
export function isPreviewResult(x: unknown): x is PreviewResult {
  return isSampleImage(x) && isObj(x) && isStr(x.runDir) && isStr(x.checkpoint) && isCount(x.step) && isNumOrNull(x.loss) && isStr(x.dataSpec) &&
    isCount(x.n) && isShape(x.shape) && (x.dataKind === 'image' || x.dataKind === 'points') && isCount(x.stepsPerLevel) &&
    Array.isArray(x.snapshots) && x.snapshots.every(isSnapshotResult) && isNum(x.seconds) && typeof x.cached === 'boolean';
}

/** A `highscore/datasetExamples` result. */
export function isDatasetExamplesResult(x: unknown): x is DatasetExamplesResult {
  return isObj(x) && isStr(x.data) && isStr(x.name) && (x.kind === 'image' || x.kind === 'points') && isShape(x.shape) && isCount(x.size) &&
    isCount(x.offset) && Array.isArray(x.examples) &&
    x.examples.every((e) => isObj(e) && isCount(e.index) && optional(e.png, isStr) && isFloatValues(e.values));
}

/** A result that starts a job (sample, inpaint, vary). */
export function isJobStartedResult(x: unknown): x is JobStartedResult {
  return isObj(x) && isStr(x.jobId);
}

/** A `highscore/describeCheckpoint` result (the parts the pages use). */
export function isCheckpointDescription(x: unknown): x is CheckpointDescription {
  return isObj(x) && isStr(x.runDir) && isStr(x.name) && isRunConfigShape(x.config) && strOrNull(x.latest) && isNoiseSchedule(x.schedule) &&
    Array.isArray(x.checkpoints) && x.checkpoints.every((c) => isObj(c) && isStr(c.name) && isCount(c.step) && isNumOrNull(c.loss)) &&
    Array.isArray(x.samples) && x.samples.every(isStr);
}

/** The pages of the preview webviews. */
export type PreviewPage = 'inpaint' | 'vary' | 'field' | 'checkpoint' | 'preview';
export const PREVIEW_PAGES: readonly PreviewPage[] = ['inpaint', 'vary', 'field', 'checkpoint', 'preview'];

/** The requests a preview page may ask the extension to forward to the backend. */
export const PAGE_REQUESTS = [Preview, ScoreField, DatasetExamples, Inpaint, Vary, CancelJob, DescribeCheckpoint, RunHistory, ListRuns] as const;
export type PageRequest = (typeof PAGE_REQUESTS)[number];

/** The guard of each page request's result, so a page checks every answer before using it. */
export const PAGE_RESULT_GUARDS: { readonly [M in PageRequest]: (x: unknown) => x is RequestResult<M> } = {
  [Preview]: isPreviewResult,
  [ScoreField]: isScoreFieldResult,
  [DatasetExamples]: isDatasetExamplesResult,
  [Inpaint]: isJobStartedResult,
  [Vary]: isJobStartedResult,
  [CancelJob]: (x: unknown): x is StopResult => isObj(x) && isStr(x.jobId),
  [DescribeCheckpoint]: isCheckpointDescription,
  [RunHistory]: isRunHistoryResult,
  [ListRuns]: (x: unknown): x is ListRunsResult => Array.isArray(x) && x.every(isRunSummary),
};

/** What the page starts on: a run, and for the tools an example or a level chosen beforehand. */
export interface PreviewPageInit {
  page: PreviewPage;
  runDir: string | null;
  /** A training example to start with (inpainting, variations). */
  index?: number;
  /** Where the preview panel's content comes from, in words (a file, a run). */
  source?: string;
}

/** Extension -> preview page. */
export type ToPreviewPage =
  | { type: 'init'; init: PreviewPageInit }
  /** The answer to a page's request: `result` (checked by the page with PAGE_RESULT_GUARDS) or `error`. */
  | { type: 'response'; id: number; result?: unknown; error?: string }
  /** A server notification about a job the page started, forwarded unchanged (checked with isNotification). */
  | { type: 'notification'; method: NotificationMethod; params: unknown }
  /** The preview panel: a fresh preview is running (busy) or has arrived. */
  | { type: 'preview'; busy: boolean; result?: PreviewResult; source?: string; error?: string }
  /** The PNG file the user picked (pickPng), base64. */
  | { type: 'pngFile'; png: string; name: string };

/** Webview -> extension. */
export type FromPreviewPage =
  | { type: 'ready' }
  | { type: 'request'; id: number; method: PageRequest; params: unknown }
  /** Let the user pick a PNG file; the answer comes as 'pngFile'. */
  | { type: 'pickPng' }
  /** Save a PNG (base64) where the user chooses. */
  | { type: 'savePng'; png: string; name: string }
  /** Open another tool on a run (the checkpoint editor's buttons). */
  | { type: 'open'; page: PreviewPage; runDir: string };

const BASE64 = /^[A-Za-z0-9+/]+=*$/;

/** A message a preview page may act on. */
export function isToPreviewPage(x: unknown): x is ToPreviewPage {
  if (!isObj(x)) return false;
  switch (x.type) {
    case 'init': {
      const i = x.init;
      return isObj(i) && isStr(i.page) && (PREVIEW_PAGES as readonly string[]).includes(i.page) && strOrNull(i.runDir) &&
        optional(i.index, isCount) && optional(i.source, isStr);
    }
    case 'response': return isCount(x.id) && optional(x.error, isStr);
    case 'notification': return isStr(x.method) && isNotification(x.method, x.params);
    case 'preview': return typeof x.busy === 'boolean' && optional(x.result, isPreviewResult) && optional(x.source, isStr) && optional(x.error, isStr);
    case 'pngFile': return isStr(x.png) && BASE64.test(x.png) && isStr(x.name);
    default: return false;
  }
}

/** A message the extension may act on. */
export function isFromPreviewPage(x: unknown): x is FromPreviewPage {
  if (!isObj(x)) return false;
  switch (x.type) {
    case 'ready':
    case 'pickPng': return true;
    case 'request': return isCount(x.id) && isStr(x.method) && (PAGE_REQUESTS as readonly string[]).includes(x.method) && isObj(x.params);
    case 'savePng': return isStr(x.png) && x.png.length > 0 && BASE64.test(x.png) && isStr(x.name);
    case 'open': return isStr(x.page) && (PREVIEW_PAGES as readonly string[]).includes(x.page) && isStr(x.runDir);
    default: return false;
  }
}
