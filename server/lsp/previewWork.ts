/**
 * The engine work behind the preview requests (highscore/preview, scoreField, datasetExamples). It runs
 * in the preview worker thread (previewWorker.ts), which keeps the last loaded models and datasets, so
 * a score-field slider or a strip page costs one batched evaluation, not a model load. Tests call these
 * functions directly.
 */
import * as path from 'path';
import { loadDataset, exampleSize, type Dataset } from '../engine/datasets';
import { loadRunModel, sample, samplingSchedule, type RunModel } from '../engine/generate';
import { sampleWith } from '../engine/implementation';
import { studentImpl } from './studentImpl';
import { encodePng } from '../engine/images';
import { readConfig } from '../engine/run';
import { dataBounds, scoreField, type Bounds } from '../engine/scoreField';
import type { Snapshot } from '../engine/sampler';
import type {
  DatasetExamplesParams, DatasetExamplesResult, PreviewParams, PreviewResult, ScoreFieldParams, ScoreFieldResult, SnapshotResult,
} from '../../protocol/protocol';
import { finiteOrNull, sampleImage } from './sampleImages';
import { readCheckpoints } from './runs';

/** The newest few of something expensive to load, by key. */
class Lru<T> {
  private readonly items = new Map<string, Promise<T>>();
  constructor(private readonly size: number, private readonly drop: (v: T) => void = () => undefined) {}

  get(key: string, load: () => Promise<T>): Promise<T> {
    let p = this.items.get(key);
    if (p) {
      this.items.delete(key);
      this.items.set(key, p);
      return p;
    }
    p = load();
    this.items.set(key, p);
    p.catch(() => this.items.delete(key));
    while (this.items.size > this.size) {
      const [oldKey, old] = this.items.entries().next().value as [string, Promise<T>];
      this.items.delete(oldKey);
      old.then(this.drop, () => undefined);
    }
    return p;
  }
}

const models = new Lru<RunModel>(3, (m) => m.dispose());
const datasets = new Lru<Dataset>(3);

/** The run's model from its latest checkpoint (reloaded when a newer checkpoint lands). */
export function runModel(runDir: string): Promise<RunModel> {
  const latest = readCheckpoints(runDir).latest;
  if (!latest) throw new Error(`${runDir} has no checkpoint yet: train it first (previews sample from the latest checkpoint).`);
  // One thread: a cached preview model keeps no idle helper threads alive.
  return models.get(`${path.resolve(runDir)}|${latest}`, () => loadRunModel(runDir, { workers: 1 }));
}

export function dataset(spec: string): Promise<Dataset> {
  return datasets.get(spec, () => loadDataset(spec));
}

const round4 = (v: number) => (Number.isFinite(v) ? Math.round(v * 1e4) / 1e4 : 0);

/** The learned score on a grid at one level (one batched call), with the true score for analytic toys. */
export async function computeScoreField(p: ScoreFieldParams): Promise<ScoreFieldResult> {
  const rm = await runModel(p.runDir);
  const shape = rm.state.dataShape;
  if (shape.length !== 1 || shape[0] !== 2) throw new RangeError(`The score field is drawn for 2D runs (toy:*); ${p.runDir} is on [${shape.join(', ')}] data.`);
  const sigmas = rm.state.schedule.sigmas;
  if (!(Number.isInteger(p.level) && p.level >= 1 && p.level <= sigmas.length)) throw new RangeError(`The level must be between 1 and ${sigmas.length} (got ${p.level}).`);
  const ds = await dataset(rm.state.dataSpec);
  const nData = Math.min(p.points ?? 500, ds.size);
  const data = ds.data.subarray(0, 2 * nData);
  const bounds: Bounds = p.bounds ?? dataBounds(data);
  const grid = p.grid ?? 21;
  const sigma = sigmas[p.level - 1]!;
  const f = await scoreField(rm.model, sigma, bounds, grid, ds.toy);
  return {
    runDir: p.runDir, checkpoint: path.basename(rm.checkpointDir), step: rm.state.step, dataSpec: rm.state.dataSpec,
    level: p.level, levels: sigmas.length, sigma, grid, bounds,
    learned: Array.from(f.learned, round4),
    ...(f.true ? { true: Array.from(f.true, round4), meanError: f.meanError!, meanTrueNorm: f.meanTrueNorm! } : {}),
    data: Array.from(data, round4), schedule: rm.state.schedule,
  };
}

