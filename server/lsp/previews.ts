/**
 * The preview requests (protocol: "Previews and interactive tools"): highscore/preview,
 * highscore/scoreField and highscore/datasetExamples. They are answered directly (no job), by one
 * long-lived preview worker thread (previewWorker.ts) that keeps recent models and datasets loaded, so
 * the thread that answers requests never blocks. Previews are cached by checkpoint and params: the same
 * checkpoint asked again gets the same grid at once, a new checkpoint gets a fresh one.
 */
import * as fs from 'fs';
import * as path from 'path';
import { Worker } from 'worker_threads';
import type { CancellationToken } from 'vscode-languageserver/node';
import * as P from '../../protocol/protocol';
import { defined, ParamsError, Reader } from './params';
import { readCheckpoints, RunFolderError } from './runs';

/** A task for the preview worker. */
export type PreviewTask =
  | { id: number; kind: 'preview'; params: P.PreviewParams }
  | { id: number; kind: 'scoreField'; params: P.ScoreFieldParams }
  | { id: number; kind: 'datasetExamples'; params: P.DatasetExamplesParams };

/** The worker's answer to a task. */
export interface PreviewTaskReply {
  id: number;
  result?: unknown;
  error?: string;
  cancelled?: boolean;
}

type TaskResult = { preview: Omit<P.PreviewResult, 'cached'>; scoreField: P.ScoreFieldResult; datasetExamples: P.DatasetExamplesResult };

/** The preview worker script: beside this file (dist/ or out/server/lsp/), else the other build's copy. */
export function resolvePreviewWorker(dir = __dirname): string {
  const candidates = [
    path.join(dir, 'previewWorker.js'),
    path.join(dir, '..', '..', '..', 'dist', 'previewWorker.js'),
    path.join(dir, '..', 'out', 'server', 'lsp', 'previewWorker.js'),
  ];
  const found = candidates.find((p) => fs.existsSync(p));
  if (!found) throw new Error(`The High Score preview worker is missing (looked for ${candidates.join(', ')}). Run \`npm run build\`.`);
  return found;
}

/** Runs preview tasks on one worker thread (started on first use, started again if it dies). */
export class PreviewService {
  private worker: Worker | undefined;
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private readonly cache = new Map<string, Promise<Omit<P.PreviewResult, 'cached'>>>();

  constructor(private readonly backend: () => P.BackendRequest, private readonly script = resolvePreviewWorker()) {}

  private start(): Worker {
    if (this.worker) return this.worker;
    // stdout/stderr piped (and dropped): the server's stdout is the JSON-RPC stream.
    const w = new Worker(this.script, { workerData: { backend: this.backend() }, stdout: true, stderr: true });
    w.stdout.resume();
    w.stderr.resume();
    w.unref();
    w.on('message', (m: PreviewTaskReply) => {
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      if (m.error !== undefined) p.reject(new Error(m.error));
      else p.resolve(m.result);
    });
    const fail = (why: string) => {
      if (this.worker !== w) return;
      this.worker = undefined;
      for (const p of this.pending.values()) p.reject(new Error(`The preview worker stopped (${why}); ask again.`));
      this.pending.clear();
    };
    w.on('error', (e) => fail(e.message));
    w.on('exit', (code) => fail(`exit code ${code}`));
    this.worker = w;
    return w;
  }

  run<K extends PreviewTask['kind']>(kind: K, params: Extract<PreviewTask, { kind: K }>['params'], token?: CancellationToken): Promise<TaskResult[K]> {
    const w = this.start();
    const id = this.nextId++;
    return new Promise<TaskResult[K]>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      w.postMessage({ id, kind, params } as PreviewTask);
      token?.onCancellationRequested(() => w.postMessage({ cancel: id }));
    });
  }

  /** A preview from the run's latest checkpoint: cached by checkpoint and params. */
  async preview(p: P.PreviewParams): Promise<P.PreviewResult> {
    const latest = readCheckpoints(p.runDir).latest;
    if (!latest) throw new RunFolderError(`${p.runDir} has no checkpoint yet: train it first (previews sample from the latest checkpoint).`);
    // The student's sampler is cached by its file's time too: an edit gives a fresh preview.
    const student = p.studentModule ? [p.studentModule, fs.statSync(p.studentModule).mtimeMs] : null;
    const key = JSON.stringify([path.resolve(p.runDir), latest, p.n ?? null, p.stepsPerLevel ?? null, p.snapshots ?? 0, p.seed ?? 0, student]);
    let entry = this.cache.get(key);
    const cached = entry !== undefined;
    if (!entry) {
      entry = this.run('preview', p);
      this.cache.set(key, entry);
      entry.catch(() => this.cache.delete(key));
      while (this.cache.size > 32) this.cache.delete(this.cache.keys().next().value as string);
    }
    return { ...(await entry), cached };
  }

  dispose(): void {
    void this.worker?.terminate();
    this.worker = undefined;
  }
}

