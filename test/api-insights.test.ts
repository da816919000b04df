// Creating, changing and deleting insights through GraphQL: the query parser's errors, etag
// preconditions, series kept or replaced, and nothing written when a request fails.
import test, { type ExecutionContext } from 'ava';
import { SignJWT } from 'jose';
import { issueToken } from '../src/auth/tokens.ts';
import { useTestDatabase } from './helpers/database.ts';
import { postGraphql, startTestServer } from './helpers/server.ts';

const SECRET = new TextEncoder().encode('insights-test-secret-long-enough-for-hs256');

async function setup(t: ExecutionContext) {
  const db = await useTestDatabase(t);
  await db.pool.query(
    `select insights_core.register_repository('/nonexistent/api.git', 'acme/api'), insights_core.register_repository('/nonexistent/web.git', 'acme/web')`,
  );
  const server = await startTestServer(t, db.connectionString, { jwtSecret: SECRET });
  const gql = async (source: string, variables: Record<string, unknown> = {}, userId?: number) => {
    const token =
      userId === undefined ? undefined : await issueToken({ userId, orgIds: [], admin: false, ttl: '5m' }, SECRET);
    return (await postGraphql(server.url, source, token, variables)).body;
  };
  const count = async (table: string) =>
    (await db.pool.query(`select count(*)::int as n from ${table}`)).rows[0].n as number;
  return { db, gql, count, server };
}

const CREATE_LINE = `mutation ($input: CreateLineChartInsightInput!) {
  createLineChartInsight(input: $input) { result { rowId title etag presentationType
    insightViewSeriesByInsightViewId { nodes { label stroke insightSeriesByInsightSeriesId { rowId query repositories sampleIntervalUnit } } } } } }`;
const UPDATE_LINE = `mutation ($input: UpdateLineChartInsightInput!) {
  updateLineChartInsight(input: $input) { result { rowId title etag seriesLimit
    insightViewSeriesByInsightViewId { nodes { label insightSeriesByInsightSeriesId { rowId query } } } } } }`;
const DELETE = `mutation ($viewId: Int!, $etag: String!) { deleteInsightView(input: { viewId: $viewId, expectedEtag: $etag }) { result { rowId } } }`;

test('a malformed query returns the parser position and message, and writes nothing', async (t) => {
  const { gql, count } = await setup(t);
  const input = {
    title: 'broken',
    series: [{ query: 'TODO' }, { query: 'TODO file:(' }],
    intervalUnit: 'WEEK',
    intervalValue: 1,
  };
  const response = await gql(CREATE_LINE, { input }, 1);
  t.is(response.data?.createLineChartInsight ?? null, null);
  const error = response.errors![0]!;
  t.regex(error.message, /^series\[1\]\.query: invalid regular expression in file:.* at 10$/);
  t.like(error.extensions, {
    code: '22023',
    refusal: 'invalid-regexp',
    field: 'series[1].query',
    query: 'TODO file:(',
    position: 10,
  });

  const unsupported = await gql(CREATE_LINE, { input: { ...input, series: [{ query: 'x select:symbol' }] } }, 1);
  t.like(unsupported.errors![0]!.extensions, {
    refusal: 'unsupported-select',
    field: 'series[0].query',
    position: 9,
    hint: 'select:repo, select:file and select:content are',
  });
  const noGroup = await gql(CREATE_LINE, { input: { ...input, series: [{ query: 'TODO', capture_groups: true }] } }, 1);
  t.regex(
    noGroup.errors![0]!.message,
    /series\[0\]\.query: a capture-group series needs a regexp with a capturing group/,
  );
  const badCriteria = await gql(
    CREATE_LINE,
    { input: { ...input, series: [{ query: 'TODO' }], repositoryCriteria: 'repo:( x' } },
    1,
  );
  t.is(badCriteria.errors![0]!.extensions?.field, 'repositoryCriteria');
  const unknownRepo = await gql(
    CREATE_LINE,
    { input: { ...input, series: [{ query: 'TODO' }], repositories: ['acme/nope'] } },
    1,
  );
  t.is(unknownRepo.errors![0]!.message, 'unknown repositories: acme/nope');
  const anonymous = await gql(CREATE_LINE, { input: { ...input, series: [{ query: 'TODO' }] } });
  t.is(anonymous.errors![0]!.message, 'sign in first: this operation needs a user token');

  const checked = await gql(`{ bad: checkQuery(query: "TODO file:(") { ok message position captureGroups }
    good: checkQuery(query: "/v(\\\\d+)/", capture: true) { ok message position captureGroups }
    plain: checkQuery(query: "/v(\\\\d+)/") { ok captureGroups }
    refused: checkQuery(query: "type:diff fix") { ok code position hint }
    criteria: checkQuery(query: "TODO", repositoryCriteria: true) { ok message } }`);
  t.deepEqual(checked.data.bad, {
    ok: false,
    message: error.message.replace('series[1].query: ', ''),
    position: 10,
    captureGroups: 0,
  });
  t.deepEqual(checked.data.good, { ok: true, message: null, position: null, captureGroups: 1 });
  t.deepEqual(checked.data.plain, { ok: true, captureGroups: 0 });
  t.deepEqual(checked.data.refused, {
    ok: false,
    code: 'unsupported-type',
    position: 5,
    hint: 'series count file contents and paths; commit, diff and symbol series are not supported yet',
  });
  t.false(checked.data.criteria.ok);

  for (const table of ['insight_view', 'insight_series', 'insight_view_grants', 'insight_series_backfill']) {
    t.is(await count(table), 0, `${table} is untouched`);
  }
});

