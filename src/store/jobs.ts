// The Graphile Worker queue and the run log of recurring tasks, for operators. Only Graphile
// Worker's public admin surface (the jobs view, reschedule_jobs, complete_jobs): its private
// tables are its own business.
import { sqlFile } from '../db/sql-file.ts';
import type { Queryable } from './queryable.ts';

export interface Job {
  /** bigint: text, as pg returns it. */
  id: string;
  task: string;
  key: string | null;
  run_at: Date;
  attempts: number;
  max_attempts: number;
  locked_by: string | null;
  last_error: string | null;
  state: 'running' | 'failed' | 'scheduled' | 'waiting';
}

export interface TaskRunStatus {
  task_name: string;
  schedule: string;
  /** An interval, as pg parses it (an object with its parts). */
  period: unknown;
  last_run_at: Date | null;
  last_status: string | null;
  last_success_at: Date | null;
  last_success_duration_ms: number | null;
  last_failure_at: Date | null;
  last_failure_error: string | null;
  overdue: boolean;
}

/** Waiting, running and failed jobs by run time; only those out of attempts when failedOnly. */
export async function listJobs(db: Queryable, failedOnly: boolean): Promise<Job[]> {
  const { rows } = await db.query<Job>(sqlFile('jobs-list'), [failedOnly]);
  return rows;
}

/** Makes jobs due now with fresh attempts; returns the ids it found (not locked ones). */
export async function rescheduleJobs(db: Queryable, ids: string[]): Promise<string[]> {
  const { rows } = await db.query<{ id: string }>(
    'select id from graphile_worker.reschedule_jobs($1::bigint[], run_at := now(), attempts := 0)',
    [ids],
  );
  return rows.map((row) => String(row.id));
}

/** Deletes jobs that should not run; returns the ids it found (not locked ones). */
export async function completeJobs(db: Queryable, ids: string[]): Promise<string[]> {
  const { rows } = await db.query<{ id: string }>('select id from graphile_worker.complete_jobs($1::bigint[])', [ids]);
  return rows.map((row) => String(row.id));
}

/** Per recurring task: schedule, last run, success and failure, and whether it is overdue. */
export async function taskRunStatus(db: Queryable): Promise<TaskRunStatus[]> {
  const { rows } = await db.query<TaskRunStatus>('select * from insights_core.task_run_status order by task_name');
  return rows;
}
