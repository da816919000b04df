// prune_task_runs: deletes finished task_runs rows older than keep_days, always keeping the newest
// run of every task so "when did X last run" stays answerable. Scheduled daily; a DBA can run it
// with: select graphile_worker.add_job('prune_task_runs', '{"keep_days": 7}');
import type { JobHelpers } from 'graphile-worker';
import { z } from 'zod';
import { pruneTaskRuns } from '../src/store/task-runs.ts';
import { cronMarker, parsePayload } from '../src/worker/payload.ts';
import type { TaskContext } from '../src/worker/task-context.ts';

export const identifier = 'prune_task_runs';

const payloadSchema = z
  .object({
    keep_days: z
      .number({ error: 'must be a number of days' })
      .int('must be a whole number of days')
      .min(1, 'must be at least 1 day')
      .max(3650, 'must be at most 3650 days')
      .default(30),
    _cron: cronMarker,
  })
  .strict();

export function makeTask(context: TaskContext) {
  return async (payload: unknown, helpers: JobHelpers) => {
    const { keep_days } = parsePayload(identifier, payloadSchema, payload);
    const deleted = await pruneTaskRuns(context.pool, keep_days);
    helpers.logger.info(`deleted ${deleted} task run(s) older than ${keep_days} day(s)`);
    return { deleted, keep_days };
  };
}
