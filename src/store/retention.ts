// Retention (archiving beyond the maximum samples), pruning of deleted series, and partitions ahead.
import type { Queryable } from './queryable.ts';

/** Queues retain_series for every series with more than `keep` recording times; returns how many. */
export async function enqueueSeriesRetention(db: Queryable, keep: number): Promise<number> {
  const { rows } = await db.query<{ queued: number }>('select insights_core.enqueue_series_retention($1) as queued', [
    keep,
  ]);
  return rows[0]!.queued;
}

/** Marks a retention job as running on this host; undefined when there is no such job. */
export async function startRetentionJob(
  db: Queryable,
  jobId: number,
  hostname: string,
): Promise<{ series_id: number; cancel: boolean } | undefined> {
  const { rows } = await db.query<{ series_id: number; cancel: boolean }>(
    `update insights_data_retention_jobs
        set state = 'processing', started_at = now(), last_heartbeat_at = now(), worker_hostname = $2
      where id = $1 returning series_id, cancel`,
    [jobId, hostname],
  );
  return rows[0];
}

export async function cancelRetentionJob(db: Queryable, jobId: number): Promise<void> {
  await db.query(`update insights_data_retention_jobs set state = 'canceled', finished_at = now() where id = $1`, [
    jobId,
  ]);
}

export interface ArchiveSummary {
  archived_points: number;
  archived_recording_times: number;
  archived_before: string | null;
  [key: string]: unknown;
}

/** Keeps the newest `keep` recording times of a series live and archives the rest, in one transaction. */
export async function archiveSeriesPoints(db: Queryable, seriesId: number, keep: number): Promise<ArchiveSummary> {
  const { rows } = await db.query<{ summary: ArchiveSummary }>(
    'select insights_core.archive_series_points($1, $2) as summary',
    [seriesId, keep],
  );
  return rows[0]!.summary;
}

export async function completeRetentionJob(
  db: Queryable,
  jobId: number,
  message: string,
  summary: ArchiveSummary,
): Promise<void> {
  await db.query(
    `update insights_data_retention_jobs
        set state = 'completed', finished_at = now(), last_heartbeat_at = now(),
            execution_logs = coalesce(execution_logs, '{}') || json_build_object('time', now(), 'message', $2::text, 'result', $3::json)
      where id = $1`,
    [jobId, message, JSON.stringify(summary)],
  );
}

/** Records a failed run; `final` when the job has no attempts left. */
export async function failRetentionJob(db: Queryable, jobId: number, message: string, final: boolean): Promise<void> {
  await db.query(
    `update insights_data_retention_jobs set num_failures = num_failures + 1, failure_message = $2,
            state = case when $3 then 'failed' else 'queued' end, finished_at = case when $3 then now() end
      where id = $1`,
    [jobId, message, final],
  );
}

/** Deletes soft-deleted series no view uses, with their data; returns how many and their queries. */
export async function pruneDeletedSeries(db: Queryable): Promise<{ pruned_series: number; queries: string[] | null }> {
  const { rows } = await db.query<{ summary: { pruned_series: number; queries: string[] | null } }>(
    'select insights_core.prune_deleted_series() as summary',
  );
  return rows[0]!.summary;
}

/** The distinct queries of the series that are recorded (whose blob counts must be kept). */
export async function recordedQueries(db: Queryable): Promise<string[]> {
  const { rows } = await db.query<{ query: string }>(
    'select distinct query from insight_series where not just_in_time',
  );
  return rows.map((row) => row.query);
}

export interface PartitionReport extends Record<string, unknown> {
  months_ahead: number;
  tables: Array<{ table: string; created: number; default_rows: number }>;
}

export async function ensurePartitionsAhead(db: Queryable, monthsAhead: number): Promise<PartitionReport> {
  const { rows } = await db.query<{ report: PartitionReport }>(
    'select insights_core.ensure_partitions_ahead($1) as report',
    [monthsAhead],
  );
  return rows[0]!.report;
}
