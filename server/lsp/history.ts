/**
 * `highscore/runHistory`: a run's loss curve from metrics.jsonl, downsampled for plotting, and its
 * latest samples read back from the samples folder. Plain file reads on the thread that answers
 * requests (no TF.js); the reads are bounded (a big sample file is skipped, a big CSV read in part).
 */
import * as fs from 'fs';
import * as path from 'path';
import { configPath, readMetrics, readStatus, samplesDir, type StepMetrics } from '../engine/run';
import { decodePng, type DecodedPng } from '../engine/images';
import { isRunHistoryResult, isTrainingSamples, type MetricPoint, type RunConfig, type RunHistoryResult, type TrainingSamplesParams } from '../../protocol/protocol';
import { isReallyRunning, readRunConfig, RunFolderError } from './runs';
import { MAX_GRID_IMAGES, MAX_POINTS, sampleImage, shownCount } from './sampleImages';

/** A PNG grid larger than this is not decoded (an older, smaller sample file is shown instead). */
const MAX_PNG_BYTES = 2 << 20;
/** A CSV is read up to this many bytes: enough for the MAX_POINTS rows a message shows. */
const CSV_HEAD_BYTES = 256 << 10;
/** How many of the newest sample files are tried before giving up. */
const SAMPLE_FILES_TRIED = 5;

/** A logged step as a curve point, or undefined where its step or loss is unusable (a hand-edited file). */
function toPoint(r: StepMetrics): MetricPoint | undefined {
  if (!(Number.isInteger(r.step) && r.step >= 0 && Number.isFinite(r.loss))) return undefined;
  const p: MetricPoint = { step: r.step, loss: r.loss };
  if (Array.isArray(r.perLevel)) p.perLevel = r.perLevel.map((v) => (typeof v === 'number' && Number.isFinite(v) ? v : null));
  if (Number.isFinite(r.stepsPerSec)) p.stepsPerSec = r.stepsPerSec;
  return p;
}

const mean = (xs: number[]) => xs.reduce((a, x) => a + x, 0) / xs.length;

/** One point for a bucket of consecutive points: the mean step (rounded), loss, per-level loss (nulls skipped) and speed. */
function meanPoint(bucket: MetricPoint[]): MetricPoint {
  const p: MetricPoint = { step: Math.round(mean(bucket.map((q) => q.step))), loss: mean(bucket.map((q) => q.loss)) };
  const levels = bucket.reduce((m, q) => Math.max(m, q.perLevel?.length ?? 0), 0);
  if (levels) {
    p.perLevel = Array.from({ length: levels }, (_, i) => {
      const vs = bucket.map((q) => q.perLevel?.[i]).filter((v): v is number => typeof v === 'number');
      return vs.length ? mean(vs) : null;
    });
  }
  const rates = bucket.map((q) => q.stepsPerSec).filter((v): v is number => v !== undefined);
  if (rates.length) p.stepsPerSec = mean(rates);
  return p;
}

/**
 * At most `maxPoints` (>= 2) points: the first and the last exactly as logged, the ones between in
 * `maxPoints - 2` buckets of consecutive points (sizes differ by at most one), each bucket's mean.
 */
export function downsample(points: MetricPoint[], maxPoints: number): MetricPoint[] {
  if (points.length <= maxPoints) return points;
  const inner = points.length - 2;
  const buckets = maxPoints - 2;
  const out = [points[0]!];
  for (let b = 0; b < buckets; b++) {
    out.push(meanPoint(points.slice(1 + Math.floor((b * inner) / buckets), 1 + Math.floor(((b + 1) * inner) / buckets))));
  }
  out.push(points[points.length - 1]!);
  return out;
}

/**
 * The examples of a grid PNG as writeSamples draws it (imageGrid: tiles in rows, 2 pixels of padding,
 * each image upscaled by an integer factor, 2 by default), at most MAX_GRID_IMAGES of them. The grid's
 * empty tail tiles (all padding) are not counted. Undefined where the PNG does not fit the shape.
 */
function gridExamples(img: DecodedPng, shape: number[]): { data: Float32Array; n: number } | undefined {
  const [H, W, C] = shape as [number, number, number];
  if (img.channels !== C) return undefined;
  const pad = 2;
  for (const scale of [2, 1, 3, 4]) {
    const tw = W * scale + pad;
    const th = H * scale + pad;
    if ((img.width - pad) % tw !== 0 || (img.height - pad) % th !== 0) continue;
    const cols = (img.width - pad) / tw;
    const tiles = Math.min(cols * ((img.height - pad) / th), MAX_GRID_IMAGES);
    const per = H * W * C;
    const data = new Float32Array(tiles * per);
    const padValue = img.data[0]; // the top-left pixel is padding
    let n = 0;
    for (let k = 0; k < tiles; k++) {
      const x0 = pad + (k % cols) * tw;
      const y0 = pad + Math.floor(k / cols) * th;
      for (let y = 0; y < H; y++) {
        for (let x = 0; x < W; x++) {
          for (let c = 0; c < C; c++) {
            const v = img.data[((y0 + y * scale) * img.width + x0 + x * scale) * C + c]!;
            data[k * per + (y * W + x) * C + c] = v;
            if (v !== padValue) n = k + 1;
          }
        }
      }
    }
    return n ? { data, n } : undefined;
  }
  return undefined;
}

