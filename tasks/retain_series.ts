// retain_series: runs one insights_data_retention_jobs row: archive_series_points keeps the newest
// `keep` recording times of the series live and moves older points and times to the archived_*
// tables in one transaction. The row mirrors the run (started, heartbeat, host, logs, failures).
//   select graphile_worker.add_job('enqueue_retention');   -- queues these for every series due
import os from 'node:os';
import type { JobHelpers } from 'graphile-worker';
import { z } from 'zod';
import { errorMessage } from '../src/logger.ts';
import { InvalidPayloadError, parsePayload } from '../src/worker/payload.ts';

export const identifier = 'retain_series';

const payloadSchema = z
  .object({
    retention_job_id: z.number({ error: 'must be an insights_data_retention_jobs id (a number)' }).int('must be a whole number').positive('must be positive'),
    keep: z.number({ error: 'must be a number of samples' }).int('must be a whole number').min(1, 'must be at least 1').max(1000, 'must be at most 1000'),
  })
  .strict();

export default async function retainSeries(payload: unknown, helpers: JobHelpers) {
  const { retention_job_id, keep } = parsePayload(identifier, payloadSchema, payload);
  const { rows } = await helpers.query<{ series_id: number; cancel: boolean }>(
    `update insights_data_retention_jobs
        set state = 'processing', started_at = now(), last_heartbeat_at = now(), worker_hostname = $2
      where id = $1 returning series_id, cancel`,
    [retention_job_id, os.hostname()],
  );
  const job = rows[0];
  if (!job) throw new InvalidPayloadError(`${identifier}: no retention job ${retention_job_id}`);
  if (job.cancel) {
    await helpers.query(`update insights_data_retention_jobs set state = 'canceled', finished_at = now() where id = $1`, [retention_job_id]);
    return;
  }
  try {
    const result = await helpers.query<{ summary: Record<string, unknown> }>('select archive_series_points($1, $2) as summary', [job.series_id, keep]);
    const summary = result.rows[0]!.summary;
    await helpers.query(
      `update insights_data_retention_jobs
          set state = 'completed', finished_at = now(), last_heartbeat_at = now(),
              execution_logs = coalesce(execution_logs, '{}') || json_build_object('time', now(), 'message', $2::text, 'result', $3::json)
        where id = $1`,
      [retention_job_id, `archived ${summary.archived_points} point(s) and ${summary.archived_recording_times} recording time(s)`, JSON.stringify(summary)],
    );
    helpers.logger.info(`series ${job.series_id}: archived ${summary.archived_points} point(s) before ${summary.archived_before ?? '(nothing to archive)'}`);
  } catch (error) {
    await helpers.query(
      `update insights_data_retention_jobs set num_failures = num_failures + 1, failure_message = $2,
              state = case when $3 then 'failed' else 'queued' end, finished_at = case when $3 then now() end
        where id = $1`,
      [retention_job_id, errorMessage(error), helpers.job.attempts >= helpers.job.max_attempts],
    );
    throw error;
  }
}
