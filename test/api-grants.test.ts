// Grants enforced by PostgreSQL, through the real HTTP server with real JWTs: user, org, global and
// dashboard-inherited grants, no grant, anonymous, forged, expired and malformed tokens; top-level
// connections, nested relations, node ids and functions.
import test from 'ava';
import { SignJWT } from 'jose';
import { issueToken } from '../src/auth/tokens.ts';
import { cliEnv, runCli } from './helpers/cli.ts';
import { useTestDatabase } from './helpers/database.ts';
import { postGraphql, startTestServer } from './helpers/server.ts';
import { tempDir } from './fixtures/git-repository.ts';

const SECRET_TEXT = 'grants-test-secret-of-sufficient-length-123';
const SECRET = new TextEncoder().encode(SECRET_TEXT);

// Users: 1 (org 10), 2 (org 20), 3 (no org; dashboard grant).
const SETUP = `
  insert into insight_view (id, title, unique_id) values
    (1, 'user view', 'v-user'), (2, 'org view', 'v-org'), (3, 'global view', 'v-global'),
    (4, 'dashboard view', 'v-dash'), (5, 'hidden view', 'v-none');
  insert into insight_view_grants (insight_view_id, user_id, org_id, global) values
    (1, 1, null, null), (2, null, 10, null), (3, null, null, true);
  insert into dashboard (id, title) values (1, 'user 3 dashboard'), (2, 'org 20 dashboard'), (3, 'no grant'), (4, 'deleted');
  update dashboard set deleted_at = now() where id = 4;
  insert into dashboard_grants (dashboard_id, user_id, org_id, global) values (1, 3, null, null), (2, null, 20, null), (4, null, null, true);
  insert into dashboard_insight_view (dashboard_id, insight_view_id) values (1, 4), (4, 5), (3, 5);
  insert into insight_series (id, series_id, query, generation_method) values
    (1, 's-user', 'a', 'search'), (2, 's-org', 'b', 'search'), (3, 's-global', 'c', 'search'), (4, 's-dash', 'd', 'search'), (5, 's-none', 'e', 'search');
  insert into insight_view_series (insight_view_id, insight_series_id, label) select id, id, 'series ' || id from insight_view;
  insert into repositories (id, name, clone_url) values (1, 'acme/api', '/srv/api');
  insert into repo_names (id, name) values (1, 'acme/api');
  insert into series_points (series_id, time, value, repo_id, repo_name_id, original_repo_name_id)
    select series_id, '2024-01-01', id, 1, 1, 1 from insight_series;
  insert into insight_series_recording_times (insight_series_id, recording_time, snapshot) select id, '2024-01-01', false from insight_series;
`;

async function setup(t: import('ava').ExecutionContext) {
  const db = await useTestDatabase(t);
  await db.pool.query(SETUP);
  const server = await startTestServer(t, db.connectionString, { jwtSecret: SECRET });
  const query = (source: string, token?: string) => postGraphql(server.url, source, token);
  return { db, server, query };
}

const tokenFor = (userId: number, orgIds: number[] = [], admin = false) =>
  issueToken({ userId, orgIds, admin, ttl: '1h' }, SECRET);

const VIEWS = '{ allInsightViews(orderBy: ROW_ID_ASC) { nodes { title } } }';
const DASHBOARDS = '{ allDashboards(orderBy: ROW_ID_ASC) { nodes { title } } }';
const titles = (body: { data?: any }, field: string) => body.data[field].nodes.map((n: { title: string }) => n.title);

test('views: user, org, global and dashboard-inherited grants; no grant and anonymous see only what they may', async (t) => {
  const { query } = await setup(t);
  const matrix: Array<[string, string | undefined, string[]]> = [
    ['anonymous', undefined, ['global view']],
    ['user 1 (org 10)', await tokenFor(1, [10]), ['user view', 'org view', 'global view']],
    ['user 2 (org 20)', await tokenFor(2, [20]), ['global view']],
    ['user 3 (dashboard grant)', await tokenFor(3), ['global view', 'dashboard view']],
    ['user 4 (nothing)', await tokenFor(4), ['global view']],
  ];
  for (const [who, token, expected] of matrix) {
    const { status, body } = await query(VIEWS, token);
    t.is(status, 200, who);
    t.deepEqual(titles(body, 'allInsightViews'), expected, who);
  }
});

test('dashboards: user and org grants; deleted and ungranted dashboards are invisible', async (t) => {
  const { query } = await setup(t);
  const matrix: Array<[string, string | undefined, string[]]> = [
    ['anonymous', undefined, []],
    ['user 1', await tokenFor(1, [10]), []],
    ['user 2 (org 20)', await tokenFor(2, [20]), ['org 20 dashboard']],
    ['user 3', await tokenFor(3), ['user 3 dashboard']],
  ];
  for (const [who, token, expected] of matrix)
    t.deepEqual(titles((await query(DASHBOARDS, token)).body, 'allDashboards'), expected, who);
});

