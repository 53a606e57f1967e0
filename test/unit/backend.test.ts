/**
 * Backend selection (server/engine/backend.ts) with fake module loaders: missing, broken and present
 * native packages. Backends are process-global, so every test that registers a fake 'tensorflow'
 * backend removes it again, and the file ends back on wasm.
 */
import { test, beforeEach, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { selectBackend, nodeLoader, BackendError, BACKEND_REQUESTS, type ModuleLoader, type BackendRequest } from '../../server/engine/backend';
import { tmpDir } from '../support/helpers';

const NODE = '@tensorflow/tfjs-node';
const NODE_GPU = '@tensorflow/tfjs-node-gpu';
const WASM = '@tensorflow/tfjs-backend-wasm';

type Fake = (() => unknown) | 'missing';

/** A loader that serves the real wasm package and fakes the native ones; records what was asked. */
function fakeLoader(native: Partial<Record<string, Fake>>, opts: { wasm?: 'real' | 'missing' } = {}): ModuleLoader & { calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    load(name: string): unknown {
      calls.push(name);
      if (name === WASM) return opts.wasm === 'missing' ? undefined : require(WASM);
      const f = native[name];
      if (f === undefined || f === 'missing') return undefined;
      return f();
    },
  };
}

/** What `require('@tensorflow/tfjs-node')` does: registers a 'tensorflow' backend (here a cpu one). */
function registersTensorflow(): unknown {
  if (!tf.findBackendFactory('tensorflow')) {
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    const { MathBackendCPU } = require('@tensorflow/tfjs-backend-cpu') as { MathBackendCPU: new () => tf.KernelBackend };
    tf.registerBackend('tensorflow', () => new MathBackendCPU());
  }
  return { version: { 'tfjs-node': tf.version.tfjs } };
}

function throwsOnLoad(message: string): () => unknown {
  return () => { throw new Error(message); };
}

function removeTensorflow(): void {
  if (tf.findBackendFactory('tensorflow')) tf.removeBackend('tensorflow');
}

async function rejectsWith(p: Promise<unknown>, check: (e: BackendError) => void): Promise<void> {
  let caught: unknown;
  try {
    await p;
  } catch (err) {
    caught = err;
  }
  assert.ok(caught instanceof BackendError, `expected a BackendError, got ${String(caught)}`);
  assert.equal(caught.name, 'BackendError');
  check(caught);
}

beforeEach(() => {
  removeTensorflow();
  assert.equal(tf.findBackendFactory('tensorflow'), null, 'no tensorflow backend left from an earlier test');
});

after(async () => {
  removeTensorflow();
  await selectBackend('wasm');
  assert.equal(tf.getBackend(), 'wasm');
});

test('(a) auto with no native package chooses wasm and says no tfjs-node is installed', async () => {
  const loader = fakeLoader({});
  const r = await selectBackend('auto', 'image', loader);
  assert.equal(r.name, 'wasm');
  assert.equal(r.package, WASM);
  assert.match(r.reason, /no @tensorflow\/tfjs-node installed/);
  assert.equal(tf.getBackend(), 'wasm');
  // Both native packages were looked for, the GPU one first.
  assert.deepEqual(loader.calls, [NODE_GPU, NODE, WASM]);
  // The conv-gradient kernels are in place, so conv nets can train.
  assert.ok(tf.getKernel('Conv2DBackpropFilter', 'wasm'));
  // The default request is auto and the default workload image.
  const d = await selectBackend(undefined, undefined, fakeLoader({}));
  assert.equal(d.name, 'wasm');
  // The toys also get wasm under auto.
  assert.equal((await selectBackend('auto', 'points', fakeLoader({}))).name, 'wasm');
});

test('(b) forced tensorflow with nothing installed: a BackendError that says how to install it', async () => {
  const before = tf.getBackend();
  await rejectsWith(selectBackend('tensorflow', 'image', fakeLoader({})), (e) => {
    assert.match(e.message, /tensorflow backend is not available/);
    assert.match(e.message, /neither @tensorflow\/tfjs-node-gpu nor @tensorflow\/tfjs-node is installed/);
    assert.ok(e.message.includes('npm install @tensorflow/tfjs-node'), e.message);
    assert.ok(e.message.includes('npm install @tensorflow/tfjs-node-gpu'), e.message);
    assert.match(e.message, /CUDA/);
    assert.match(e.message, /--backend wasm/);
  });
  assert.equal(tf.getBackend(), before, 'a failed selection leaves the backend as it was');
});

