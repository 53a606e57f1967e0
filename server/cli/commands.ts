/** The CLI's commands. Each validates its flags and says what to do when something is wrong. */
import type { parseArgs as ParseArgs } from 'util';
import * as fs from 'fs';
import * as path from 'path';
import { BACKEND_REQUESTS, selectBackend, type BackendReport, type BackendRequest } from '../engine/backend';
import { loadDataset, datasetSpecsHelp, exampleSize, type Dataset } from '../engine/datasets';
import { scheduleForData } from '../engine/train';
import { train } from '../engine/train';
import { PRESETS } from '../engine/network';
import { loadRunModel, sample, inpaint, vary, type RunModel } from '../engine/generate';
import { writeSamples } from '../engine/output';
import { decodePng } from '../engine/images';
import { listCheckpoints } from '../engine/checkpoint';
import { readConfig, readMetrics, readStatus, type StepMetrics } from '../engine/run';
import type { SampleResult, LangevinProgress } from '../engine/sampler';
import { ProgressBar, formatDuration } from './progress';

export class CliError extends Error {
  constructor(message: string, readonly exitCode = 2) {
    super(message);
    this.name = 'CliError';
  }
}

export const USAGE = `highscore: score-based generative models (NCSN/NCSNv2) from the terminal

Commands
  schedule --data SPEC [--sigma-min 0.01] [--sigma-max S] [--levels L] [--steps-per-level T] [--json]
      The noise schedule: sigma_1 from the data (technique 1), gamma and L from the overlap rule
      (technique 2), eps for T steps per level (technique 4).
  train --data SPEC --out RUNDIR [--steps N] [--batch B] [--preset NAME] [--seed S] [--lr X]
        [--backend auto|wasm|webgpu|cpu|tensorflow] [--checkpoint-every N] [--sample-every N] [--resume] [--json]
        [--sigma-max S] [--sigma-min S] [--levels L] [--steps-per-level T]
      Trains a score model with denoising score matching; Ctrl-C stops after a checkpoint.
  sample --run RUNDIR --n N --out FILE [--seed S] [--steps-per-level T] [--no-denoise] [--json]
      Annealed Langevin dynamics from the EMA weights: a PNG grid for images, a CSV for 2D points.
  inpaint --run RUNDIR --image PNG --mask PNG --out FILE [--n 4] [--seed S] [--json]
      Fills the pixels where the mask is black; white mask pixels are kept from the image.
  vary --run RUNDIR --index I --level K --n N --out FILE [--seed S] [--json]
      Variations of training example I, starting from noise level K (1 = sigma_1, the largest).
  info RUNDIR [--json]
      A run's config, steps, last loss and checkpoints.
  demo [--out DIR] [--steps N]
      The embedded default end to end: MNIST's schedule, a short training run of the tiny U-Net,
      and a sample grid (about 2 minutes on a laptop CPU). \`npm start\` runs it.

Datasets (SPEC)
${datasetSpecsHelp()}

Presets: ${Object.values(PRESETS).map((p) => `${p.name} (${p.description})`).join('; ')}
`;

type Flags = Record<string, string | boolean | undefined>;
type OptionSpec = Record<string, { type: 'string' | 'boolean' }>;

const COMMON: OptionSpec = { json: { type: 'boolean' }, backend: { type: 'string' }, help: { type: 'boolean' } };

function parse(parseArgs: typeof ParseArgs, args: string[], options: OptionSpec, positionals = false): { flags: Flags; positionals: string[] } {
  try {
    const r = parseArgs({ args, options: { ...COMMON, ...options }, strict: true, allowPositionals: positionals });
    return { flags: r.values as Flags, positionals: r.positionals };
  } catch (err) {
    throw new CliError(`${(err as Error).message}. Run \`highscore --help\` for the flags.`);
  }
}

function str(flags: Flags, name: string, required: true): string;
function str(flags: Flags, name: string, required?: false): string | undefined;
function str(flags: Flags, name: string, required = false): string | undefined {
  const v = flags[name];
  if (v === undefined && required) throw new CliError(`--${name} is required.`);
  return v as string | undefined;
}

