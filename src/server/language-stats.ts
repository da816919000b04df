// Language shares for pie charts, computed when a chart is read: bytes per language of the files at
// the head of each repository's default branch (`git ls-tree -l`, no blob reads), cached in
// repository_language_stats until the branch moves. Files in languages we do not know are left out.
import type pg from 'pg';
import { withTransaction } from '../store/transaction.ts';
import { listTree } from '../git/list-tree.ts';
import { mirrorExists, resolveBranchHead } from '../git/mirror.ts';
import { mirrorDirectory } from '../repos/repository.ts';
import { languageOfPath } from '../search/query/languages.ts';
import {
  cachedLanguageStats,
  deleteLanguageStats,
  insertLanguageStats,
  type LanguageTotal,
} from '../store/language-stats.ts';
import { loadRepositories } from '../store/repositories.ts';

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
  const cachedStats = new Map((await cachedLanguageStats(pool, repoIds)).map((row) => [row.repo_id, row]));
  for (const repository of await loadRepositories(pool, repoIds)) {
    const stats = cachedStats.get(repository.id);
    if (stats && repository.last_fetched_at && stats.computed_at >= repository.last_fetched_at) continue;
    const gitDir = mirrorDirectory(dataDir, repository);
    if (!repository.default_branch || !mirrorExists(gitDir)) continue;
    const head = await resolveBranchHead(gitDir, repository.default_branch);
    if (!head || stats?.commit_oid === head) continue;
    const totals = new Map<string, LanguageTotal>();
    for (const entry of await listTree(gitDir, head)) {
      const language = languageOfPath(entry.path);
      if (!language) continue;
      const total = totals.get(language.name) ?? { bytes: 0, files: 0 };
      total.bytes += entry.size ?? 0;
      total.files += 1;
      totals.set(language.name, total);
    }
    // Replaced as a whole: languages no longer at the head go.
    await withTransaction(pool, async (client) => {
      await deleteLanguageStats(client, repository.id);
      await insertLanguageStats(client, repository.id, head, totals);
    });
  }
}
