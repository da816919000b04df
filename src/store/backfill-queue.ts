// The history backfills as operators see and steer them: their progress (the backfill_status view)
// and the queue operations of the core. One function per operation, each naming its core function:
// callers map their words to these, never a string to a function name.
import type { Queryable } from './queryable.ts';

export interface BackfillStatus {
  backfill_id: number;
  insight_series_id: number;
  series_id: string;
  query: string;
  state: string;
  estimated_cost: number | null;
  cost_bucket: number | null;
  repositories: number | null;
  repositories_done: number;
  success_count: number | null;
  errors: number;
  /** numeric, 0.0 to 100.0: text, as pg returns it. */
  percent_complete: string;
  job_state: string | null;
  cancel: boolean | null;
  queued_at: Date | null;
  started_at: Date | null;
  finished_at: Date | null;
  last_heartbeat_at: Date | null;
  worker_hostname: string | null;
  num_resets: number | null;
  num_failures: number | null;
  failure_message: string | null;
}

/** The given backfills; with no ids, those not finished (every one when `all`). By id. */
export async function backfillStatus(db: Queryable, ids: number[], all: boolean): Promise<BackfillStatus[]> {
  const { rows } = await db.query<BackfillStatus>(
    `select * from backfill_status
      where (cardinality($1::int[]) > 0 and backfill_id = any($1::int[]))
         or (cardinality($1::int[]) = 0 and ($2 or state in ('new', 'processing')))
      order by backfill_id`,
    [ids, all],
  );
  return rows;
}

/** Restarts a backfill's repository iterator from the first repository (P0002 when there is none). */
export async function retryBackfill(db: Queryable, backfillId: number): Promise<void> {
  await db.query('select insights_core.backfill_retry($1)', [backfillId]);
}

/** Moves a backfill to the front of the queue (estimated cost 0). */
export async function moveBackfillToFront(db: Queryable, backfillId: number): Promise<void> {
  await db.query('select insights_core.backfill_move_to_front($1)', [backfillId]);
}

/** Moves a backfill to the back of the queue (a cost above every other). */
export async function moveBackfillToBack(db: Queryable, backfillId: number): Promise<void> {
  await db.query('select insights_core.backfill_move_to_back($1)', [backfillId]);
}

/** Asks a backfill to stop between pages (55000 when it is not running or queued). */
export async function cancelBackfill(db: Queryable, backfillId: number): Promise<void> {
  await db.query('select insights_core.backfill_cancel($1)', [backfillId]);
}