/** The first `bytes` bytes of a file as text, cut after its last whole line. */
function readHead(file: string, bytes: number): string {
  const fd = fs.openSync(file, 'r');
  try {
    const buf = Buffer.alloc(bytes);
    const got = fs.readSync(fd, buf, 0, bytes, 0);
    const text = buf.toString('utf8', 0, got);
    return got < bytes ? text : text.slice(0, text.lastIndexOf('\n') + 1);
  } finally {
    fs.closeSync(fd);
  }
}

/** The first MAX_POINTS rows of a points CSV (a header and non-numeric lines skipped). */
function csvExamples(text: string, D: number): { data: Float32Array; n: number } | undefined {
  const values: number[] = [];
  for (const line of text.split('\n')) {
    if (values.length >= MAX_POINTS * D) break;
    const cells = line.trim() ? line.split(',').map(Number) : [];
    if (cells.length === D && cells.every(Number.isFinite)) values.push(...cells);
  }
  return values.length ? { data: Float32Array.from(values), n: values.length / D } : undefined;
}

/** One sample file as the protocol carries samples, or undefined where it does not fit the run's shape or is too big. */
function readSampleFile(file: string, shape: number[]): Pick<TrainingSamplesParams, 'n' | 'png' | 'points'> | undefined {
  const isPng = /\.png$/i.test(file);
  if (isPng !== (shape.length === 3)) return undefined;
  const ex = isPng
    ? fs.statSync(file).size <= MAX_PNG_BYTES ? gridExamples(decodePng(fs.readFileSync(file), file), shape) : undefined
    : csvExamples(readHead(file, CSV_HEAD_BYTES), shape.reduce((a, b) => a * b, 1));
  return ex && { n: shownCount(ex.n, shape), ...sampleImage(ex.data, ex.n, shape) };
}

/**
 * The run's latest samples: the newest PNG grid or CSV in its samples folder (training previews,
 * `step-NNNNNN.*`, give their step; other files get `fallbackStep`). Unreadable or oversized files
 * are passed over for the next newest; undefined where none will do.
 */
export function latestSamples(runDir: string, config: RunConfig, fallbackStep: number): TrainingSamplesParams | undefined {
  const dir = samplesDir(runDir);
  let files: { file: string; mtime: number }[] = [];
  try {
    for (const name of fs.readdirSync(dir)) {
      if (!/\.(png|csv)$/i.test(name)) continue;
      const file = path.join(dir, name);
      try {
        files.push({ file, mtime: fs.statSync(file).mtimeMs });
      } catch { /* removed meanwhile */ }
    }
  } catch {
    return undefined;
  }
  files = files.sort((a, b) => b.mtime - a.mtime || b.file.localeCompare(a.file)).slice(0, SAMPLE_FILES_TRIED);
  for (const { file } of files) {
    try {
      const s = readSampleFile(file, config.dataShape);
      const step = /^step-(\d+)\.\w+$/.exec(path.basename(file))?.[1];
      const out = s && { jobId: 'history', runId: path.basename(runDir), step: step ? Number(step) : fallbackStep, shape: config.dataShape, file, ...s };
      if (isTrainingSamples(out)) return out;
    } catch { /* unreadable: try the next newest */ }
  }
  return undefined;
}

/** The runHistory answer for an existing run folder; throws a RunFolderError where its config is unreadable. */
export function runHistory(runDir: string, maxPoints: number, trainedHere: boolean): RunHistoryResult {
  const config = readRunConfig(runDir);
  const points = readMetrics(runDir)
    .filter((r): r is StepMetrics => r.type === 'step')
    .map(toPoint)
    .filter((p): p is MetricPoint => p !== undefined);
  let status = readStatus(runDir) ?? null;
  // As listRuns: a run whose training process is gone is shown stopped, to be resumed.
  if (status?.state === 'running' && !isReallyRunning(status.pid, trainedHere)) {
    status = { ...status, state: 'stopped', message: `Interrupted at step ${status.step}: the process training it is gone. Resume it from its last checkpoint.` };
  }
  const samples = latestSamples(runDir, config, status && Number.isInteger(status.step) && status.step >= 0 ? status.step : 0);
  const result: RunHistoryResult = {
    runDir, runId: path.basename(runDir), config, status, points: downsample(points, maxPoints), loggedSteps: points.length,
    ...(samples ? { samples } : {}),
  };
  // A status.json that does not hold a status counts as missing (as in describeCheckpoint's null).
  const withoutStatus: RunHistoryResult = { ...result, status: null };
  if (isRunHistoryResult(result)) return result;
  if (isRunHistoryResult(withoutStatus)) return withoutStatus;
  throw new RunFolderError(`${configPath(runDir)} does not describe a High Score run (a field is missing or of the wrong type). Fix or remove the file.`);
}
