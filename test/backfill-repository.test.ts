// One repository's backfill: sample times resolve along the first-parent history, each distinct
// commit is searched once, and every listing after the first is a diff of the previous one.
import test from 'ava';
import { backfillRepository } from '../src/backfill/backfill-repository.ts';
import { listTree } from '../src/git/list-tree.ts';
import { TreeCache } from '../src/git/tree-cache.ts';
import { loadRepositories } from '../src/store/repositories.ts';
import { BlobCountCache } from '../src/search/blob-count-cache.ts';
import { parseQuery } from '../src/search/query/parse-query.ts';
import { useTestDatabase } from './helpers/database.ts';
import { createFixtureRepository, tempDir } from './fixtures/git-repository.ts';

test('distinct commits are searched once, oldest first, listings diffed from the previous commit', async (t) => {
  const db = await useTestDatabase(t);
  const dir = tempDir(t);
  const repo = createFixtureRepository(`${dir}/r.git`, [
    { date: '2024-01-10T00:00:00Z', files: { 'a.txt': 'TODO\n', 'keep.txt': 'TODO TODO\n' } },
    { date: '2024-02-10T00:00:00Z', files: { 'b.txt': 'TODO\n' } },
    { date: '2024-03-10T00:00:00Z', branch: 'side', files: { 'side.txt': 'TODO\n'.repeat(5) } },
    { date: '2024-04-10T00:00:00Z', parent: 1, files: { 'a.txt': null } },
    { date: '2024-05-10T00:00:00Z', parent: 3, merge: 2, files: { 'side.txt': 'TODO\n'.repeat(5) } },
  ]);
  const { rows } = await db.pool.query(`select (insights_core.register_repository($1, 'r')).id`, [repo.path]);
  const [repository] = await loadRepositories(db.pool, [rows[0].id]);
  const trees = new TreeCache();
  const times = [
    '2024-01-01',
    '2024-01-15',
    '2024-02-01',
    '2024-02-15',
    '2024-03-15',
    '2024-04-15',
    '2024-05-15',
    '2024-06-15',
  ].map((d) => new Date(`${d}T00:00:00Z`));
  const result = await backfillRepository({
    pool: db.pool,
    dataDir: `${dir}/data`,
    repository: repository!,
    query: parseQuery('TODO'),
    times,
    cache: new BlobCountCache({ pool: db.pool }),
    trees,
    deadline: Date.now() + 60_000,
  });
  t.deepEqual(
    result.points.map((p) => [p.time.slice(0, 10), p.value]),
    [
      // 2024-01-01 is before the first commit: no point.
      ['2024-01-15', 3],
      ['2024-02-01', 3],
      ['2024-02-15', 4],
      ['2024-03-15', 4], // the side branch commit is not on the first-parent history
      ['2024-04-15', 3],
      ['2024-05-15', 8], // the merge brings side.txt in
      ['2024-06-15', 8],
    ],
  );
  t.is(result.commitsSearched, 4, 'four distinct first-parent commits');
  t.deepEqual({ listed: trees.listed, diffed: trees.diffed }, { listed: 1, diffed: 3 });
});

test('a chain of listings from one diff process equals full listings of every commit', async (t) => {
  const repo = createFixtureRepository(`${tempDir(t)}/chain.git`, [
    { date: '2024-01-01T00:00:00Z', files: { 'a.txt': 'a\n', 'dir/b.txt': 'b\n', 'dir/c.txt': 'c\n' } },
    { date: '2024-01-02T00:00:00Z', files: { 'a.txt': 'a2\n', 'new.txt': 'n\n' } },
    { date: '2024-01-03T00:00:00Z', files: { 'dir/b.txt': null } },
    { date: '2024-01-04T00:00:00Z', files: { 'a.txt': 'a2\n' } }, // no change to the tree
    { date: '2024-01-05T00:00:00Z', files: { 'dir/c.txt': null, 'dir/b.txt': 'b again\n', 'copy.txt': 'a2\n' } },
  ]);
  const trees = new TreeCache();
  const listings = await trees.listChain(repo.path, repo.commits);
  const describe = (entries: Array<{ path: string; oid: string }>) => entries.map((e) => `${e.path} ${e.oid}`).sort();
  for (const [index, commit] of repo.commits.entries()) {
    t.deepEqual(describe(listings[index]!), describe(await listTree(repo.path, commit)), `commit ${index + 1}`);
  }
  t.deepEqual({ listed: trees.listed, diffed: trees.diffed }, { listed: 1, diffed: 4 });
  // Cached now: a second chain starting from the third commit lists and diffs nothing.
  await trees.listChain(repo.path, repo.commits.slice(2), repo.commits[1]);
  t.deepEqual({ listed: trees.listed, diffed: trees.diffed }, { listed: 1, diffed: 4 });
});
