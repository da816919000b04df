// What /metrics and /healthz read about the job queue and the backfills.
import { sqlFile } from '../db/sql-file.ts';
import type { Queryable } from './queryable.ts';

export interface QueueJobCounts {
  runnable: number;
  locked: number;
  scheduled: number;
  failed: number;
}

/** Graphile Worker jobs by state (sql/queue_status.sql). */
export async function queueJobCounts(db: Queryable): Promise<QueueJobCounts> {
  const { rows } = await db.query<QueueJobCounts>(sqlFile('queue_status'));
  return rows[0]!;
}

export interface BackfillStateCount {
  state: string;
  count: number;
}

export async function backfillCountsByState(db: Queryable): Promise<BackfillStateCount[]> {
  const { rows } = await db.query<BackfillStateCount>(
    'select state, count(*)::int as count from insight_series_backfill group by state',
  );
  return rows;
}

export interface BackfillProgress {
  backfill_id: number;
  /** 0 to 100, as numeric text. */
  percent_complete: string;
}

/** The progress of every backfill that is not finished. */
export async function unfinishedBackfillProgress(db: Queryable): Promise<BackfillProgress[]> {
  const { rows } = await db.query<BackfillProgress>(
    `select backfill_id, percent_complete from backfill_status where state in ('new', 'processing')`,
  );
  return rows;
}