test('create a line chart, update it with its etag, reject a stale etag, delete it', async (t) => {
  const { db, gql, count } = await setup(t);
  const created = await gql(
    CREATE_LINE,
    {
      input: {
        title: 'Debt',
        intervalUnit: 'WEEK',
        intervalValue: 2,
        repositories: ['acme/api'],
        series: [
          { query: 'TODO', label: 'todos', stroke: '#f00' },
          { query: '/version (\\d+)/', label: 'versions', capture_groups: true },
        ],
      },
    },
    1,
  );
  const view = created.data.createLineChartInsight.result;
  t.like(view, { title: 'Debt', presentationType: 'LINE' });
  t.deepEqual(
    view.insightViewSeriesByInsightViewId.nodes.map((n: any) => [
      n.label,
      n.stroke,
      n.insightSeriesByInsightSeriesId.query,
      n.insightSeriesByInsightSeriesId.repositories,
      n.insightSeriesByInsightSeriesId.sampleIntervalUnit,
    ]),
    [
      ['todos', '#f00', 'TODO', ['acme/api'], 'WEEK'],
      ['versions', null, '/version (\\d+)/', ['acme/api'], 'WEEK'],
    ],
  );
  t.is(await count('insight_series_backfill'), 2, 'both series are backfilled');
  const seen = await gql('{ allInsightViews { nodes { title } } }', {}, 2);
  t.deepEqual(seen.data.allInsightViews.nodes, [], 'user 2 has no grant');

  const todoSeries = view.insightViewSeriesByInsightViewId.nodes[0].insightSeriesByInsightSeriesId.rowId;
  const update = (etag: string, title: string) =>
    gql(
      UPDATE_LINE,
      {
        input: {
          viewId: view.rowId,
          expectedEtag: etag,
          title,
          intervalUnit: 'WEEK',
          intervalValue: 2,
          repositories: ['acme/api'],
          seriesLimit: 5,
          series: [
            { query: 'TODO', label: 'all todos' },
            { query: 'FIXME', label: 'fixmes' },
          ],
        },
      },
      1,
    );
  const first = await update(view.etag, 'Debt v2');
  t.is(first.errors, undefined, JSON.stringify(first.errors));
  const updated = first.data.updateLineChartInsight.result;
  t.like(updated, { title: 'Debt v2', seriesLimit: 5 });
  t.not(updated.etag, view.etag);
  const nodes = [...updated.insightViewSeriesByInsightViewId.nodes].sort((a: any, b: any) =>
    a.label.localeCompare(b.label),
  );
  t.deepEqual(
    nodes.map((n: any) => n.label),
    ['all todos', 'fixmes'],
  );
  t.is(nodes[0].insightSeriesByInsightSeriesId.rowId, todoSeries, 'an unchanged query keeps its series and data');
  const retired = await db.pool.query(`select query from insight_series where deleted_at is not null`);
  t.deepEqual(retired.rows, [{ query: '/version (\\d+)/' }], 'the dropped series is retired');

  const stale = await update(view.etag, 'Debt v3');
  t.regex(
    stale.errors![0]!.message,
    /^stale update: insight view \d+ was changed by someone else since you read it; reload and retry$/,
  );
  t.is(stale.errors![0]!.extensions?.code, '40001');
  t.is(
    (await db.pool.query('select title from insight_view')).rows[0].title,
    'Debt v2',
    'the stale update wrote nothing',
  );
  const fresh = await update(updated.etag, 'mine now');
  t.is(fresh.errors, undefined, 'the etag just read is accepted');
  const other = await gql(DELETE, { viewId: view.rowId, etag: 'whatever' }, 2);
  t.regex(other.errors![0]!.message, /^no view \d+ that you may delete$/);

  const current = (await gql(`{ insightViewByRowId(rowId: ${view.rowId}) { etag } }`, {}, 1)).data.insightViewByRowId
    .etag;
  t.is((await gql(DELETE, { viewId: view.rowId, etag: current }, 1)).data.deleteInsightView.result.rowId, view.rowId);
  t.is(await count('insight_view'), 0);
  t.is(await count('insight_series where deleted_at is null'), 0, 'series no view uses are retired');
});

