/**
 * `highscore`: the engine from a terminal.
 *   highscore schedule --data SPEC [--sigma-min 0.01] [--steps-per-level T] [--json]
 *   highscore train --data SPEC --out RUNDIR [--steps N] [--batch B] [--preset NAME] [--seed S] [--backend NAME] [--resume]
 *   highscore sample --run RUNDIR --n N --out FILE [--json]
 *   highscore inpaint --run RUNDIR --image PNG --mask PNG --out FILE
 *   highscore vary --run RUNDIR --index I --level K --n N --out FILE
 *   highscore info RUNDIR
 */
import { parseArgs } from 'util';
import * as fs from 'fs';
import * as path from 'path';
import { runCommand, CliError, USAGE } from './commands';

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (!command || command === '--help' || command === '-h' || command === 'help') {
    process.stdout.write(USAGE);
    return command ? 0 : 2;
  }
  if (command === '--version') {
    const pkg = JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'package.json'), 'utf8')) as { version: string };
    process.stdout.write(pkg.version + '\n');
    return 0;
  }
  return runCommand(command, rest, parseArgs);
}

main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code; },
  (err: unknown) => {
    const e = err as Error;
    process.stderr.write(`highscore: ${e?.message ?? String(err)}\n`);
    if (process.env.HS_DEBUG) process.stderr.write(`${e?.stack}\n`);
    process.exitCode = e instanceof CliError ? e.exitCode : 1;
  },
);
