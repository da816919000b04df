// A registered repository as the workers see it, and where its mirror lives on this machine.
import path from 'node:path';
import type pg from 'pg';

export interface Repository {
  id: number;
  name: string;
  clone_url: string;
  default_branch: string | null;
  mirror_path: string;
  last_fetch_attempt_at: Date | null;
  last_fetched_at: Date | null;
  last_fetch_error: string | null;
}

export const REPOSITORY_COLUMNS = 'id, name::text as name, clone_url, default_branch, mirror_path, last_fetch_attempt_at, last_fetched_at, last_fetch_error';

export function mirrorDirectory(dataDir: string, repository: Pick<Repository, 'id' | 'mirror_path'>): string {
  return path.join(dataDir, repository.mirror_path ?? `mirrors/${repository.id}.git`);
}

export async function loadRepositories(db: pg.Pool | pg.PoolClient, ids: number[]): Promise<Repository[]> {
  const { rows } = await db.query<Repository>(
    `select ${REPOSITORY_COLUMNS} from repositories where id = any($1::int[]) and deleted_at is null order by id`,
    [ids],
  );
  return rows;
}
