// sync_due_repos (every 5 minutes): queues sync_repo for every repository not fetched within the
// cooldown (enqueue_due_repo_syncs in SQL).
import { z } from 'zod';
import { enqueueDueRepoSyncs } from '../src/store/repositories.ts';
import { cronMarker, parsePayload } from '../src/worker/payload.ts';
import type { TaskContext } from '../src/worker/task-context.ts';

export const identifier = 'sync_due_repos';

const payloadSchema = z
  .object({
    cooldown_minutes: z
      .number({ error: 'must be a number of minutes' })
      .positive('must be positive')
      .max(10_080)
      .default(15),
    _cron: cronMarker,
  })
  .strict();

export function makeTask(context: TaskContext) {
  return async (payload: unknown) => {
    const { cooldown_minutes } = parsePayload(identifier, payloadSchema, payload);
    return { queued: await enqueueDueRepoSyncs(context.pool, cooldown_minutes) };
  };
}