// ---- params ----------------------------------------------------------------------------------------

export function previewParams(method: string, raw: unknown): P.PreviewParams {
  const r = new Reader(method, raw);
  return defined<P.PreviewParams>({
    runDir: r.string('runDir', 'the run folder'), n: r.optInt('n', 1, 2000), stepsPerLevel: r.optInt('stepsPerLevel', 1, 1000),
    snapshots: r.optInt('snapshots', 0, 1000), seed: r.optInt('seed', 0),
    studentModule: r.optString('studentModule', "the assignment's student module (scoreModel.ts)"),
  });
}

export function scoreFieldParams(method: string, raw: unknown): P.ScoreFieldParams {
  const r = new Reader(method, raw);
  const b = r.o.bounds;
  if (b !== undefined && !(Array.isArray(b) && b.length === 4 && b.every((v) => typeof v === 'number' && Number.isFinite(v)) && b[0] < b[1] && b[2] < b[3])) {
    throw new ParamsError(`${method}: 'bounds' must be [xMin, xMax, yMin, yMax] with min < max (got ${JSON.stringify(b)}).`);
  }
  return defined<P.ScoreFieldParams>({
    runDir: r.string('runDir', 'the run folder'), level: r.int('level', 1), grid: r.optInt('grid', 2, 101),
    bounds: b as P.Bounds | undefined, points: r.optInt('points', 0, 10_000),
  });
}

export function datasetExamplesParams(method: string, raw: unknown): P.DatasetExamplesParams {
  const r = new Reader(method, raw);
  const p = defined<P.DatasetExamplesParams>({
    data: r.optString('data', "a dataset spec such as 'mnist'"), runDir: r.optString('runDir', 'the run folder'),
    offset: r.optInt('offset', 0), count: r.optInt('count', 1, 64),
  });
  if ((p.data === undefined) === (p.runDir === undefined)) throw new ParamsError(`${method}: give exactly one of 'data' (a dataset spec) and 'runDir' (a run, for its dataset).`);
  return p;
}

// ---- registration ----------------------------------------------------------------------------------

type Handle = <M extends P.RequestMethod>(method: M, fn: (raw: unknown, token: CancellationToken) => Promise<P.RequestResult<M>> | P.RequestResult<M>) => void;

/** Registers the preview requests on the server's `handle` (handlers.ts); returns the service (for shutdown). */
export function registerPreviews(handle: Handle, existingRun: (runDir: string) => string, backend: () => P.BackendRequest): PreviewService {
  const service = new PreviewService(backend);
  handle(P.Preview, (raw) => {
    const p = previewParams(P.Preview, raw);
    if (p.studentModule !== undefined && !fs.existsSync(p.studentModule)) {
      throw new ParamsError(`The student module ${p.studentModule} does not exist. Give the path of your scoreModel.ts.`);
    }
    return service.preview({ ...p, runDir: existingRun(p.runDir) });
  });
  handle(P.ScoreField, (raw, token) => {
    const p = scoreFieldParams(P.ScoreField, raw);
    return service.run('scoreField', { ...p, runDir: existingRun(p.runDir) }, token);
  });
  handle(P.DatasetExamples, (raw, token) => {
    const p = datasetExamplesParams(P.DatasetExamples, raw);
    return service.run('datasetExamples', p.runDir ? { ...p, runDir: existingRun(p.runDir) } : p, token);
  });
  return service;
}
