/** Data parallelism over worker_threads: see pool.ts. */
export { ParallelPool, ParallelError, defaultWorkers, resolveHelperScript, sumSquares, totalSize, type PoolOptions } from './pool';
export { ParallelScore, type AsyncScoreFunction } from './score';
