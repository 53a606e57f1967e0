#!/usr/bin/env node
// `npm start`: opens the product. Builds, prepares the demo workspace .highscore-demo/, then
//  - where `code` is on PATH (and HS_START is not `code-server`): VS Code with this folder as the
//    extension under development (--extensionDevelopmentPath) and the demo workspace;
//  - otherwise: code-server (installed by scripts/setup-vscode.sh) on 127.0.0.1 (port 8080 when free,
//    else a free one; --port N to choose) with the extension linked in and the demo workspace open.
//    It prints the URL and runs until Ctrl-C. Its profile stays in .tools/start-profile.
// `npm run demo` is the command-line demo (schedule, a short MNIST run, a sample grid).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname.replace(/\/$/, '');
const require = createRequire(import.meta.url);
const args = process.argv.slice(2);
const pi = args.indexOf('--port');
const port = pi >= 0 ? Number(args[pi + 1]) : 8080;

function run(cmd, argv, what) {
  const r = spawnSync(cmd, argv, { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) {
    console.error(`npm start: ${what} failed (exit ${r.status ?? r.signal})`);
    process.exit(1);
  }
}

run(process.execPath, [join(root, 'scripts/build.mjs')], 'the build');
// tsc's output holds the code-server helper (test/support/codeServer.ts), shared with the tests.
// A type error elsewhere in the tree still emits it, so only a missing file stops the start.
spawnSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', '.'], { cwd: root, stdio: 'ignore' });
if (!existsSync(join(root, 'out/test/support/codeServer.js'))) {
  console.error('npm start: tsc did not write out/test/support/codeServer.js; run `npx tsc -p .` to see why');
  process.exit(1);
}

const demo = join(root, '.highscore-demo');
mkdirSync(demo, { recursive: true });
writeFileSync(join(demo, 'README.md'), `# High Score demo workspace

Runs you start here are kept in \`.highscore/runs/\` of this folder.

Things to try (F1 opens the command palette):

1. **High Score: Train…** → \`toy:mixture\` → \`mlp\` → Enter: a 2D toy trains in about a minute; the
   dashboard shows the loss, the loss per noise level and samples as points.
2. **High Score: Show Noise Schedule…** → \`mnist\`: the geometric noise ladder from the data
   (sigma_1 from the largest pairwise distance, the overlap rule, the step size eps).
3. **High Score: Train…** → \`mnist\` → \`small\`: digits; samples appear every few hundred steps
   (about 25 minutes for recognisable digits on a laptop CPU).
4. The **High Score** view in the activity bar lists the runs: open a run's dashboard, stop, resume,
   sample from it, reveal its folder.
5. **High Score: Sample…** on a finished run: annealed Langevin dynamics, level by level.
`);

const hasCode = process.env.HS_START !== 'code-server' && spawnSync('sh', ['-c', 'command -v code'], { encoding: 'utf8' }).status === 0;
if (hasCode) {
  console.log(`npm start: opening VS Code with the extension from ${root} and the workspace ${demo}`);
  const r = spawnSync('code', [`--extensionDevelopmentPath=${root}`, demo], { stdio: 'inherit' });
  process.exit(r.status ?? 1);
}

const cs = require(join(root, 'out/test/support/codeServer.js'));
if (!cs.codeServerInstalled()) run('bash', [join(root, 'scripts/setup-vscode.sh')], 'scripts/setup-vscode.sh');
const profile = join(root, '.tools', 'start-profile');
const server = await cs.startCodeServer({
  preferredPort: port,
  dir: profile,
  link: { [cs.extensionFolderName()]: root },
  settings: { 'workbench.startupEditor': 'readme' }, // the demo's README says what to try
});
const url = server.workbenchUrl(demo);
console.log(`\nHigh Score is running in VS Code (code-server) at\n\n  ${url}\n\nOpen it in a browser on this machine. Ctrl-C stops it.`);
if (port !== server.port) console.log(`(port ${port} was busy; using ${server.port})`);
let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  console.log('\nnpm start: stopping code-server');
  await server.stop(true);
  process.exit(0);
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
// Keep running while code-server does.
const child = spawn('sh', ['-c', `while kill -0 ${server.pid} 2>/dev/null; do sleep 2; done`], { stdio: 'ignore' });
child.on('exit', () => { if (!stopping) { console.error('npm start: code-server exited'); process.exit(1); } });
