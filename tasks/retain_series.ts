// retain_series: runs one insights_data_retention_jobs row: archive_series_points keeps the newest
// `keep` recording times of the series live and moves older points and times to the archived_*
// tables in one transaction. The row mirrors the run (started, heartbeat, host, logs, failures).
//   select graphile_worker.add_job('enqueue_retention');   -- queues these for every series due
import os from 'node:os';
import type { JobHelpers } from 'graphile-worker';
import { z } from 'zod';
import { errorMessage } from '../src/logger.ts';
import {
  archiveSeriesPoints,
  cancelRetentionJob,
  completeRetentionJob,
  failRetentionJob,
  startRetentionJob,
} from '../src/store/retention.ts';
import { InvalidPayloadError, parsePayload } from '../src/worker/payload.ts';
import { databaseId } from '../src/db/database-id.ts';
import type { TaskContext } from '../src/worker/task-context.ts';

export const identifier = 'retain_series';

const payloadSchema = z
  .object({
    retention_job_id: databaseId('an insights_data_retention_jobs id'),
    keep: z
      .number({ error: 'must be a number of samples' })
      .int('must be a whole number')
      .min(1, 'must be at least 1')
      .max(1000, 'must be at most 1000'),
  })
  .strict();

export function makeTask(context: TaskContext) {
  return async (payload: unknown, helpers: JobHelpers) => {
    const { retention_job_id, keep } = parsePayload(identifier, payloadSchema, payload);
    const job = await startRetentionJob(context.pool, retention_job_id, os.hostname());
    if (!job) throw new InvalidPayloadError(`${identifier}: no retention job ${retention_job_id}`);
    if (job.cancel) {
      await cancelRetentionJob(context.pool, retention_job_id);
      return;
    }
    try {
      const summary = await archiveSeriesPoints(context.pool, job.series_id, keep);
      const message = `archived ${summary.archived_points} point(s) and ${summary.archived_recording_times} recording time(s)`;
      await completeRetentionJob(context.pool, retention_job_id, message, summary);
      const before = summary.archived_before ?? '(nothing to archive)';
      helpers.logger.info(`series ${job.series_id}: archived ${summary.archived_points} point(s) before ${before}`);
    } catch (error) {
      const final = helpers.job.attempts >= helpers.job.max_attempts;
      await failRetentionJob(context.pool, retention_job_id, errorMessage(error), final);
      throw error;
    }
  };
}
