// Failing a Graphile Worker job for good, through its public admin function (never its private tables).
import type { Queryable } from './queryable.ts';

/**
 * Marks a job as out of attempts with its error. Graphile Worker only changes unlocked jobs, so this
 * returns false while the job is still locked by the worker that is recording its failure.
 */
export async function permanentlyFailJob(db: Queryable, jobId: string, message: string): Promise<boolean> {
  const { rows } = await db.query<{ id: string }>(
    'select id from graphile_worker.permanently_fail_jobs(array[$1::bigint], $2)',
    [jobId, message],
  );
  return rows.length > 0;
}
