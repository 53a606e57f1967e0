/**
 * Checks the params of each request before anything runs: what arrives on the wire is unchecked JSON.
 * Every problem throws a ParamsError whose message names the request, the field and what is expected.
 */
import type {
  BackendRequest, CancelJobParams, ComputeScheduleParams, DescribeCheckpointParams, FloatValues, InpaintParams, ListRunsParams,
  MaskPreset, ResumeTrainingParams, RunHistoryParams, SampleParams, ScheduleSettings, StartTrainingParams, StopTrainingParams, VaryParams,
} from '../../protocol/protocol';
import { BACKEND_REQUESTS, MASK_PRESETS } from '../../protocol/protocol';

export class ParamsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ParamsError';
  }
}

type Obj = Record<string, unknown>;

/** A reader of one request's params that names the request in its messages. */
export class Reader {
  readonly o: Obj;
  constructor(readonly method: string, raw: unknown) {
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
      throw new ParamsError(`${method}: the params must be an object (got ${raw === null ? 'null' : Array.isArray(raw) ? 'an array' : typeof raw}).`);
    }
    this.o = raw as Obj;
  }

  private fail(key: string, expected: string, value: unknown): never {
    const got = value === undefined ? 'nothing' : JSON.stringify(value)?.slice(0, 80) ?? String(value);
    throw new ParamsError(`${this.method}: '${key}' must be ${expected} (got ${got}).`);
  }

  string(key: string, hint: string): string {
    const v = this.o[key];
    if (v === undefined || v === null || v === '') throw new ParamsError(`${this.method}: '${key}' is required: ${hint}.`);
    if (typeof v !== 'string' || !v.trim()) this.fail(key, `a non-empty string (${hint})`, v);
    return v;
  }

  optString(key: string, hint: string): string | undefined {
    return this.o[key] === undefined ? undefined : this.string(key, hint);
  }

  /** An integer in [min, max]. */
  int(key: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
    const v = this.o[key];
    if (v === undefined) throw new ParamsError(`${this.method}: '${key}' is required: an integer from ${min}${max < Number.MAX_SAFE_INTEGER ? ` to ${max}` : ''}.`);
    if (!(typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max)) {
      this.fail(key, `an integer from ${min}${max < Number.MAX_SAFE_INTEGER ? ` to ${max}` : ''}`, v);
    }
    return v;
  }

  optInt(key: string, min: number, max?: number): number | undefined {
    return this.o[key] === undefined ? undefined : this.int(key, min, max);
  }

  /** A finite number strictly between lo and hi. */
  optNumber(key: string, lo: number, hi = Infinity): number | undefined {
    const v = this.o[key];
    if (v === undefined) return undefined;
    if (!(typeof v === 'number' && Number.isFinite(v) && v > lo && v < hi)) this.fail(key, `a number above ${lo}${hi < Infinity ? ` and below ${hi}` : ''}`, v);
    return v;
  }

  optBoolean(key: string): boolean | undefined {
    const v = this.o[key];
    if (v !== undefined && typeof v !== 'boolean') this.fail(key, 'true or false', v);
    return v as boolean | undefined;
  }

  optBackend(): BackendRequest | undefined {
    const v = this.o.backend;
    if (v === undefined) return undefined;
    if (!BACKEND_REQUESTS.includes(v as BackendRequest)) this.fail('backend', `one of ${BACKEND_REQUESTS.join(', ')}`, v);
    return v as BackendRequest;
  }

  floats(key: string): Float32Array {
    return decodeFloats(this.method, key, this.o[key] as FloatValues | undefined);
  }
}

