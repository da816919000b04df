// The language stats cache of pie charts (repository_language_stats): bytes and files per language
// at a repository's branch head.
import type { Queryable } from './queryable.ts';

export interface CachedLanguageStats {
  repo_id: number;
  commit_oid: string;
  computed_at: Date;
}

/** When and at which commit each repository's stats were computed (repositories without any are left out). */
export async function cachedLanguageStats(db: Queryable, repoIds: number[]): Promise<CachedLanguageStats[]> {
  const { rows } = await db.query<CachedLanguageStats>(
    `select repo_id, min(commit_oid) as commit_oid, min(computed_at) as computed_at
       from repository_language_stats where repo_id = any($1::int[]) group by repo_id`,
    [repoIds],
  );
  return rows;
}

export async function deleteLanguageStats(db: Queryable, repoId: number): Promise<void> {
  await db.query('delete from repository_language_stats where repo_id = $1', [repoId]);
}

export interface LanguageTotal {
  bytes: number;
  files: number;
}

export async function insertLanguageStats(
  db: Queryable,
  repoId: number,
  commit: string,
  totals: Map<string, LanguageTotal>,
): Promise<void> {
  const values = [...totals.values()];
  await db.query(
    `insert into repository_language_stats (repo_id, commit_oid, language, bytes, files)
       select $1, $2, l.language, l.bytes, l.files
         from unnest($3::text[], $4::bigint[], $5::int[]) as l(language, bytes, files)
     on conflict (repo_id, language) do update set commit_oid = excluded.commit_oid, bytes = excluded.bytes,
                                                   files = excluded.files, computed_at = now()`,
    [repoId, commit, [...totals.keys()], values.map((t) => t.bytes), values.map((t) => t.files)],
  );
}

/**
 * The repositories of a view's language series (just in time), as the session sees them: run on the
 * requester's connection, row-level security decides.
 */
export async function languagePieRepositoryIds(db: Queryable, viewId: number): Promise<number[]> {
  const { rows } = await db.query<{ id: number }>(
    `select distinct r.id
       from insight_view_series vs
       join insight_series s on s.id = vs.insight_series_id
       cross join lateral unnest(insight_series_repository_ids(s)) r(id)
      where vs.insight_view_id = $1 and s.just_in_time`,
    [viewId],
  );
  return rows.map((row) => row.id);
}
