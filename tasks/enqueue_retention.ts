// enqueue_retention (daily): queues a retain_series job, with its insights_data_retention_jobs row,
// for every series holding more than the maximum samples per series (MAX_SAMPLES_PER_SERIES) of
// recording times. A DBA can run it now, optionally with another limit:
//   select graphile_worker.add_job('enqueue_retention', '{"keep": 52}');
import { z } from 'zod';
import { enqueueSeriesRetention } from '../src/store/retention.ts';
import { cronMarker, parsePayload } from '../src/worker/payload.ts';
import type { TaskContext } from '../src/worker/task-context.ts';

export const identifier = 'enqueue_retention';

const payloadSchema = z
  .object({
    keep: z
      .number({ error: 'must be a number of samples' })
      .int('must be a whole number')
      .min(1, 'must be at least 1')
      .max(1000, 'must be at most 1000')
      .optional(),
    _cron: cronMarker,
  })
  .strict();

export function makeTask(context: TaskContext) {
  return async (payload: unknown) => {
    const { keep = context.maxSamples } = parsePayload(identifier, payloadSchema, payload);
    return { queued: await enqueueSeriesRetention(context.pool, keep), keep };
  };
}