test('pie charts: languages by default, or a capture group; bad queries are refused', async (t) => {
  const { gql, count } = await setup(t);
  const CREATE_PIE = `mutation ($input: CreatePieChartInsightInput!) { createPieChartInsight(input: $input) { result { rowId etag presentationType otherThreshold
    insightViewSeriesByInsightViewId { nodes { insightSeriesByInsightSeriesId { query justInTime generatedFromCaptureGroups generationMethod } } } } } }`;
  const languages = (await gql(CREATE_PIE, { input: { title: 'Languages', repositories: ['acme/api'] } }, 1)).data
    .createPieChartInsight.result;
  t.like(languages, { presentationType: 'PIE', otherThreshold: 0.03 });
  t.like(languages.insightViewSeriesByInsightViewId.nodes[0].insightSeriesByInsightSeriesId, {
    justInTime: true,
    generationMethod: 'language-stats',
  });
  t.is(await count('insight_series_backfill'), 0, 'a language pie is computed when read, not backfilled');

  const versions = (
    await gql(CREATE_PIE, { input: { title: 'Versions', query: '/"version": "(\\d+)/', otherThreshold: 0.1 } }, 1)
  ).data.createPieChartInsight.result;
  t.like(versions.insightViewSeriesByInsightViewId.nodes[0].insightSeriesByInsightSeriesId, {
    justInTime: false,
    generatedFromCaptureGroups: true,
  });
  const noGroup = await gql(CREATE_PIE, { input: { title: 'x', query: 'TODO' } }, 1);
  t.regex(noGroup.errors![0]!.message, /^query: a capture-group series needs a regexp with a capturing group/);
  const badThreshold = await gql(CREATE_PIE, { input: { title: 'x', otherThreshold: 1.5 } }, 1);
  t.regex(badThreshold.errors![0]!.message, /^other_threshold must be a share from 0/);
  t.is(await count('insight_view'), 2);

  const UPDATE_PIE = `mutation ($input: UpdatePieChartInsightInput!) { updatePieChartInsight(input: $input) { result { title otherThreshold } } }`;
  const updated = await gql(
    UPDATE_PIE,
    {
      input: {
        viewId: languages.rowId,
        expectedEtag: languages.etag,
        title: 'Stack',
        repositories: ['acme/web'],
        otherThreshold: 0.2,
      },
    },
    1,
  );
  t.deepEqual(updated.data.updatePieChartInsight.result, { title: 'Stack', otherThreshold: 0.2 });
  const wrongKind = await gql(
    UPDATE_LINE,
    { input: { viewId: languages.rowId, expectedEtag: 'x', title: 'x', series: [{ query: 'x' }] } },
    1,
  );
  t.regex(wrongKind.errors![0]!.message, /stale update|is a PIE chart/);
});

