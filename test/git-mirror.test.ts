// Clone URLs are untrusted input: git must never read one as an option. `--upload-pack=<command>`
// given as a URL would otherwise run the command on the worker. And a mirror is only "empty" when
// it has no refs at all: a damaged one is cloned again, or is an error, never a row of zeros.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import test from 'ava';
import { backfillRepository } from '../src/backfill/backfill-repository.ts';
import {
  DamagedMirrorError,
  mirrorIsDamaged,
  remoteHeadBranch,
  removeAbandonedClones,
  resolveBranchHead,
  suggestsLocalDamage,
  syncMirror,
} from '../src/git/mirror.ts';
import { GitError } from '../src/git/run-git.ts';
import { TreeCache } from '../src/git/tree-cache.ts';
import { mirrorDirectory } from '../src/repos/repository.ts';
import { BlobCountCache } from '../src/search/blob-count-cache.ts';
import { parseQuery } from '../src/search/query/parse-query.ts';
import { loadRepositories } from '../src/store/repositories.ts';
import { useTestDatabase } from './helpers/database.ts';
import { createFixtureRepository, tempDir } from './fixtures/git-repository.ts';

test('a clone URL that looks like a git option is a missing repository, and runs nothing', async (t) => {
  const dir = tempDir(t);
  const marker = path.join(dir, 'ran');
  const hostile = `--upload-pack=touch ${marker}`;
  await t.throwsAsync(remoteHeadBranch(hostile, 30_000));
  await t.throwsAsync(syncMirror({ cloneUrl: hostile, mirrorDir: path.join(dir, 'fresh.git'), branch: null }));
  // An existing mirror is fetched with the URL too.
  const origin = createFixtureRepository(path.join(dir, 'origin.git'), [
    { date: '2024-01-01T00:00:00Z', files: { a: 'x' } },
  ]);
  const mirrorDir = path.join(dir, 'mirror.git');
  await syncMirror({ cloneUrl: origin.path, mirrorDir, branch: null });
  await t.throwsAsync(syncMirror({ cloneUrl: hostile, mirrorDir, branch: null }));
  t.false(fs.existsSync(marker), 'the command in the URL never ran');
  t.is(await remoteHeadBranch(origin.path, 30_000), 'main', 'an ordinary URL still works');
});

/** Deletes every object of a bare repository (loose and packed): its refs now name what it lacks. */
function deleteObjects(gitDir: string): void {
  for (const entry of fs.readdirSync(path.join(gitDir, 'objects'))) {
    if (entry === 'info') continue;
    fs.rmSync(path.join(gitDir, 'objects', entry), { recursive: true, force: true });
  }
  fs.mkdirSync(path.join(gitDir, 'objects', 'pack'), { recursive: true });
}

test('"empty repository" is only a repository without refs; a damaged mirror or a missing branch is an error', async (t) => {
  const dir = tempDir(t);
  const empty = path.join(dir, 'empty.git');
  fs.mkdirSync(empty);
  execFileSync('git', ['init', '--quiet', '--bare', empty]);
  t.is(await resolveBranchHead(empty, 'main'), null, 'no refs at all: empty');

  const origin = createFixtureRepository(path.join(dir, 'origin.git'), [
    { date: '2024-01-01T00:00:00Z', files: { a: 'TODO\n' } },
  ]);
  const mirrorDir = path.join(dir, 'mirror.git');
  const state = await syncMirror({ cloneUrl: origin.path, mirrorDir, branch: null });
  t.is(await resolveBranchHead(mirrorDir, 'main'), state.head);
  await t.throwsAsync(resolveBranchHead(mirrorDir, 'gone'), {
    message: 'branch gone does not exist in the repository (it has other refs); set the branch to follow',
  });
  t.false(await mirrorIsDamaged(mirrorDir));
  deleteObjects(mirrorDir);
  const damaged = await t.throwsAsync(resolveBranchHead(mirrorDir, 'main'));
  t.true(damaged instanceof DamagedMirrorError, String(damaged));
  t.true(await mirrorIsDamaged(mirrorDir));
});