function num(flags: Flags, name: string, opts: { int?: boolean; min?: number; max?: number } = {}): number | undefined {
  const raw = flags[name];
  if (raw === undefined) return undefined;
  const v = Number(raw);
  const range = `${opts.min !== undefined ? ` >= ${opts.min}` : ''}${opts.max !== undefined ? ` <= ${opts.max}` : ''}`;
  if (raw === '' || !Number.isFinite(v) || (opts.int && !Number.isInteger(v)) || (opts.min !== undefined && v < opts.min) || (opts.max !== undefined && v > opts.max)) {
    throw new CliError(`--${name} must be ${opts.int ? 'a whole number' : 'a number'}${range} (got '${String(raw)}').`);
  }
  return v;
}

function backendRequest(flags: Flags): BackendRequest {
  const b = (str(flags, 'backend') ?? process.env.HIGHSCORE_BACKEND ?? 'auto') as BackendRequest;
  if (!BACKEND_REQUESTS.includes(b)) throw new CliError(`--backend must be one of ${BACKEND_REQUESTS.join(', ')} (got '${b}').`);
  return b;
}

function say(flags: Flags, text: string): void {
  if (!flags.json) process.stderr.write(text + '\n');
}

function emit(value: unknown): void {
  process.stdout.write(JSON.stringify(value) + '\n');
}

async function startBackend(flags: Flags, kind: Dataset['kind']): Promise<BackendReport> {
  const report = await selectBackend(backendRequest(flags), kind);
  say(flags, `backend: ${report.name} — ${report.reason}`);
  return report;
}

/** Ctrl-C: the first asks the job to stop cleanly (after a checkpoint), the second exits at once. */
function interruptSignal(flags: Flags): AbortController {
  const ac = new AbortController();
  const onSig = () => {
    if (ac.signal.aborted) process.exit(130);
    say(flags, '\nstopping… (press Ctrl-C again to quit at once)');
    ac.abort();
  };
  process.on('SIGINT', onSig);
  process.on('SIGTERM', onSig);
  return ac;
}

async function cmdSchedule(flags: Flags): Promise<number> {
  const spec = str(flags, 'data') ?? 'mnist';
  await startBackend(flags, 'image');
  const ds = await loadDataset(spec);
  const sigmaMin = num(flags, 'sigma-min', { min: 0 });
  const sigmaMax = num(flags, 'sigma-max', { min: 0 });
  const levels = num(flags, 'levels', { int: true, min: 2 });
  const T = num(flags, 'steps-per-level', { int: true, min: 1 });
  const s = await scheduleForData(ds, {
    ...(sigmaMin !== undefined ? { sigmaMin } : {}), ...(sigmaMax !== undefined ? { sigmaMax } : {}),
    ...(levels !== undefined ? { levels } : {}), ...(T !== undefined ? { stepsPerLevel: T } : {}),
  });
  const L = s.sigmas.length;
  if (flags.json) {
    emit({
      data: spec, D: s.D, sigma1: s.sigmas[0], sigmaL: s.sigmas[L - 1], gamma: s.gamma, L, T: s.stepsPerLevel, eps: s.eps,
      overlap: s.diagnostics.overlap, stepObjective: s.diagnostics.stepObjective, gammaRule: s.diagnostics.gammaRule ?? null,
      sources: s.diagnostics.sources, sigmas: s.sigmas,
    });
    return 0;
  }
  const f = (v: number) => v.toPrecision(5);
  process.stdout.write([
    `data            ${spec} (${ds.size} examples, D = ${s.D})`,
    `sigma_1         ${f(s.sigmas[0]!)}  (${s.diagnostics.sources.sigmaMax === 'data' ? 'technique 1: max pairwise distance' : 'given'})`,
    `sigma_L         ${f(s.sigmas[L - 1]!)}`,
    `gamma           ${f(s.gamma)}  (${s.diagnostics.gammaRule ? `overlap rule asks <= ${f(s.diagnostics.gammaRule)}` : 'overlap rule does not constrain in this dimension'})`,
    `L               ${L}  (${s.diagnostics.sources.levels})`,
    `overlap         ${f(s.diagnostics.overlap)}  (target 0.5)`,
    `T               ${s.stepsPerLevel}`,
    `eps             ${s.eps.toExponential(4)}  (technique 4 objective ${f(s.diagnostics.stepObjective)}, target 1)`,
    `sigmas          ${s.sigmas.map((v) => v.toPrecision(4)).join(' ')}`,
    '',
  ].join('\n'));
  return 0;
}

