/**
 * The messages between a data-parallel pool (pool.ts, on the thread that trains or samples: the
 * coordinator) and its helper threads (helper.ts). Types only.
 *
 * Bulk data never travels in messages: it lives in SharedArrayBuffers that both sides map.
 *  - `params`: the flat parameter vector (the network's weights in layer order), written by the
 *    coordinator before each step, read by the helpers;
 *  - `grads`: one slot of P floats per chunk of the batch, where whichever thread took the chunk
 *    writes its gradient (summed in chunk order by the coordinator: the result does not depend on
 *    which thread computed what);
 *  - `counter`: the next chunk to take (Atomics.add): threads take chunks until none is left, so a
 *    thread that the OS descheduled (a busy machine) holds up at most one chunk, not half the batch;
 *  - `x`, `z`, `sig`: the batch, its noise and its per-example sigma, written by the coordinator
 *    (all random draws are the coordinator's, so the result does not depend on the thread count);
 *  - `perEx`: per-example losses (training) and `out`: the network's output (sampling).
 * The messages are the barrier: the coordinator resets the counter, posts one command per helper,
 * takes chunks itself, and waits for each helper's 'done'.
 */
import type { NetworkConfig } from '../network';

export interface SharedBuffers {
  /** Examples the x/z/out buffers hold. */
  capacity: number;
  /** Chunk slots the grads buffer holds. */
  chunks: number;
  params: SharedArrayBuffer;
  grads: SharedArrayBuffer;
  counter: SharedArrayBuffer;
  x: SharedArrayBuffer;
  z: SharedArrayBuffer;
  sig: SharedArrayBuffer;
  perEx: SharedArrayBuffer;
  out: SharedArrayBuffer;
}

/** The helper's `workerData`. */
export interface HelperInit {
  /** This helper's number (0-based). */
  index: number;
  shape: number[];
  network: NetworkConfig;
  /** The backend to select in the helper (the coordinator's). */
  backend: 'wasm' | 'cpu';
  buffers: SharedBuffers;
}

export type ToHelper =
  | { type: 'buffers'; buffers: SharedBuffers }
  /** Take chunks of the batch of B (K chunks, chunkBounds): each chunk's gradient of sum(DSM loss) / B into its slot. */
  | { type: 'train'; id: number; B: number; K: number }
  /** Take chunks of the batch of B: net(x) into `out`. */
  | { type: 'eval'; id: number; B: number; K: number }
  | { type: 'close' };

export type FromHelper =
  | { type: 'ready'; params: number; shapes: number[][]; backend: string }
  | { type: 'done'; id: number; tensors: number; ms: number; chunks: number }
  | { type: 'error'; id?: number; message: string; stack?: string };

/** Chunk k of K of a batch of B: [b0, b1), as even as can be. */
export function chunkBounds(B: number, K: number, k: number): [number, number] {
  return [Math.floor((k * B) / K), Math.floor(((k + 1) * B) / K)];
}
