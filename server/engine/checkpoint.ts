/**
 * Checkpoints, in TF.js's own model format so a trained model also loads in a browser app:
 *
 *   checkpoints/step-000500/
 *     model.json, model.weights.bin    the EMA network (what sampling uses): tf.loadLayersModel('.../model.json')
 *     online.json, online.weights.bin  the raw (non-EMA) weights, as TF.js weight specs + data
 *     optimizer.json, optimizer.bin    Adam's state, likewise
 *     state.json                       step, schedule, training config, RNG state (format 'highscore-checkpoint')
 *   checkpoints/latest.json            { "name": "step-000500" }
 *
 * A checkpoint is written into a temporary folder and renamed into place, then latest.json is
 * replaced atomically: a crash mid-write leaves the previous checkpoint loadable. Loading checks
 * every file against the specs it declares.
 */
import * as tf from '@tensorflow/tfjs';
import * as fs from 'fs';
import * as path from 'path';
import type { NamedTensor } from '@tensorflow/tfjs-core/dist/tensor_types';
import { fsyncDir, readJson, writeFileAtomic, writeJsonAtomic } from './files';
import type { NoiseSchedule } from './schedule';
import type { NetworkConfig } from './network';

export const CHECKPOINT_FORMAT = 'highscore-checkpoint';
export const CHECKPOINT_VERSION = 1;

export class CheckpointError extends Error {
  constructor(message: string, readonly file?: string) {
    super(message);
    this.name = 'CheckpointError';
  }
}

/** Everything besides the weights that a checkpoint must carry to sample or resume. */
export interface CheckpointState {
  format: typeof CHECKPOINT_FORMAT;
  version: number;
  step: number;
  createdAt: string;
  dataSpec: string;
  dataShape: number[];
  network: NetworkConfig;
  schedule: NoiseSchedule;
  /** Training state for resuming: RNG stream position, EMA decay, recent losses (spike detection). */
  training: { rngState: number; emaDecay: number; recentLosses: number[]; learningRate: number };
  /** The loss at this step, for listings. */
  loss: number | null;
}

interface WeightsFile {
  specs: tf.io.WeightsManifestEntry[];
  file: string;
}

function joinWeights(data: tf.io.WeightData): ArrayBuffer {
  return Array.isArray(data) ? tf.io.CompositeArrayBuffer.join(data) : data;
}

const DTYPE_BYTES: Record<string, number> = { float32: 4, int32: 4, bool: 1 };

function expectedBytes(specs: tf.io.WeightsManifestEntry[], file: string): number {
  let total = 0;
  for (const s of specs) {
    const bytes = DTYPE_BYTES[s.dtype];
    if (!bytes || s.quantization) throw new CheckpointError(`${file} declares weight '${s.name}' with unsupported dtype ${s.dtype}.`, file);
    total += s.shape.reduce((a, b) => a * b, 1) * bytes;
  }
  return total;
}

function readWeights(dir: string, specsFile: string, binFile: string): { specs: tf.io.WeightsManifestEntry[]; data: ArrayBuffer } {
  const specPath = path.join(dir, specsFile);
  const binPath = path.join(dir, binFile);
  const specs = (readJsonChecked<WeightsFile>(specPath, 'weight specs')).specs;
  if (!Array.isArray(specs)) throw new CheckpointError(`${specPath} has no 'specs' list.`, specPath);
  return { specs, data: readBin(binPath, expectedBytes(specs, specPath)) };
}

function readBin(file: string, bytes: number): ArrayBuffer {
  let buf: Buffer;
  try {
    buf = fs.readFileSync(file);
  } catch {
    throw new CheckpointError(`Checkpoint file ${file} is missing.`, file);
  }
  if (buf.byteLength !== bytes) {
    throw new CheckpointError(`Checkpoint file ${file} has ${buf.byteLength} bytes but its specs need ${bytes}: it is truncated or from another model.`, file);
  }
  return buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength) as ArrayBuffer;
}