async function cmdTrain(flags: Flags): Promise<number> {
  const out = str(flags, 'out', true);
  const resume = Boolean(flags.resume);
  let spec = str(flags, 'data');
  if (!spec && resume) spec = readConfig(path.resolve(out)).dataSpec;
  if (!spec) throw new CliError('--data is required (e.g. --data mnist or --data toy:mixture).');
  const preset = str(flags, 'preset');
  if (preset && !PRESETS[preset]) throw new CliError(`Unknown preset '${preset}'. Choose one of: ${Object.keys(PRESETS).join(', ')}.`);
  const ds = await loadDataset(spec);
  const backend = await startBackend(flags, ds.kind);
  const steps = num(flags, 'steps', { int: true, min: 1 });
  const batch = num(flags, 'batch', { int: true, min: 1 });
  const seed = num(flags, 'seed', { int: true, min: 0 });
  const lr = num(flags, 'lr', { min: 0 });
  const ckEvery = num(flags, 'checkpoint-every', { int: true, min: 1 });
  const sampleEvery = num(flags, 'sample-every', { int: true, min: 0 });
  const T = num(flags, 'steps-per-level', { int: true, min: 1 });
  const sigmaMin = num(flags, 'sigma-min', { min: 0 });
  const sigmaMax = num(flags, 'sigma-max', { min: 0 });
  const levels = num(flags, 'levels', { int: true, min: 2 });
  say(flags, `data: ${spec} — ${ds.size} examples of shape [${ds.shape}]`);
  const ac = interruptSignal(flags);
  const bar = new ProgressBar('train', !flags.json);
  const t0 = Date.now();
  let total = steps;
  const result = await train({
    runDir: out, dataset: ds, backend: backend.name, resume,
    ...(preset ? { preset } : {}), ...(steps !== undefined ? { steps } : {}), ...(batch !== undefined ? { batch } : {}),
    ...(seed !== undefined ? { seed } : {}), ...(lr !== undefined ? { learningRate: lr } : {}),
    ...(ckEvery !== undefined ? { checkpointEvery: ckEvery } : {}), ...(sampleEvery !== undefined ? { sampleEvery } : {}),
    schedule: {
      ...(T !== undefined ? { stepsPerLevel: T } : {}), ...(sigmaMin !== undefined ? { sigmaMin } : {}),
      ...(sigmaMax !== undefined ? { sigmaMax } : {}), ...(levels !== undefined ? { levels } : {}),
    },
    signal: ac.signal,
    onProgress: (m: StepMetrics) => {
      if (flags.json) emit({ type: 'progress', step: m.step, loss: m.loss, perLevel: m.perLevel, stepsPerSec: m.stepsPerSec, etaSec: m.etaSec });
      else {
        total ??= readConfig(path.resolve(out)).steps;
        bar.update(m.step, total, `loss ${m.loss.toPrecision(4)}  ${m.stepsPerSec.toFixed(2)} steps/s  ETA ${formatDuration(m.etaSec)}`);
      }
    },
    onEvent: (e) => {
      if (flags.json) emit({ ...e, type: 'event' });
      else if (!['checkpoint', 'sample', 'stop', 'finish'].includes(e.kind)) { bar.done(); say(flags, e.message); }
    },
  });
  bar.done();
  const cfg = readConfig(path.resolve(out));
  if (flags.json) emit({ type: 'result', ...result, runDir: path.resolve(out), parameters: cfg.parameters, seconds: (Date.now() - t0) / 1000 });
  else say(flags, `${result.message}\nrun: ${path.resolve(out)} (${cfg.preset}, ${cfg.parameters.toLocaleString('en')} parameters, ${formatDuration((Date.now() - t0) / 1000)})`);
  return result.state === 'failed' ? 1 : result.state === 'stopped' ? 130 : 0;
}

