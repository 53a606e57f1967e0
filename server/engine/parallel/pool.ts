/**
 * Data parallelism over worker_threads (RECIPES.md section 2: tfjs's own wasm threads are off in Node
 * and fragile to force, so each thread owns a single-threaded wasm backend instead).
 *
 * A pool of N compute threads is the calling thread (the coordinator: the job's worker, the CLI or
 * the bench) plus N - 1 helper threads (helper.ts), each with a replica of the network. A batch is cut
 * into K contiguous chunks (about `chunksPerThread` per thread) that the threads take from a shared
 * counter until none is left: on a busy machine a descheduled thread holds up one chunk, not half
 * the batch (with a fixed half each, the step waited for the slowest thread: measured in the README).
 *
 * Training: the coordinator draws the batch, the noise levels and the noise (so the result does not
 * depend on N), writes them and its current weights into shared memory, and every thread computes the
 * gradient of sum(its examples' DSM losses) / B. The shares' gradients add up to the full batch's mean
 * gradient; the coordinator clips it and applies the one Adam step to its own network, which stays the
 * only copy that checkpoints, EMA and guards see (train.ts). Sampling: every thread computes net(x) on
 * its share of the chain's batch; the Langevin update itself stays in the coordinator (sampler.ts).
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Worker } from 'worker_threads';
import * as tf from '@tensorflow/tfjs';
import { dsmLoss } from '../loss';
import type { NetworkConfig } from '../network';
import type { ScoreModel } from '../score';
import { chunkBounds, type FromHelper, type HelperInit, type SharedBuffers, type ToHelper } from './messages';

export class ParallelError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ParallelError';
  }
}

/**
 * The number of compute threads to use: an explicit request, else HIGHSCORE_WORKERS, else min(2, cores)
 * for images and 1 for 2D points (the MLP's steps take milliseconds: the hand-off costs more than it
 * saves; README, Benchmark). With the batch taken in chunks, 2 threads trained the `small` preset 1.6x
 * faster than 1 with both cores free, and no slower with another process holding a core.
 */
export function defaultWorkers(kind: 'image' | 'points', requested?: number): number {
  const cores = typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
  if (requested !== undefined) {
    if (!(Number.isInteger(requested) && requested >= 1)) throw new ParallelError(`workers must be a positive integer (got ${requested}).`);
    return requested;
  }
  const env = process.env.HIGHSCORE_WORKERS;
  if (env !== undefined && env !== '') {
    const n = Number(env);
    if (Number.isInteger(n) && n >= 1) return n;
  }
  return kind === 'points' ? 1 : Math.max(1, Math.min(2, cores));
}

/** The helper script: beside this module (tsc's out/ tree: helper.js; the bundles in dist/: gradWorker.js). */
export function resolveHelperScript(dir = __dirname): string | undefined {
  const candidates = [
    process.env.HIGHSCORE_PARALLEL_WORKER,
    path.join(dir, 'gradWorker.js'),
    path.join(dir, 'helper.js'),
    // From out/server/engine/parallel: the repository's dist/gradWorker.js; from dist: out's helper.
    path.join(dir, '..', '..', '..', '..', 'dist', 'gradWorker.js'),
    path.join(dir, '..', 'out', 'server', 'engine', 'parallel', 'helper.js'),
  ].filter((p): p is string => Boolean(p));
  return candidates.find((p) => fs.existsSync(p));
}

export interface PoolOptions {
  /** Compute threads in all, the coordinator included (>= 2 for a pool to make sense). */
  threads: number;
  shape: number[];
  network: NetworkConfig;
  /** The coordinator's backend; helpers select the same. */
  backend: 'wasm' | 'cpu';
  /** Examples to make room for at first (grows on demand). */
  capacity?: number;
  /** Chunks per thread a batch is cut into (default 3, fewer where chunks would drop below minChunk; 1: a fixed share per thread). */
  chunksPerThread?: number;
  /** The smallest chunk, in examples (default 8: smaller chunks cost more in per-call overhead than they balance). */
  minChunk?: number;
}