test('series, points, grants and functions follow the views: nothing leaks through any path', async (t) => {
  const { query } = await setup(t);
  const user1 = await tokenFor(1, [10]);
  const points = await query('{ allSeriesPoints(orderBy: SERIES_ID_ASC) { nodes { seriesId value } } }', user1);
  t.deepEqual(points.body.data.allSeriesPoints.nodes, [
    { seriesId: 's-global', value: 3 },
    { seriesId: 's-org', value: 2 },
    { seriesId: 's-user', value: 1 },
  ]);
  const series = await query('{ allInsightSeries(orderBy: ROW_ID_ASC) { nodes { seriesId } } }', await tokenFor(3));
  t.deepEqual(
    series.body.data.allInsightSeries.nodes.map((n: { seriesId: string }) => n.seriesId),
    ['s-global', 's-dash'],
  );
  const grants = await query(
    '{ allInsightViewGrants { nodes { insightViewId userId orgId global } } }',
    await tokenFor(2, [20]),
  );
  t.deepEqual(grants.body.data.allInsightViewGrants.nodes, [
    { insightViewId: 3, userId: null, orgId: null, global: true },
  ]);
  const filled = await query(
    '{ insightSeriesPointsFilled(seriesId: "s-user") { nodes { value } } }',
    await tokenFor(2, [20]),
  );
  t.deepEqual(
    filled.body.data.insightSeriesPointsFilled.nodes,
    [],
    'the read function sees nothing of a series without a grant',
  );
  const filledOwn = await query('{ insightSeriesPointsFilled(seriesId: "s-user") { nodes { value } } }', user1);
  t.deepEqual(filledOwn.body.data.insightSeriesPointsFilled.nodes, [{ value: 1 }]);
  const nested = await query(
    `{ allDashboards { nodes { title dashboardInsightViewsByDashboardId { nodes { insightViewByInsightViewId { title
         insightViewSeriesByInsightViewId { nodes { insightSeriesByInsightSeriesId { seriesId } } } } } } } } }`,
    await tokenFor(3),
  );
  t.is(nested.body.errors, undefined, JSON.stringify(nested.body.errors));
  t.deepEqual(nested.body.data.allDashboards.nodes, [
    {
      title: 'user 3 dashboard',
      dashboardInsightViewsByDashboardId: {
        nodes: [
          {
            insightViewByInsightViewId: {
              title: 'dashboard view',
              insightViewSeriesByInsightViewId: { nodes: [{ insightSeriesByInsightSeriesId: { seriesId: 's-dash' } }] },
            },
          },
        ],
      },
    },
  ]);
  const status = await query('{ allBackfillStatuses { totalCount } }', undefined);
  t.is(status.body.data.allBackfillStatuses.totalCount, 0);
});

test('the visible series, found once per query from the grants, are those of the views each view-level check admits', async (t) => {
  // insights_core.app_visible_series_ids() (the series and point policies) is set-based for speed; it must agree
  // with insights_core.insight_view_is_visible(), which the view policy asks one view at a time.
  const db = await useTestDatabase(t);
  await db.pool.query(SETUP);
  const identities: Array<Record<string, string>> = [
    { role: 'code_insights_anonymous' },
    ...[
      [1, '10'],
      [2, '20'],
      [3, ''],
      [4, '10,20'],
      [5, ''],
    ].map(([user, orgs]) => ({
      role: 'code_insights_user',
      'jwt.claims.user_id': String(user),
      'jwt.claims.org_ids': String(orgs),
    })),
  ];
  const seen = [];
  for (const settings of identities) {
    const client = await db.pool.connect();
    try {
      await client.query('begin');
      await client.query(`select set_config(key, value, true) from jsonb_each_text($1::jsonb)`, [
        JSON.stringify(settings),
      ]);
      const { rows } = await client.query(`
        select array(select unnest(insights_core.app_visible_series_ids()) order by 1) as fast,
               array(select distinct s.series_id from insight_view_series vs join insight_series s on s.id = vs.insight_series_id
                      where insights_core.insight_view_is_visible(vs.insight_view_id) order by 1) as per_view`);
      await client.query('rollback');
      t.deepEqual(rows[0].fast, rows[0].per_view, JSON.stringify(settings));
      seen.push(rows[0].fast.join(' '));
    } finally {
      client.release();
    }
  }
  t.deepEqual(seen, ['s-global', 's-global s-org s-user', 's-global', 's-dash s-global', 's-global s-org', 's-global']);
});

