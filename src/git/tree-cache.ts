// Listings of commits' trees, kept in memory: a commit id always names the same files, so searching
// a commit again (another series, another sample time that resolves to it) skips `git ls-tree`.
import { listTreesFrom } from './diff-tree.ts';
import { listTree, type TreeEntry } from './list-tree.ts';

const COMMIT_ID = /^[0-9a-f]{40}([0-9a-f]{24})?$/;

export class TreeCache {
  private readonly maxEntries: number;
  private readonly listings = new Map<string, TreeEntry[]>();
  private size = 0;
  /** Listings derived from a diff, and full listings: for tests and metrics. */
  diffed = 0;
  listed = 0;

  /** maxEntries: file entries kept across all listings (default 500,000, roughly 75 MB). */
  constructor(maxEntries = 500_000) {
    this.maxEntries = maxEntries;
  }

  /** The files of one commit: `git ls-tree`, cached when `commit` is an id (a branch name moves). */
  async list(gitDir: string, commit: string): Promise<TreeEntry[]> {
    if (!COMMIT_ID.test(commit)) return listTree(gitDir, commit);
    const cached = this.get(gitDir, commit);
    if (cached) return cached;
    const entries = await listTree(gitDir, commit);
    this.listed++;
    this.store(gitDir, commit, entries);
    return entries;
  }

  /**
   * The files of each of `commits` (commit ids, a backfill's distinct sample commits oldest first).
   * Listings not cached are derived along the chain, from `base` (a commit listed before) or else
   * from one full listing, by a single diff process for each run of uncached commits.
   */
  async listChain(gitDir: string, commits: string[], base?: string): Promise<TreeEntry[][]> {
    const listings: TreeEntry[][] = [];
    const baseEntries = base !== undefined && COMMIT_ID.test(base) ? this.get(gitDir, base) : undefined;
    let previous = baseEntries ? { commit: base!, entries: baseEntries } : undefined;
    let i = 0;
    while (i < commits.length) {
      const commit = commits[i]!;
      const cached = COMMIT_ID.test(commit) ? this.get(gitDir, commit) : undefined;
      if (cached || !COMMIT_ID.test(commit) || !previous) {
        const entries = cached ?? (await this.list(gitDir, commit));
        listings.push(entries);
        previous = COMMIT_ID.test(commit) ? { commit, entries } : undefined;
        i++;
        continue;
      }
      let end = i;
      while (end < commits.length && COMMIT_ID.test(commits[end]!) && !this.get(gitDir, commits[end]!)) end++;
      const derived = await listTreesFrom(gitDir, previous, commits.slice(i, end));
      derived.forEach((entries, k) => this.store(gitDir, commits[i + k]!, entries));
      this.diffed += derived.length;
      listings.push(...derived);
      previous = { commit: commits[end - 1]!, entries: derived.at(-1)! };
      i = end;
    }
    return listings;
  }

  private get(gitDir: string, commit: string): TreeEntry[] | undefined {
    const key = `${gitDir}\0${commit}`;
    const cached = this.listings.get(key);
    if (cached) {
      // Refresh its place in the LRU order.
      this.listings.delete(key);
      this.listings.set(key, cached);
    }
    return cached;
  }

  private store(gitDir: string, commit: string, entries: TreeEntry[]): void {
    const key = `${gitDir}\0${commit}`;
    if (this.listings.has(key)) return;
    this.listings.set(key, entries);
    this.size += entries.length;
    while (this.size > this.maxEntries && this.listings.size > 1) {
      const [oldest, list] = this.listings.entries().next().value!;
      this.listings.delete(oldest);
      this.size -= list.length;
    }
  }
}
