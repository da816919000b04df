// Backfills one repository for one series: resolves every sample time to the commit the branch was
// at (newest first-parent commit at or before it), searches the distinct commits together (oldest
// first, each listing diffed from the previous one, each blob read once, through the shared
// cache), and returns the points. Times before the first commit get no point.
import { firstParentHistory, resolveSampleCommits } from '../git/first-parent-history.ts';
import type { TreeCache } from '../git/tree-cache.ts';
import type { Repository } from '../repos/repository.ts';
import { ensureMirror } from '../repos/sync-repository.ts';
import type { BlobCountCache } from '../search/blob-count-cache.ts';
import type { SearchQuery } from '../search/query/parse-query.ts';
import { searchCommits } from '../search/search-commit.ts';
import type { BackfillPoint } from '../store/backfill-steps.ts';
import type pg from 'pg';

export interface BackfillRepositoryOptions {
  pool: pg.Pool;
  dataDir: string;
  repository: Repository;
  query: SearchQuery;
  times: Date[];
  cache: BlobCountCache;
  trees: TreeCache;
  deadline: number;
}

export interface BackfillRepositoryResult {
  points: BackfillPoint[];
  /**
   * Sample times whose point kept only the most frequent capture values (MAX_CAPTURE_VALUES): to be
   * stored as incomplete points with reason 'capture-limit'.
   */
  capped: Array<{ time: string; repo_id: number; reason: 'capture-limit' }>;
  commitsSearched: number;
  blobsRead: number;
}

export async function backfillRepository(options: BackfillRepositoryOptions): Promise<BackfillRepositoryResult> {
  const { repository, query } = options;
  const { gitDir, branch, head } = await ensureMirror({ pool: options.pool, dataDir: options.dataDir, repository });
  if (!branch || !head) return { points: [], capped: [], commitsSearched: 0, blobsRead: 0 };
  const history = await firstParentHistory(gitDir, branch);
  const commits = resolveSampleCommits(history, options.times);
  // Distinct commits, oldest sample first, so each listing is a diff from the one before.
  const distinct = [...new Set(commits.filter((c): c is string => c !== undefined))];
  const results = await searchCommits({
    gitDir,
    commits: distinct,
    query,
    cache: options.cache,
    trees: options.trees,
    deadline: options.deadline,
  });
  let blobsRead = 0;
  for (const result of results.values()) blobsRead += result.blobsRead;
  const points: BackfillPoint[] = [];
  const capped: BackfillRepositoryResult['capped'] = [];
  options.times.forEach((time, index) => {
    const commit = commits[index];
    if (!commit) return;
    const result = results.get(commit)!;
    const iso = time.toISOString();
    if (result.captures)
      for (const [capture, value] of result.captures)
        points.push({ time: iso, repo_id: repository.id, value, capture });
    else if (result.value > 0) points.push({ time: iso, repo_id: repository.id, value: result.value });
    if (result.capturesOmitted) capped.push({ time: iso, repo_id: repository.id, reason: 'capture-limit' });
  });
  return { points, capped, commitsSearched: distinct.length, blobsRead };
}
