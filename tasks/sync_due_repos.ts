// sync_due_repos (every 5 minutes): queues sync_repo for every repository not fetched within the
// cooldown (enqueue_due_repo_syncs in SQL).
import type { JobHelpers } from 'graphile-worker';
import { z } from 'zod';
import { cronMarker, parsePayload } from '../src/worker/payload.ts';

export const identifier = 'sync_due_repos';

const payloadSchema = z
  .object({
    cooldown_minutes: z.number({ error: 'must be a number of minutes' }).positive('must be positive').max(10_080).default(15),
    _cron: cronMarker,
  })
  .strict();

export default async function syncDueRepos(payload: unknown, helpers: JobHelpers) {
  const { cooldown_minutes } = parsePayload(identifier, payloadSchema, payload);
  const { rows } = await helpers.query<{ queued: number }>('select enqueue_due_repo_syncs(make_interval(mins => $1)) as queued', [cooldown_minutes]);
  return { queued: rows[0]!.queued };
}
