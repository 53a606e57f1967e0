/**
 * Chooses the TF.js compute backend at start and says why.
 *
 *  - `tensorflow`: @tensorflow/tfjs-node-gpu, else @tensorflow/tfjs-node, when the user installed one
 *    (optional, loaded dynamically: their install downloads libtensorflow, which cannot happen offline);
 *  - `wasm`: the default, with the two conv-gradient kernels registered (wasmConvGrads.ts);
 *  - `webgpu`: @tensorflow/tfjs-backend-webgpu on Dawn for Node (the npm package `webgpu`), only when
 *    asked for (never chosen by `auto`): any GPU with a Vulkan, Metal or D3D12 driver, no CUDA pin;
 *  - `cpu`: pure JS, only fast enough for the 2D toys.
 */
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { registerWasmConvGradients } from './wasmConvGrads';

export type BackendName = 'tensorflow' | 'wasm' | 'webgpu' | 'cpu';
export type BackendRequest = BackendName | 'auto';
export const BACKEND_REQUESTS: readonly BackendRequest[] = ['auto', 'tensorflow', 'wasm', 'webgpu', 'cpu'];

export interface BackendReport {
  name: BackendName;
  /** One line for the user: what was chosen and why. */
  reason: string;
  /** The npm package that provides it. */
  package: string;
}

/** Raised when a requested backend cannot be used; the message says how to install or what to use instead. */
export class BackendError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BackendError';
  }
}

/** How modules are loaded; tests replace it to simulate installed, missing and broken packages. */
export interface ModuleLoader {
  /** Returns the module, `undefined` when it is not installed, or throws when it is installed but fails to load. */
  load(name: string): unknown;
}

const NATIVE_PACKAGES = ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node'] as const;

function isNotFound(err: unknown, name: string): boolean {
  const e = err as { code?: string; message?: string };
  return e?.code === 'MODULE_NOT_FOUND' && typeof e.message === 'string' && e.message.includes(`'${name}'`);
}

/**
 * Packages the bundles carry inside them: a literal require, which esbuild follows (the installed
 * extension has no node_modules), and which tsc's output resolves from node_modules as usual.
 */
const BUNDLED: Record<string, () => unknown> = {
  '@tensorflow/tfjs-backend-wasm': () => require('@tensorflow/tfjs-backend-wasm'),
};

/**
 * Extra folders to look for the native packages in: HIGHSCORE_NATIVE_PATH (folders separated by the
 * platform's path delimiter), which the extension sets to its global storage folder, where
 * "High Score: Install Native Backend" installs them (extension/nativeBackend.ts).
 */
export function nativeSearchPaths(env: NodeJS.ProcessEnv = process.env): string[] {
  return (env.HIGHSCORE_NATIVE_PATH ?? '').split(path.delimiter).map((p) => p.trim()).filter(Boolean);
}

/** Node's require, also searching extra folders (default: nativeSearchPaths(), where the extension installs). */
export function nodeLoader(extraPaths: string[] = nativeSearchPaths()): ModuleLoader {
  return {
    load(name: string): unknown {
      const bundled = BUNDLED[name];
      if (bundled) return bundled();
      let resolved: string;
      try {
        resolved = require.resolve(name, { paths: [...extraPaths, process.cwd(), __dirname] });
      } catch (err) {
        if (isNotFound(err, name)) return undefined;
        throw err;
      }
      return require(resolved);
    },
  };
}

const INSTALL_NATIVE =
  'Install it with `npm install @tensorflow/tfjs-node@4.22.0` (CPU) or `npm install @tensorflow/tfjs-node-gpu@4.22.0` ' +
  '(NVIDIA GPU with CUDA 11.2 and cuDNN 8.1) where High Score runs, or choose the wasm backend (--backend wasm).';

function tryNative(loader: ModuleLoader): { report?: BackendReport; problems: string[] } {
  const problems: string[] = [];
  for (const pkg of NATIVE_PACKAGES) {
    let mod: unknown;
    try {
      mod = loader.load(pkg);
    } catch (err) {
      problems.push(`${pkg} is installed but failed to load: ${(err as Error).message.split('\n')[0]}`);
      continue;
    }
    if (mod === undefined) continue;
    if (!tf.findBackendFactory('tensorflow')) {
      problems.push(`${pkg} loaded but registered no 'tensorflow' backend with this copy of @tensorflow/tfjs ` +
        `(${tf.version.tfjs}); install the matching version, ${pkg}@${tf.version.tfjs}`);
      continue;
    }
    const gpu = pkg.endsWith('-gpu');
    return {
      report: {
        name: 'tensorflow', package: pkg,
        reason: `${pkg} is installed: native TensorFlow${gpu ? ' with CUDA' : ' on the CPU'}`,
      },
      problems,
    };
  }
  return { problems };
}

