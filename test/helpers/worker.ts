// A real Graphile Worker with the project's tasks, against a test database, stopped when the test ends.
import type { ExecutionContext } from 'ava';
import { createPool } from '../../src/db/pool.ts';
import { createLogger } from '../../src/logger.ts';
import { startWorker, type WorkerHandle } from '../../src/worker/start-worker.ts';
import { tempDir } from '../fixtures/git-repository.ts';

export interface TestWorkerOptions {
  searchTimeoutMs?: number;
  backfillBudgetMs?: number;
  backfillPageSize?: number;
  maxSamples?: number;
  dataDir?: string;
  concurrency?: number;
}

export async function startTestWorker(
  t: ExecutionContext,
  connectionString: string,
  options: TestWorkerOptions = {},
): Promise<WorkerHandle & { dataDir: string }> {
  // Quiet unless TEST_LOG_LEVEL asks (failing jobs are part of several tests).
  const level = process.env.TEST_LOG_LEVEL as 'info' | undefined;
  const logger = createLogger({ level: level ?? 'error', write: level ? undefined : () => {} });
  const pgPool = createPool({ connectionString, logger, max: 6 });
  const dataDir = options.dataDir ?? tempDir(t, 'code-insights-worker-');
  const worker = await startWorker({
    pgPool,
    concurrency: options.concurrency ?? 2,
    logger,
    pollIntervalMs: 200,
    dataDir,
    searchTimeoutMs: options.searchTimeoutMs ?? 30_000,
    backfill: {
      budgetMs: options.backfillBudgetMs ?? 60_000,
      pageSize: options.backfillPageSize ?? 10,
      maxSamples: options.maxSamples ?? 104,
    },
    // Faster than production (5 s / 15 s / 30 s), with room for a loaded CI machine.
    registry: { heartbeatMs: 1000, sweepMs: 2000, staleAfterSeconds: 15 },
  });
  t.teardown(async () => {
    await worker.stop();
    await pgPool.end();
  });
  return Object.assign(worker, { dataDir });
}