test('node ids and row lookups of views without a grant return nothing', async (t) => {
  const { query } = await setup(t);
  const user1 = await tokenFor(1, [10]);
  const own = await query('{ insightViewByRowId(rowId: 1) { id title } }', user1);
  const ownId: string = own.body.data.insightViewByRowId.id;
  t.is(own.body.data.insightViewByRowId.title, 'user view');
  // The node id of view 5 (nobody's), built the same way as view 1's.
  const hiddenId = Buffer.from(Buffer.from(ownId, 'base64').toString().replace(/1\]$/, '5]')).toString('base64');
  t.not(hiddenId, ownId);
  const byNode = await query(`{ node(id: "${hiddenId}") { id } insightViewByRowId(rowId: 5) { title } }`, user1);
  t.deepEqual(byNode.body.data, { node: null, insightViewByRowId: null });
  const anonymous = await query(`{ node(id: "${ownId}") { id } }`);
  t.deepEqual(anonymous.body.data, { node: null });
});

test('forged, expired, malformed and wrongly-sent tokens get a clear error and no data', async (t) => {
  const { query } = await setup(t);
  const forged = await issueToken(
    { userId: 1, orgIds: [10], admin: true, ttl: '1h' },
    new TextEncoder().encode('not-the-server-secret-but-long-enough-1234'),
  );
  const expired = await new SignJWT({})
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject('1')
    .setIssuedAt(1_600_000_000)
    .setExpirationTime(1_600_000_600)
    .sign(SECRET);
  const badClaims = await new SignJWT({ org_ids: ['ten'] })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject('alice')
    .setExpirationTime('1h')
    .sign(SECRET);
  // Ids past PostgreSQL's integer get a message, not a raw "out of range" from the database.
  const hugeUser = await new SignJWT({})
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject('9999999999')
    .setExpirationTime('1h')
    .sign(SECRET);
  const hugeOrg = await new SignJWT({ org_ids: [2_147_483_648] })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject('1')
    .setExpirationTime('1h')
    .sign(SECRET);
  const cases: Array<[string, string, RegExp]> = [
    ['forged', forged, /^invalid token: bad signature$/],
    ['a user id past 2^31 - 1', hugeUser, /^invalid token: the sub claim must be a user id of at most 2147483647$/],
    [
      'an org id past 2^31 - 1',
      hugeOrg,
      /^invalid token: the org_ids claim: must be at most 2147483647 \(a PostgreSQL integer\)$/,
    ],
    ['expired', expired, /^invalid token: it has expired$/],
    ['malformed claims', badClaims, /^invalid token: the sub claim must be a positive integer user id$/],
    ['not a JWT', 'abc.def.ghi', /^invalid token: /],
  ];
  for (const [what, token, message] of cases) {
    const { status, body } = await query(VIEWS, token);
    t.is(status, 401, what);
    t.is(body.data, undefined, `${what}: no data`);
    t.regex(body.errors![0]!.message, message, what);
  }
  const response = await fetch(`${(await setup(t)).server.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: 'Token xyz' },
    body: JSON.stringify({ query: VIEWS }),
  });
  t.is(response.status, 401);
  t.regex(((await response.json()) as any).errors[0].message, /expected "Bearer <token>"/);
});

test('the only mutations are the SQL functions that check their own permissions', async (t) => {
  const { query } = await setup(t);
  const { body } = await query('{ __schema { mutationType { fields { name } } } }');
  t.deepEqual(body.data.__schema.mutationType.fields.map((f: { name: string }) => f.name).sort(), [
    'addRepository',
    'addViewToDashboard',
    'cancelBackfill',
    'createDashboard',
    'createLineChartInsight',
    'createPieChartInsight',
    'deleteDashboard',
    'deleteInsightView',
    'grantDashboard',
    'grantInsightView',
    'moveBackfillToBack',
    'moveBackfillToFront',
    'removeViewFromDashboard',
    'restrictRepository',
    'retryBackfill',
    'revokeDashboardGrant',
    'revokeInsightViewGrant',
    'syncRepository',
    'updateDashboard',
    'updateLineChartInsight',
    'updatePieChartInsight',
  ]);
});

test('code-insights token issues a token the server accepts', async (t) => {
  const { query } = await setup(t);
  const result = await runCli(
    ['token', '--user', '1', '--org', '10', '--ttl', '10m'],
    cliEnv({ JWT_SECRET: SECRET_TEXT, DATA_DIR: tempDir(t) }),
  );
  t.is(result.code, 0, result.stderr);
  t.deepEqual(titles((await query(VIEWS, result.stdout.trim())).body, 'allInsightViews'), [
    'user view',
    'org view',
    'global view',
  ]);
  const bad = await runCli(['token', '--user', 'bob'], cliEnv({ DATA_DIR: tempDir(t) }));
  t.is(bad.code, 2);
  t.regex(bad.stderr, /--user must be a numeric id from 1 to 2147483647, got "bob"/);
});