const WEBGPU_PACKAGES = ['webgpu@0.6.2', '@tensorflow/tfjs-backend-webgpu@4.22.0'] as const;
const INSTALL_WEBGPU =
  `Install them with "High Score: Install Native Backend" (WebGPU) or \`npm install ${WEBGPU_PACKAGES.join(' ')}\` where High Score runs, ` +
  'or choose the wasm backend (--backend wasm).';

interface Dawn {
  create(flags: string[]): { requestAdapter(): Promise<{ info?: { vendor?: string; architecture?: string; description?: string } } | null> };
  globals: Record<string, unknown>;
}

/** The adapter found by the first successful loadWebGpu (the backend stays registered for the process). */
let webGpuAdapter: { adapter: string; software: boolean } | null = null;

/**
 * WebGPU in Node: Dawn's `navigator.gpu` and its constants made global (tfjs-backend-webgpu registers its
 * backend on import only when navigator.gpu exists), then the backend package. Returns the adapter's name.
 */
async function loadWebGpu(loader: ModuleLoader): Promise<{ adapter: string; software: boolean }> {
  if (webGpuAdapter && tf.findBackendFactory('webgpu')) return webGpuAdapter;
  let dawn: Dawn | undefined;
  try {
    dawn = loader.load('webgpu') as Dawn | undefined;
  } catch (err) {
    throw new BackendError(`The webgpu package (Dawn for Node) is installed but failed to load: ${(err as Error).message.split('\n')[0]}. ${INSTALL_WEBGPU}`);
  }
  if (!dawn) throw new BackendError(`The webgpu backend needs the npm packages webgpu (Dawn for Node) and @tensorflow/tfjs-backend-webgpu. ${INSTALL_WEBGPU}`);
  const gpu = dawn.create([]);
  const adapter = await gpu.requestAdapter();
  if (!adapter) {
    throw new BackendError('WebGPU found no adapter: no GPU with a Vulkan (Linux), Metal (macOS) or D3D12 (Windows) driver is visible to this process. ' +
      'Install the GPU driver (on Linux its Vulkan ICD, e.g. mesa-vulkan-drivers or the NVIDIA driver), or use --backend wasm.');
  }
  Object.assign(globalThis, dawn.globals);
  const g = globalThis as { navigator?: object };
  if (g.navigator) Object.defineProperty(g.navigator, 'gpu', { value: gpu, configurable: true });
  else Object.defineProperty(globalThis, 'navigator', { value: { gpu }, configurable: true, writable: true });
  let mod: unknown;
  // The package's own copy of tfjs-core (it shares this one's engine through globalThis) sets the
  // platform again on load and warns about it: expected here, so that one line is dropped.
  const warn = console.warn;
  console.warn = (...args: unknown[]) => {
    if (!String(args[0]).startsWith('Platform node has already been set')) warn(...args);
  };
  try {
    mod = loader.load('@tensorflow/tfjs-backend-webgpu');
  } catch (err) {
    throw new BackendError(`@tensorflow/tfjs-backend-webgpu is installed but failed to load: ${(err as Error).message.split('\n')[0]}. ${INSTALL_WEBGPU}`);
  } finally {
    console.warn = warn;
  }
  if (mod === undefined) throw new BackendError(`The webgpu backend needs @tensorflow/tfjs-backend-webgpu next to the webgpu package. ${INSTALL_WEBGPU}`);
  if (!tf.findBackendFactory('webgpu')) {
    throw new BackendError(`@tensorflow/tfjs-backend-webgpu loaded but registered no 'webgpu' backend with this copy of @tensorflow/tfjs (${tf.version.tfjs}); ` +
      `install the matching version, @tensorflow/tfjs-backend-webgpu@${tf.version.tfjs}.`);
  }
  const info = adapter.info ?? {};
  const software = info.architecture === 'software' || /llvmpipe|swiftshader|lavapipe/i.test(info.description ?? '');
  webGpuAdapter = { adapter: [info.description || info.vendor || 'unnamed adapter', info.architecture].filter(Boolean).join(', '), software };
  return webGpuAdapter;
}

