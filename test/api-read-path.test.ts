// The read path through GraphQL: a view's lines (repository filters, view defaults overridden per
// request, sorting, limits, zero-fill, capture groups), series status, and pie charts. Points are
// stored with the same SQL functions the workers use; language pies read a real git mirror.
import test, { type ExecutionContext } from 'ava';
import { issueToken } from '../src/auth/tokens.ts';
import { loadRepositories } from '../src/store/repositories.ts';
import { syncRepository } from '../src/repos/sync-repository.ts';
import { useTestDatabase, type TestDatabase } from './helpers/database.ts';
import { postGraphql, startTestServer } from './helpers/server.ts';
import { createFixtureRepository, tempDir } from './fixtures/git-repository.ts';

const SECRET = new TextEncoder().encode('read-path-test-secret-long-enough-for-hs256');
const WEEK1 = '2024-01-01T00:00:00.000Z';
const WEEK2 = '2024-01-08T00:00:00.000Z';
const WEEK3 = '2024-01-15T00:00:00.000Z';
const SNAPSHOT = '2024-01-16T00:00:00.000Z';

async function setup(t: ExecutionContext, dataDir?: string) {
  const db = await useTestDatabase(t);
  const server = await startTestServer(t, db.connectionString, { jwtSecret: SECRET, dataDir });
  const gql = async (source: string, userId = 1) => {
    const token = await issueToken({ userId, orgIds: [], admin: false, ttl: '5m' }, SECRET);
    const { body } = await postGraphql(server.url, source, token);
    return body;
  };
  return { db, gql };
}

async function register(db: TestDatabase, name: string, path = `/nonexistent/${name}.git`): Promise<number> {
  return (await db.pool.query(`select (insights_core.register_repository($1, $2)).id`, [path, name])).rows[0].id;
}

const record = (db: TestDatabase, seriesId: number, time: string, points: object[], snapshot = false) =>
  db.pool.query(`select insights_core.store_series_recording($1, $2, $3, $4::jsonb)`, [
    seriesId,
    time,
    snapshot,
    JSON.stringify(points),
  ]);

/** A view (granted to user 1) with a TODO series and a capture-group series, and points for both. */
async function lineChart(db: TestDatabase) {
  const api = await register(db, 'acme/api');
  const web = await register(db, 'acme/web');
  const view = (
    await db.pool.query(
      `select id from insights_core.create_line_insight('Debt', '[{"query": "TODO", "label": "todos"}, {"query": "/v(\\\\d)/", "capture_groups": true}]', null, null, 'WEEK', 1, null, 1)`,
    )
  ).rows[0].id as number;
  const { rows } = await db.pool.query(
    `select insight_series_id as id from insight_view_series where insight_view_id = $1 order by 1`,
    [view],
  );
  const [todos, versions] = rows.map((r) => r.id as number);
  await record(db, todos!, WEEK1, [
    { repo_id: api, value: 3 },
    { repo_id: web, value: 4 },
  ]);
  await record(db, todos!, WEEK2, [{ repo_id: api, value: 5 }]);
  await record(db, todos!, WEEK3, []); // nothing matched anywhere: still a sample time, read as 0
  await record(db, todos!, SNAPSHOT, [{ repo_id: web, value: 9 }], true);
  await record(db, versions!, WEEK1, [
    { repo_id: api, value: 1, capture: '1' },
    { repo_id: web, value: 2, capture: '2' },
  ]);
  await record(db, versions!, WEEK2, [
    { repo_id: api, value: 1, capture: '1' },
    { repo_id: web, value: 5, capture: '3' },
  ]);
  return { view, todos: todos!, versions: versions! };
}

const lines = (body: any) => body.data.insightViewByRowId.data.map((l: any) => [l.label, l.values]);
const dataQuery = (view: number, args = '') =>
  `{ insightViewByRowId(rowId: ${view}) { data${args ? `(${args})` : ''} { seriesId label stroke capture times values } } }`;

