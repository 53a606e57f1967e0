/**
 * The preview worker thread: one long-lived thread that answers the preview requests (previews.ts posts
 * { id, kind, params }, this posts { id, result } or { id, error }; { cancel: id } aborts a preview).
 * It selects the compute backend once and keeps recent models and datasets loaded (previewWork.ts).
 */
import { parentPort, workerData } from 'worker_threads';
import { selectBackend } from '../engine/backend';
import { CancelledError } from '../engine/sampler';
import type { BackendRequest } from '../../protocol/protocol';
import { computePreview, computeScoreField, datasetExamples } from './previewWork';
import type { PreviewTask, PreviewTaskReply } from './previews';

if (!parentPort) throw new Error('previewWorker.ts runs as a worker thread of the High Score server.');
const port = parentPort;
const backend = (workerData as { backend: BackendRequest }).backend;
let ready: Promise<unknown> | undefined;
const aborts = new Map<number, AbortController>();

async function run(t: PreviewTask, signal: AbortSignal): Promise<unknown> {
  // wasm serves images and points alike; a forced cpu backend only suits the 2D toys.
  ready ??= selectBackend(backend, backend === 'cpu' ? 'points' : 'image');
  await ready;
  switch (t.kind) {
    case 'preview': return computePreview(t.params, signal);
    case 'scoreField': return computeScoreField(t.params);
    case 'datasetExamples': return datasetExamples(t.params);
    default: throw new Error(`Unknown preview task ${(t as { kind: string }).kind}.`);
  }
}

port.on('message', (m: PreviewTask | { cancel: number }) => {
  if ('cancel' in m) {
    aborts.get(m.cancel)?.abort();
    return;
  }
  const abort = new AbortController();
  aborts.set(m.id, abort);
  run(m, abort.signal).then(
    (result) => port.postMessage({ id: m.id, result } satisfies PreviewTaskReply),
    (err: unknown) => port.postMessage({
      id: m.id, error: err instanceof Error ? err.message : String(err), cancelled: err instanceof CancelledError,
    } satisfies PreviewTaskReply),
  ).finally(() => aborts.delete(m.id));
});
