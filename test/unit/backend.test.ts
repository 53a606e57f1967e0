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
import { selectBackend, nodeLoader, nativeSearchPaths, BackendError, BACKEND_REQUESTS, type ModuleLoader, type BackendRequest } from '../../server/engine/backend';
import { BACKEND_REQUESTS as PROTOCOL_BACKENDS } from '../../protocol/protocol';
import { explainInstallFailure, npmInstallArgs, removePartialInstall, runNpmInstall, NATIVE_TFJS_VERSION } from '../../extension/nativeBackend';
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
  assert.deepEqual([...BACKEND_REQUESTS], ['auto', 'tensorflow', 'wasm', 'webgpu', 'cpu']);
  // The protocol's list (what the extension and the server accept) is the engine's.
  assert.deepEqual([...PROTOCOL_BACKENDS], [...BACKEND_REQUESTS]);
});

test('webgpu: never chosen by auto; forced but missing or broken, a BackendError that says how to install it', async () => {
  // auto does not even look for it (test/unit/webgpu.test.ts runs the real one).
  const loader = fakeLoader({ webgpu: () => { throw new Error('auto must not load webgpu'); } });
  assert.equal((await selectBackend('auto', 'image', loader)).name, 'wasm');
  assert.ok(!loader.calls.includes('webgpu'));
  const before = tf.getBackend();
  await rejectsWith(selectBackend('webgpu', 'image', fakeLoader({})), (e) => {
    assert.match(e.message, /needs the npm packages webgpu \(Dawn for Node\) and @tensorflow\/tfjs-backend-webgpu/);
    assert.ok(e.message.includes('Install Native Backend'), e.message);
    assert.ok(e.message.includes('npm install webgpu@0.6.2 @tensorflow/tfjs-backend-webgpu@4.22.0'), e.message);
    assert.match(e.message, /--backend wasm/);
  });
  await rejectsWith(selectBackend('webgpu', 'image', fakeLoader({ webgpu: throwsOnLoad('dawn.node: GLIBC_2.38 not found\n    at Module') })), (e) => {
    assert.ok(e.message.includes('webgpu package (Dawn for Node) is installed but failed to load: dawn.node: GLIBC_2.38 not found'), e.message);
    assert.ok(!e.message.includes('at Module'));
  });
  // Dawn present, but no adapter (no GPU driver): says what to install.
  const noAdapter = { create: () => ({ requestAdapter: async () => null }), globals: {} };
  await rejectsWith(selectBackend('webgpu', 'image', fakeLoader({ webgpu: () => noAdapter })), (e) => {
    assert.match(e.message, /WebGPU found no adapter/);
    assert.match(e.message, /Vulkan/);
    assert.match(e.message, /--backend wasm/);
  });
  assert.equal(tf.getBackend(), before, 'a failed selection leaves the backend as it was');
});

// ---- The folder "High Score: Install Native Backend" installs into (HIGHSCORE_NATIVE_PATH) ----

/** A package folder under DIR/node_modules whose index.js is `body`. */
function writePackage(dir: string, name: string, body: string): void {
  const pkg = path.join(dir, 'node_modules', ...name.split('/'));
  fs.mkdirSync(pkg, { recursive: true });
  fs.writeFileSync(path.join(pkg, 'package.json'), JSON.stringify({ name, version: '4.22.0', main: 'index.js' }));
  fs.writeFileSync(path.join(pkg, 'index.js'), body);
}

/** What tfjs-node's index does, with this test's tfjs (TF.js keeps its backend registry process-global). */
function registeringBody(): string {
  const core = require.resolve('@tensorflow/tfjs-core');
  const cpu = require.resolve('@tensorflow/tfjs-backend-cpu');
  return `const tf = require(${JSON.stringify(core)}); const { MathBackendCPU } = require(${JSON.stringify(cpu)});\n` +
    "if (!tf.findBackendFactory('tensorflow')) tf.registerBackend('tensorflow', () => new MathBackendCPU());\n";
}

async function withNativePath<T>(value: string | undefined, f: () => Promise<T>): Promise<T> {
  const saved = process.env.HIGHSCORE_NATIVE_PATH;
  if (value === undefined) delete process.env.HIGHSCORE_NATIVE_PATH;
  else process.env.HIGHSCORE_NATIVE_PATH = value;
  try {
    return await f();
  } finally {
    if (saved === undefined) delete process.env.HIGHSCORE_NATIVE_PATH;
    else process.env.HIGHSCORE_NATIVE_PATH = saved;
  }
}

test('HIGHSCORE_NATIVE_PATH: folders split by the path delimiter, empty entries dropped', () => {
  assert.deepEqual(nativeSearchPaths({}), []);
  assert.deepEqual(nativeSearchPaths({ HIGHSCORE_NATIVE_PATH: '' }), []);
  assert.deepEqual(nativeSearchPaths({ HIGHSCORE_NATIVE_PATH: ['/a', '', ' /b '].join(path.delimiter) }), ['/a', '/b']);
});

