// Exact counts of the search engine on a fixture repository with a known history.
import { createHook } from 'node:async_hooks';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import test from 'ava';
import { projectRoot } from '../src/project-root.ts';
import { BlobCountCache } from '../src/search/blob-count-cache.ts';
import { SearchTimeoutError } from '../src/search/count-blobs.ts';
import { parseQuery } from '../src/search/query/parse-query.ts';
import { searchCommit } from '../src/search/search-commit.ts';
import { useTestDatabase } from './helpers/database.ts';
import { createFixtureRepository, type FixtureRepository, tempDir } from './fixtures/git-repository.ts';

const BIG = 'TODO\n'.repeat(Math.ceil((1024 * 1024 + 1) / 5)); // just over 1 MiB

function buildFixture(dir: string): FixtureRepository {
  return createFixtureRepository(dir, [
    {
      date: '2024-01-01T00:00:00Z',
      files: {
        'README.md': 'TODO one\nTodo two todo\nnothing here\n',
        'src/app.ts': "// TODO: fix\nimport _ from 'lodash';\nimport { x } from 'lodash/fp';\n",
        'src/util.go': '// todo later\nfunc main() {}\n',
        'test/app.test.ts': 'TODO TODO TODO\n',
        'assets/blob.bin': Buffer.from('TODO\0TODO\n'),
        'big.log': BIG,
        'package.json': '{\n  "version": "1.2.3",\n  "name": "x"\n}\n',
        'web/package.json': '{ "version": "2.0.0" }\n',
        'lib/package.json': '{ "version": "1.9.0" }\n',
        'i18n.txt': 'ÄPFEL und äpfel\n',
      },
    },
    {
      date: '2024-02-01T00:00:00Z',
      message: 'rename util.go to main.go, trim README',
      files: { 'src/util.go': null, 'src/main.go': '// todo later\nfunc main() {}\n', 'README.md': 'TODO one\n' },
    },
  ]);
}

async function count(repo: FixtureRepository, commitIndex: number, source: string, capture = false) {
  const result = await searchCommit({
    gitDir: repo.path,
    commit: repo.commits[commitIndex]!,
    query: parseQuery(source, { capture }),
    deadline: Date.now() + 30_000,
  });
  return result;
}

const expectations: Array<[string, number]> = [
  ['TODO', 8], // README 3 (case-insensitive, two on one line), app.ts 1, util.go 1, app.test.ts 3; binary and >1 MiB skipped
  ['TODO case:yes', 5],
  ['todo case:yes', 2], // the lowercase todo of README line 2, and util.go
  ['TODO file:\\.ts$', 4],
  ['TODO -file:test', 5],
  ['TODO -file:test -file:README', 2],
  ['TODO lang:go', 1],
  ['TODO -lang:typescript', 4],
  ['TODO lang:markdown', 3],
  ['TODO select:file', 4],
  ['TODO count:all', 8],
  ['TODO one', 1],
  ['"TODO one"', 0], // quotes are ordinary characters in a literal query, as in Sourcegraph's insights
  ['TODO or todo', 8], // the same ranges, merged
  ['TODO or import', 10],
  ['TODO and import', 3], // only app.ts holds both: its TODO and its two imports
  ['TODO not import', 7],
  ['not TODO select:file', 4], // the three package.json and i18n.txt (binary and oversized files are skipped)
  ['TODO select:repo', 1],
  ['select:file lang:typescript', 2],
  ['TODO repo:has.file(path:package\\.json content:"version")', 8],
  ['TODO -repo:has.path(\\.rs$)', 8],
  ['TODO repo:has.path(\\.rs$)', 0],
  ['TODO file:has.content(lodash)', 1],
  ['patterntype:keyword TODO one', 4], // only README holds both: its 3 TODOs and 1 one
  ['/TODO\none/', 0],
  ['/one\ntodo/', 1], // a match may span lines
  ['/(a+)+$/', 0], // linear time: a hostile regexp is just a regexp
  ['type:path package', 3],
  ['type:path test', 1],
  ['type:path file:\\.json$', 3],
  ["/import.*from 'lodash/", 2],
  // Regexp mode: the quoted 'lodash' is a literal, joined by .*?: both imports of app.ts match.
  ["patterntype:regexp import.*from 'lodash'", 2],
  ['/^todo/', 3],
  ['/todo$/', 2], // README line 2 and app.test.ts
  ['äpfel', 2],
  ['äpfel case:yes', 1],
  ['nothing-matches-this', 0],
];

