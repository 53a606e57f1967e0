/**
 * Mocha's TDD functions for the tests in the extension host, typed here instead of through
 * @types/mocha: its global `describe`/`it`/`test` would otherwise type-check in the node:test suites
 * compiled by the same tsconfig (where they do not exist at run time). Mocha's module exports these
 * bound to the file it is loading (index.ts loads the same module).
 */
export interface Context {
  timeout(ms: number): void;
}
export type Body = (this: Context) => void | Promise<void>;

interface Tdd {
  suite(title: string, fn: () => void): void;
  test(title: string, fn: Body): void;
  suiteSetup(fn: Body): void;
  suiteTeardown(fn: Body): void;
}

// A plain require: no @types/mocha in the program.
const mocha = require('mocha') as Tdd;
export const suite: Tdd['suite'] = (title, fn) => mocha.suite(title, fn);
export const test: Tdd['test'] = (title, fn) => mocha.test(title, fn);
export const suiteSetup: Tdd['suiteSetup'] = (fn) => mocha.suiteSetup(fn);
export const suiteTeardown: Tdd['suiteTeardown'] = (fn) => mocha.suiteTeardown(fn);