function readJsonChecked<T>(file: string, what: string): T {
  try {
    return readJson<T>(file, what);
  } catch (err) {
    throw new CheckpointError((err as Error).message, file);
  }
}

async function layersArtifacts(model: tf.LayersModel): Promise<tf.io.ModelArtifacts> {
  let artifacts: tf.io.ModelArtifacts | undefined;
  await model.save(tf.io.withSaveHandler(async (a) => {
    artifacts = a;
    return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
  }));
  return artifacts!;
}

function namedWeights(model: tf.LayersModel): NamedTensor[] {
  return model.weights.map((w) => ({ name: w.originalName, tensor: w.read() }));
}

export function checkpointName(step: number): string {
  return `step-${String(step).padStart(6, '0')}`;
}

export interface SaveInput {
  online: tf.LayersModel;
  ema: tf.LayersModel;
  optimizer: tf.Optimizer;
  state: CheckpointState;
}

/** Writes a checkpoint atomically and points latest.json at it; keeps the newest `keep` checkpoints. */
export async function saveCheckpoint(runDir: string, input: SaveInput, keep = 3): Promise<string> {
  const root = path.join(runDir, 'checkpoints');
  fs.mkdirSync(root, { recursive: true });
  const name = checkpointName(input.state.step);
  const tmp = path.join(root, `.tmp-${name}-${process.pid}`);
  fs.rmSync(tmp, { recursive: true, force: true });
  fs.mkdirSync(tmp);

  const art = await layersArtifacts(input.ema);
  writeFileAtomic(path.join(tmp, 'model.weights.bin'), new Uint8Array(joinWeights(art.weightData!)));
  writeJsonAtomic(path.join(tmp, 'model.json'), {
    format: 'layers-model',
    generatedBy: `TensorFlow.js tfjs-layers v${tf.version.tfjs}`,
    convertedBy: 'High Score',
    modelTopology: art.modelTopology,
    weightsManifest: [{ paths: ['model.weights.bin'], weights: art.weightSpecs }],
  });
  const online = await tf.io.encodeWeights(namedWeights(input.online));
  writeFileAtomic(path.join(tmp, 'online.weights.bin'), new Uint8Array(joinWeights(online.data)));
  writeJsonAtomic(path.join(tmp, 'online.json'), { specs: online.specs });
  const optWeights = await input.optimizer.getWeights();
  const opt = await tf.io.encodeWeights(optWeights);
  // getWeights() returns the optimizer's own variables plus a fresh 'iter' scalar: dispose that one.
  for (const w of optWeights) if (!(w.tensor instanceof tf.Variable)) w.tensor.dispose();
  writeFileAtomic(path.join(tmp, 'optimizer.bin'), new Uint8Array(joinWeights(opt.data)));
  writeJsonAtomic(path.join(tmp, 'optimizer.json'), { specs: opt.specs });
  writeJsonAtomic(path.join(tmp, 'state.json'), input.state);
  fsyncDir(tmp);

  const final = path.join(root, name);
  fs.rmSync(final, { recursive: true, force: true });
  fs.renameSync(tmp, final);
  fsyncDir(root);
  writeJsonAtomic(path.join(root, 'latest.json'), { name });

  const all = listCheckpoints(runDir);
  for (const old of all.slice(0, Math.max(0, all.length - keep))) fs.rmSync(path.join(root, old), { recursive: true, force: true });
  return final;
}

/** Checkpoint folder names, oldest first (temporary folders of interrupted writes excluded). */
export function listCheckpoints(runDir: string): string[] {
  const root = path.join(runDir, 'checkpoints');
  if (!fs.existsSync(root)) return [];
  const step = (n: string) => Number(n.slice('step-'.length));
  return fs.readdirSync(root).filter((n) => /^step-\d+$/.test(n)).sort((a, b) => step(a) - step(b));
}

export interface LoadedCheckpoint {
  dir: string;
  state: CheckpointState;
  /** The EMA network, built from model.json. The caller disposes it. */
  ema: tf.LayersModel;
  online: tf.NamedTensorMap;
  optimizer: NamedTensor[];
}