async function withRun<T>(flags: Flags, fn: (rm: RunModel) => Promise<T>): Promise<T> {
  const run = str(flags, 'run', true);
  if (!fs.existsSync(run)) throw new CliError(`Run folder ${run} does not exist. Train one with: highscore train --data mnist --out ${run}`);
  const config = (() => { try { return readConfig(run); } catch { return undefined; } })();
  await startBackend(flags, config?.dataKind ?? 'image');
  const rm = await loadRunModel(run);
  try {
    return await fn(rm);
  } finally {
    rm.dispose();
  }
}

function langevinBar(flags: Flags, label: string): { bar: ProgressBar; onProgress: (p: LangevinProgress) => void } {
  const bar = new ProgressBar(label, !flags.json);
  return {
    bar,
    onProgress: (p) => {
      if (flags.json) emit({ type: 'progress', ...p });
      else bar.update(p.done, p.total, `level ${p.level + 1}/${p.levels} sigma ${p.sigma.toPrecision(3)}`);
    },
  };
}

function writeResult(flags: Flags, out: string, result: SampleResult, n: number, shape: number[], extra: Record<string, unknown>): number {
  const file = writeSamples(out, result.samples, n, shape);
  let min = Infinity, max = -Infinity, sum = 0;
  for (const v of result.samples) { min = Math.min(min, v); max = Math.max(max, v); sum += v; }
  const summary = { type: 'result', file: path.resolve(file), n, shape, min, max, mean: sum / result.samples.length, ...extra };
  if (flags.json) emit(summary);
  else say(flags, `wrote ${file}`);
  return 0;
}

async function cmdSample(flags: Flags): Promise<number> {
  const n = num(flags, 'n', { int: true, min: 1, max: 10000 }) ?? 64;
  const out = str(flags, 'out', true);
  const seed = num(flags, 'seed', { int: true, min: 0 }) ?? 0;
  const T = num(flags, 'steps-per-level', { int: true, min: 1 });
  return withRun(flags, async (rm) => {
    const ac = interruptSignal(flags);
    const { bar, onProgress } = langevinBar(flags, 'sample');
    const t0 = Date.now();
    const result = await sample(rm, { n, seed, denoise: !flags['no-denoise'], onProgress, signal: ac.signal, ...(T !== undefined ? { stepsPerLevel: T } : {}) });
    bar.done();
    return writeResult(flags, out, result, n, rm.state.dataShape, { step: rm.state.step, seconds: (Date.now() - t0) / 1000 });
  });
}

function readPngFor(file: string, shape: number[], what: string): Float32Array {
  if (!fs.existsSync(file)) throw new CliError(`The ${what} ${file} does not exist.`);
  const img = decodePng(fs.readFileSync(file), file);
  const [h, w, c] = shape as [number, number, number];
  if (img.width !== w || img.height !== h) throw new CliError(`The ${what} ${file} is ${img.width}x${img.height}; this run's images are ${w}x${h}.`);
  const out = new Float32Array(h * w * c);
  for (let p = 0; p < h * w; p++) {
    for (let k = 0; k < c; k++) {
      const src = img.channels === 1 ? img.data[p]! : img.data[p * img.channels + Math.min(k, 2)]!;
      out[p * c + k] = c === 1 && img.channels >= 3
        ? (img.data[p * img.channels]! + img.data[p * img.channels + 1]! + img.data[p * img.channels + 2]!) / 3
        : src;
    }
  }
  return out;
}

async function cmdInpaint(flags: Flags): Promise<number> {
  const out = str(flags, 'out', true);
  const imageFile = str(flags, 'image', true);
  const maskFile = str(flags, 'mask', true);
  const n = num(flags, 'n', { int: true, min: 1, max: 1000 }) ?? 4;
  const seed = num(flags, 'seed', { int: true, min: 0 }) ?? 0;
  return withRun(flags, async (rm) => {
    const shape = rm.state.dataShape;
    if (shape.length !== 3) throw new CliError('Inpainting needs an image model; this run is on 2D points.');
    const known = readPngFor(imageFile, shape, 'image');
    const maskRaw = readPngFor(maskFile, shape, 'mask');
    const mask = maskRaw.map((v) => (v >= 0.5 ? 1 : 0));
    const knownCount = mask.reduce((a, b) => a + b, 0);
    if (knownCount === 0) say(flags, 'note: the mask is all black, so nothing is known: this is plain sampling.');
    if (knownCount === mask.length) throw new CliError(`The mask ${maskFile} is all white: every pixel is known, nothing to inpaint. Paint the region to fill in black.`);
    const { bar, onProgress } = langevinBar(flags, 'inpaint');
    const result = await inpaint(rm, known, mask, { n, seed, onProgress });
    bar.done();
    // The grid shows the masked input first, then the completions.
    const D = exampleSize(shape);
    const withInput = new Float32Array(D * (n + 1));
    for (let i = 0; i < D; i++) withInput[i] = mask[i]! ? known[i]! : 0.5;
    withInput.set(result.samples, D);
    return writeResult(flags, out, { samples: withInput, snapshots: [] }, n + 1, shape, { knownPixels: knownCount, first: 'masked input' });
  });
}

