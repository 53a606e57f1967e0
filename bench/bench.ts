/**
 * `npm run bench`: the speed of High Score's networks on TF.js wasm, on 1 thread and data parallel on
 * min(2, cores) threads (server/engine/parallel), side by side with the same networks in PyTorch on the
 * CPU (2 threads; bench/torch_ref.py) where PyTorch is installed, measured in the same run.
 *
 * For each model (the reference U-Net of RECIPES.md, the default MNIST preset, the 2D toy MLP):
 *  - DSM training steps/s: per-example sigma from the ladder, Adam, global-norm gradient clipping (as
 *    the engine's training does, without its EMA and guards), warm-up steps excluded;
 *  - sampling evaluations/s: one Langevin step x + alpha * net(x)/sigma + sqrt(2 alpha) z;
 *  - peak RSS;
 *  - for the default image preset, one full MNIST sampling run (64 samples, the engine's schedule:
 *    L x T + 1 evaluations) with the engine's sampler, and the same loop in PyTorch.
 * Then the product figures (bench/extras.ts): peak RSS of the engine's train() on MNIST with the
 * default preset, the backend's ready time and its request latency while a training job runs, and the
 * extension module's load time.
 * Each model, thread count and side runs in its own child process (this script with `--child`, or the
 * Python script), one after the other, so peak RSS is per run and the sides never compete for the cores.
 *
 * Flags: --quick (smoke test, about two minutes), --only NAME[,NAME] (reference, small, mlp),
 * --json (a JSON document on stdout instead of the table), --no-torch, --torch-threads N (default 2),
 * --threads N (tfjs threads besides 1), --no-extras.
 * HS_BENCH_PYTHON: the Python with torch (default /usr/bin/python3, else python3).
 */
import * as tf from '@tensorflow/tfjs';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { selectBackend } from '../server/engine/backend';
import { dsmLoss } from '../server/engine/loss';
import { DEFAULT_IMAGE_PRESET, DEFAULT_POINTS_PRESET, buildNetwork, getPreset, takesSigma, type NetworkConfig } from '../server/engine/network';
import { Rng } from '../server/engine/random';
import { makeSchedule, stepSize } from '../server/engine/schedule';
import { ScoreModel } from '../server/engine/score';
import { ParallelPool, ParallelScore, defaultWorkers, sumSquares, totalSize } from '../server/engine/parallel';
import { annealedLangevin } from '../server/engine/sampler';
import { extraMain, type ExtraResults, measureExtras } from './extras';

// ---------------------------------------------------------------------------------------------
// What is measured

/** One measured configuration; the same JSON goes to the tfjs child and to torch_ref.py. */
interface MeasureConfig {
  name: string;
  network: NetworkConfig;
  /** One example's shape: [H, W, C] for images, [d] for points. */
  shape: number[];
  batch: number;
  /** The noise ladder; each training example draws one level uniformly. */
  sigmas: number[];
  learningRate: number;
  /** Global gradient-norm clip. */
  clip: number;
  threads: number;
  /** tfjs only: the backend (default wasm; webgpu with --webgpu, always 1 thread). */
  backend?: 'wasm' | 'webgpu';
  warmup: number;
  repeats: number;
  /** Each repeat runs about this long (its step count is set from the last warm-up step's time). */
  trainSeconds: number;
  sampleSeconds: number;
  minSteps: number;
  maxSteps: number;
  /** The level of the measured Langevin step. */
  sampleSigma: number;
  sampleAlpha: number;
  seed: number;
  /** Random training examples to draw batches from (no dataset is loaded). */
  pool: number;
  /** Also time one full sampling run: n samples, L = sigmas.length levels x T steps + denoising. */
  fullSampling?: { n: number; sigmas: number[]; stepsPerLevel: number; alphas: number[] };
}

interface Stats {
  min: number;
  median: number;
  max: number;
  runs: number[];
}

/** What a child (either side) prints as its last JSON line. */
interface SideResult {
  side: 'tfjs' | 'torch';
  name: string;
  params: number;
  threads: number;
  /** Steps (evaluations) actually run in each repeat. */
  trainStepsPerRepeat: number[];
  evalsPerRepeat: number[];
  train: Stats;
  sample: Stats;
  peakRssMB: number;
  finalLoss: number;
  // tfjs only
  backend?: string;
  /** selectBackend's one line (for webgpu: the adapter). */
  backendReason?: string;
  simd?: boolean;
  tfjsVersion?: string;
  wasmVersion?: string;
  leakedTensors?: number;
  helperTensors?: number[];
  fullSampling?: { seconds: number; evaluations: number };
  // torch only
  torchVersion?: string;
  python?: string;
}

interface Case {
  name: string;
  preset: string;
  isDefault: boolean;
  config: MeasureConfig;
}

interface Settings {
  quick: boolean;
  warmupImage: number;
  warmupPoints: number;
  repeats: number;
  trainSeconds: number;
  sampleSeconds: number;
  minSteps: number;
  childTimeoutMs: number;
}

