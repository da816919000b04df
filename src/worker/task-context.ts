// What tasks need from the process that runs them: where mirrors live, the shared blob cache, the
// search time budget. Built once per worker process (src/worker/start-worker.ts).
import type pg from 'pg';
import type { TreeCache } from '../git/tree-cache.ts';
import type { BlobCountCache } from '../search/blob-count-cache.ts';

export interface TaskContext {
  pool: pg.Pool;
  dataDir: string;
  cache: BlobCountCache;
  trees: TreeCache;
  /** Longest one repository may be searched for one recording (or one backfill page). */
  searchTimeoutMs: number;
  /** This process's id in worker_processes (shown as the worker of a backfill job). */
  workerId: string;
  /** How long a backfill step works before re-queueing itself. */
  backfillBudgetMs: number;
  backfillPageSize: number;
  maxSamples: number;
}