test('lines are zero-filled per sample time, capture groups expand, the snapshot is the newest point', async (t) => {
  const { db, gql } = await setup(t);
  const { view } = await lineChart(db);
  const body = await gql(dataQuery(view));
  t.is(body.errors, undefined);
  const data = body.data.insightViewByRowId.data;
  t.deepEqual(
    data[0].times.map((time: string) => new Date(time).toISOString()),
    [WEEK1, WEEK2, WEEK3, SNAPSHOT],
  );
  t.deepEqual(lines(body), [
    ['todos', [7, 5, 0, 9]],
    ['1', [1, 1]],
    ['2', [2, 0]],
    ['3', [0, 5]],
  ]);
  t.deepEqual(
    data.map((l: any) => l.capture),
    [null, '1', '2', '3'],
  );
  const denied = await gql(dataQuery(view), 2);
  t.is(denied.data.insightViewByRowId, null, 'user 2 has no grant');
});

test('sample times are ISO 8601 instants equal to the recording times, nested in a dashboard or not, [] before any recording', async (t) => {
  // They travel from PostgreSQL in a compact form (src/server/sample-times-codec.ts).
  const { db, gql } = await setup(t);
  const { view, todos } = await lineChart(db);
  const fractional = '2024-01-22T00:00:00.123Z';
  await record(db, todos, fractional, []);
  const empty = (
    await db.pool.query(
      `select id from insights_core.create_line_insight('Empty', '[{"query": "FIXME"}]', null, null, 'WEEK', 1, null, 1)`,
    )
  ).rows[0].id;
  const dashboard = (await db.pool.query(`insert into dashboard (title) values ('Times') returning id`)).rows[0].id;
  await db.pool.query(`insert into dashboard_grants (dashboard_id, user_id) values ($1, 1)`, [dashboard]);
  await db.pool.query(`insert into dashboard_insight_view (dashboard_id, insight_view_id) values ($1, $2), ($1, $3)`, [
    dashboard,
    view,
    empty,
  ]);
  const recorded = (
    await db.pool.query(
      `select array_agg(to_json(recording_time)#>>'{}' order by recording_time) as times from insight_series_recording_times where insight_series_id = $1`,
      [todos],
    )
  ).rows[0].times.map((time: string) => new Date(time).toISOString());
  t.deepEqual(recorded, [WEEK1, WEEK2, WEEK3, SNAPSHOT, fractional].sort());

  const iso = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/;
  const direct = await gql(dataQuery(view));
  const nested =
    await gql(`{ dashboardByRowId(rowId: ${dashboard}) { dashboardInsightViewsByDashboardId(orderBy: ROW_ID_ASC) { nodes {
    insightViewByInsightViewId { title data { label times } } } } } }`);
  t.is(direct.errors, undefined);
  t.is(nested.errors, undefined);
  const [debt, none] = nested.data.dashboardByRowId.dashboardInsightViewsByDashboardId.nodes.map(
    (n: any) => n.insightViewByInsightViewId,
  );
  for (const times of [direct.data.insightViewByRowId.data[0].times, debt.data[0].times]) {
    for (const time of times) t.regex(time, iso);
    // The snapshot (January 16) is no longer newer than every permanent recording: not a sample time.
    t.deepEqual(
      times.map((time: string) => new Date(time).toISOString()),
      [WEEK1, WEEK2, WEEK3, fractional],
    );
  }
  t.deepEqual(none, { title: 'Empty', data: [{ label: 'FIXME', times: [] }] });
});

test('the stored default lines are what a live computation gives, after every kind of change', async (t) => {
  const { db } = await setup(t);
  const { view, todos } = await lineChart(db);
  const same = async () =>
    (
      await db.pool.query(
        `select c.lines is not null as stored, c.lines = (select array_agg(row(d.series_id, d.label, d.stroke, d.capture, d.times, d."values")::insight_data_series order by n)
                                                  from insights_core.insight_view_data_live(v) with ordinality as d(series_id, label, stroke, capture, times, "values", n)) as same
       from insight_view v join insights_core.insight_view_lines c on c.view_id = v.id where v.id = $1`,
        [view],
      )
    ).rows[0];
  t.deepEqual(await same(), { stored: true, same: true }, 'after recordings and a snapshot');
  await record(db, todos, '2024-01-22T00:00:00.000Z', [
    { repo_id: (await db.pool.query(`select id from repositories limit 1`)).rows[0].id, value: 2 },
  ]);
  t.deepEqual(await same(), { stored: true, same: true }, 'after a new recording');
  await db.pool.query(`update insight_view set series_sort_mode = 'LEXICOGRAPHICAL', series_limit = 2 where id = $1`, [
    view,
  ]);
  t.deepEqual(await same(), { stored: true, same: true }, 'after the view defaults changed');
  await db.pool.query(
    `update insight_view_series set label = 'renamed' where insight_view_id = $1 and insight_series_id = $2`,
    [view, todos],
  );
  t.deepEqual(await same(), { stored: true, same: true }, 'after a label changed');
  await db.pool.query(
    `delete from series_points where series_id = (select series_id from insight_series where id = $1)`,
    [todos],
  );
  t.deepEqual(await same(), { stored: true, same: true }, 'after points were deleted');
  await db.pool.query(`update insight_view set default_filter_include_repo_regex = 'api' where id = $1`, [view]);
  t.deepEqual(await same(), { stored: false, same: null }, 'a view with a default repository filter is read live');
});

