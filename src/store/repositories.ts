// Registered repositories as the workers see them, and the outcome of each fetch.
import type { Repository } from '../repos/repository.ts';
import type { Queryable } from './queryable.ts';

/** The columns of a Repository row (the name as text, not citext). */
export const REPOSITORY_COLUMNS =
  'id, name::text as name, clone_url, default_branch, mirror_path, last_fetch_attempt_at, last_fetched_at, last_fetch_error';

/** The repositories with these ids that are not deleted, by id. */
export async function loadRepositories(db: Queryable, ids: number[]): Promise<Repository[]> {
  const { rows } = await db.query<Repository>(
    `select ${REPOSITORY_COLUMNS} from repositories where id = any($1::int[]) and deleted_at is null order by id`,
    [ids],
  );
  return rows;
}

export async function recordFetchAttempt(db: Queryable, repoId: number): Promise<void> {
  await db.query('update repositories set last_fetch_attempt_at = now() where id = $1', [repoId]);
}

/** A successful fetch: clears the last error and learns the followed branch if it was not known. */
export async function recordFetchSuccess(db: Queryable, repoId: number, defaultBranch: string | null): Promise<void> {
  await db.query(
    `update repositories set last_fetched_at = now(), last_fetch_error = null, default_branch = coalesce(default_branch, $2)
      where id = $1`,
    [repoId, defaultBranch],
  );
}

export async function recordFetchError(db: Queryable, repoId: number, message: string): Promise<void> {
  await db.query('update repositories set last_fetch_error = $2 where id = $1', [repoId, message]);
}

/** Queues sync_repo for every repository not fetched within the cooldown; returns how many. */
export async function enqueueDueRepoSyncs(db: Queryable, cooldownMinutes: number): Promise<number> {
  const { rows } = await db.query<{ queued: number }>(
    'select insights_core.enqueue_due_repo_syncs(make_interval(mins => $1)) as queued',
    [cooldownMinutes],
  );
  return rows[0]!.queued;
}