function validateState(state: CheckpointState, file: string): void {
  if (state?.format !== CHECKPOINT_FORMAT) throw new CheckpointError(`${file} is not a High Score checkpoint (format '${String(state?.format)}').`, file);
  if (state.version > CHECKPOINT_VERSION) throw new CheckpointError(`${file} was written by a newer High Score (version ${state.version}); update the extension.`, file);
  if (!Number.isInteger(state.step) || !state.schedule || !Array.isArray(state.schedule.sigmas) || !state.network || !Array.isArray(state.dataShape)) {
    throw new CheckpointError(`${file} is missing fields (step, schedule, network, dataShape).`, file);
  }
}

/** Loads and validates one checkpoint folder. */
export async function loadCheckpointDir(dir: string): Promise<LoadedCheckpoint> {
  const statePath = path.join(dir, 'state.json');
  const state = readJsonChecked<CheckpointState>(statePath, 'checkpoint state');
  validateState(state, statePath);
  const modelPath = path.join(dir, 'model.json');
  const modelJson = readJsonChecked<{ modelTopology?: object; weightsManifest?: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[] }>(modelPath, 'model');
  const manifest = modelJson.weightsManifest?.[0];
  if (!modelJson.modelTopology || !manifest) throw new CheckpointError(`${modelPath} is not a TF.js layers model (no modelTopology or weightsManifest).`, modelPath);
  const weightData = readBin(path.join(dir, manifest.paths[0] ?? 'model.weights.bin'), expectedBytes(manifest.weights, modelPath));
  // Read and check every file before building anything, so a damaged checkpoint leaks no tensors.
  const onlineRaw = readWeights(dir, 'online.json', 'online.weights.bin');
  const optRaw = readWeights(dir, 'optimizer.json', 'optimizer.bin');
  let ema: tf.LayersModel;
  try {
    ema = await tf.loadLayersModel(tf.io.fromMemory({ modelTopology: modelJson.modelTopology, weightSpecs: manifest.weights, weightData }));
  } catch (err) {
    throw new CheckpointError(`${modelPath} could not be loaded as a TF.js model: ${(err as Error).message}`, modelPath);
  }
  const online = tf.io.decodeWeights(onlineRaw.data, onlineRaw.specs);
  const optMap = tf.io.decodeWeights(optRaw.data, optRaw.specs);
  const optimizer = optRaw.specs.map((s) => ({ name: s.name, tensor: optMap[s.name]! }));
  return { dir, state, ema, online, optimizer };
}

/**
 * Loads the newest loadable checkpoint of a run: the one latest.json names, else (if that one is
 * damaged) the newest older one that validates. Throws a CheckpointError naming the run if none does.
 */
export async function loadLatestCheckpoint(runDir: string): Promise<LoadedCheckpoint> {
  const root = path.join(runDir, 'checkpoints');
  if (!fs.existsSync(runDir)) throw new CheckpointError(`Run folder ${runDir} does not exist. Check the path, or list runs with \`highscore info\`.`, runDir);
  const names = listCheckpoints(runDir).reverse();
  let preferred: string | undefined;
  try {
    preferred = readJson<{ name: string }>(path.join(root, 'latest.json'), 'latest').name;
  } catch { /* fall back to the folder listing */ }
  const order = preferred && names.includes(preferred) ? [preferred, ...names.filter((n) => n !== preferred)] : names;
  if (!order.length) throw new CheckpointError(`Run ${runDir} has no checkpoint yet. Train it first (highscore train --out ${runDir}).`, runDir);
  const problems: string[] = [];
  for (const name of order) {
    try {
      return await loadCheckpointDir(path.join(root, name));
    } catch (err) {
      problems.push((err as Error).message);
    }
  }
  throw new CheckpointError(`No checkpoint of ${runDir} could be loaded:\n  ${problems.join('\n  ')}`, runDir);
}