async function cmdVary(flags: Flags): Promise<number> {
  const out = str(flags, 'out', true);
  const index = num(flags, 'index', { int: true, min: 0 });
  const level = num(flags, 'level', { int: true, min: 1 });
  if (index === undefined) throw new CliError('--index is required (the training example to vary, from 0).');
  if (level === undefined) throw new CliError('--level is required (1 = sigma_1, the largest noise; higher levels stay closer to the example).');
  const n = num(flags, 'n', { int: true, min: 1, max: 1000 }) ?? 16;
  const seed = num(flags, 'seed', { int: true, min: 0 }) ?? 0;
  return withRun(flags, async (rm) => {
    const L = rm.state.schedule.sigmas.length;
    if (level > L) throw new CliError(`--level must be between 1 and ${L} for this run (got ${level}).`);
    const ds = await loadDataset(rm.state.dataSpec);
    if (index >= ds.size) throw new CliError(`--index must be below ${ds.size}, the size of ${rm.state.dataSpec} (got ${index}).`);
    const D = exampleSize(ds.shape);
    const point = ds.data.slice(index * D, (index + 1) * D);
    const { bar, onProgress } = langevinBar(flags, 'vary');
    const result = await vary(rm, point, level - 1, { n, seed, onProgress });
    bar.done();
    const samples = new Float32Array(D * (n + 1));
    samples.set(point, 0);
    samples.set(result.samples, D);
    return writeResult(flags, out, { samples, snapshots: [] }, n + 1, ds.shape, { index, level, sigma: rm.state.schedule.sigmas[level - 1], first: 'source example' });
  });
}

async function cmdInfo(flags: Flags, positionals: string[]): Promise<number> {
  const run = positionals[0] ?? str(flags, 'run');
  if (!run) throw new CliError('Usage: highscore info RUNDIR');
  if (!fs.existsSync(run)) throw new CliError(`Run folder ${run} does not exist.`);
  let cfg;
  try {
    cfg = readConfig(run);
  } catch (err) {
    throw new CliError(`${run} is not a High Score run: ${(err as Error).message}`);
  }
  const status = readStatus(run);
  const metrics = readMetrics(run);
  const steps = metrics.filter((m): m is StepMetrics => m.type === 'step');
  const last = steps[steps.length - 1];
  const checkpoints = listCheckpoints(run);
  const info = {
    run: path.resolve(run), state: status?.state ?? 'unknown', step: status?.step ?? last?.step ?? 0, totalSteps: cfg.steps,
    lastLoss: status?.lastLoss ?? last?.loss ?? null, message: status?.message ?? null,
    data: cfg.dataSpec, shape: cfg.dataShape, preset: cfg.preset, parameters: cfg.parameters, batch: cfg.batch, learningRate: cfg.learningRate,
    seed: cfg.seed, backend: cfg.backend, levels: cfg.schedule.sigmas.length, sigma1: cfg.schedule.sigmas[0],
    sigmaL: cfg.schedule.sigmas[cfg.schedule.sigmas.length - 1], T: cfg.schedule.stepsPerLevel, eps: cfg.schedule.eps,
    checkpoints, events: metrics.filter((m) => m.type === 'event' && m.kind !== 'checkpoint' && m.kind !== 'sample').map((e) => e.type === 'event' ? `step ${e.step}: ${e.message}` : ''),
  };
  if (flags.json) { emit(info); return 0; }
  const lines = [
    `run         ${info.run}`,
    `state       ${info.state}${info.message ? ` — ${info.message}` : ''}`,
    `steps       ${info.step} / ${info.totalSteps}`,
    `last loss   ${info.lastLoss === null ? 'n/a' : Number(info.lastLoss).toPrecision(5)}`,
    `data        ${info.data} [${info.shape}]`,
    `network     ${info.preset}, ${info.parameters.toLocaleString('en')} parameters; batch ${info.batch}, lr ${info.learningRate}, seed ${info.seed}, backend ${info.backend}`,
    `schedule    L = ${info.levels}, sigma ${info.sigma1?.toPrecision(4)} → ${info.sigmaL}, T = ${info.T}, eps = ${info.eps.toExponential(3)}`,
    `checkpoints ${checkpoints.length ? checkpoints.join(', ') : 'none'}`,
    ...(info.events.length ? ['events', ...info.events.slice(-10).map((e) => `  ${e}`)] : []),
    '',
  ];
  process.stdout.write(lines.join('\n'));
  return 0;
}