interface Helper {
  worker: Worker;
  pending: Map<number, { resolve: (m: Done) => void; reject: (e: Error) => void }>;
  dead?: Error;
}

interface Done {
  tensors: number;
  ms: number;
  chunks: number;
}

/** A flat float view of a weight list, in layer order. */
function totalSize(vars: readonly { size: number }[]): number {
  return vars.reduce((a, v) => a + v.size, 0);
}

export class ParallelPool {
  private buffers!: SharedBuffers;
  private params!: Float32Array;
  private grads!: Float32Array;
  private counter!: Int32Array;
  private x!: Float32Array;
  private z!: Float32Array;
  private sig!: Float32Array;
  private perEx!: Float32Array;
  private out!: Float32Array;
  private nextId = 1;
  private closed = false;
  /** Each helper's tf.memory().numTensors after its last command (tests check it stays flat). */
  readonly helperTensors: number[] = [];
  /** Each helper's compute time (ms) for its last command. */
  readonly helperMs: number[] = [];
  /** Chunks each thread took in the last command (the coordinator's first). */
  readonly chunksTaken: number[] = [];

  private constructor(
    private readonly helpers: Helper[],
    readonly P: number,
    readonly D: number,
    readonly shape: number[],
    private readonly chunksPerThread: number,
    private readonly minChunk: number,
  ) {}

  /** Compute threads, the coordinator included. */
  get threads(): number {
    return this.helpers.length + 1;
  }

  /** Starts the helpers and waits until each has built its replica (P parameters, as the coordinator's). */
  static async start(o: PoolOptions, P: number): Promise<ParallelPool> {
    if (!(o.threads >= 2)) throw new ParallelError('A pool needs at least 2 threads.');
    const script = resolveHelperScript();
    if (!script) throw new ParallelError('The data-parallel helper script (gradWorker.js) is missing; rebuild with `npm run build`.');
    const D = o.shape.reduce((a, b) => a * b, 1);
    const nHelpers = o.threads - 1;
    // HIGHSCORE_PARALLEL_CHUNKS: for measuring (the bench's A/B of fixed shares against chunks).
    const chunksPerThread = o.chunksPerThread ?? (Number(process.env.HIGHSCORE_PARALLEL_CHUNKS) || 3);
    const buffers = allocate(o.capacity ?? 64, D, P, o.threads * chunksPerThread);
    const helpers: Helper[] = [];
    const ready: Promise<void>[] = [];
    for (let i = 0; i < nHelpers; i++) {
      const init: HelperInit = { index: i, shape: o.shape, network: o.network, backend: o.backend, buffers };
      const worker = new Worker(script, { workerData: init });
      const h: Helper = { worker, pending: new Map() };
      helpers.push(h);
      ready.push(new Promise<void>((resolve, reject) => {
        const fail = (e: Error) => {
          h.dead = e;
          reject(e);
          for (const p of h.pending.values()) p.reject(e);
          h.pending.clear();
        };
        worker.on('message', (m: FromHelper) => {
          if (m.type === 'ready') {
            if (m.params !== P) fail(new ParallelError(`A helper built a network of ${m.params} parameters, the coordinator ${P}.`));
            else resolve();
          } else if (m.type === 'done') {
            const p = h.pending.get(m.id);
            h.pending.delete(m.id);
            p?.resolve(m);
          } else {
            const e = new ParallelError(`A data-parallel helper failed: ${m.message}`);
            if (m.id !== undefined && h.pending.has(m.id)) {
              const p = h.pending.get(m.id)!;
              h.pending.delete(m.id);
              p.reject(e);
            } else fail(e);
          }
        });
        worker.on('error', (err) => fail(new ParallelError(`A data-parallel helper crashed: ${err.message}`)));
        worker.on('exit', (code) => fail(new ParallelError(`A data-parallel helper exited (code ${code}).`)));
      }));
    }
    const pool = new ParallelPool(helpers, P, D, o.shape, chunksPerThread, o.minChunk ?? 8);
    pool.setBuffers(buffers);
    try {
      await Promise.all(ready);
    } catch (err) {
      await pool.close();
      throw err;
    }
    return pool;
  }

