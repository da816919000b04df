// enqueue_retention (daily): queues a retain_series job, with its insights_data_retention_jobs row,
// for every series holding more than the maximum samples per series (MAX_SAMPLES_PER_SERIES) of
// recording times. A DBA can run it now, optionally with another limit:
//   select graphile_worker.add_job('enqueue_retention', '{"keep": 52}');
import type { JobHelpers } from 'graphile-worker';
import { z } from 'zod';
import { cronMarker, parsePayload } from '../src/worker/payload.ts';
import type { TaskContext } from '../src/worker/task-context.ts';

export const identifier = 'enqueue_retention';

const payloadSchema = z
  .object({
    keep: z.number({ error: 'must be a number of samples' }).int('must be a whole number').min(1, 'must be at least 1').max(1000, 'must be at most 1000').optional(),
    _cron: cronMarker,
  })
  .strict();

export function makeTask(context: TaskContext) {
  return async (payload: unknown, helpers: JobHelpers) => {
    const { keep = context.maxSamples } = parsePayload(identifier, payloadSchema, payload);
    const { rows } = await helpers.query<{ queued: number }>('select enqueue_series_retention($1) as queued', [keep]);
    return { queued: rows[0]!.queued, keep };
  };
}