test('native backend in the HIGHSCORE_NATIVE_PATH folder: present, absent, failing to load, forced but missing', async () => {
  // Present: the default loader (no loader passed) finds it there, and auto chooses it.
  const present = tmpDir();
  writePackage(present, NODE, registeringBody());
  const r = await withNativePath(present, () => selectBackend('auto', 'image'));
  assert.equal(r.name, 'tensorflow');
  assert.equal(r.package, NODE);
  assert.equal(tf.getBackend(), 'tensorflow');
  removeTensorflow();

  // Absent: an empty folder (what a cancelled or failed install leaves): wasm, and it says none is installed.
  const empty = tmpDir();
  const a = await withNativePath(empty, () => selectBackend('auto', 'image'));
  assert.equal(a.name, 'wasm');
  assert.match(a.reason, /no @tensorflow\/tfjs-node installed/);

  // Failing to load (a binding that cannot find libtensorflow): wasm, with the reason.
  const broken = tmpDir();
  writePackage(broken, NODE_GPU, "throw new Error('libtensorflow.so.2: cannot open shared object file');\n");
  const b = await withNativePath(broken, () => selectBackend('auto', 'image'));
  assert.equal(b.name, 'wasm');
  assert.equal(tf.getBackend(), 'wasm');
  assert.ok(b.reason.includes(`${NODE_GPU} is installed but failed to load: libtensorflow.so.2`), b.reason);

  // Forced but missing: a BackendError that says how to install it; the backend stays as it was.
  await rejectsWith(withNativePath(empty, () => selectBackend('tensorflow', 'image')), (e) => {
    assert.match(e.message, /neither @tensorflow\/tfjs-node-gpu nor @tensorflow\/tfjs-node is installed/);
  });
  assert.equal(tf.getBackend(), 'wasm');
  // Forced and failing to load: the load error is named.
  await rejectsWith(withNativePath(broken, () => selectBackend('tensorflow', 'image')), (e) => assert.match(e.message, /libtensorflow\.so\.2/));
});

test('Install Native Backend: npm arguments and plain-words failures', async () => {
  assert.deepEqual(npmInstallArgs(NODE_GPU, '/gs').slice(0, 4), ['install', `${NODE_GPU}@${NATIVE_TFJS_VERSION}`, '--prefix', '/gs']);
  assert.equal(NATIVE_TFJS_VERSION, tf.version.tfjs, 'the native package matches the bundled tfjs');
  const fail = (output: string, extra: object = {}) => explainInstallFailure(NODE, { ok: false, cancelled: false, code: 1, output, ...extra });
  assert.match(fail('npm ERR! code ENOTFOUND\nnpm ERR! getaddrinfo ENOTFOUND registry.npmjs.org'), /No network connection.*libtensorflow.*Google's storage/s);
  assert.match(fail("* Downloading libtensorflow\nError: connect ETIMEDOUT 142.250.0.1:443"), /No network connection/);
  assert.match(fail('Error: 403 Forbidden https://storage.googleapis.com/tensorflow/libtensorflow/x.tar.gz'), /could not fetch libtensorflow/);
  assert.match(fail('npm ERR! nospc ENOSPC: no space left on device'), /disk is full/);
  assert.match(fail('npm ERR! Error: EACCES: permission denied, mkdir'), /permission denied/);
  assert.match(fail('gyp ERR! build error'), /building one failed/);
  assert.match(explainInstallFailure(NODE_GPU, { ok: false, cancelled: false, code: 1, output: 'gyp ERR! stack' }), /CUDA 11\.2 and cuDNN 8\.1/);
  assert.match(fail('something else'), /npm exited with code 1/);
  assert.match(fail('', { cancelled: true }), /cancelled/);
  assert.match(fail('', { spawnError: 'spawn npm ENOENT', code: null }), /npm could not be started.*PATH/s);
  // WebGPU: Dawn and TF.js's WebGPU backend in one install; no libtensorflow involved.
  assert.deepEqual(npmInstallArgs('webgpu', '/gs').slice(0, 5), ['install', 'webgpu@0.6.2', `@tensorflow/tfjs-backend-webgpu@${NATIVE_TFJS_VERSION}`, '--prefix', '/gs']);
  const offline = explainInstallFailure('webgpu', { ok: false, cancelled: false, code: 1, output: 'npm ERR! code EAI_AGAIN' });
  assert.match(offline, /No network connection: webgpu \(Dawn for Node/);
  assert.ok(!offline.includes('libtensorflow'));

  // The runner: a stand-in npm that fails like an offline machine; its lines stream, the failure is explained.
  const dir = tmpDir();
  const fake = path.join(dir, 'npm');
  fs.writeFileSync(fake, '#!/bin/sh\necho "npm http fetch GET https://registry.npmjs.org/@tensorflow%2ftfjs-node"\necho "npm ERR! code EAI_AGAIN" >&2\nexit 1\n', { mode: 0o755 });
  const lines: string[] = [];
  const outcome = await runNpmInstall(NODE, path.join(dir, 'gs'), (l) => lines.push(l), undefined, fake);
  assert.equal(outcome.ok, false);
  assert.equal(outcome.code, 1);
  assert.equal(lines.length, 2);
  assert.match(explainInstallFailure(NODE, outcome), /No network connection/);
  const missing = await runNpmInstall(NODE, path.join(dir, 'gs'), () => undefined, undefined, path.join(dir, 'no-such-npm'));
  assert.ok(missing.spawnError, 'a missing npm is a spawn error');
  // A half-installed package is removed, so the backend does not keep reporting it.
  writePackage(path.join(dir, 'gs'), NODE, '');
  removePartialInstall(path.join(dir, 'gs'), NODE);
  assert.equal(fs.existsSync(path.join(dir, 'gs', 'node_modules', '@tensorflow', 'tfjs-node')), false);
  writePackage(path.join(dir, 'gs'), 'webgpu', '');
  writePackage(path.join(dir, 'gs'), '@tensorflow/tfjs-backend-webgpu', '');
  removePartialInstall(path.join(dir, 'gs'), 'webgpu');
  assert.deepEqual(fs.readdirSync(path.join(dir, 'gs', 'node_modules')).filter((n) => n === 'webgpu'), []);
  assert.equal(fs.existsSync(path.join(dir, 'gs', 'node_modules', '@tensorflow', 'tfjs-backend-webgpu')), false);
});
