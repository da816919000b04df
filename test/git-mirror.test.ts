// Clone URLs are untrusted input: git must never read one as an option. `--upload-pack=<command>`
// given as a URL would otherwise run the command on the worker.
import fs from 'node:fs';
import path from 'node:path';
import test from 'ava';
import { remoteHeadBranch, syncMirror } from '../src/git/mirror.ts';
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
