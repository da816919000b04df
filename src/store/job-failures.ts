// Failing a Graphile Worker job for good, through its public admin function (never its private tables).
import type { Queryable } from './queryable.ts';

/**
 * Marks a job as out of attempts with its error, if it is still the run that failed: unlocked, same
 * attempt count and revision (a job re-added under its key since is a new revision, and is left
 * alone). Graphile Worker only changes unlocked jobs, so this returns false while the job is still
 * locked by the worker that is recording its failure.
 */
export async function permanentlyFailJob(
  db: Queryable,
  job: { id: string; attempts: number; revision: number },
  message: string,
): Promise<boolean> {
  const { rows } = await db.query<{ id: string }>(
    `select id from graphile_worker.permanently_fail_jobs(
       array(select j.id from graphile_worker.jobs j
              where j.id = $1::bigint and j.locked_at is null and j.attempts = $2 and j.revision = $3), $4)`,
    [job.id, job.attempts, job.revision, message],
  );
  return rows.length > 0;
}