test('exact counts for every filter, negation and case mode at a fixed commit', async (t) => {
  const repo = buildFixture(`${tempDir(t)}/repo.git`);
  for (const [query, expected] of expectations) {
    t.is((await count(repo, 0, query)).value, expected, query);
  }
});

test('capture groups count per distinct value of the first group', async (t) => {
  const repo = buildFixture(`${tempDir(t)}/repo.git`);
  const result = await count(repo, 0, '"version": "(\\d+)\\.', true);
  t.is(result.value, 3);
  t.deepEqual(Object.fromEntries(result.captures!), { '1': 2, '2': 1 });
  const files = await count(repo, 0, '"version": "(\\d+)\\. select:file', true);
  t.deepEqual(Object.fromEntries(files.captures!), { '1': 2, '2': 1 });
  // A plain series whose regexp has a group counts matches: the group only groups.
  const plain = await count(repo, 0, '/"version": "(\\d+)\\./');
  t.is(plain.value, 3);
  t.is(plain.captures, undefined);
  const long = await searchCommit({
    gitDir: createFixtureRepository(`${tempDir(t)}/long.git`, [
      { date: '2024-01-01T00:00:00Z', files: { a: `v=${'x'.repeat(150)};\n` } },
    ]).path,
    commit: 'main',
    query: parseQuery('/v=(x+);/', { capture: true }),
    deadline: Date.now() + 30_000,
  });
  t.deepEqual(
    [...long.captures!.keys()].map((key) => key.length),
    [100],
    'capture values are truncated to 100 characters',
  );
});

test('renamed files and later commits are counted at each commit', async (t) => {
  const repo = buildFixture(`${tempDir(t)}/repo.git`);
  t.is((await count(repo, 1, 'TODO')).value, 6);
  t.is((await count(repo, 1, 'TODO file:util')).value, 0);
  t.is((await count(repo, 1, 'TODO file:main\\.go')).value, 1);
});

test('an empty-content match never counts and empty lines are fine', async (t) => {
  const repo = createFixtureRepository(`${tempDir(t)}/repo.git`, [
    { date: '2024-01-01T00:00:00Z', files: { a: '\n\nxx x\n\n' } },
  ]);
  t.is((await count(repo, 0, '/x*/')).value, 2);
});

test('the per-blob cache serves unchanged and renamed blobs and survives a new process', async (t) => {
  const db = await useTestDatabase(t);
  const repo = buildFixture(`${tempDir(t)}/repo.git`);
  const query = parseQuery('TODO');
  const cache = new BlobCountCache({ pool: db.pool });
  const first = await searchCommit({
    gitDir: repo.path,
    commit: repo.commits[0]!,
    query,
    cache,
    deadline: Date.now() + 30_000,
  });
  t.is(first.value, 8);
  t.is(first.cacheHits, 0);
  t.is(first.blobsRead, 9, 'nine distinct blobs of 1 MiB or less');
  // Only README changed; main.go has util.go's blob.
  const second = await searchCommit({
    gitDir: repo.path,
    commit: repo.commits[1]!,
    query,
    cache,
    deadline: Date.now() + 30_000,
  });
  t.is(second.value, 6);
  t.is(second.blobsRead, 1);
  const fresh = new BlobCountCache({ pool: db.pool });
  const again = await searchCommit({
    gitDir: repo.path,
    commit: repo.commits[1]!,
    query,
    cache: fresh,
    deadline: Date.now() + 30_000,
  });
  t.is(again.value, 6);
  t.is(again.blobsRead, 0);
  t.is(fresh.stats.databaseHits, again.cacheHits);
  const rows = await db.pool.query('select count(*)::int as n from insights_core.search_blob_counts');
  t.is(rows.rows[0].n, 10);
});

// A million one-character matches: linear, but about a second of matching, well past the deadline.
const SLOW = { files: { 'slow.txt': 'ab'.repeat(500_000) }, query: '/(.)/' };