/** Points as a small PNG scatter (dark dots on white), for hovers and other places that take only images. */
export function scatterPng(points: ArrayLike<number>, size = 192): string {
  const bounds = dataBounds(Array.from(points), 0.05);
  const img = new Float32Array(size * size).fill(1);
  const sx = (size - 1) / (bounds[1] - bounds[0]);
  const sy = (size - 1) / (bounds[3] - bounds[2]);
  for (let k = 0; k + 1 < points.length; k += 2) {
    const px = Math.round((points[k]! - bounds[0]) * sx);
    const py = Math.round((bounds[3] - points[k + 1]!) * sy);
    for (let dy = -1; dy <= 1; dy++) {
      for (let dx = -1; dx <= 1; dx++) {
        const x = px + dx, y = py + dy;
        if (x >= 0 && y >= 0 && x < size && y < size) img[y * size + x] = Math.min(img[y * size + x]!, dx || dy ? 0.55 : 0.15);
      }
    }
  }
  return encodePng(size, size, 1, img).toString('base64');
}

/** The defaults of a quick preview: a few samples and a short chain, so it comes back in seconds on 2 cores. */
export function previewDefaults(kind: 'image' | 'points', p: PreviewParams): { n: number; stepsPerLevel: number; snapshots: number; seed: number } {
  return {
    n: p.n ?? (kind === 'image' ? 16 : 500),
    stepsPerLevel: p.stepsPerLevel ?? (kind === 'image' ? 1 : 10),
    snapshots: p.snapshots ?? 0,
    seed: p.seed ?? 0,
  };
}

/** A quick sample grid from the latest checkpoint. */
export async function computePreview(p: PreviewParams, signal?: AbortSignal): Promise<Omit<PreviewResult, 'cached'>> {
  const rm = await runModel(p.runDir);
  const shape = rm.state.dataShape;
  const kind = shape.length === 3 ? 'image' : 'points';
  const d = previewDefaults(kind, p);
  const t0 = Date.now();
  const snapshots: SnapshotResult[] = [];
  const onSnapshot = (s: Snapshot) => snapshots.push({
    level: s.level + 1, sigma: s.sigma, alpha: s.alpha, scoreNorm: finiteOrNull(s.scoreNorm), noiseNorm: finiteOrNull(s.noiseNorm),
    ...sampleImage(s.data, d.n, shape),
  });
  const samples = p.studentModule
    ? await sampleWith(studentImpl(p.studentModule), rm.model, samplingSchedule(rm.state, d.stepsPerLevel), shape, d.n, d.seed)
    : (await sample(rm, { n: d.n, seed: d.seed, stepsPerLevel: d.stepsPerLevel, snapshots: d.snapshots, onSnapshot, ...(signal ? { signal } : {}) })).samples;
  const image = sampleImage(samples, d.n, shape);
  return {
    runDir: p.runDir, checkpoint: path.basename(rm.checkpointDir), step: rm.state.step, loss: finiteOrNull(rm.state.loss ?? undefined),
    dataSpec: rm.state.dataSpec, n: d.n, shape, dataKind: kind, stepsPerLevel: d.stepsPerLevel, snapshots,
    seconds: (Date.now() - t0) / 1000, ...image, ...(image.points ? { png: scatterPng(image.points) } : {}),
  };
}

/** Training examples offset .. offset + count - 1 as thumbnails and values. */
export async function datasetExamples(p: DatasetExamplesParams): Promise<DatasetExamplesResult> {
  const spec = p.data ?? readConfig(p.runDir!).dataSpec;
  const ds = await dataset(spec);
  const D = exampleSize(ds.shape);
  const offset = Math.min(p.offset ?? 0, Math.max(0, ds.size - 1));
  const count = Math.min(p.count ?? 16, ds.size - offset);
  const examples = [];
  for (let i = offset; i < offset + count; i++) {
    const values = ds.data.slice(i * D, (i + 1) * D);
    if (ds.kind === 'image') {
      const [H, W, C] = ds.shape as [number, number, number];
      const png = C === 1 || C === 3 ? encodePng(W, H, C, values).toString('base64') : undefined;
      examples.push({ index: i, ...(png ? { png } : {}), values: Buffer.from(values.buffer, values.byteOffset, values.byteLength).toString('base64') });
    } else {
      examples.push({ index: i, values: Array.from(values, round4) });
    }
  }
  return { data: spec, name: ds.name, kind: ds.kind, shape: ds.shape, size: ds.size, offset, examples };
}