test('(c) a native package that fails to load: auto falls back to wasm and says why; forced tensorflow fails with it', async () => {
  const err = "libtensorflow.so.2: cannot open shared object file: No such file or directory\n    at Module._extensions..node";
  const r = await selectBackend('auto', 'image', fakeLoader({ [NODE]: throwsOnLoad(err) }));
  assert.equal(r.name, 'wasm');
  assert.equal(tf.getBackend(), 'wasm');
  assert.ok(r.reason.includes(`${NODE} is installed but failed to load: libtensorflow.so.2: cannot open shared object file`), r.reason);
  assert.ok(!r.reason.includes('Module._extensions'), 'only the first line of the error');
  assert.ok(!r.reason.includes('no @tensorflow/tfjs-node installed'));

  await rejectsWith(selectBackend('tensorflow', 'image', fakeLoader({ [NODE]: throwsOnLoad(err) })), (e) => {
    assert.ok(e.message.includes('libtensorflow.so.2: cannot open shared object file'), e.message);
    assert.ok(e.message.includes('npm install @tensorflow/tfjs-node'), e.message);
  });

  // Both broken: both reasons are given.
  const both = await selectBackend('auto', 'image', fakeLoader({ [NODE_GPU]: throwsOnLoad('libcudart.so.11.0: not found'), [NODE]: throwsOnLoad(err) }));
  assert.equal(both.name, 'wasm');
  assert.ok(both.reason.includes(`${NODE_GPU} is installed but failed to load: libcudart.so.11.0: not found`), both.reason);
  assert.ok(both.reason.includes(`${NODE} is installed but failed to load`), both.reason);
});

test('(c) a real package folder whose module throws, found through nodeLoader', async () => {
  const dir = tmpDir();
  const pkg = path.join(dir, 'node_modules', '@tensorflow', 'tfjs-node');
  fs.mkdirSync(pkg, { recursive: true });
  fs.writeFileSync(path.join(pkg, 'package.json'), JSON.stringify({ name: NODE, version: '4.22.0', main: 'index.js' }));
  fs.writeFileSync(path.join(pkg, 'index.js'), "throw new Error('The specified module could not be found: tfjs_binding.node');\n");
  const loader = nodeLoader([dir]);
  assert.throws(() => loader.load(NODE), /tfjs_binding\.node/);
  assert.equal(loader.load(NODE_GPU), undefined, 'not installed: undefined, not an error');
  const r = await selectBackend('auto', 'image', loader);
  assert.equal(r.name, 'wasm');
  assert.match(r.reason, /@tensorflow\/tfjs-node is installed but failed to load: The specified module could not be found/);

  // An installed package whose own dependency is missing is broken, not absent.
  fs.writeFileSync(path.join(pkg, 'index.js'), "require('@tensorflow/not-a-real-dependency');\n");
  assert.throws(() => loader.load(NODE), /not-a-real-dependency/);
  await rejectsWith(selectBackend('tensorflow', 'image', loader), (e) => assert.match(e.message, /not-a-real-dependency/));
  // And the real loader finds the wasm package that is installed.
  assert.ok(nodeLoader().load(WASM));
});

test('(d) an installed tfjs-node: auto chooses tensorflow and names the package', async () => {
  const loader = fakeLoader({ [NODE]: registersTensorflow });
  const r = await selectBackend('auto', 'image', loader);
  assert.equal(r.name, 'tensorflow');
  assert.equal(r.package, NODE);
  assert.ok(r.reason.includes(NODE), r.reason);
  assert.match(r.reason, /on the CPU/);
  assert.equal(tf.getBackend(), 'tensorflow');
  assert.ok(!loader.calls.includes(WASM), 'wasm is not loaded when native TensorFlow is used');
  // Forcing it works the same way.
  removeTensorflow();
  const f = await selectBackend('tensorflow', 'points', fakeLoader({ [NODE]: registersTensorflow }));
  assert.equal(f.name, 'tensorflow');
  assert.equal(tf.getBackend(), 'tensorflow');
});

test('(d) tfjs-node-gpu is preferred over tfjs-node, and the reason mentions CUDA', async () => {
  const loader = fakeLoader({ [NODE_GPU]: registersTensorflow, [NODE]: registersTensorflow });
  const r = await selectBackend('auto', 'image', loader);
  assert.equal(r.name, 'tensorflow');
  assert.equal(r.package, NODE_GPU);
  assert.ok(r.reason.includes(NODE_GPU), r.reason);
  assert.match(r.reason, /CUDA/);
  assert.equal(tf.getBackend(), 'tensorflow');
  assert.deepEqual(loader.calls, [NODE_GPU], 'the CPU package is not even loaded');
});

test('(d) a broken tfjs-node-gpu with a working tfjs-node gives native TensorFlow on the CPU', async () => {
  const r = await selectBackend('auto', 'image', fakeLoader({ [NODE_GPU]: throwsOnLoad('libcudnn.so.8: cannot open shared object file'), [NODE]: registersTensorflow }));
  assert.equal(r.name, 'tensorflow');
  assert.equal(r.package, NODE);
  assert.match(r.reason, /on the CPU/);
  assert.equal(tf.getBackend(), 'tensorflow');
});

test('(e) a package that loads but registers no tensorflow backend: version mismatch', async () => {
  const nothing = () => ({});
  const r = await selectBackend('auto', 'image', fakeLoader({ [NODE]: nothing }));
  assert.equal(r.name, 'wasm');
  assert.equal(tf.getBackend(), 'wasm');
  assert.ok(r.reason.includes(`${NODE} loaded but registered no 'tensorflow' backend`), r.reason);
  assert.match(r.reason, /matching version/);
  assert.ok(r.reason.includes(`${NODE}@${tf.version.tfjs}`), r.reason);
  await rejectsWith(selectBackend('tensorflow', 'image', fakeLoader({ [NODE_GPU]: nothing })), (e) => {
    assert.match(e.message, /registered no 'tensorflow' backend/);
    assert.ok(e.message.includes(`${NODE_GPU}@${tf.version.tfjs}`), e.message);
    assert.ok(e.message.includes(tf.version.tfjs), e.message);
  });
  assert.equal(tf.findBackendFactory('tensorflow'), null);
});

