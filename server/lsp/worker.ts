/**
 * A job's worker thread: all engine work (TF.js, datasets, training, sampling) runs here, so the
 * thread that answers requests never blocks. The job comes as `workerData` (workerMessages.ts); a
 * 'stop' message aborts it through an AbortSignal (training then writes a checkpoint and returns
 * 'stopped'). Progress, samples and logs are posted back; the last message is 'result' or 'error'.
 */
import { parentPort, workerData } from 'worker_threads';
import * as path from 'path';
import { selectBackend } from '../engine/backend';
import { loadDataset, exampleSize, type Dataset } from '../engine/datasets';
import { train, scheduleForData } from '../engine/train';
import { loadRunModel, sample, inpaint, vary, samplingSchedule } from '../engine/generate';
import { presetMask } from '../engine/masks';
import { writeSamples } from '../engine/output';
import { sampleWith } from '../engine/implementation';
import { studentImpl } from './studentImpl';
import { readConfig } from '../engine/run';
import { CancelledError, type LangevinProgress, type SampleResult, type Snapshot } from '../engine/sampler';
import type { ComputeScheduleResult, NoiseSchedule, SampleImage, SamplingJobResult, ScheduleSettings, SnapshotResult } from '../../protocol/protocol';
import { finiteOrNull, sampleImage, shownCount } from './sampleImages';
import type { InpaintJob, ParentMessage, SampleJob, ScheduleJob, TrainJob, VaryJob, WorkerJob, WorkerMessage } from './workerMessages';

if (!parentPort) throw new Error('worker.ts runs as a worker thread of the High Score server.');
const port = parentPort;
const job = workerData as WorkerJob;
const abort = new AbortController();

port.on('message', (m: ParentMessage) => {
  if (m.type === 'stop') abort.abort();
});

function post(m: WorkerMessage): void {
  port.postMessage(m);
}

const log = (message: string, level: 'info' | 'warning' | 'error' = 'info') => post({ type: 'log', level, message });

/** The protocol's schedule is the engine's, redeclared: this assignment fails to compile if they drift apart. */
const asProtocolSchedule = (s: Awaited<ReturnType<typeof scheduleForData>>): NoiseSchedule => s;

/** Only the settings that are set (the engine tells absent from undefined in places). */
function scheduleOptions(s: ScheduleSettings | undefined): ScheduleSettings {
  const out: ScheduleSettings = {};
  if (!s) return out;
  for (const k of ['sigmaMax', 'sigmaMin', 'levels', 'stepsPerLevel', 'eps'] as const) if (s[k] !== undefined) out[k] = s[k];
  return out;
}

/** Selects the compute backend for this thread and says which; returns its name. */
async function startBackend(kind: Dataset['kind']): Promise<string> {
  const report = await selectBackend(job.backend, kind);
  log(`backend: ${report.name} — ${report.reason}`);
  return report.name;
}