const MNIST_SHAPE = [28, 28, 1];
const MNIST_D = 784;
const MNIST_SIGMA_MAX = 16;
const LEARNING_RATE = 1e-4;
const GRAD_CLIP = 1.0;
const DEFAULT_TORCH_THREADS = 2;

function settingsFor(quick: boolean): Settings {
  return quick
    ? { quick, warmupImage: 1, warmupPoints: 2, repeats: 1, trainSeconds: 1, sampleSeconds: 0.5, minSteps: 2, childTimeoutMs: 180_000 }
    : { quick, warmupImage: 2, warmupPoints: 5, repeats: 3, trainSeconds: 6, sampleSeconds: 3, minSteps: 3, childTimeoutMs: 600_000 };
}

/** The MNIST schedule the engine would use with sigma_1 = 16 (techniques 2 and 4; T = 5). */
function mnistSchedule() {
  return makeSchedule(MNIST_D, { sigmaMax: MNIST_SIGMA_MAX });
}

function makeCases(s: Settings): Case[] {
  const img = mnistSchedule();
  const mid = Math.floor(img.sigmas.length / 2);
  const pts = makeSchedule(2, { sigmaMax: 4, stepsPerLevel: 100 });
  const pmid = Math.floor(pts.sigmas.length / 2);
  const common = {
    learningRate: LEARNING_RATE, clip: GRAD_CLIP, repeats: s.repeats, trainSeconds: s.trainSeconds,
    sampleSeconds: s.sampleSeconds, minSteps: s.minSteps, maxSteps: 5000, seed: 0,
  };
  const image = (name: string, isDefault: boolean): Case => ({
    name, preset: name, isDefault,
    config: {
      ...common, name, network: getPreset(name).network, shape: MNIST_SHAPE, batch: 64, sigmas: img.sigmas,
      threads: 0, warmup: s.warmupImage, sampleSigma: img.sigmas[mid]!, sampleAlpha: stepSize(img, mid), pool: 256,
    },
  });
  const names = ['reference', DEFAULT_IMAGE_PRESET].filter((n, i, a) => a.indexOf(n) === i);
  return [
    ...names.map((n) => image(n, n === DEFAULT_IMAGE_PRESET)),
    {
      name: DEFAULT_POINTS_PRESET, preset: DEFAULT_POINTS_PRESET, isDefault: true,
      config: {
        ...common, name: DEFAULT_POINTS_PRESET, network: getPreset(DEFAULT_POINTS_PRESET).network, shape: [2], batch: 512,
        sigmas: pts.sigmas, threads: 0, warmup: s.warmupPoints, sampleSigma: pts.sigmas[pmid]!, sampleAlpha: stepSize(pts, pmid), pool: 4096,
      },
    },
  ];
}

// ---------------------------------------------------------------------------------------------
// The tfjs side (runs in a child process: `bench.js --child '<json>'`)

function stats(runs: number[]): Stats {
  const s = [...runs].sort((a, b) => a - b);
  return { min: s[0]!, median: s[Math.floor(s.length / 2)]!, max: s[s.length - 1]!, runs };
}

/** A repeat stops early past 2x its target time (the warm-up estimate can be far off on a busy machine). */
function overTime(t0: number, done: number, targetS: number, minSteps: number): boolean {
  return done >= minSteps && performance.now() - t0 > 2000 * targetS;
}

function repeatCount(estimateS: number, targetS: number, lo: number, hi: number): number {
  if (!(estimateS > 0)) return hi;
  return Math.max(lo, Math.min(hi, Math.round(targetS / estimateS)));
}