test('repository filters: per request, view defaults, and an override that clears them', async (t) => {
  const { db, gql } = await setup(t);
  const { view } = await lineChart(db);
  t.deepEqual(
    lines(await gql(dataQuery(view, 'includeRepoRegex: "WEB$"'))),
    [
      ['todos', [4, 0, 0, 9]],
      ['2', [2, 0]],
      ['3', [0, 5]],
    ],
    'include matches names case-insensitively; a capture never seen in scope has no line',
  );
  await db.pool.query(`update insight_view set default_filter_exclude_repo_regex = 'web' where id = $1`, [view]);
  t.deepEqual(
    lines(await gql(dataQuery(view))),
    [
      ['todos', [3, 5, 0, 0]],
      ['1', [1, 1]],
    ],
    'the view default applies',
  );
  t.deepEqual(
    lines(await gql(dataQuery(view, 'excludeRepoRegex: ""'))).map((l: any) => l[0]),
    ['todos', '1', '2', '3'],
    'an empty regexp clears it',
  );
  const bad = await gql(dataQuery(view, 'includeRepoRegex: "("'));
  t.regex(bad.errors![0]!.message, /^include_repo_regex is not a valid regular expression/);
  t.is(bad.errors![0]!.extensions?.code, '22023');
});

test('sorting, series limit and number of samples', async (t) => {
  const { db, gql } = await setup(t);
  const { view } = await lineChart(db);
  t.deepEqual(
    lines(await gql(dataQuery(view, 'sortMode: RESULT_COUNT'))).map((l: any) => l[0]),
    ['todos', '3', '1', '2'],
    'latest value, largest first',
  );
  t.deepEqual(
    lines(await gql(dataQuery(view, 'sortMode: RESULT_COUNT, sortDirection: ASC'))).map((l: any) => l[0]),
    ['2', '1', '3', 'todos'],
  );
  t.deepEqual(
    lines(await gql(dataQuery(view, 'sortMode: LEXICOGRAPHICAL, sortDirection: DESC'))).map((l: any) => l[0]),
    ['todos', '3', '2', '1'],
  );
  t.deepEqual(
    lines(await gql(dataQuery(view, 'sortMode: DATE_ADDED'))).map((l: any) => l[0]),
    ['todos', '1', '2', '3'],
  );
  t.deepEqual(lines(await gql(dataQuery(view, 'sortMode: RESULT_COUNT, seriesLimit: 2, numSamples: 2'))), [
    ['todos', [0, 9]],
    ['3', [0, 5]],
  ]);
  await db.pool.query(
    `update insight_view set series_sort_mode = 'LEXICOGRAPHICAL', series_limit = 1, series_num_samples = 1 where id = $1`,
    [view],
  );
  t.deepEqual(lines(await gql(dataQuery(view))), [['1', [1]]], 'the view defaults apply');
  const bad = await gql(dataQuery(view, 'numSamples: 0'));
  t.is(bad.errors![0]!.message, 'num_samples must be between 1 and 1000, got 0');
});