async function runTraining(j: TrainJob): Promise<void> {
  const spec = j.data ?? readConfig(j.runDir).dataSpec;
  // A resumed run keeps the implementation it was started with.
  const implFile = j.studentModule ?? (j.resume ? readConfig(j.runDir).implementation : undefined);
  const ds = await loadDataset(spec);
  const backend = await startBackend(ds.kind);
  log(`data: ${spec} — ${ds.size} examples of shape [${ds.shape}]`);
  const implementation = implFile ? studentImpl(implFile) : undefined;
  if (implementation) log(`Training with ${implementation.label} (${implementation.file}): its dsmLoss, geometricSchedule and sampler.`);
  let started = false;
  const markStarted = () => {
    if (!started) post({ type: 'started' });
    started = true;
  };
  let totalSteps: number | undefined;
  const total = () => (totalSteps ??= readConfig(j.runDir).steps);
  const result = await train({
    runDir: j.runDir, dataset: ds, backend, resume: j.resume, signal: abort.signal,
    ...(j.preset !== undefined ? { preset: j.preset } : {}), ...(j.steps !== undefined ? { steps: j.steps } : {}),
    ...(j.batch !== undefined ? { batch: j.batch } : {}), ...(j.seed !== undefined ? { seed: j.seed } : {}),
    ...(j.lr !== undefined ? { learningRate: j.lr } : {}), ...(j.sampleEvery !== undefined ? { sampleEvery: j.sampleEvery } : {}),
    ...(j.checkpointEvery !== undefined ? { checkpointEvery: j.checkpointEvery } : {}), ...(j.logEvery !== undefined ? { logEvery: j.logEvery } : {}),
    schedule: scheduleOptions(j.schedule),
    ...(implementation ? { implementation } : {}),
    onInfo: (m) => log(m),
    onEvent: (e) => {
      markStarted();
      // Checkpoints and preview samples have their own messages; the rest is worth a line in the log.
      if (e.kind !== 'checkpoint' && e.kind !== 'sample') log(e.message, e.kind === 'nan' || e.kind === 'collapse' ? 'error' : e.kind === 'spike' || e.kind === 'restore' ? 'warning' : 'info');
    },
    onProgress: (m) => {
      markStarted();
      post({
        type: 'progress',
        progress: {
          step: m.step, totalSteps: total(), loss: m.loss, perLevel: m.perLevel.map((v) => finiteOrNull(v ?? undefined)),
          gradNorm: finiteOrNull(m.gradNorm), stepsPerSec: m.stepsPerSec, etaSec: finiteOrNull(m.etaSec),
        },
      });
    },
    onSample: (s) => {
      markStarted();
      post({ type: 'trainingSamples', samples: { step: s.step, n: shownCount(s.n, s.shape), shape: s.shape, file: s.file, ...sampleImage(s.data, s.n, s.shape) } });
    },
  });
  markStarted();
  // train() returns finished, stopped or failed; its type also allows 'running', which never comes back.
  const state = result.state === 'running' ? 'failed' : result.state;
  post({
    type: 'result', state, message: result.message,
    result: { type: 'training', runDir: j.runDir, step: result.step, totalSteps: total(), lastLoss: finiteOrNull(result.lastLoss ?? undefined) },
  });
}

/**
 * The sampler's callbacks for a chain of `n` samples: each level becomes a samplingProgress message,
 * with the level's snapshot (taken just before) attached; the converted snapshots are kept for the result.
 */
function langevinReporter(n: number, shape: number[]) {
  const snapshots: SnapshotResult[] = [];
  let pending: { level: number; image: SampleImage } | undefined;
  const onSnapshot = (s: Snapshot) => {
    const image = sampleImage(s.data, n, shape);
    snapshots.push({ level: s.level + 1, sigma: s.sigma, alpha: s.alpha, scoreNorm: finiteOrNull(s.scoreNorm), noiseNorm: finiteOrNull(s.noiseNorm), ...image });
    pending = { level: s.level, image };
  };
  const onProgress = (p: LangevinProgress) => {
    const snapshot = pending?.level === p.level ? pending.image : undefined;
    pending = undefined;
    post({
      type: 'samplingProgress',
      progress: {
        level: p.level + 1, levels: p.levels, sigma: p.sigma, alpha: p.alpha, done: p.done, total: p.total,
        scoreNorm: finiteOrNull(p.scoreNorm), noiseNorm: finiteOrNull(p.noiseNorm), ...(snapshot ? { snapshot } : {}),
      },
    });
  };
  return { snapshots, onSnapshot, onProgress };
}

/** Throws, naming the problem, unless `values` holds exactly one example of `shape`. */
function checkExample(values: Float32Array, shape: number[], what: string): void {
  const D = exampleSize(shape);
  if (values.length !== D) throw new RangeError(`The ${what} has ${values.length} values; this run's examples are [${shape.join(', ')}] = ${D} values.`);
}

/** Loads the run's model (and whatever the job needs) and checks the inputs, then posts 'started'. */
/** Training example `index` of a dataset, or a RangeError naming the valid range. */
async function trainingExample(dataSpec: string, index: number): Promise<Float32Array> {
  const ds = await loadDataset(dataSpec);
  if (!(Number.isInteger(index) && index >= 0 && index < ds.size)) {
    throw new RangeError(`The index must be between 0 and ${ds.size - 1}, the examples of ${dataSpec} (got ${index}).`);
  }
  const D = exampleSize(ds.shape);
  return ds.data.slice(index * D, (index + 1) * D);
}