async function measureTfjs(cfg: MeasureConfig): Promise<SideResult> {
  // require, not import(): the same module instance that backend.ts loads (and that registers with this tfjs).
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const wasm = require('@tensorflow/tfjs-backend-wasm') as typeof import('@tensorflow/tfjs-backend-wasm');
  // tfjs's own wasm threads stay off (RECIPES.md); cfg.threads is the data-parallel thread count (parallel/pool.ts).
  wasm.setThreadsCount(1);
  const backend = await selectBackend(cfg.backend ?? 'wasm');
  const simd = Boolean(await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT'));
  const baseTensors = tf.memory().numTensors;

  const net = buildNetwork(cfg.shape, cfg.network);
  const model = new ScoreModel(net, takesSigma(cfg.network));
  const vars = net.trainableWeights.map((w) => w.read() as tf.Variable);
  const optimizer: tf.Optimizer = tf.train.adam(cfg.learningRate);
  const sigmas = tf.tensor1d(cfg.sigmas);
  const L = cfg.sigmas.length;
  const rng = new Rng(cfg.seed);
  const D = cfg.shape.reduce((a, b) => a * b, 1);
  const B = cfg.batch;
  const pool_ = new Float32Array(cfg.pool * D);
  for (let i = 0; i < pool_.length; i++) pool_[i] = rng.next();
  const batchData = new Float32Array(B * D);
  const levelIdx = new Int32Array(B);
  const pool = cfg.threads > 1
    ? await ParallelPool.start({ threads: cfg.threads, shape: cfg.shape, network: cfg.network, backend: 'wasm', capacity: B }, totalSize(vars))
    : undefined;
  const flat = new Float32Array(totalSize(vars));
  const zData = new Float32Array(B * D);
  const sigData = new Float32Array(B);

  // The data-parallel step as train.ts does it: the draws here, each thread a share's gradient, the
  // norm and clipping on the flat vector, one Adam step here.
  const parallelStep = async (): Promise<number> => {
    for (let b = 0; b < B; b++) {
      const i = rng.int(cfg.pool);
      batchData.set(pool_.subarray(i * D, (i + 1) * D), b * D);
      levelIdx[b] = rng.int(L);
      sigData[b] = cfg.sigmas[levelIdx[b]!]!;
    }
    const z = tf.randomNormal([B, ...cfg.shape], 0, 1, 'float32', rng.seed());
    zData.set((await z.data()) as Float32Array);
    z.dispose();
    await pool!.writeParams(vars);
    const perEx = await pool!.gradients(model, vars, batchData, zData, sigData, flat);
    const norm = Math.sqrt(sumSquares(flat));
    const scale = Math.min(1, cfg.clip / (norm + 1e-12));
    const grads: tf.NamedTensorMap = {};
    let off = 0;
    for (const v of vars) {
      const g = flat.subarray(off, off + v.size);
      if (scale < 1) for (let i = 0; i < g.length; i++) g[i] = g[i]! * scale;
      grads[v.name] = tf.tensor(g, v.shape);
      off += v.size;
    }
    optimizer.applyGradients(grads);
    tf.dispose(Object.values(grads));
    let sum = 0;
    for (let b = 0; b < B; b++) sum += perEx[b]!;
    return sum / B;
  };

  // One training step as in train.ts: batch and levels from the seeded stream, DSM loss, gradients of
  // the trainable weights, global-norm clipping, Adam; the loss and norm are read back every step.
  const singleStep = async (): Promise<number> => {
    for (let b = 0; b < B; b++) {
      const i = rng.int(cfg.pool);
      batchData.set(pool_.subarray(i * D, (i + 1) * D), b * D);
      levelIdx[b] = rng.int(L);
    }
    const noiseSeed = rng.seed();
    const { loss, norm, grads } = tf.tidy(() => {
      const x = tf.tensor(batchData, [B, ...cfg.shape]);
      const sig = tf.gather(sigmas, tf.tensor1d(levelIdx, 'int32')) as tf.Tensor1D;
      const z = tf.randomNormal(x.shape, 0, 1, 'float32', noiseSeed);
      const { value, grads } = tf.variableGrads(() => dsmLoss(model, x, sig, z).mean() as tf.Scalar, vars);
      const norm = tf.sqrt(tf.addN(vars.map((v) => grads[v.name]!.square().sum())));
      const scale = tf.minimum(1, tf.div(cfg.clip, norm.add(1e-12)));
      const clipped: tf.NamedTensorMap = {};
      for (const v of vars) clipped[v.name] = grads[v.name]!.mul(scale);
      return { loss: value, norm, grads: clipped };
    });
    const lossValue = (await loss.data())[0]!;
    await norm.data();
    tf.dispose([loss, norm]);
    optimizer.applyGradients(grads);
    tf.dispose(Object.values(grads));
    return lossValue;
  };
  const trainStep = pool ? parallelStep : singleStep;

  let estimate = 0;
  let lossValue = NaN;
  for (let w = 0; w < cfg.warmup; w++) {
    const t0 = performance.now();
    lossValue = await trainStep();
    estimate = (performance.now() - t0) / 1000;
  }
  if (!Number.isFinite(lossValue)) throw new Error(`The loss is not finite during warm-up (${lossValue}).`);
  const nTrain = repeatCount(estimate, cfg.trainSeconds, cfg.minSteps, cfg.maxSteps);
  const trainRates: number[] = [];
  const trainCounts: number[] = [];
  for (let r = 0; r < cfg.repeats; r++) {
    const t0 = performance.now();
    let n = 0;
    while (n < nTrain) {
      lossValue = await trainStep();
      n++;
      if (overTime(t0, n, cfg.trainSeconds, cfg.minSteps)) break;
    }
    trainRates.push(n / ((performance.now() - t0) / 1000));
    trainCounts.push(n);
  }

  // One Langevin step as in sampler.ts: x + alpha s(x, sigma) + sqrt(2 alpha) z, s = net(x)/sigma.
  const full = [B, ...cfg.shape];
  const sigma = cfg.sampleSigma;
  const alpha = cfg.sampleAlpha;
  const scorer = pool ? new ParallelScore(model, pool) : undefined;
  const step = async (x: tf.Tensor): Promise<tf.Tensor> => {
    const s = scorer ? await scorer.scoreAsync(x, sigma) : undefined;
    const next = tf.tidy(() => x.add((s ?? model.score(x, sigma)).mul(alpha)).add(tf.randomNormal(full, 0, Math.sqrt(2 * alpha), 'float32', rng.seed())));
    s?.dispose();
    x.dispose();
    return next;
  };
  let x: tf.Tensor = tf.randomNormal(full, 0, sigma, 'float32', rng.seed());
  for (let w = 0; w < cfg.warmup; w++) {
    const t0 = performance.now();
    x = await step(x);
    await x.data();
    estimate = (performance.now() - t0) / 1000;
  }
  x.dispose();
  const nEval = repeatCount(estimate, cfg.sampleSeconds, cfg.minSteps, cfg.maxSteps);
  const evalRates: number[] = [];
  const evalCounts: number[] = [];
  for (let r = 0; r < cfg.repeats; r++) {
    x = tf.randomNormal(full, 0, sigma, 'float32', rng.seed());
    const t0 = performance.now();
    let n = 0;
    while (n < nEval) {
      x = await step(x);
      n++;
      if (overTime(t0, n, cfg.sampleSeconds, cfg.minSteps)) break;
    }
    await x.data();
    evalRates.push(n / ((performance.now() - t0) / 1000));
    evalCounts.push(n);
    x.dispose();
  }

  // A full sampling run with the engine's sampler (sampler.ts), as `highscore sample` runs it.
  let fullSampling: { seconds: number; evaluations: number } | undefined;
  if (cfg.fullSampling) {
    const fs_ = cfg.fullSampling;
    const sched = makeSchedule(D, { sigmas: fs_.sigmas, stepsPerLevel: fs_.stepsPerLevel });
    const t0 = performance.now();
    await annealedLangevin(scorer ?? model, sched, cfg.shape, { n: fs_.n, seed: 1 });
    fullSampling = { seconds: (performance.now() - t0) / 1000, evaluations: fs_.sigmas.length * fs_.stepsPerLevel + 1 };
  }

  const params = net.countParams();
  await pool?.close();
  optimizer.dispose();
  sigmas.dispose();
  net.dispose();
  return {
    side: 'tfjs', name: cfg.name, params, threads: cfg.threads, trainStepsPerRepeat: trainCounts, evalsPerRepeat: evalCounts,
    train: stats(trainRates), sample: stats(evalRates),
    // maxRSS is in KB.
    peakRssMB: process.resourceUsage().maxRSS / 1024,
    finalLoss: lossValue, backend: backend.name, backendReason: backend.reason, simd, tfjsVersion: tf.version.tfjs, wasmVersion: wasm.version_wasm,
    leakedTensors: tf.memory().numTensors - baseTensors,
    ...(pool ? { helperTensors: [...pool.helperTensors] } : {}),
    ...(fullSampling ? { fullSampling } : {}),
  };
}

async function childMain(json: string): Promise<void> {
  const cfg = JSON.parse(json) as MeasureConfig;
  const result = await measureTfjs(cfg);
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

// ---------------------------------------------------------------------------------------------
// The parent: runs the children one after the other and prints the comparison

interface Args {
  quick: boolean;
  json: boolean;
  torch: boolean;
  only: string[] | undefined;
  child: string | undefined;
  torchThreads: number;
  /** tfjs data-parallel threads besides 1. */
  threads: number;
  extras: boolean;
  extra: [string, string] | undefined;
  /** Also measure tfjs on WebGPU (Dawn), where the webgpu packages and an adapter are present. */
  webgpu: boolean;
  help: boolean;
}

const USAGE = `Usage: npm run bench -- [--quick] [--only NAME[,NAME]] [--json] [--no-torch] [--torch-threads N] [--threads N] [--webgpu] [--no-extras]
  --quick      a smoke test: few steps, 1 repeat (about a minute)
  --only NAME  measure only these models (reference, ${DEFAULT_IMAGE_PRESET}, ${DEFAULT_POINTS_PRESET}); repeatable or comma-separated
  --json       print one JSON document on stdout instead of the table
  --no-torch   skip the PyTorch anchor
  --torch-threads N
               PyTorch's thread count (default ${DEFAULT_TORCH_THREADS})
  --threads N  tfjs data-parallel threads measured besides 1 (default ${defaultWorkers('image')}: min(2, cores) or HIGHSCORE_WORKERS)
  --webgpu     also measure tfjs on WebGPU through Dawn (1 thread; needs the webgpu packages and a GPU adapter)
  --no-extras  skip the product figures (training RSS, backend ready time and latency, extension load)
The PyTorch side runs bench/torch_ref.py with /usr/bin/python3 (else python3), or only HS_BENCH_PYTHON when set.`;

class UsageError extends Error {}

function parseArgs(argv: string[]): Args {
  const a: Args = {
    quick: false, json: false, torch: true, only: undefined, child: undefined, torchThreads: DEFAULT_TORCH_THREADS,
    threads: defaultWorkers('image'), extras: true, extra: undefined, webgpu: false, help: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new UsageError(`${arg} needs a value.`);
      return v;
    };
    if (arg === '--quick') a.quick = true;
    else if (arg === '--json') a.json = true;
    else if (arg === '--no-torch') a.torch = false;
    else if (arg === '--only') a.only = [...(a.only ?? []), ...value().split(',').filter(Boolean)];
    else if (arg.startsWith('--only=')) a.only = [...(a.only ?? []), ...arg.slice(7).split(',').filter(Boolean)];
    else if (arg === '--child') a.child = value();
    else if (arg === '--extra') a.extra = [value(), value()];
    else if (arg === '--no-extras') a.extras = false;
    else if (arg === '--webgpu') a.webgpu = true;
    else if (arg === '--threads') {
      const v = value();
      a.threads = Number(v);
      if (!(Number.isInteger(a.threads) && a.threads >= 1)) throw new UsageError(`--threads needs a positive integer (got '${v}').`);
    }
    else if (arg === '--torch-threads') {
      const v = value();
      a.torchThreads = Number(v);
      if (!(Number.isInteger(a.torchThreads) && a.torchThreads >= 1)) throw new UsageError(`--torch-threads needs a positive integer (got '${v}').`);
    }
    else if (arg === '--help' || arg === '-h') a.help = true;
    else throw new UsageError(`Unknown argument '${arg}'.`);
  }
  return a;
}

function log(msg: string): void {
  process.stderr.write(`${msg}\n`);
}

function findRoot(): string {
  let dir = __dirname;
  for (;;) {
    if (fs.existsSync(path.join(dir, 'bench', 'torch_ref.py'))) return dir;
    const up = path.dirname(dir);
    if (up === dir) return process.cwd();
    dir = up;
  }
}

interface TorchInfo {
  python: string;
  version: string;
}

function findTorch(): TorchInfo | undefined {
  // Debian's python3-torch lives under /usr/bin/python3; a pyenv or venv python3 earlier on PATH may lack it.
  const candidates = process.env.HS_BENCH_PYTHON ? [process.env.HS_BENCH_PYTHON] : ['/usr/bin/python3', 'python3'];
  for (const python of candidates) {
    const r = spawnSync(python, ['-c', 'import torch; print(torch.__version__)'], { encoding: 'utf8', timeout: 120_000 });
    if (r.status === 0) return { python, version: r.stdout.trim() };
  }
  return undefined;
}

function lastJsonLine(stdout: string): SideResult | undefined {
  const lines = stdout.split('\n').map((l) => l.trim()).filter((l) => l.startsWith('{'));
  const last = lines[lines.length - 1];
  if (last === undefined) return undefined;
  try {
    return JSON.parse(last) as SideResult;
  } catch {
    return undefined;
  }
}

class BenchError extends Error {}

function runChild(what: string, cmd: string, argv: string[], timeoutMs: number, cwd: string): SideResult {
  const t0 = Date.now();
  const r = spawnSync(cmd, argv, { cwd, encoding: 'utf8', timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024, stdio: ['ignore', 'pipe', 'pipe'] });
  const result = r.status === 0 ? lastJsonLine(r.stdout) : undefined;
  if (!result) {
    const why = r.error ? r.error.message : r.signal ? `killed by ${r.signal}${r.signal === 'SIGTERM' ? ` (over the ${timeoutMs / 1000} s limit?)` : ''}` : `exit ${r.status}`;
    throw new BenchError(`${what} failed (${why}).\n--- stdout ---\n${r.stdout ?? ''}\n--- stderr ---\n${r.stderr ?? ''}`);
  }
  log(`  ${what}: done in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  return result;
}

interface ModelReport {
  name: string;
  preset: string;
  isDefault: boolean;
  batch: number;
  config: MeasureConfig;
  tfjs: SideResult;
  torch: SideResult | null;
  /** tfjs median / torch median (peak RSS: tfjs / torch). */
  ratios: { train: number; sample: number; peakRss: number } | null;
  /** Every tfjs thread count measured (tfjs is the last: the most threads). */
  tfjsByThreads: SideResult[];
  /** A full MNIST sampling run of 64 samples with the engine's schedule: L*T + 1 evaluations (measured for the default preset). */
  mnistSampling: { levels: number; stepsPerLevel: number; evaluations: number; tfjsSeconds: number; torchSeconds: number | null; measured: boolean } | null;
}

function cpuModel(): string {
  try {
    const m = /^model name\s*:\s*(.*)$/m.exec(fs.readFileSync('/proc/cpuinfo', 'utf8'));
    if (m) return m[1]!.trim();
  } catch {
    // not Linux
  }
  return os.cpus()[0]?.model ?? 'unknown CPU';
}

function fmt(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  if (a >= 1000) return Math.round(v).toLocaleString('en-US');
  if (a >= 100) return v.toFixed(0);
  if (a >= 10) return v.toFixed(1);
  if (a >= 1) return v.toFixed(2);
  return v.toPrecision(2);
}

function fmtStats(s: Stats): string {
  return `${fmt(s.min)} / ${fmt(s.median)} / ${fmt(s.max)}`;
}

function counts(c: number[] | undefined): string {
  return c ? c.join(',') : '-';
}

function fmtDuration(seconds: number): string {
  if (seconds < 90) return `${seconds.toFixed(0)} s`;
  if (seconds < 5400) return `${(seconds / 60).toFixed(1)} min`;
  return `${(seconds / 3600).toFixed(1)} h`;
}

/** Aligned columns; a row with a single cell is a section heading that spans the table. */
function table(rows: string[][]): string {
  const body = rows.filter((r) => r.length > 1);
  const widths = body[0]!.map((_, c) => Math.max(...body.map((r) => (r[c] ?? '').length)));
  return rows.map((r) => (r.length === 1 ? r[0]! : r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('   ').trimEnd())).join('\n');
}

async function main(): Promise<number> {
  let args: Args;
  try {
    args = parseArgs(process.argv.slice(2));
  } catch (err) {
    if (err instanceof UsageError) {
      log(`${err.message}\n${USAGE}`);
      return 2;
    }
    throw err;
  }
  if (args.help) {
    log(USAGE);
    return 0;
  }
  if (args.child !== undefined) {
    await childMain(args.child);
    return 0;
  }
  if (args.extra) {
    await extraMain(args.extra[0], args.extra[1]);
    return 0;
  }

  const settings = settingsFor(args.quick);
  let cases = makeCases(settings);
  if (args.only) {
    const known = cases.map((c) => c.name);
    const bad = args.only.filter((n) => !known.includes(n));
    if (bad.length) {
      log(`Unknown model '${bad.join(', ')}' for --only. Choose from: ${known.join(', ')}.`);
      return 2;
    }
    cases = cases.filter((c) => args.only!.includes(c.name));
  }
  const root = findRoot();
  const script = path.join(root, 'bench', 'torch_ref.py');
  const torch = args.torch ? findTorch() : undefined;
  const torchLine = !args.torch
    ? 'PyTorch anchor: skipped (--no-torch)'
    : torch
      ? `PyTorch anchor: ${torch.version} via ${torch.python}, ${args.torchThreads} thread${args.torchThreads === 1 ? '' : 's'}`
      : 'PyTorch anchor: not installed (sudo apt-get install python3-torch)';
  if (torch && !fs.existsSync(script)) throw new BenchError(`PyTorch is installed but ${script} is missing.`);
  const load = os.loadavg()[0]!;
  log(`bench${settings.quick ? ' --quick' : ''}: ${cases.map((c) => c.name).join(', ')}; ${torchLine}`);
  if (load > 0.5) log(`  note: load average ${load.toFixed(2)} at start; other work on this machine lowers the figures`);
  if (args.torchThreads !== DEFAULT_TORCH_THREADS) log(`  note: PyTorch on ${args.torchThreads} thread(s) instead of ${DEFAULT_TORCH_THREADS}`);

  const sched = mnistSchedule();
  const evaluations = sched.sigmas.length * sched.stepsPerLevel + 1;
  const threadCounts = [...new Set([1, args.threads])];
  const reports: ModelReport[] = [];
  const start = Date.now();
  for (const c of cases) {
    const isImage = c.config.shape.length === 3;
    // The full sampling run: the default image preset, 64 samples, the engine's MNIST schedule.
    const full = isImage && c.isDefault && !settings.quick
      ? { n: 64, sigmas: sched.sigmas, stepsPerLevel: sched.stepsPerLevel, alphas: sched.sigmas.map((_, i) => stepSize(sched, i)) }
      : undefined;
    const tfjs: SideResult[] = [];
    for (const t of threadCounts) {
      const top = t === threadCounts[threadCounts.length - 1];
      const tfjsCfg: MeasureConfig = { ...c.config, threads: t, ...(full && top ? { fullSampling: full } : {}) };
      tfjs.push(runChild(`${c.name} on tfjs wasm, ${t} thread${t === 1 ? '' : 's'}`, process.execPath, [__filename, '--child', JSON.stringify(tfjsCfg)], settings.childTimeoutMs, root));
    }
    // The ratios stay wasm's (the default); WebGPU gets its own rows.
    const best = tfjs[tfjs.length - 1]!;
    if (args.webgpu) {
      const gpuCfg: MeasureConfig = { ...c.config, threads: 1, backend: 'webgpu' };
      tfjs.push(runChild(`${c.name} on tfjs webgpu`, process.execPath, [__filename, '--child', JSON.stringify(gpuCfg)], settings.childTimeoutMs, root));
    }
    let torchRes: SideResult | null = null;
    if (torch) {
      const torchCfg: MeasureConfig = { ...c.config, threads: args.torchThreads, ...(full ? { fullSampling: full } : {}) };
      torchRes = runChild(`${c.name} on PyTorch`, torch.python, [script, JSON.stringify(torchCfg)], settings.childTimeoutMs, root);
      if (torchRes.params !== tfjs[0]!.params) {
        throw new BenchError(
          `PARAMETER COUNT MISMATCH for '${c.name}': tfjs ${tfjs[0]!.params.toLocaleString('en-US')}, torch ${torchRes.params.toLocaleString('en-US')}. ` +
          'bench/torch_ref.py no longer builds the network that server/engine/network.ts builds; the comparison would be meaningless.');
      }
    }
    reports.push({
      name: c.name, preset: c.preset, isDefault: c.isDefault, batch: c.config.batch, config: c.config, tfjs: best, tfjsByThreads: tfjs, torch: torchRes,
      ratios: torchRes ? {
        train: best.train.median / torchRes.train.median,
        sample: best.sample.median / torchRes.sample.median,
        peakRss: best.peakRssMB / torchRes.peakRssMB,
      } : null,
      mnistSampling: isImage ? {
        levels: sched.sigmas.length, stepsPerLevel: sched.stepsPerLevel, evaluations,
        tfjsSeconds: best.fullSampling?.seconds ?? evaluations / best.sample.median,
        torchSeconds: torchRes ? torchRes.fullSampling?.seconds ?? evaluations / torchRes.sample.median : null,
        measured: Boolean(best.fullSampling),
      } : null,
    });
  }
  const extras: ExtraResults | null = args.extras ? await measureExtras(__filename, root, settings.quick, log) : null;
  const elapsed = (Date.now() - start) / 1000;
  log(`bench: finished in ${elapsed.toFixed(0)} s`);

  const first = reports[0]?.tfjs;
  const machine = {
    cpu: cpuModel(), cores: os.cpus().length, node: process.version,
    tfjs: tf.version.tfjs, wasm: first?.wasmVersion ?? null, simd: first?.simd ?? null,
    torch: torch?.version ?? null, python: reports.find((r) => r.torch)?.torch?.python ?? null,
    loadAverageAtStart: load, loadAverageAtEnd: os.loadavg()[0]!, ompWaitPolicy: process.env.OMP_WAIT_POLICY ?? null,
  };
  const warnings: string[] = [];
  if (load > 0.5) {
    warnings.push(`The load average was ${load.toFixed(2)} when the bench started: other processes share the ${machine.cores} cores, so the figures ` +
      `are lower than on an idle machine${torch && args.torchThreads > 1 ? `, PyTorch's most of all (its ${args.torchThreads} OpenMP threads wait for ` +
        'each other whenever one is descheduled; on a busy 2-core machine this made it up to 70x slower than with 1 thread). For an anchor that ' +
        'tolerates a busy machine, rerun with --torch-threads 1 or OMP_WAIT_POLICY=PASSIVE' : ''}.`);
  }
  const leaks = reports.flatMap((r) => r.tfjsByThreads.filter((t) => (t.leakedTensors ?? 0) > 0).map((t) => `${r.name}/${t.threads} (${t.leakedTensors})`));
  if (leaks.length) warnings.push(`Tensors left over in ${leaks.join(', ')}.`);

  if (args.json) {
    const doc = {
      machine,
      settings: {
        quick: settings.quick, repeats: settings.repeats, tfjsThreads: threadCounts, torchThreads: args.torchThreads,
        learningRate: LEARNING_RATE, gradClip: GRAD_CLIP, trainSecondsPerRepeat: settings.trainSeconds, sampleSecondsPerRepeat: settings.sampleSeconds,
      },
      torchAnchor: torchLine,
      elapsedSeconds: elapsed,
      warnings,
      models: reports,
      extras,
    };
    process.stdout.write(`${JSON.stringify(doc, null, 2)}\n`);
    return 0;
  }

  const out: string[] = [];
  out.push(`High Score bench${settings.quick ? ' (--quick: 1 short repeat, for smoke testing only)' : ''}: ` +
    `tfjs wasm on ${threadCounts.join(' and ')} thread(s) (data parallel, one single-threaded wasm backend per thread) vs PyTorch CPU ${args.torchThreads} thread${args.torchThreads === 1 ? '' : 's'}; ` +
    `${settings.repeats} repeat(s) after warm-up; DSM loss, Adam lr ${LEARNING_RATE}, grad clip ${GRAD_CLIP}`);
  out.push(`machine: ${machine.cpu}, ${machine.cores} cores, Node ${machine.node}, tfjs ${machine.tfjs} (wasm ${machine.wasm ?? '?'}, ` +
    `SIMD ${machine.simd ? 'on' : 'off'}), ${torch ? `PyTorch ${torch.version} (Python ${machine.python ?? '?'})` : 'no PyTorch'}, ` +
    `load average ${load.toFixed(2)} at start, ${machine.loadAverageAtEnd.toFixed(2)} at end`);
  if (!torch) out.push(torchLine);
  const gpu = reports.flatMap((r) => r.tfjsByThreads).find((t) => t.backend === 'webgpu');
  if (gpu) out.push(`webgpu: ${gpu.backendReason ?? '?'}`);
  out.push('');
  const rows: string[][] = [['figure', 'tfjs min / median / max', 'torch min / median / max', 'tfjs/torch']];
  const th = (t: number) => `${t} thread${t === 1 ? '' : 's'}`;
  const side = (t: SideResult) => (t.backend === 'webgpu' ? 'tfjs webgpu' : `tfjs ${th(t.threads)}`);
  for (const r of reports) {
    const params = `${r.tfjs.params.toLocaleString('en-US')} params tfjs${r.torch ? `, ${r.torch.params.toLocaleString('en-US')} torch` : ''}`;
    const what = r.config.shape.length === 3 ? `U-Net ${r.config.shape.join('x')}` : `MLP [x, log sigma], ${r.config.shape[0]}D`;
    rows.push([`${r.name}${r.isDefault && r.config.shape.length === 3 ? ' (default MNIST preset)' : ''}: ${what}, batch ${r.batch}, ${params}`]);
    const ratio = (a: number, b: number | undefined) => (b ? fmt(a / b) : '-');
    for (const t of r.tfjsByThreads) rows.push([`  train steps/s, ${side(t)}`, fmtStats(t.train), r.torch ? fmtStats(r.torch.train) : '-', ratio(t.train.median, r.torch?.train.median)]);
    for (const t of r.tfjsByThreads) rows.push([`  sampling evals/s (one Langevin step), ${side(t)}`, fmtStats(t.sample), r.torch ? fmtStats(r.torch.sample) : '-', ratio(t.sample.median, r.torch?.sample.median)]);
    for (const t of r.tfjsByThreads) rows.push([`  peak RSS (MB), ${side(t)}`, fmt(t.peakRssMB), r.torch ? fmt(r.torch.peakRssMB) : '-', ratio(t.peakRssMB, r.torch?.peakRssMB)]);
  }
  out.push(table(rows));
  out.push('');
  out.push('Rates: higher is better; tfjs/torch is the ratio of medians (below 1: tfjs is slower). ' +
    `Steps per repeat (tfjs/torch): ${reports.map((r) => `${r.name} train ${r.tfjsByThreads.map((t) => counts(t.trainStepsPerRepeat)).join('+')}/${counts(r.torch?.trainStepsPerRepeat)}, ` +
      `sample ${r.tfjsByThreads.map((t) => counts(t.evalsPerRepeat)).join('+')}/${counts(r.torch?.evalsPerRepeat)}`).join('; ')}.`);
  const sampling = reports.filter((r) => r.mnistSampling);
  if (sampling.length) {
    out.push('');
    out.push(`Full MNIST sampling run, 64 samples, engine schedule (sigma_1 ${MNIST_SIGMA_MAX}, L ${sched.sigmas.length}, T ${sched.stepsPerLevel}: ` +
      `${evaluations} evaluations = L*T + 1), tfjs on ${th(threadCounts[threadCounts.length - 1]!)}:`);
    for (const r of sampling) {
      const m = r.mnistSampling!;
      out.push(`  ${r.name}${r.isDefault ? ' (default)' : ''}: ${m.measured ? 'measured (one run each)' : 'estimated from the median evals/s'}: tfjs ${fmtDuration(m.tfjsSeconds)}` +
        `${m.torchSeconds !== null ? `, torch ${fmtDuration(m.torchSeconds)}, tfjs/torch speed ${fmt(m.torchSeconds / m.tfjsSeconds)}` : ''}`);
    }
  }
  if (extras) {
    out.push('');
    out.push('Product figures (targets from issue 6):');
    const tr = extras.trainRss;
    if (tr && 'error' in tr) out.push(`  peak RSS training the default MNIST preset: failed (${tr.error})`);
    else if (tr) out.push(`  peak RSS training the default MNIST preset (engine train(), '${tr.preset}', batch ${tr.batch}, ${tr.steps} steps, ${th(tr.threads)}): ` +
      `${fmt(tr.peakRssMB)} MB (target < 1,536 MB), ${fmt(tr.stepsPerSec)} steps/s`);
    const sv = extras.server;
    if (sv && 'error' in sv) out.push(`  backend: failed (${sv.error})`);
    else if (sv) {
      out.push(`  backend ready (spawn to initialize result, ${sv.readyMs.runs.length} starts): ${fmtStats(sv.readyMs)} ms (target < 2,000 ms)`);
      const l = sv.latency;
      if ('error' in l) out.push(`  backend latency while training: failed (${l.error})`);
      else out.push(`  backend latency while training the default MNIST preset (listRuns, ${l.requests} requests, ${l.trainingSteps} steps trained meanwhile): ` +
        `p50 ${fmt(l.p50)} ms, p99 ${fmt(l.p99)} ms, max ${fmt(l.max)} ms (target p99 < 50 ms)`);
    }
    const ex = extras.extension;
    if (ex && 'error' in ex) out.push(`  extension: failed (${ex.error})`);
    else if (ex) {
      out.push(`  extension module load (dist/extension.js in a fresh Node, stub vscode): ${fmtStats(ex.loadMs)} ms` +
        `${ex.activateMs ? `; activate() ${fmtStats(ex.activateMs)} ms` : ''} (target activation < 300 ms)`);
      out.push(`    ${ex.activateNote}; not the real extension host.`);
    }
  }
  for (const w of warnings) out.push(`\nwarning: ${w}`);
  process.stdout.write(`${out.join('\n')}\n`);
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    if (err instanceof BenchError) log(`\nbench: ERROR: ${err.message}`);
    else log(`\nbench: ERROR: ${err instanceof Error ? err.stack ?? err.message : String(err)}`);
    process.exit(1);
  },
);