/** number[] or base64 little-endian float32 bytes -> Float32Array. */
export function decodeFloats(method: string, key: string, v: FloatValues | undefined): Float32Array {
  if (v === undefined) throw new ParamsError(`${method}: '${key}' is required: the values as a number array or base64 float32 bytes.`);
  if (Array.isArray(v)) {
    if (!v.every((x) => typeof x === 'number' && Number.isFinite(x))) throw new ParamsError(`${method}: '${key}' must hold only finite numbers.`);
    return Float32Array.from(v);
  }
  if (typeof v === 'string' && /^[A-Za-z0-9+/]*=*$/.test(v)) {
    const bytes = Buffer.from(v, 'base64');
    if (bytes.length % 4 !== 0 || bytes.length === 0) throw new ParamsError(`${method}: '${key}' is ${bytes.length} bytes of base64, not a whole number of float32 values.`);
    const out = new Float32Array(bytes.length / 4);
    for (let i = 0; i < out.length; i++) out[i] = bytes.readFloatLE(i * 4);
    return out;
  }
  throw new ParamsError(`${method}: '${key}' must be a number array or a base64 string of float32 bytes.`);
}

function schedule(method: string, raw: unknown, prefix = ''): ScheduleSettings {
  if (raw === undefined) return {};
  const r = new Reader(method, raw);
  const s: ScheduleSettings = {};
  const sigmaMax = r.optNumber('sigmaMax', 0);
  const sigmaMin = r.optNumber('sigmaMin', 0);
  const levels = r.optInt('levels', 2, 100_000);
  const stepsPerLevel = r.optInt('stepsPerLevel', 1, 1_000_000);
  const eps = r.optNumber('eps', 0);
  if (sigmaMax !== undefined) s.sigmaMax = sigmaMax;
  if (sigmaMin !== undefined) s.sigmaMin = sigmaMin;
  if (levels !== undefined) s.levels = levels;
  if (stepsPerLevel !== undefined) s.stepsPerLevel = stepsPerLevel;
  if (eps !== undefined) s.eps = eps;
  if (s.sigmaMax !== undefined && s.sigmaMin !== undefined && s.sigmaMin >= s.sigmaMax) {
    throw new ParamsError(`${method}: '${prefix}sigmaMin' (${s.sigmaMin}) must be smaller than '${prefix}sigmaMax' (${s.sigmaMax}).`);
  }
  return s;
}

/** Copies the defined values only (optional fields stay absent rather than undefined). */
export function defined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

const DATA_HINT = "a dataset spec such as 'toy:mixture' or 'mnist'";
const RUN_HINT = 'the run folder';

export function startTrainingParams(method: string, raw: unknown): StartTrainingParams {
  const r = new Reader(method, raw);
  return defined<StartTrainingParams>({
    data: r.string('data', DATA_HINT), runsFolder: r.optString('runsFolder', 'the folder that holds runs'),
    runName: r.optString('runName', 'the run folder name'), runDir: r.optString('runDir', RUN_HINT),
    preset: r.optString('preset', 'tiny, small, reference or mlp'), steps: r.optInt('steps', 1), batch: r.optInt('batch', 1, 65_536),
    seed: r.optInt('seed', 0), lr: r.optNumber('lr', 0, 1), sampleEvery: r.optInt('sampleEvery', 0), checkpointEvery: r.optInt('checkpointEvery', 1),
    logEvery: r.optInt('logEvery', 1), backend: r.optBackend(),
    schedule: r.o.schedule === undefined ? undefined : schedule(method, r.o.schedule, 'schedule.'),
    studentModule: r.optString('studentModule', "the assignment's student module (scoreModel.ts)"),
  });
}

export function stopTrainingParams(method: string, raw: unknown): StopTrainingParams {
  return { runId: new Reader(method, raw).string('runId', 'the run name or folder that startTraining returned') };
}

export function resumeTrainingParams(method: string, raw: unknown): ResumeTrainingParams {
  const r = new Reader(method, raw);
  return defined<ResumeTrainingParams>({
    runDir: r.string('runDir', RUN_HINT), steps: r.optInt('steps', 1), sampleEvery: r.optInt('sampleEvery', 0),
    checkpointEvery: r.optInt('checkpointEvery', 1), logEvery: r.optInt('logEvery', 1), backend: r.optBackend(),
  });
}