test('a damaged mirror is cloned again while its origin is there, and is an error (never zeros) when it is not', async (t) => {
  const db = await useTestDatabase(t);
  const dir = tempDir(t);
  const origin = createFixtureRepository(path.join(dir, 'origin.git'), [
    { date: '2024-01-10T00:00:00Z', files: { 'a.txt': 'TODO\nTODO\n' } },
    { date: '2024-02-10T00:00:00Z', files: { 'b.txt': 'TODO\n' } },
  ]);
  const { rows } = await db.pool.query(`select (insights_core.register_repository($1, 'acme/r')).id`, [origin.path]);
  const dataDir = path.join(dir, 'data');
  const times = ['2024-01-15', '2024-02-15'].map((d) => new Date(`${d}T00:00:00Z`));
  const backfill = async () => {
    const [repository] = await loadRepositories(db.pool, [rows[0].id]);
    const result = await backfillRepository({
      pool: db.pool,
      dataDir,
      repository: repository!,
      query: parseQuery('TODO'),
      times,
      cache: new BlobCountCache({ pool: db.pool }),
      trees: new TreeCache(),
      deadline: Date.now() + 60_000,
    });
    return result.points.map((p) => p.value);
  };
  t.deepEqual(await backfill(), [2, 3]);
  const [repository] = await loadRepositories(db.pool, [rows[0].id]);
  const mirrorDir = mirrorDirectory(dataDir, repository!);

  deleteObjects(mirrorDir);
  t.deepEqual(await backfill(), [2, 3], 'rebuilt from the origin: the same values');
  t.false(await mirrorIsDamaged(mirrorDir));
  t.deepEqual(
    fs.readdirSync(path.dirname(mirrorDir)).filter((name) => name.includes('damaged')),
    [],
    'the damaged copy is gone once the new clone works',
  );

  deleteObjects(mirrorDir);
  fs.rmSync(origin.path, { recursive: true, force: true });
  await t.throwsAsync(backfill(), undefined, 'no origin to rebuild from: an error, not an empty repository');
  t.true(fs.existsSync(path.join(mirrorDir, 'HEAD')), 'the damaged mirror is put back (a later fetch may mend it)');
  const { rows: stored } = await db.pool.query('select last_fetch_error from repositories where id = $1', [rows[0].id]);
  t.truthy(stored[0].last_fetch_error, 'the failure is recorded');
});

test('clones a killed process left half done are removed, a damaged mirror put back; recent ones are kept', (t) => {
  const dir = tempDir(t);
  const dead = 2 ** 22 + 12345; // above pid_max's default: no such process
  const now = Date.now();
  const old = now - 60 * 60_000;
  for (const name of [
    `1.git.partial-${dead}-${old}`, // a clone killed an hour ago
    `2.git`,
    `2.git.damaged-${dead}-${old}`, // a re-clone that finished: the damaged copy stayed behind
    `5.git.damaged-${dead}-${old}`, // a re-clone that never finished: the only copy
    `3.git.partial-${process.pid}-${now}`, // ours, in progress
    `6.git.partial-${dead}-${now - 60_000}`, // a minute old: it may still be running elsewhere
    '4.git',
  ])
    fs.mkdirSync(path.join(dir, name));
  fs.writeFileSync(path.join(dir, '2.git', 'HEAD'), 'ref: refs/heads/main\n');
  fs.mkdirSync(path.join(dir, '2.git', 'objects'));
  fs.writeFileSync(path.join(dir, `5.git.damaged-${dead}-${old}`, 'marker'), 'the history');
  t.deepEqual(removeAbandonedClones(dir, now).sort(), [
    `1.git.partial-${dead}-${old}`,
    `2.git.damaged-${dead}-${old}`,
    `5.git.damaged-${dead}-${old}`,
  ]);
  t.deepEqual(fs.readdirSync(dir).sort(), [
    '2.git',
    `3.git.partial-${process.pid}-${now}`,
    '4.git',
    '5.git',
    `6.git.partial-${dead}-${now - 60_000}`,
  ]);
  t.is(fs.readFileSync(path.join(dir, '5.git', 'marker'), 'utf8'), 'the history', 'put back, not removed');
});

test('only a fetch error that points to the mirror itself is worth an fsck', (t) => {
  const failed = (stderr: string) => new GitError(['fetch'], 128, stderr);
  t.true(suggestsLocalDamage(failed('error: bad object 24bc5a9129154a2e56f2893a9d231f301b80574e')));
  t.true(suggestsLocalDamage(failed('error: did not send all necessary objects')));
  t.false(suggestsLocalDamage(failed("fatal: unable to access 'https://host/x.git/': Could not resolve host: host")));
  t.false(suggestsLocalDamage(failed("fatal: '/gone/x.git' does not appear to be a git repository")));
  t.false(suggestsLocalDamage(new Error('bad object, but not from git')));
});