async function cmdDemo(flags: Flags, parseArgs: typeof ParseArgs): Promise<number> {
  const out = str(flags, 'out') ?? path.join('runs', `demo-${new Date().toISOString().slice(0, 19).replace(/[:T]/g, '-')}`);
  const steps = str(flags, 'steps') ?? '300';
  say(flags, `High Score demo: MNIST (the embedded default), ${steps} steps of the tiny U-Net, then 16 samples.\n`);
  const common = flags.backend ? ['--backend', String(flags.backend)] : [];
  let code = await runCommand('schedule', ['--data', 'mnist', ...common], parseArgs);
  if (code !== 0) return code;
  code = await runCommand('train', ['--data', 'mnist', '--out', out, '--preset', 'tiny', '--steps', steps, '--batch', '32', '--lr', '2e-3', ...common], parseArgs);
  if (code !== 0) return code;
  const grid = path.join(out, 'demo-samples.png');
  code = await runCommand('sample', ['--run', out, '--n', '16', '--out', grid, ...common], parseArgs);
  if (code !== 0) return code;
  say(flags, [
    '',
    `Samples: ${path.resolve(grid)} (a few hundred steps make blobs and strokes; digits need thousands: see the README).`,
    'Next:',
    `  npx highscore info ${out}`,
    `  npx highscore train --data mnist --out runs/mnist --steps 4000      # 25-30 minutes, the small preset`,
    `  npx highscore train --data toy:mixture --out runs/mixture --steps 4000`,
  ].join('\n'));
  return 0;
}

export async function runCommand(command: string, args: string[], parseArgs: typeof ParseArgs): Promise<number> {
  const s = { type: 'string' } as const;
  const b = { type: 'boolean' } as const;
  switch (command) {
    case 'schedule':
      return cmdSchedule(parse(parseArgs, args, { data: s, 'sigma-min': s, 'sigma-max': s, levels: s, 'steps-per-level': s }).flags);
    case 'train':
      return cmdTrain(parse(parseArgs, args, {
        data: s, out: s, steps: s, batch: s, preset: s, seed: s, lr: s, 'checkpoint-every': s, 'sample-every': s,
        'steps-per-level': s, 'sigma-min': s, 'sigma-max': s, levels: s, resume: b,
      }).flags);
    case 'sample':
      return cmdSample(parse(parseArgs, args, { run: s, n: s, out: s, seed: s, 'steps-per-level': s, 'no-denoise': b }).flags);
    case 'inpaint':
      return cmdInpaint(parse(parseArgs, args, { run: s, image: s, mask: s, out: s, n: s, seed: s }).flags);
    case 'vary':
      return cmdVary(parse(parseArgs, args, { run: s, index: s, level: s, n: s, out: s, seed: s }).flags);
    case 'info': {
      const p = parse(parseArgs, args, { run: s }, true);
      return cmdInfo(p.flags, p.positionals);
    }
    case 'demo':
      return cmdDemo(parse(parseArgs, args, { out: s, steps: s }).flags, parseArgs);
    default:
      throw new CliError(`Unknown command '${command}'. Commands: schedule, train, sample, inpaint, vary, info, demo. Run \`highscore --help\`.`);
  }
}