function samplingCommon(r: Reader, maxN: number) {
  return {
    runDir: r.string('runDir', RUN_HINT), n: r.int('n', 1, maxN), seed: r.optInt('seed', 0),
    stepsPerLevel: r.optInt('stepsPerLevel', 1, 1_000_000), out: r.optString('out', 'the output file (.png or .csv)'), backend: r.optBackend(),
  };
}

export function sampleParams(method: string, raw: unknown): SampleParams {
  const r = new Reader(method, raw);
  return defined<SampleParams>({
    ...samplingCommon(r, 10_000), snapshots: r.optInt('snapshots', 0, 1000), denoise: r.optBoolean('denoise'),
    studentModule: r.optString('studentModule', "the assignment's student module (scoreModel.ts)"),
  });
}

/** Inpaint params with the image and mask decoded. */
/** Inpainting: the image is given (`image`) or a training example (`index`); the mask is given (`mask`) or a preset (`maskPreset`). */
export function inpaintParams(method: string, raw: unknown): Omit<InpaintParams, 'image' | 'mask' | 'index' | 'maskPreset'> & {
  source: { image: Float32Array } | { index: number }; mask: Float32Array | MaskPreset;
} {
  const r = new Reader(method, raw);
  const o = raw as Record<string, unknown>;
  if ((o.image === undefined) === (o.index === undefined)) {
    throw new ParamsError(`${method}: give exactly one of 'image' (the pixels, HWC in [0, 1]) and 'index' (a training example of the run's dataset).`);
  }
  if ((o.mask === undefined) === (o.maskPreset === undefined)) {
    throw new ParamsError(`${method}: give exactly one of 'mask' (1 = known, 0 = to fill) and 'maskPreset' (${MASK_PRESETS.join(', ')}).`);
  }
  if (o.maskPreset !== undefined && !MASK_PRESETS.includes(o.maskPreset as MaskPreset)) {
    throw new ParamsError(`${method}: 'maskPreset' must be one of ${MASK_PRESETS.join(', ')} (got ${JSON.stringify(o.maskPreset)}).`);
  }
  return defined({
    ...samplingCommon(r, 1000), snapshots: r.optInt('snapshots', 0, 1000),
    source: o.image !== undefined ? { image: r.floats('image') } : { index: r.int('index', 0) },
    mask: o.mask !== undefined ? r.floats('mask') : (o.maskPreset as MaskPreset),
  });
}

export function varyParams(method: string, raw: unknown): VaryParams {
  const r = new Reader(method, raw);
  return defined<VaryParams>({ ...samplingCommon(r, 1000), snapshots: r.optInt('snapshots', 0, 1000), index: r.int('index', 0), level: r.int('level', 1) });
}

export function computeScheduleParams(method: string, raw: unknown): ComputeScheduleParams {
  const r = new Reader(method, raw);
  return { data: r.string('data', DATA_HINT), ...schedule(method, raw) };
}

export function listRunsParams(method: string, raw: unknown): ListRunsParams {
  // No params at all is fine: the server's runs folder.
  if (raw === undefined || raw === null) return {};
  const r = new Reader(method, raw);
  return defined<ListRunsParams>({ folder: r.optString('folder', 'the runs folder') });
}

export function describeCheckpointParams(method: string, raw: unknown): DescribeCheckpointParams {
  return { runDir: new Reader(method, raw).string('runDir', RUN_HINT) };
}

export function cancelJobParams(method: string, raw: unknown): CancelJobParams {
  return { jobId: new Reader(method, raw).string('jobId', 'the job id a start request returned') };
}

/** runHistory params, with maxPoints defaulted. */
export function runHistoryParams(method: string, raw: unknown): Required<RunHistoryParams> {
  const r = new Reader(method, raw);
  return { runDir: r.string('runDir', RUN_HINT), maxPoints: r.optInt('maxPoints', 2, 100_000) ?? 2000 };
}