test('a long regexp search stops at the deadline instead of running on', async (t) => {
  const repo = createFixtureRepository(`${tempDir(t)}/repo.git`, [{ date: '2024-01-01T00:00:00Z', files: SLOW.files }]);
  const started = Date.now();
  await t.throwsAsync(
    searchCommit({ gitDir: repo.path, commit: 'main', query: parseQuery(SLOW.query), deadline: Date.now() + 200 }),
    { instanceOf: SearchTimeoutError },
  );
  const elapsed = Date.now() - started;
  t.log(`stopped after ${elapsed} ms`);
  t.true(elapsed < 5_000);
});

// Serial: it counts the threads this process starts, so no other test may search meanwhile.
test.serial('regexp searches reuse a parked thread; one that times out is replaced', async (t) => {
  const repo = buildFixture(`${tempDir(t)}/repo.git`);
  const evil = createFixtureRepository(`${tempDir(t)}/evil.git`, [{ date: '2024-01-01T00:00:00Z', files: SLOW.files }]);
  let started = 0;
  const hook = createHook({ init: (_id, type) => void (type === 'WORKER' && started++) }).enable();
  t.teardown(() => hook.disable());

  const regexps: Array<[string, number]> = [
    ['/TODO/', 8],
    ['/todo later/', 1],
    ["/import.*from 'lodash/", 2],
    ['/T[O]DO/ case:yes', 5],
  ];
  for (const [source, expected] of regexps) t.is((await count(repo, 0, source)).value, expected, source);
  t.is(started, 1, 'one thread served four searches in a row');

  await t.throwsAsync(
    searchCommit({ gitDir: evil.path, commit: 'main', query: parseQuery(SLOW.query), deadline: Date.now() + 200 }),
    { instanceOf: SearchTimeoutError },
  );
  t.is((await count(repo, 1, '/TODO/')).value, 6, 'the search after a timeout is right');
  // V8 ran out of its half of the time, then re2js of the rest: both threads were terminated, and
  // the next search started a third.
  t.is(started, 3, 'each stuck thread was terminated and a fresh one started');
});

test('a parked search thread does not keep a process alive', (t) => {
  const repo = buildFixture(`${tempDir(t)}/repo.git`);
  const script = `
    const { searchCommit } = await import(${JSON.stringify(path.join(projectRoot, 'src/search/search-commit.ts'))});
    const { parseQuery } = await import(${JSON.stringify(path.join(projectRoot, 'src/search/query/parse-query.ts'))});
    const result = await searchCommit({ gitDir: ${JSON.stringify(repo.path)}, commit: 'main', query: parseQuery('/TODO/'), deadline: Date.now() + 30000 });
    console.log(result.value);`;
  const file = path.join(tempDir(t), 'search-once.mjs');
  fs.writeFileSync(file, script);
  const child = spawnSync(process.execPath, [file], { encoding: 'utf8', timeout: 60_000 });
  t.is(child.signal, null, 'exited on its own, not killed at the timeout');
  t.is(child.status, 0, child.stderr);
  t.is(child.stdout.trim(), '6');
});

test('a search of more blobs than one reader takes (two readers share them) counts what git grep counts', async (t) => {
  const files: Record<string, string> = {};
  for (let i = 0; i < 1100; i++)
    files[`f${i}.ts`] = `// TODO ${i}\n${i % 3 === 0 ? 'throw new TypeError(x) // todo\n' : ''}`;
  const repo = createFixtureRepository(`${tempDir(t)}/many.git`, [{ date: '2024-01-01T00:00:00Z', files }]);
  const grep = (args: string[]) =>
    spawnSync('git', ['--git-dir', repo.path, 'grep', '-o', '-I', ...args, 'main'], { encoding: 'utf8' })
      .stdout.split('\n')
      .filter(Boolean).length;
  const literal = await searchCommit({
    gitDir: repo.path,
    commit: 'main',
    query: parseQuery('TODO'),
    deadline: Date.now() + 60_000,
  });
  t.is(literal.value, grep(['-i', '-F', '-e', 'TODO']));
  t.is(literal.blobsRead, 1100);
  const regexp = await searchCommit({
    gitDir: repo.path,
    commit: 'main',
    query: parseQuery('/[a-z]+Error\\(/'),
    deadline: Date.now() + 60_000,
  });
  t.is(regexp.value, grep(['-i', '-E', '-e', '[a-z]+Error\\(']));
  t.true(regexp.value > 0);
});