  private setBuffers(b: SharedBuffers): void {
    this.buffers = b;
    this.params = new Float32Array(b.params);
    this.grads = new Float32Array(b.grads);
    this.counter = new Int32Array(b.counter);
    this.x = new Float32Array(b.x);
    this.z = new Float32Array(b.z);
    this.sig = new Float32Array(b.sig);
    this.perEx = new Float32Array(b.perEx);
    this.out = new Float32Array(b.out);
  }

  private ensureCapacity(B: number): void {
    if (B <= this.buffers.capacity) return;
    const b = allocate(B, this.D, this.P, this.buffers.chunks, this.buffers);
    this.setBuffers(b);
    for (const h of this.helpers) h.worker.postMessage({ type: 'buffers', buffers: b } satisfies ToHelper);
  }

  /** How many chunks a batch of B is cut into: about chunksPerThread per thread, none below minChunk examples (but at least one per thread). */
  chunkCount(B: number): number {
    const byThreads = this.threads * this.chunksPerThread;
    const bySize = Math.max(Math.min(this.threads, B), Math.floor(B / this.minChunk));
    return Math.max(1, Math.min(byThreads, bySize, this.buffers.chunks, B));
  }

  /** Resets the chunk counter and posts the command to every helper. */
  private dispatch(make: (id: number) => ToHelper & { id: number }): Promise<Done>[] {
    Atomics.store(this.counter, 0, 0);
    return this.helpers.map((h) => this.send(h, make(this.nextId++)));
  }

  private send(h: Helper, m: ToHelper & { id: number }): Promise<Done> {
    if (h.dead) return Promise.reject(h.dead);
    return new Promise((resolve, reject) => {
      h.pending.set(m.id, { resolve, reject });
      h.worker.postMessage(m);
    });
  }

  /** The coordinator's weights into the shared parameter vector (read by the helpers on their next command). */
  async writeParams(vars: readonly tf.Tensor[]): Promise<void> {
    let off = 0;
    for (const v of vars) {
      this.params.set((await v.data()) as Float32Array, off);
      off += v.size;
    }
    if (off !== this.P) throw new ParallelError(`The weights have ${off} values; the pool was made for ${this.P}.`);
  }

  private check(): void {
    if (this.closed) throw new ParallelError('The data-parallel pool is closed.');
  }

  /**
   * One data-parallel gradient: the mean over the batch of the per-example DSM losses' gradients,
   * flattened in `vars` order into `grad` (length P). `x`, `z`: [B, ...shape] values; `sig`: [B].
   * The helpers use the weights last written with writeParams. Returns the per-example losses.
   */
  async gradients(
    model: ScoreModel, vars: readonly tf.Variable[], x: Float32Array, z: Float32Array, sig: Float32Array, grad: Float32Array,
  ): Promise<Float32Array> {
    this.check();
    const B = sig.length;
    const D = this.D;
    this.ensureCapacity(B);
    this.x.set(x);
    this.z.set(z);
    this.sig.set(sig);
    const K = this.chunkCount(B);
    const waits = this.dispatch((id) => ({ type: 'train', id, B, K }));
    // The coordinator takes chunks too, meanwhile.
    const taken = await this.takeChunks(B, K, async (k, b0, b1) => {
      const n = b1 - b0;
      const { value, grads, perEx } = tf.tidy(() => {
        const xs = tf.tensor(x.subarray(b0 * D, b1 * D), [n, ...this.shape]);
        const zs = tf.tensor(z.subarray(b0 * D, b1 * D), [n, ...this.shape]);
        const ss = tf.tensor1d(sig.subarray(b0, b1));
        let perEx: tf.Tensor | undefined;
        const r = tf.variableGrads(() => {
          const l = dsmLoss(model, xs, ss, zs);
          perEx = tf.keep(l);
          return l.sum().div(B) as tf.Scalar;
        }, vars as tf.Variable[]);
        return { ...r, perEx: perEx! };
      });
      let off = k * this.P;
      for (const v of vars) {
        this.grads.set((await grads[v.name]!.data()) as Float32Array, off);
        off += v.size;
      }
      this.perEx.set((await perEx.data()) as Float32Array, b0);
      tf.dispose([value, perEx, ...Object.values(grads)]);
    });
    await this.wait(waits, taken);
    // The chunks' gradients, summed in chunk order (the same sum whichever thread computed each).
    const P = this.P;
    grad.set(this.grads.subarray(0, P));
    for (let k = 1; k < K; k++) {
      const slot = this.grads.subarray(k * P, (k + 1) * P);
      for (let i = 0; i < P; i++) grad[i]! += slot[i]!;
    }
    return this.perEx.slice(0, B);
  }