async function runSampling(j: SampleJob | InpaintJob | VaryJob): Promise<void> {
  let kind: Dataset['kind'] = 'image';
  try {
    kind = readConfig(j.runDir).dataKind;
  } catch { /* no readable config: loadRunModel below names the problem */ }
  await startBackend(kind);
  const rm = await loadRunModel(j.runDir);
  try {
    const shape = rm.state.dataShape;
    const reporter = langevinReporter(j.n, shape);
    const common = {
      n: j.n, seed: j.seed ?? 0, signal: abort.signal, onProgress: reporter.onProgress, onSnapshot: reporter.onSnapshot,
      ...(j.stepsPerLevel !== undefined ? { stepsPerLevel: j.stepsPerLevel } : {}), snapshots: j.snapshots ?? 0,
    };
    const t0 = Date.now();
    let result: SampleResult;
    let shown: Float32Array;
    let n = j.n;
    let first: string | undefined;
    if (j.kind === 'sample') {
      post({ type: 'started' });
      if (j.studentModule) {
        const impl = studentImpl(j.studentModule);
        const samples = await sampleWith(impl, rm.model, samplingSchedule(rm.state, j.stepsPerLevel), shape, j.n, j.seed ?? 0);
        result = { samples, snapshots: [] };
      } else {
        result = await sample(rm, { ...common, denoise: j.denoise ?? true });
      }
      shown = result.samples;
    } else if (j.kind === 'inpaint') {
      if (shape.length !== 3) throw new RangeError('Inpainting needs an image model; this run is on 2D points.');
      const image = 'image' in j.source ? j.source.image : await trainingExample(rm.state.dataSpec, j.source.index);
      checkExample(image, shape, 'image');
      const rawMask = typeof j.mask === 'string' ? presetMask(shape, j.mask, j.seed ?? 0) : j.mask;
      checkExample(rawMask, shape, 'mask');
      const mask = rawMask.map((v) => (v >= 0.5 ? 1 : 0));
      if (mask.every((v) => v === 1)) throw new RangeError('The mask is all 1 (every pixel known): nothing to inpaint. Mark the pixels to fill with 0.');
      post({ type: 'started' });
      result = await inpaint(rm, image, mask, common);
      // The grid shows the masked input first (unknown pixels mid-gray), then the completions.
      const D = exampleSize(shape);
      shown = new Float32Array(D * (j.n + 1));
      for (let i = 0; i < D; i++) shown[i] = mask[i] ? image[i]! : 0.5;
      shown.set(result.samples, D);
      n = j.n + 1;
      first = 'masked input';
    } else {
      const L = rm.state.schedule.sigmas.length;
      if (!(Number.isInteger(j.level) && j.level >= 1 && j.level <= L)) throw new RangeError(`The level must be between 1 and ${L} for this run (got ${j.level}).`);
      const point = await trainingExample(rm.state.dataSpec, j.index);
      const D = point.length;
      post({ type: 'started' });
      result = await vary(rm, point, j.level - 1, common);
      shown = new Float32Array(D * (j.n + 1));
      shown.set(point, 0);
      shown.set(result.samples, D);
      n = j.n + 1;
      first = 'source example';
    }
    const file = path.resolve(writeSamples(j.out, shown, n, shape));
    const out: SamplingJobResult = {
      type: 'samples', file, n: shownCount(n, shape), shape, dataKind: shape.length === 3 ? 'image' : 'points',
      ...(first ? { first } : {}), snapshots: reporter.snapshots, seconds: (Date.now() - t0) / 1000, ...sampleImage(shown, n, shape),
    };
    post({ type: 'result', state: 'finished', message: `Wrote ${n} ${shape.length === 3 ? 'images' : 'points'} to ${file}.`, result: out });
  } finally {
    rm.dispose();
  }
}

async function runSchedule(j: ScheduleJob): Promise<void> {
  const ds = await loadDataset(j.data);
  await startBackend(ds.kind);
  post({ type: 'started' });
  const schedule = asProtocolSchedule(await scheduleForData(ds, scheduleOptions(j)));
  const result: ComputeScheduleResult = { data: j.data, name: ds.name, kind: ds.kind, shape: ds.shape, size: ds.size, schedule };
  post({ type: 'result', state: 'finished', message: `Schedule for ${j.data}: L = ${schedule.sigmas.length}.`, result });
}

async function run(j: WorkerJob): Promise<void> {
  switch (j.kind) {
    case 'train': return runTraining(j);
    case 'sample':
    case 'inpaint':
    case 'vary': return runSampling(j);
    case 'schedule': return runSchedule(j);
  }
}

run(job).then(
  () => port.unref(),
  (err: unknown) => {
    if (err instanceof CancelledError) post({ type: 'result', state: 'stopped', message: `The ${job.kind} job was cancelled.` });
    else {
      const e = err instanceof Error ? err : new Error(String(err));
      post({ type: 'error', name: e.name, message: e.message });
    }
    port.unref();
  },
);
