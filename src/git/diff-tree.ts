// Derives file listings of commits from another commit's listing and `git diff-tree` between them,
// so consecutive sample commits of a backfill cost a diff, not a full listing. A chain of commits
// is diffed by one `git diff-tree --stdin` process, not one process per commit.
import type { TreeEntry } from './list-tree.ts';
import { runGit } from './run-git.ts';

const SEARCHED_MODES = new Set(['100644', '100755']);

/** Listings of `commits`, each derived from the one before it (the first from `base`). */
export async function listTreesFrom(
  gitDir: string,
  base: { commit: string; entries: TreeEntry[] },
  commits: string[],
): Promise<TreeEntry[][]> {
  if (commits.length === 0) return [];
  // "<commit> <parent>" lines: each commit is diffed from the one before it, as if its parent.
  const pairs = commits
    .map((commit, index) => `${commit} ${index === 0 ? base.commit : commits[index - 1]}\n`)
    .join('');
  // --always: a section (its header) for every pair, even when the trees are the same.
  const output = (
    await runGit(['diff-tree', '--stdin', '--always', '-r', '-z', '--no-renames'], { gitDir, input: pairs })
  ).toString('utf8');
  // Per pair: "<commit>\0", then records ":<old mode> <new mode> <old oid> <new oid> <status>\0<path>\0".
  const fields = output.split('\0');
  const listings: TreeEntry[][] = [];
  // One map, changed commit by commit; each listing is a snapshot of it.
  const byPath = new Map(base.entries.map((entry) => [entry.path, entry]));
  let i = 0;
  for (let n = 0; n < commits.length; n++) {
    if (i >= fields.length || fields[i]!.startsWith(':'))
      throw new Error(`git diff-tree --stdin: expected ${commits.length} diffs, got ${n}`);
    i++; // the section's header
    while (i + 1 < fields.length && fields[i]!.startsWith(':')) {
      const [, newMode, , newOid, status] = fields[i]!.slice(1).split(' ');
      const path = fields[i + 1]!;
      if (status === 'D' || !SEARCHED_MODES.has(newMode!)) byPath.delete(path);
      else byPath.set(path, { path, oid: newOid!, mode: newMode!, size: undefined });
      i += 2;
    }
    listings.push([...byPath.values()]);
  }
  return listings;
}
