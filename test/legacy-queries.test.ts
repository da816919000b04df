// Queries stored in the first syntax are rewritten into the current one with the same counts. The
// expected counts are the ones the first engine was tested to give (this file's fixture is the
// search-engine test's, whose expectations under the first syntax are kept here), so a rewrite that
// changes a number fails.
import test from 'ava';
import { rewriteLegacyQuery } from '../src/search/query/legacy-query.ts';
import { parseQuery } from '../src/search/query/parse-query.ts';
import { searchCommit } from '../src/search/search-commit.ts';
import { planForSeries, rewriteLegacyQueries } from '../src/search/series-plan.ts';
import { useTestDatabase } from './helpers/database.ts';
import { createFixtureRepository, type FixtureRepository, tempDir } from './fixtures/git-repository.ts';

function buildFixture(dir: string): FixtureRepository {
  return createFixtureRepository(dir, [
    {
      date: '2024-01-01T00:00:00Z',
      files: {
        'README.md': 'TODO one\nTodo two todo\nnothing here\n',
        'src/app.ts': "// TODO: fix\nimport _ from 'lodash';\nimport { x } from 'lodash/fp';\n",
        'src/util.go': '// todo later\nfunc main() {}\n',
        'test/app.test.ts': 'TODO TODO TODO\n',
        'package.json': '{\n  "version": "1.2.3",\n  "name": "x"\n}\n',
        'web/package.json': '{ "version": "2.0.0" }\n',
        'lib/package.json': '{ "version": "1.9.0" }\n',
        'i18n.txt': 'ÄPFEL und äpfel\n',
        'words.txt': 'this or that\nthis  or that\n',
      },
    },
  ]);
}

// [query in the first syntax, what the first engine counted]
const LEGACY: Array<[string, number]> = [
  ['TODO', 8],
  ['TODO case:yes', 5],
  ['TODO file:\\.ts$', 4],
  ['TODO -file:test -file:README', 2],
  ['TODO lang:go', 1],
  ['TODO select:file', 4],
  ['"TODO one"', 1], // quotes were removed
  ['"TODO: fix"', 1],
  ['"two todo"', 1],
  ['this or that', 1], // `or` was a word
  ['"this  or that"', 1], // two spaces
  ['type:path package', 3],
  ['type:path file:\\.json$', 3],
  ["/import.*from 'lodash/", 2],
  ["patterntype:regexp import.*from 'lodash'", 1], // one regexp, joined by a space
  ['patterntype:regexp "version": "(\\d+)\\.', 3],
  ['/^todo/', 3],
  ['/todo$/', 2],
  ['/this\\s+or\\s+that/', 2],
  ['/one\\s+todo/', 0], // a match never crossed a line
  ['/one[^x]todo/', 0],
  ['/\\u00e4pfel/', 2],
  ['äpfel case:yes', 1],
  ['TODO lang:txt', 0],
];

test('a first-syntax query is rewritten into one that counts the same', async (t) => {
  const repo = buildFixture(`${tempDir(t)}/repo.git`);
  for (const [legacy, expected] of LEGACY) {
    const rewritten = rewriteLegacyQuery(legacy);
    const result = await searchCommit({
      gitDir: repo.path,
      commit: 'main',
      query: parseQuery(rewritten),
      deadline: Date.now() + 30_000,
    });
    t.is(result.value, expected, `${legacy} -> ${rewritten}`);
  }
});

test('rewrites read as written where nothing changed, and as /regexp/ where bare words would not', (t) => {
  t.is(rewriteLegacyQuery('TODO file:\\.ts$'), 'TODO file:\\.ts$');
  t.is(rewriteLegacyQuery('"TODO one"'), 'TODO one');
  t.is(rewriteLegacyQuery('this or that'), '/this or that/');
  t.is(rewriteLegacyQuery('"this  or that"'), '/this  or that/');
  t.is(
    rewriteLegacyQuery('/a\\s+b/ lang:txt'),
    'lang:text /a[\\t\\x{0b}\\f\\r \\x{a0}\\x{1680}\\x{2000}-\\x{200a}\\x{2028}\\x{2029}\\x{202f}\\x{205f}\\x{3000}\\x{feff}]+b/',
  );
  t.is(rewriteLegacyQuery('patterntype:regexp a/b c'), 'patterntype:regexp /a\\/b c/');
  // Queries the first parser refused never ran: left as they are.
  t.is(rewriteLegacyQuery('x AND y'), 'x AND y');
});

test('stored first-syntax queries are rewritten once, at start-up or before their series is counted', async (t) => {
  const db = await useTestDatabase(t);
  const created = await db.pool.query(
    `select id from insights_core.create_line_insight('legacy', $1::jsonb, null, null, 'WEEK', 1)`,
    [JSON.stringify([{ query: '"TODO one"' }, { query: 'this or that' }, { query: 'TODO' }])],
  );
  const series = (
    await db.pool.query(
      `select s.id, s.series_id, s.query from insight_view_series vs join insight_series s on s.id = vs.insight_series_id
        where vs.insight_view_id = $1 order by s.id`,
      [created.rows[0].id],
    )
  ).rows;
  // As migration 000021 lists every series that existed before it.
  await db.pool.query(
    'insert into insights_core.legacy_series_queries (insight_series_id, query) select id, query from insight_series',
  );
  // One series is counted before the start-up sweep: its plan comes from the rewritten query.
  const plan = await planForSeries(db.pool, { id: series[1].id, query: series[1].query, capture: false });
  t.like(plan, { source: '/this or that/', pattern: { kind: 'term', regexp: 'this or that' } });
  t.is(await rewriteLegacyQueries(db.pool), 1, 'the sweep rewrites the one that changes and keeps TODO');
  const after = await db.pool.query('select query from insight_series order by id');
  t.deepEqual(
    after.rows.map((r) => r.query),
    ['TODO one', '/this or that/', 'TODO'],
  );
  const left = await db.pool.query('select count(*)::int as n from insights_core.legacy_series_queries');
  t.is(left.rows[0].n, 0);
  t.is(await rewriteLegacyQueries(db.pool), 0, 'nothing is rewritten twice');
});
