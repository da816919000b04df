// Registering and listing repositories as the CLI does (a DBA: every repository, no requester).
import type { Repository } from '../repos/repository.ts';
import type { Queryable } from './queryable.ts';
import { REPOSITORY_COLUMNS } from './repositories.ts';

/**
 * Registers a repository through the core writer (it derives the name, checks the branch and queues
 * the first fetch); registering the same one again returns it unchanged.
 */
export async function registerRepository(
  db: Queryable,
  cloneUrl: string,
  name: string | null,
  defaultBranch: string | null,
): Promise<Repository> {
  const { rows } = await db.query<Repository>(
    `select ${REPOSITORY_COLUMNS} from insights_core.register_repository($1, $2, $3)`,
    [cloneUrl, name, defaultBranch],
  );
  return rows[0]!;
}

/** Every repository that is not deleted, by name. */
export async function listRepositories(db: Queryable): Promise<Repository[]> {
  const { rows } = await db.query<Repository>(
    `select ${REPOSITORY_COLUMNS} from repositories where deleted_at is null order by name`,
  );
  return rows;
}

/** The repositories with these names (case-insensitive), or all of them when none are named. */
export async function repositoriesNamed(db: Queryable, names: string[]): Promise<Repository[]> {
  const { rows } = await db.query<Repository>(
    `select ${REPOSITORY_COLUMNS} from repositories
      where deleted_at is null and (cardinality($1::text[]) = 0 or name = any($1::citext[])) order by name`,
    [names],
  );
  return rows;
}

/** Who may see each restricted repository (repositories without permissions are visible to all). */
export interface RepositoryRestriction {
  repo_id: number;
  user_ids: number[];
  org_ids: number[];
}

export async function repositoryRestrictions(db: Queryable): Promise<RepositoryRestriction[]> {
  const { rows } = await db.query<RepositoryRestriction>(
    `select repo_id, coalesce(array_agg(user_id order by user_id) filter (where user_id is not null), '{}') as user_ids,
            coalesce(array_agg(org_id order by org_id) filter (where org_id is not null), '{}') as org_ids
       from insights_core.repository_permissions group by repo_id order by repo_id`,
  );
  return rows;
}

/**
 * Restricts a repository to these users and orgs (and admins), through the core writer the API's
 * restrictRepository calls; both empty makes it visible to everyone again.
 */
export async function restrictRepository(
  db: Queryable,
  repoId: number,
  userIds: number[],
  orgIds: number[],
): Promise<void> {
  await db.query('select insights_core.set_repository_permissions($1, $2, $3)', [repoId, userIds, orgIds]);
}
