// Language shares for pie charts, computed when a chart is read: bytes per language of the files at
// the head of each repository's default branch (`git ls-tree -l`, no blob reads), cached in
// repository_language_stats until the branch moves. Files in languages we do not know are left out.
import type pg from 'pg';
import { withTransaction } from '../db/with-transaction.ts';
import { listTree } from '../git/list-tree.ts';
import { mirrorExists, resolveBranchHead } from '../git/mirror.ts';
import { loadRepositories, mirrorDirectory } from '../repos/repository.ts';
import { languageOfPath } from '../search/query/languages.ts';

export interface LanguageStatsOptions {
  /** The owner pool: API roles may read the cache but not write it. */
  pool: pg.Pool;
  dataDir: string;
}

/**
 * Brings the cached stats of the repositories up to date with their branch heads. A repository this
 * machine has no mirror of yet (not fetched) keeps what it had, possibly nothing. A branch only moves
 * when it is fetched, so stats computed after the last fetch are current without asking git.
 */
export async function refreshLanguageStats({ pool, dataDir }: LanguageStatsOptions, repoIds: number[]): Promise<void> {
  if (!repoIds.length) return;
  const cached = await pool.query<{ repo_id: number; commit_oid: string; computed_at: Date }>(
    'select repo_id, min(commit_oid) as commit_oid, min(computed_at) as computed_at from repository_language_stats where repo_id = any($1::int[]) group by repo_id',
    [repoIds],
  );
  const cachedStats = new Map(cached.rows.map((row) => [row.repo_id, row]));
  for (const repository of await loadRepositories(pool, repoIds)) {
    const stats = cachedStats.get(repository.id);
    if (stats && repository.last_fetched_at && stats.computed_at >= repository.last_fetched_at) continue;
    const gitDir = mirrorDirectory(dataDir, repository);
    if (!repository.default_branch || !mirrorExists(gitDir)) continue;
    const head = await resolveBranchHead(gitDir, repository.default_branch);
    if (!head || stats?.commit_oid === head) continue;
    const totals = new Map<string, { bytes: number; files: number }>();
    for (const entry of await listTree(gitDir, head)) {
      const language = languageOfPath(entry.path);
      if (!language) continue;
      const total = totals.get(language.name) ?? { bytes: 0, files: 0 };
      total.bytes += entry.size ?? 0;
      total.files += 1;
      totals.set(language.name, total);
    }
    await storeStats(pool, repository.id, head, totals);
  }
}

async function storeStats(pool: pg.Pool, repoId: number, commit: string, totals: Map<string, { bytes: number; files: number }>) {
  await withTransaction(pool, async (client) => {
    await client.query('delete from repository_language_stats where repo_id = $1', [repoId]);
    await client.query(
      `insert into repository_language_stats (repo_id, commit_oid, language, bytes, files)
         select $1, $2, l.language, l.bytes, l.files
           from unnest($3::text[], $4::bigint[], $5::int[]) as l(language, bytes, files)
       on conflict (repo_id, language) do update set commit_oid = excluded.commit_oid, bytes = excluded.bytes,
                                                     files = excluded.files, computed_at = now()`,
      [repoId, commit, [...totals.keys()], [...totals.values()].map((t) => t.bytes), [...totals.values()].map((t) => t.files)],
    );
  });
}
