// sync_repo: fetches one repository into this worker's mirror, unless it was attempted within the
// cooldown (force skips the check). Queued by register_repository and enqueue_due_repo_syncs:
//   select graphile_worker.add_job('sync_repo', '{"repo_id": 1, "force": true}');
import type { JobHelpers } from 'graphile-worker';
import { z } from 'zod';
import { loadRepositories } from '../src/store/repositories.ts';
import { syncRepository } from '../src/repos/sync-repository.ts';
import { InvalidPayloadError, parsePayload } from '../src/worker/payload.ts';
import { databaseId } from '../src/db/database-id.ts';
import type { TaskContext } from '../src/worker/task-context.ts';

export const identifier = 'sync_repo';

const COOLDOWN_MS = 60_000;

const payloadSchema = z
  .object({
    repo_id: databaseId('a repository id'),
    force: z.boolean({ error: 'must be true or false' }).default(false),
  })
  .strict();

export function makeTask(context: TaskContext) {
  return async (payload: unknown, helpers: JobHelpers) => {
    const { repo_id, force } = parsePayload(identifier, payloadSchema, payload);
    const [repository] = await loadRepositories(context.pool, [repo_id]);
    if (!repository) throw new InvalidPayloadError(`${identifier}: no repository with id ${repo_id}`);
    const attempted = repository.last_fetch_attempt_at?.getTime() ?? 0;
    if (!force && Date.now() - attempted < COOLDOWN_MS) {
      helpers.logger.debug(
        `${repository.name}: fetched ${Math.round((Date.now() - attempted) / 1000)} s ago, skipping`,
      );
      return;
    }
    const state = await syncRepository({ pool: context.pool, dataDir: context.dataDir, repository });
    helpers.logger.info(
      `${repository.name}: ${state.cloned ? 'cloned' : 'fetched'} ${state.defaultBranch ?? '(no branch)'} at ${state.head ?? '(no commits)'}`,
    );
  };
}
