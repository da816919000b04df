// What the benchmarks (bench/) ask the database beyond the stores the service uses: seeding,
// resetting caches and watching backfills from outside the worker.
import { sqlFile } from '../db/sql-file.ts';
import type { Queryable } from './queryable.ts';

/** Forgets every cached blob count: the next search is cold. */
export async function truncateBlobCounts(db: Queryable): Promise<void> {
  await db.query('truncate insights_core.search_blob_counts');
}

/** The backfills of a view's series, by series. */
export async function viewBackfillIds(db: Queryable, viewId: number): Promise<number[]> {
  const { rows } = await db.query<{ backfill_id: number }>(
    `select b.id as backfill_id
       from insight_view_series vs join insight_series_backfill b on b.series_id = vs.insight_series_id
      where vs.insight_view_id = $1 order by vs.insight_series_id, b.id`,
    [viewId],
  );
  return rows.map((row) => row.backfill_id);
}

export interface BackfillStatusRow {
  backfill_id: number;
  state: string;
  job_state: string | null;
  repositories: number | null;
  repositories_done: number;
  errors: number;
  started_at: Date | null;
  finished_at: Date | null;
}

export async function backfillStatus(db: Queryable, backfillId: number): Promise<BackfillStatusRow | undefined> {
  const { rows } = await db.query<BackfillStatusRow>(
    `select backfill_id, state, job_state, repositories, repositories_done, errors, started_at, finished_at
       from backfill_status where backfill_id = $1`,
    [backfillId],
  );
  return rows[0];
}

export interface BackfillTotals {
  /** Planned: state processing. */
  planned: number;
  /** Their job is being worked on. */
  running: number;
  done: number;
  total: number;
}

export async function backfillTotals(db: Queryable, backfillIds: number[]): Promise<BackfillTotals> {
  const { rows } = await db.query<BackfillTotals>(
    `select count(*) filter (where state = 'processing')::int as planned,
            count(*) filter (where job_state = 'processing')::int as running,
            coalesce(sum(repositories_done), 0)::int as done, coalesce(sum(repositories), 0)::int as total
       from backfill_status where backfill_id = any($1::int[])`,
    [backfillIds],
  );
  return rows[0]!;
}

/** Jobs of a task in the queue (waiting, running or failed). */
export async function queuedJobCount(db: Queryable, taskIdentifier: string): Promise<number> {
  const { rows } = await db.query<{ n: number }>(
    'select count(*)::int as n from graphile_worker.jobs where task_identifier = $1',
    [taskIdentifier],
  );
  return rows[0]!.n;
}

export interface ApiBenchScale {
  repos: number;
  views: number;
  series: number;
  samples: number;
  otherViews: number;
}

/**
 * Seeds bench:api's data (sql/bench-api-seed.sql). The script's $1..$5 are replaced by the scale:
 * integers only (checked here), so the whole script goes as one simple query.
 */
export async function seedApiBench(db: Queryable, scale: ApiBenchScale): Promise<void> {
  const values = [scale.repos, scale.views, scale.series, scale.samples, scale.otherViews];
  if (!values.every((value) => Number.isSafeInteger(value) && value > 0)) throw new Error(`bad bench scale ${values}`);
  await db.query(sqlFile('bench-api-seed').replace(/\$([1-5])\b/g, (_, n: string) => String(values[Number(n) - 1])));
}

/** The series on the bench dashboard (not the other users' views). */
export async function dashboardSeriesIds(db: Queryable): Promise<number[]> {
  const { rows } = await db.query<{ id: number }>(
    `select id from insight_series where series_id not like 'other-%' order by id`,
  );
  return rows.map((row) => row.id);
}

/** A point per repository and sample time of one series (sql/bench-api-points.sql). */
export async function insertApiBenchPoints(db: Queryable, seriesId: number): Promise<void> {
  await db.query(sqlFile('bench-api-points'), [seriesId]);
}

export async function analyzeDatabase(db: Queryable): Promise<void> {
  await db.query('analyze');
}

export async function apiBenchTotals(db: Queryable): Promise<{ points: number; dashboard: number }> {
  const { rows } = await db.query<{ points: string; dashboard: number }>(
    'select (select count(*) from series_points) as points, (select max(id) from dashboard) as dashboard',
  );
  return { points: Number(rows[0]!.points), dashboard: rows[0]!.dashboard };
}

export interface DashboardViewRead {
  id: number;
  title: string;
  loading: boolean;
  data: Array<{ series_id: string; label: string; stroke: string; times: string[]; values: number[] }> | null;
}

/** A dashboard page's reads as plain SQL (sql/dashboard-read.sql), as the session's role sees them. */
export async function readDashboard(db: Queryable, dashboardId: number): Promise<DashboardViewRead[]> {
  const { rows } = await db.query<DashboardViewRead>(sqlFile('dashboard-read'), [dashboardId]);
  return rows;
}