test('who may change a view: user and org grants; not global, dashboard-inherited, other users, anonymous or bad tokens', async (t) => {
  const { db, server } = await setup(t);
  const make = async (title: string) =>
    (
      await db.pool.query(
        `select id from insights_core.create_line_insight($1, '[{"query": "TODO"}]', array['acme/api'], null, 'WEEK', 1, null, 99)`,
        [title],
      )
    ).rows[0].id as number;
  const views = {
    user: await make('user'),
    org: await make('org'),
    global: await make('global'),
    dashboard: await make('dashboard'),
    none: await make('none'),
  };
  await db.pool.query(
    `
    insert into insight_view_grants (insight_view_id, user_id, org_id, global) values ($1, 1, null, null), ($2, null, 10, null), ($3, null, null, true);
    insert into insights_core.insight_view_grant_roles (grant_id, role)
      select id, 'editor' from insight_view_grants where global is null on conflict do nothing;
    insert into dashboard (id, title) values (1, 'shared');
    insert into dashboard_grants (dashboard_id, user_id) values (1, 1);
    insert into dashboard_insight_view (dashboard_id, insight_view_id) values (1, $4);`.replace(/\$(\d)/g, (_, n) =>
      String([views.user, views.org, views.global, views.dashboard][Number(n) - 1]),
    ),
  );
  const etag = async (id: number) =>
    (await db.pool.query(`select insight_view_etag(v) as etag from insight_view v where id = $1`, [id])).rows[0]
      .etag as string;
  const rename = async (id: number, token?: string) => {
    const input = {
      viewId: id,
      expectedEtag: await etag(id),
      title: 'renamed',
      series: [{ query: 'TODO' }],
      repositories: ['acme/api'],
      intervalUnit: 'WEEK',
      intervalValue: 1,
    };
    return postGraphql(server.url, UPDATE_LINE, token, { input });
  };
  const member = await issueToken({ userId: 1, orgIds: [10], admin: false, ttl: '5m' }, SECRET);
  const outcome = async (id: number, token?: string) => {
    const { status, body } = await rename(id, token);
    return status === 401
      ? `401 ${body.errors![0]!.message}`
      : body.errors
        ? body.errors[0]!.message.replace(/\d+/, 'N')
        : 'renamed';
  };
  t.is(await outcome(views.user, member), 'renamed');
  t.is(await outcome(views.org, member), 'renamed');
  t.is(
    await outcome(views.global, member),
    'insight view N: you are its viewer; to edit it you need the editor role (or owner)',
    'a global grant lets everyone read, not edit',
  );
  t.is(
    await outcome(views.dashboard, member),
    'insight view N: you are its viewer; to edit it you need the editor role (or owner)',
    'seeing a view through a dashboard is not editing it',
  );
  t.is(await outcome(views.none, member), 'no insight view N that you may edit');
  t.is(await outcome(views.none), 'sign in first: this operation needs a user token');
  const forged = await issueToken(
    { userId: 99, orgIds: [], admin: false, ttl: '5m' },
    new TextEncoder().encode('not-the-server-secret-but-long-enough-for-hs256'),
  );
  t.is(await outcome(views.none, forged), '401 invalid token: bad signature');
  const expired = await new SignJWT({})
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject('1')
    .setIssuedAt(1_600_000_000)
    .setExpirationTime(1_600_000_600)
    .sign(SECRET);
  t.is(await outcome(views.none, expired), '401 invalid token: it has expired');
  const titles = await db.pool.query(`select title from insight_view order by id`);
  t.deepEqual(
    titles.rows.map((r) => r.title),
    ['renamed', 'renamed', 'global', 'dashboard', 'none'],
    'refused writes changed nothing',
  );
});