  /** Claims chunks from the shared counter (as the helpers do) and works them here; returns how many. */
  private async takeChunks(B: number, K: number, work: (k: number, b0: number, b1: number) => Promise<void>): Promise<number> {
    let taken = 0;
    for (let k = Atomics.add(this.counter, 0, 1); k < K; k = Atomics.add(this.counter, 0, 1)) {
      taken++;
      const [b0, b1] = chunkBounds(B, K, k);
      await work(k, b0, b1);
    }
    return taken;
  }

  /** net(x) for a batch [B, ...shape] (sigma per example), the shares computed in parallel. */
  async outputs(model: ScoreModel, x: Float32Array, sig: Float32Array): Promise<Float32Array> {
    this.check();
    const B = sig.length;
    const D = this.D;
    this.ensureCapacity(B);
    this.x.set(x);
    this.sig.set(sig);
    const K = this.chunkCount(B);
    const waits = this.dispatch((id) => ({ type: 'eval', id, B, K }));
    const taken = await this.takeChunks(B, K, async (_k, b0, b1) => {
      const y = tf.tidy(() => model.output(tf.tensor(x.subarray(b0 * D, b1 * D), [b1 - b0, ...this.shape]), tf.tensor1d(sig.subarray(b0, b1))));
      this.out.set((await y.data()) as Float32Array, b0 * D);
      y.dispose();
    });
    await this.wait(waits, taken);
    return this.out.slice(0, B * D);
  }

  private async wait(waits: Promise<Done>[], taken: number): Promise<void> {
    const res = await Promise.all(waits);
    this.chunksTaken.length = 0;
    this.chunksTaken.push(taken);
    res.forEach((r, k) => {
      this.helperTensors[k] = r.tensors;
      this.helperMs[k] = r.ms;
      this.chunksTaken.push(r.chunks);
    });
  }

  /** Ends the helpers. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all(this.helpers.map(async (h) => {
      if (h.dead) return;
      const exited = new Promise<void>((resolve) => h.worker.once('exit', () => resolve()));
      h.worker.postMessage({ type: 'close' } satisfies ToHelper);
      const timer = setTimeout(() => void h.worker.terminate(), 2000);
      await exited;
      clearTimeout(timer);
    }));
  }
}

function allocate(capacity: number, D: number, P: number, chunks: number, prev?: SharedBuffers): SharedBuffers {
  const f = (n: number) => new SharedArrayBuffer(4 * Math.max(1, n));
  return {
    capacity,
    chunks,
    params: prev?.params ?? f(P),
    grads: prev?.grads ?? f(P * chunks),
    counter: prev?.counter ?? f(1),
    x: f(capacity * D), z: f(capacity * D), sig: f(capacity), perEx: f(capacity), out: f(capacity * D),
  };
}

/** The sum of squares of a flat vector, in double precision. */
export function sumSquares(v: Float32Array): number {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i]! * v[i]!;
  return s;
}

export { totalSize };
