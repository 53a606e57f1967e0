#!/usr/bin/env node
// Bundles with esbuild. TF.js and the dataset package stay external: they are loaded from
// node_modules at run time (the wasm backend finds its .wasm files beside its own module).
import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

const root = fileURLToPath(new URL('..', import.meta.url));
const external = ['@tensorflow/*', 'mnist', 'pngjs', 'vscode'];
const common = { bundle: true, platform: 'node', target: 'node20', format: 'cjs', sourcemap: true, external, logLevel: 'warning' };

await Promise.all([
  build({ ...common, entryPoints: [join(root, 'server/cli/main.ts')], outfile: join(root, 'dist/cli.js') }),
  build({ ...common, entryPoints: [join(root, 'bench/bench.ts')], outfile: join(root, 'dist/bench.js') }),
  // The backend server (vscode-languageserver bundled in) and its job worker, which the server starts
  // from the file beside itself (dist/worker.js).
  build({ ...common, entryPoints: [join(root, 'server/lsp/main.ts')], outfile: join(root, 'dist/server.js') }),
  build({ ...common, entryPoints: [join(root, 'server/lsp/worker.ts')], outfile: join(root, 'dist/worker.js') }),
]);
