/**
 * A data-parallel helper thread (see pool.ts): owns one single-threaded TF.js backend and a replica
 * of the network; on each command it loads the parameters from the shared vector and computes
 * either its share's gradient (training) or the network's output (sampling) into shared memory.
 * Bundled as dist/gradWorker.js; under tsc it is out/server/engine/parallel/helper.js.
 */
import { parentPort, workerData } from 'worker_threads';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../backend';
import { buildNetwork, takesSigma } from '../network';
import { ScoreModel } from '../score';
import { dsmLoss } from '../loss';
import { chunkBounds, type FromHelper, type HelperInit, type SharedBuffers, type ToHelper } from './messages';

if (!parentPort) throw new Error('parallel/helper runs as a worker thread of a data-parallel pool.');
const port = parentPort;
const init = workerData as HelperInit;

function post(m: FromHelper): void {
  port.postMessage(m);
}

interface Views {
  params: Float32Array;
  grads: Float32Array;
  counter: Int32Array;
  x: Float32Array;
  z: Float32Array;
  sig: Float32Array;
  perEx: Float32Array;
  out: Float32Array;
}

function views(b: SharedBuffers): Views {
  return {
    params: new Float32Array(b.params),
    grads: new Float32Array(b.grads), counter: new Int32Array(b.counter),
    x: new Float32Array(b.x), z: new Float32Array(b.z), sig: new Float32Array(b.sig),
    perEx: new Float32Array(b.perEx), out: new Float32Array(b.out),
  };
}

async function main(): Promise<void> {
  const kind = init.shape.length === 3 ? 'image' : 'points';
  const report = await selectBackend(init.backend, kind);
  const net = buildNetwork(init.shape, init.network, 0);
  const model = new ScoreModel(net, takesSigma(init.network));
  const vars = net.trainableWeights.map((w) => w.read() as tf.Variable);
  const sizes = vars.map((v) => v.size);
  const P = sizes.reduce((a, b) => a + b, 0);
  const D = init.shape.reduce((a, b) => a * b, 1);
  let v = views(init.buffers);

  /** The shared parameters into the replica's variables. */
  const loadParams = () => {
    let off = 0;
    for (const variable of vars) {
      const n = variable.size;
      tf.tidy(() => variable.assign(tf.tensor(v.params.subarray(off, off + n), variable.shape)));
      off += n;
    }
  };
  const inputs = (b0: number, b1: number) => {
    const n = b1 - b0;
    return {
      x: tf.tensor(v.x.subarray(b0 * D, b1 * D), [n, ...init.shape]),
      sig: tf.tensor1d(v.sig.subarray(b0, b1)),
      n,
    };
  };

  const handle = (m: ToHelper): void => {
    if (m.type === 'buffers') {
      v = views(m.buffers);
      return;
    }
    if (m.type === 'close') {
      net.dispose();
      port.close();
      return;
    }
    const t0 = performance.now();
    let taken = 0;
    for (;;) {
      const k = Atomics.add(v.counter, 0, 1);
      if (k >= m.K) break;
      if (taken++ === 0) loadParams();
      const [b0, b1] = chunkBounds(m.B, m.K, k);
      if (m.type === 'train') {
        tf.tidy(() => {
          const { x, sig } = inputs(b0, b1);
          const z = tf.tensor(v.z.subarray(b0 * D, b1 * D), x.shape);
          let perEx: tf.Tensor | undefined;
          const { value, grads } = tf.variableGrads(() => {
            const l = dsmLoss(model, x, sig, z);
            perEx = tf.keep(l);
            return l.sum().div(m.B) as tf.Scalar;
          }, vars);
          let off = k * P;
          for (const variable of vars) {
            v.grads.set(grads[variable.name]!.dataSync() as Float32Array, off);
            off += variable.size;
          }
          v.perEx.set(perEx!.dataSync() as Float32Array, b0);
          tf.dispose([value, perEx!, ...Object.values(grads)]);
        });
      } else {
        tf.tidy(() => {
          const { x, sig } = inputs(b0, b1);
          v.out.set(model.output(x, sig).dataSync() as Float32Array, b0 * D);
        });
      }
    }
    post({ type: 'done', id: m.id, tensors: tf.memory().numTensors, ms: performance.now() - t0, chunks: taken });
  };

  port.on('message', (m: ToHelper) => {
    try {
      handle(m);
    } catch (err) {
      const e = err instanceof Error ? err : new Error(String(err));
      post({ type: 'error', ...('id' in m ? { id: m.id } : {}), message: e.message, ...(e.stack ? { stack: e.stack } : {}) });
    }
  });
  post({ type: 'ready', params: P, shapes: vars.map((x) => [...x.shape]), backend: report.name });
}

main().catch((err: unknown) => {
  const e = err instanceof Error ? err : new Error(String(err));
  post({ type: 'error', message: e.message, ...(e.stack ? { stack: e.stack } : {}) });
});