async function activate(name: BackendName): Promise<void> {
  let ok: boolean;
  try {
    ok = await tf.setBackend(name);
  } catch (err) {
    throw new BackendError(`The ${name} backend failed to start: ${(err as Error).message}`);
  }
  // setBackend returns false when the backend's binary fails to load, while getBackend() may still say so.
  if (!ok || tf.getBackend() !== name) throw new BackendError(`The ${name} backend failed to initialise.`);
  await tf.ready();
}

async function activateCpu(): Promise<void> {
  await activate('cpu');
  // The cpu backend prints an install banner on first use in Node; the report above already says it.
  (tf.backend() as unknown as { firstUse?: boolean }).firstUse = false;
}

function loadWasm(loader: ModuleLoader): void {
  const mod = loader.load('@tensorflow/tfjs-backend-wasm');
  if (mod === undefined) {
    throw new BackendError('@tensorflow/tfjs-backend-wasm is not installed. Run `npm install` in the High Score folder.');
  }
}

/**
 * Selects, initialises and reports the backend. `auto` takes native TensorFlow if installed, else wasm
 * (also for the toys' MLPs: about 4x faster to train and 30x to sample than pure-JS cpu here); cpu is
 * the fallback for 2D toys only, since conv nets on it are hundreds of times slower.
 */
export async function selectBackend(
  request: BackendRequest = 'auto',
  workload: 'image' | 'points' = 'image',
  loader: ModuleLoader = nodeLoader(),
): Promise<BackendReport> {
  if (!BACKEND_REQUESTS.includes(request)) {
    throw new BackendError(`Unknown backend '${request}'. Choose one of: ${BACKEND_REQUESTS.join(', ')}.`);
  }
  if (request === 'tensorflow' || request === 'auto') {
    const native = tryNative(loader);
    if (native.report) {
      try {
        await activate('tensorflow');
        const skipped = native.problems.length ? ` (${native.problems.join('; ')})` : '';
        return { ...native.report, reason: native.report.reason + skipped };
      } catch (err) {
        // Loaded, but it cannot start (missing CUDA libraries, say): forget it and fall through.
        tf.removeBackend('tensorflow');
        native.problems.push(`${native.report.package} is installed but its backend failed to start: ${(err as Error).message}`);
      }
    }
    if (request === 'tensorflow') {
      const why = native.problems.length ? native.problems.join('; ') : 'neither @tensorflow/tfjs-node-gpu nor @tensorflow/tfjs-node is installed';
      throw new BackendError(`The tensorflow backend is not available: ${why}. ${INSTALL_NATIVE}`);
    }
    const nativeNote = native.problems.length ? ` (${native.problems.join('; ')})` : ' (no @tensorflow/tfjs-node installed)';
    try {
      loadWasm(loader);
      registerWasmConvGradients();
      await activate('wasm');
    } catch (err) {
      // Without wasm only the 2D toys remain practical, on pure-JS cpu.
      if (workload !== 'points') throw err;
      await activateCpu();
      return { name: 'cpu', package: '@tensorflow/tfjs', reason: `the wasm backend failed (${(err as Error).message}); pure-JS cpu is fast enough for 2D toys${nativeNote}` };
    }
    return { name: 'wasm', package: '@tensorflow/tfjs-backend-wasm', reason: `default: WebAssembly with SIMD and High Score's conv-gradient kernels${nativeNote}` };
  }
  if (request === 'webgpu') {
    const { adapter, software } = await loadWebGpu(loader);
    await activate('webgpu');
    const note = software ? ': a software renderer, correct but far slower than wasm (for checking the path, not for training)' : '';
    return { name: 'webgpu', package: '@tensorflow/tfjs-backend-webgpu', reason: `forced: WebGPU through Dawn on ${adapter}${note}` };
  }
  if (request === 'wasm') {
    loadWasm(loader);
    registerWasmConvGradients();
    await activate('wasm');
    return { name: 'wasm', package: '@tensorflow/tfjs-backend-wasm', reason: 'forced: WebAssembly with SIMD and High Score\'s conv-gradient kernels' };
  }
  if (workload === 'image') {
    throw new BackendError('The cpu backend is for the 2D toys only: conv nets train hundreds of times slower on it than on wasm, ' +
      'and tfjs-backend-cpu 4.22 computes a wrong upsampling gradient for batches above 1. Use --backend wasm (the default) or tensorflow.');
  }
  await activateCpu();
  return { name: 'cpu', package: '@tensorflow/tfjs', reason: 'forced: pure-JS cpu backend' };
}
