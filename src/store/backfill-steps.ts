// What the backfill tasks ask the database: plan a backfill, begin a step, its next move, record a
// page. The rules (error limit, attempts per repository, cancel, finish, yield) are decided by the
// SQL functions (insights_core.backfill_next_move); the task only searches.
import type pg from 'pg';
import type { Queryable } from './queryable.ts';

/** First key of the advisory locks that guard backfills (the second is the backfill id). */
const LOCK_NAMESPACE = 7263;

export interface BackfillToPlan {
  state: string;
  /** insight_series.id */
  series_id: number;
  query: string;
  generated_from_capture_groups: boolean;
}

export async function backfillToPlan(db: Queryable, backfillId: number): Promise<BackfillToPlan | undefined> {
  const { rows } = await db.query<BackfillToPlan>(
    `select b.state, s.id as series_id, s.query, s.generated_from_capture_groups
       from insight_series_backfill b join insight_series s on s.id = b.series_id where b.id = $1`,
    [backfillId],
  );
  return rows[0];
}

/** Plans a new backfill (scope, sample times, iterator, cost) and queues its first step. */
export async function planBackfill(
  db: Queryable,
  backfillId: number,
  complexity: number,
  maxSamples: number,
): Promise<number> {
  const { rows } = await db.query<{ estimated_cost: number }>('select * from insights_core.backfill_plan($1, $2, $3)', [
    backfillId,
    complexity,
    maxSamples,
  ]);
  return rows[0]!.estimated_cost;
}

/** Fails a backfill that cannot run at all (its query no longer parses). */
export async function failBackfill(db: Queryable, backfillId: number, message: string): Promise<void> {
  await db.query('select insights_core.backfill_fail($1, $2)', [backfillId, message]);
}

/**
 * Takes the backfill's session advisory lock on this client (a client, not the pool: the unlock must
 * run on the same session); false when another worker holds it.
 */
export async function tryLockBackfill(client: pg.ClientBase, backfillId: number): Promise<boolean> {
  const { rows } = await client.query<{ ok: boolean }>('select pg_try_advisory_lock($1, $2) as ok', [
    LOCK_NAMESPACE,
    backfillId,
  ]);
  return rows[0]!.ok;
}

export async function unlockBackfill(client: pg.ClientBase, backfillId: number): Promise<void> {
  await client.query('select pg_advisory_unlock($1, $2)', [LOCK_NAMESPACE, backfillId]);
}

export interface BackfillStep {
  /** 'claimed', or why there is nothing to do: missing, new, completed, failed, stopped. */
  state: string;
  series_id: number | null;
  query: string | null;
  capture_groups: boolean | null;
  sample_times: Date[] | null;
}

export async function beginBackfillStep(db: Queryable, backfillId: number, workerId: string): Promise<BackfillStep> {
  const { rows } = await db.query<BackfillStep>('select * from insights_core.backfill_step_begin($1, $2)', [
    backfillId,
    workerId,
  ]);
  return rows[0]!;
}

export type BackfillMove =
  | { move: 'page' | 'retry'; repo_ids: number[]; new_cursor: number; detail: null }
  | { move: 'yield' | 'canceled' | 'completed' | 'failed'; repo_ids: null; new_cursor: null; detail: string };

/** The next move of a step (insights_core.backfill_next_move): search a page, or stop and why. */
export async function nextBackfillMove(
  db: Queryable,
  step: { backfillId: number; pageSize: number; budgetSpent: boolean; pagesDone: number },
): Promise<BackfillMove> {
  const { rows } = await db.query<BackfillMove>('select * from insights_core.backfill_next_move($1, $2, $3, $4)', [
    step.backfillId,
    step.pageSize,
    step.budgetSpent,
    step.pagesDone,
  ]);
  return rows[0]!;
}

export interface BackfillPoint {
  time: string;
  repo_id: number;
  value: number;
  capture?: string;
}

export interface BackfillFailure {
  repo_id: number;
  message: string;
  reason: 'timeout' | 'generic';
}

/** A point recorded but not whole: a capture-group sample that kept only its most frequent values. */
export interface BackfillIncompletePoint {
  time: string;
  repo_id: number;
  reason: 'capture-limit';
}

/** Commits a page: its points, incomplete points, failures and the iterator's progress, in one transaction. */
export async function recordBackfillPage(
  db: Queryable,
  page: {
    backfillId: number;
    newCursor: number;
    points: BackfillPoint[];
    succeeded: number[];
    failures: BackfillFailure[];
    incomplete: BackfillIncompletePoint[];
    runtimeMs: number;
    log: string;
  },
): Promise<void> {
  await db.query('select insights_core.backfill_record_page($1, $2, $3, $4, $5, $6, $7, $8)', [
    page.backfillId,
    page.newCursor,
    JSON.stringify(page.points),
    page.succeeded,
    JSON.stringify(page.failures),
    page.runtimeMs,
    page.log,
    JSON.stringify(page.incomplete),
  ]);
}

/** Records that a step failed (its job is retried by Graphile Worker). */
export async function recordBackfillStepFailure(db: Queryable, backfillId: number, message: string): Promise<void> {
  await db.query('select insights_core.backfill_step_failed($1, $2)', [backfillId, message]);
}

/** Puts the backfill back in the queue for its next step, at the priority of its cost bucket. */
export async function yieldBackfill(db: Queryable, backfillId: number): Promise<void> {
  await db.query('select insights_core.backfill_yield($1)', [backfillId]);
}