/** A package that registers a 'tensorflow' backend whose start fails (e.g. CUDA libraries missing at init). */
function registersFailingTensorflow(): unknown {
  if (!tf.findBackendFactory('tensorflow')) {
    tf.registerBackend('tensorflow', () => { throw new Error('Could not load dynamic library libcudart.so.11.0'); });
  }
  return {};
}

/** TF.js logs a failed backend start with console.warn and a stack; keep the test output readable. */
async function quietly<T>(f: () => Promise<T>): Promise<T> {
  const warn = console.warn;
  console.warn = () => {};
  try {
    return await f();
  } finally {
    console.warn = warn;
  }
}

test('(d) forced tensorflow whose backend fails to start: a BackendError', async () => {
  await rejectsWith(quietly(() => selectBackend('tensorflow', 'image', fakeLoader({ [NODE_GPU]: registersFailingTensorflow }))), (e) => {
    assert.match(e.message, /tensorflow backend failed to (initialise|start)/);
  });
});

test('(d) auto whose native backend fails to start falls back to wasm and says why', async () => {
  // `auto` promises native TensorFlow if it works, else wasm (as it does for a package that fails to load).
  let result: Awaited<ReturnType<typeof selectBackend>> | undefined;
  let error: unknown;
  try {
    result = await quietly(() => selectBackend('auto', 'image', fakeLoader({ [NODE_GPU]: registersFailingTensorflow })));
  } catch (err) {
    error = err;
  }
  assert.equal(error, undefined, `auto threw instead of falling back to wasm: ${String(error)}; tf.getBackend() is now '${tf.getBackend()}'`);
  assert.equal(result!.name, 'wasm');
  assert.equal(tf.getBackend(), 'wasm');
  assert.match(result!.reason, /tensorflow/i);
  assert.match(result!.reason, /fail/);
});

test('(f) forced cpu: refused for images (slow, and a wrong upsampling gradient), fine for 2D points', async () => {
  await assert.rejects(selectBackend('cpu', 'image', fakeLoader({ [NODE]: registersTensorflow })), (e: Error) =>
    e instanceof BackendError && /2D toys only/.test(e.message) && /--backend wasm/.test(e.message));
  assert.equal(tf.findBackendFactory('tensorflow'), null, 'forced cpu does not even load the native package');
  const pts = await selectBackend('cpu', 'points', fakeLoader({}));
  assert.equal(pts.name, 'cpu');
  assert.doesNotMatch(pts.reason, /slow/);
  // The cpu backend works (and printed no install banner: firstUse is off).
  const s = tf.tidy(() => tf.tensor1d([1, 2, 3]).sum().dataSync()[0]);
  assert.equal(s, 6);
  assert.equal((tf.backend() as unknown as { firstUse?: boolean }).firstUse, false);
});

test('forced wasm, and a missing wasm package', async () => {
  const r = await selectBackend('wasm', 'image', fakeLoader({ [NODE]: registersTensorflow }));
  assert.equal(r.name, 'wasm');
  assert.match(r.reason, /forced/);
  assert.equal(tf.getBackend(), 'wasm');
  assert.equal(tf.findBackendFactory('tensorflow'), null, 'forced wasm does not load the native package');

  await rejectsWith(selectBackend('wasm', 'image', fakeLoader({}, { wasm: 'missing' })), (e) => assert.match(e.message, /tfjs-backend-wasm is not installed.*npm install/));
  await rejectsWith(selectBackend('auto', 'image', fakeLoader({}, { wasm: 'missing' })), (e) => assert.match(e.message, /tfjs-backend-wasm is not installed/));
  // For 2D points, auto falls back to pure-JS cpu and says why.
  const pts = await selectBackend('auto', 'points', fakeLoader({}, { wasm: 'missing' }));
  assert.equal(pts.name, 'cpu');
  assert.equal(tf.getBackend(), 'cpu');
  assert.match(pts.reason, /wasm backend failed.*not installed/);
  assert.match(pts.reason, /2D toys/);
});

test('(g) an unknown request lists the choices', async () => {
  for (const bad of ['gpu', 'webgl', 'TensorFlow', '']) {
    await rejectsWith(selectBackend(bad as BackendRequest, 'image', fakeLoader({})), (e) => {
      assert.ok(e.message.includes(`Unknown backend '${bad}'`), e.message);
      for (const choice of BACKEND_REQUESTS) assert.ok(e.message.includes(choice), `${choice} in ${e.message}`);
    });
  }
  assert.deepEqual([...BACKEND_REQUESTS], ['auto', 'tensorflow', 'wasm', 'cpu']);
});
