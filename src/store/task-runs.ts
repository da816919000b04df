// The scheduler's run log (task_runs): one row per run of a recurring task.
import type { Queryable } from './queryable.ts';

/** Records that a run started; returns its id. */
export async function startTaskRun(
  db: Queryable,
  run: { task: string; jobId: string; hostname: string },
): Promise<string> {
  const { rows } = await db.query<{ id: string }>(
    'insert into task_runs (task_name, graphile_job_id, worker_hostname) values ($1, $2, $3) returning id',
    [run.task, run.jobId, run.hostname],
  );
  return rows[0]!.id;
}

export async function finishTaskRun(
  db: Queryable,
  runId: string,
  details: Record<string, unknown> | null,
): Promise<void> {
  await db.query(
    `update task_runs set status = 'succeeded', finished_at = clock_timestamp(), details = $2 where id = $1`,
    [runId, details ? JSON.stringify(details) : null],
  );
}

export async function failTaskRun(db: Queryable, runId: string, message: string): Promise<void> {
  await db.query(`update task_runs set status = 'failed', finished_at = clock_timestamp(), error = $2 where id = $1`, [
    runId,
    message,
  ]);
}

/**
 * Deletes finished runs older than keepDays, always keeping each task's newest run so "when did X
 * last run" stays answerable. Returns how many went.
 */
export async function pruneTaskRuns(db: Queryable, keepDays: number): Promise<number> {
  const { rowCount } = await db.query(
    `delete from task_runs r
      where r.status <> 'running'
        and r.started_at < now() - make_interval(days => $1)
        and r.id <> (select max(id) from task_runs newest where newest.task_name = r.task_name)`,
    [keepDays],
  );
  return rowCount ?? 0;
}