test('status: backfill progress, pending jobs, loading and incomplete points per series', async (t) => {
  const { db, gql } = await setup(t);
  const { view, todos } = await lineChart(db);
  const STATUS = `{ insightViewByRowId(rowId: ${view}) { loading seriesStatus { label backfillState percentComplete pendingJobs isLoading incompletePoints incompleteReasons } } }`;
  const before = (await gql(STATUS)).data.insightViewByRowId;
  t.true(before.loading);
  t.like(before.seriesStatus[0], {
    label: 'todos',
    backfillState: 'new',
    percentComplete: 0,
    isLoading: true,
    incompletePoints: 0,
  });
  t.true(before.seriesStatus[0].pendingJobs >= 1, 'its backfill job is queued');

  await db.pool.query(`
    update insight_series_backfill set state = 'completed';
    select graphile_worker.permanently_fail_jobs(array_agg(id), 'given up for the test') from graphile_worker.jobs;`);
  await db.pool.query(
    `insert into insight_series_incomplete_points (series_id, reason, time) values ($1, 'timeout', now())`,
    [todos],
  );
  const after = (await gql(STATUS)).data.insightViewByRowId;
  t.false(after.loading);
  t.deepEqual(after.seriesStatus[0], {
    label: 'todos',
    backfillState: 'completed',
    percentComplete: 100,
    pendingJobs: 0,
    isLoading: false,
    incompletePoints: 1,
    incompleteReasons: ['timeout'],
  });
});

const PIE = (view: number) => `{ insightViewByRowId(rowId: ${view}) { presentationType pie { label value share } } }`;

test('a capture-group pie shows the newest sample, small slices merged into Other', async (t) => {
  const { db, gql } = await setup(t);
  const api = await register(db, 'acme/api');
  const created = await gql(
    `mutation { createPieChartInsight(input: { title: "Versions", query: "/v(\\\\d)/", otherThreshold: 0.1 }) { result { rowId } } }`,
  );
  const view = created.data.createPieChartInsight.result.rowId;
  const series = (
    await db.pool.query(`select insight_series_id as id from insight_view_series where insight_view_id = $1`, [view])
  ).rows[0].id;
  await record(db, series, WEEK1, [{ repo_id: api, value: 100, capture: 'old' }]);
  await record(db, series, WEEK2, [
    { repo_id: api, value: 60, capture: '2' },
    { repo_id: api, value: 35, capture: '3' },
    { repo_id: api, value: 3, capture: '4' },
    { repo_id: api, value: 2, capture: '5' },
  ]);
  const slices = (await gql(PIE(view))).data.insightViewByRowId.pie;
  t.deepEqual(slices, [
    { label: '2', value: 60, share: 0.6 },
    { label: '3', value: 35, share: 0.35 },
    { label: 'Other', value: 5, share: 0.05 },
  ]);
});

test('a language pie is computed from the mirror when read, and cached per branch head', async (t) => {
  const dataDir = tempDir(t);
  const fixture = createFixtureRepository(`${tempDir(t)}/langs.git`, [
    {
      date: '2024-01-01T00:00:00Z',
      files: {
        'src/a.ts': 'x'.repeat(600),
        'src/b.go': 'y'.repeat(300),
        Makefile: 'z'.repeat(90),
        'notes.unknownext': 'q'.repeat(1000),
        'c.js': 'j'.repeat(10),
      },
    },
  ]);
  const { db, gql } = await setup(t, dataDir);
  const id = await register(db, 'acme/langs', fixture.path);
  await syncRepository({ pool: db.pool, dataDir, repository: (await loadRepositories(db.pool, [id]))[0]! });

  const created = await gql(
    `mutation { createPieChartInsight(input: { title: "Languages", repositories: ["acme/langs"], otherThreshold: 0.05 }) { result { rowId } } }`,
  );
  const view = created.data.createPieChartInsight.result.rowId;
  const body = await gql(PIE(view));
  t.is(body.errors, undefined);
  t.deepEqual(body.data.insightViewByRowId.pie, [
    { label: 'TypeScript', value: 600, share: 0.6 },
    { label: 'Go', value: 300, share: 0.3 },
    { label: 'Makefile', value: 90, share: 0.09 },
    { label: 'Other', value: 10, share: 0.01 },
  ]);
  const cached = await db.pool.query(
    `select distinct commit_oid, computed_at from repository_language_stats where repo_id = $1`,
    [id],
  );
  t.is(cached.rows.length, 1);
  t.is(cached.rows[0].commit_oid, fixture.commits.at(-1));
  await gql(PIE(view));
  const again = await db.pool.query(`select distinct computed_at from repository_language_stats where repo_id = $1`, [
    id,
  ]);
  t.deepEqual(
    again.rows.map((r) => r.computed_at),
    [cached.rows[0].computed_at],
    'the same head is not recomputed',
  );
  const other = await gql(PIE(view), 2);
  t.is(other.data.insightViewByRowId, null, 'user 2 has no grant');
});
