// Who may do what, through a real server: the grant roles (viewer, editor, owner), an org member,
// another org and anonymous, across views, dashboards, repositories (one restricted), line data,
// pies, drill-down, CSV export and subscriptions. Every cell of the matrix is asserted, so a role
// that can do one thing too many, or a restricted repository counted for someone who may not see
// it, fails here.
import test, { type ExecutionContext } from 'ava';
import { issueToken } from '../src/auth/tokens.ts';
import { useTestDatabase, type TestDatabase } from './helpers/database.ts';
import { subscribe } from './helpers/graphql-ws.ts';
import { postGraphql, startTestServer } from './helpers/server.ts';

const SECRET = new TextEncoder().encode('grant-matrix-test-secret-long-enough-for-hs256');
const WEEK1 = '2024-01-01T00:00:00.000Z';
const WEEK2 = '2024-01-08T00:00:00.000Z';

/** The principals of the matrix; `orgs` go in their tokens. */
const PEOPLE = {
  owner: { userId: 1, orgIds: [] as number[] },
  viewer: { userId: 2, orgIds: [] as number[] },
  editor: { userId: 3, orgIds: [] as number[] },
  member: { userId: 4, orgIds: [10] },
  otherOrg: { userId: 5, orgIds: [11] },
};
type Who = keyof typeof PEOPLE | 'anonymous';

async function setup(t: ExecutionContext) {
  const db = await useTestDatabase(t);
  const server = await startTestServer(t, db.connectionString, { jwtSecret: SECRET });
  const tokens = new Map<Who, string | undefined>([['anonymous', undefined]]);
  for (const [who, claims] of Object.entries(PEOPLE))
    tokens.set(who as Who, await issueToken({ ...claims, admin: false, ttl: '10m' }, SECRET));
  const gql = async (who: Who, source: string, variables?: Record<string, unknown>) =>
    (await postGraphql(server.url, source, tokens.get(who), variables)).body;
  return { db, server, tokens, gql };
}

async function register(db: TestDatabase, name: string): Promise<number> {
  return (await db.pool.query(`select (insights_core.register_repository($1, $2)).id`, [`/nowhere/${name}.git`, name]))
    .rows[0].id;
}

const record = (db: TestDatabase, seriesId: number, time: string, points: object[]) =>
  db.pool.query(`select insights_core.store_series_recording($1, $2, false, $3::jsonb)`, [
    seriesId,
    time,
    JSON.stringify(points),
  ]);

/**
 * acme/open (visible to all) and acme/secret (restricted to the owner, the editor and org 10); a
 * line chart and a capture-group pie over both, owned by user 1, on a dashboard user 1 owns; grants:
 * viewer and editor by user, org 10 as viewer.
 */
async function world(t: ExecutionContext) {
  const context = await setup(t);
  const { db, gql } = context;
  const open = await register(db, 'acme/open');
  const secret = await register(db, 'acme/secret');
  await db.pool.query(`select insights_core.set_repository_permissions($1, '{1,3}', '{10}')`, [secret]);
  const line = (
    await gql(
      'owner',
      `mutation { createLineChartInsight(input: { title: "Debt", series: [{ query: "TODO", label: "todo" }],
         repositories: ["acme/open", "acme/secret"], intervalUnit: WEEK, intervalValue: 1 }) { result { rowId } } }`,
    )
  ).data.createLineChartInsight.result.rowId as number;
  const pie = (
    await gql(
      'owner',
      `mutation { createPieChartInsight(input: { title: "Versions", query: "/version (\\\\w)/",
         repositories: ["acme/open", "acme/secret"] }) { result { rowId } } }`,
    )
  ).data.createPieChartInsight.result.rowId as number;
  const series = async (view: number) =>
    (
      await db.pool.query(
        `select s.id, s.series_id from insight_view_series vs join insight_series s on s.id = vs.insight_series_id
          where vs.insight_view_id = $1`,
        [view],
      )
    ).rows[0] as { id: number; series_id: string };
  const lineSeries = await series(line);
  const pieSeries = await series(pie);
  await record(db, lineSeries.id, WEEK1, [
    { repo_id: open, value: 10 },
    { repo_id: secret, value: 100 },
  ]);
  await record(db, lineSeries.id, WEEK2, [
    { repo_id: open, value: 20 },
    { repo_id: secret, value: 200 },
  ]);
  await record(db, pieSeries.id, WEEK2, [
    { repo_id: open, value: 1, capture: 'a' },
    { repo_id: secret, value: 5, capture: 'b' },
  ]);
  const dashboard = (await gql('owner', 'mutation { createDashboard(input: { title: "Team" }) { result { rowId } } }'))
    .data.createDashboard.result.rowId as number;
  for (const view of [line, pie]) {
    const added = await gql(
      'owner',
      `mutation { addViewToDashboard(input: { dashboardId: ${dashboard}, viewId: ${view} }) { result { rowId } } }`,
    );
    t.is(added.errors, undefined, JSON.stringify(added.errors));
  }
  const grants = [
    `grantInsightView(input: { viewId: ${line}, userId: 2 })`,
    `grantInsightView(input: { viewId: ${line}, userId: 3, role: editor })`,
    `grantInsightView(input: { viewId: ${line}, orgId: 10 })`,
    `grantDashboard(input: { dashboardId: ${dashboard}, userId: 2 })`,
    `grantDashboard(input: { dashboardId: ${dashboard}, userId: 3, role: editor })`,
    `grantDashboard(input: { dashboardId: ${dashboard}, orgId: 10 })`,
  ];
  for (const grant of grants) {
    const granted = await gql('owner', `mutation { ${grant} { result { rowId role } } }`);
    t.is(granted.errors, undefined, `${grant}: ${JSON.stringify(granted.errors)}`);
    const result = Object.values(granted.data as Record<string, { result: { role: string } }>)[0]!.result;
    t.is(result.role, grant.includes('role: editor') ? 'editor' : 'viewer', grant);
  }
  return { ...context, open, secret, line, pie, dashboard, lineSeries };
}

/** What each principal gets for one question, compared with what they should get. */
async function matrix<T>(t: ExecutionContext, what: string, ask: (who: Who) => Promise<T>, expected: Record<Who, T>) {
  const actual = {} as Record<Who, T>;
  // In the order given: a matrix whose question changes something lists the owner last.
  for (const who of Object.keys(expected) as Who[]) actual[who] = await ask(who);
  t.deepEqual(actual, expected, what);
}

test('reading: views, dashboards, repositories, lines, pies and drill-down follow the grants and the restricted repository', async (t) => {
  const { gql, line, pie, dashboard, lineSeries } = await world(t);
  await matrix(
    t,
    'the line chart and my role on it',
    async (who) =>
      (await gql(who, `{ insightViewByRowId(rowId: ${line}) { title myRole } }`)).data.insightViewByRowId ?? null,
    {
      owner: { title: 'Debt', myRole: 'owner' },
      viewer: { title: 'Debt', myRole: 'viewer' },
      editor: { title: 'Debt', myRole: 'editor' },
      member: { title: 'Debt', myRole: 'viewer' },
      otherOrg: null,
      anonymous: null,
    },
  );
  await matrix(
    t,
    'the pie, seen only through the dashboard: viewers of it whatever the dashboard role',
    async (who) => (await gql(who, `{ insightViewByRowId(rowId: ${pie}) { myRole } }`)).data.insightViewByRowId,
    {
      owner: { myRole: 'owner' },
      viewer: { myRole: 'viewer' },
      editor: { myRole: 'viewer' },
      member: { myRole: 'viewer' },
      otherOrg: null,
      anonymous: null,
    },
  );
  await matrix(
    t,
    'the dashboard',
    async (who) => (await gql(who, `{ dashboardByRowId(rowId: ${dashboard}) { myRole } }`)).data.dashboardByRowId,
    {
      owner: { myRole: 'owner' },
      viewer: { myRole: 'viewer' },
      editor: { myRole: 'editor' },
      member: { myRole: 'viewer' },
      otherOrg: null,
      anonymous: null,
    },
  );
  await matrix(
    t,
    'repositories: the restricted one only for those it is restricted to',
    async (who) => {
      const body = await gql(who, '{ allRepositories(orderBy: NAME_ASC) { nodes { name } } }');
      return body.data?.allRepositories?.nodes ?? JSON.stringify(body.errors);
    },
    {
      owner: [{ name: 'acme/open' }, { name: 'acme/secret' }],
      viewer: [{ name: 'acme/open' }],
      editor: [{ name: 'acme/open' }, { name: 'acme/secret' }],
      member: [{ name: 'acme/open' }, { name: 'acme/secret' }],
      otherOrg: [{ name: 'acme/open' }],
      anonymous: [{ name: 'acme/open' }],
    },
  );
  const values = async (who: Who, args = '') => {
    const body = await gql(who, `{ insightViewByRowId(rowId: ${line}) { data${args} { values } } }`);
    return body.data.insightViewByRowId?.data.map((l: { values: number[] }) => l.values) ?? null;
  };
  const sums = {
    owner: [[110, 220]],
    viewer: [[10, 20]],
    editor: [[110, 220]],
    member: [[110, 220]],
    otherOrg: null,
    anonymous: null,
  };
  await matrix(
    t,
    'line values: stored lines for readers who see everything, the visible sum for the others',
    values,
    sums,
  );
  await matrix(t, 'line values with a request filter (the live path)', (who) => values(who, '(numSamples: 2)'), sums);
  await matrix(
    t,
    'pie slices',
    async (who) => {
      const body = await gql(who, `{ insightViewByRowId(rowId: ${pie}) { pie { label value } } }`);
      return body.data.insightViewByRowId?.pie ?? null;
    },
    {
      owner: [
        { label: 'b', value: 5 },
        { label: 'a', value: 1 },
      ],
      viewer: [{ label: 'a', value: 1 }],
      editor: [
        { label: 'b', value: 5 },
        { label: 'a', value: 1 },
      ],
      member: [
        { label: 'b', value: 5 },
        { label: 'a', value: 1 },
      ],
      otherOrg: null,
      anonymous: null,
    },
  );
  await matrix(
    t,
    'drill-down: points per repository',
    async (who) => {
      const body = await gql(
        who,
        `{ insightSeriesPointsFilled(seriesId: "${lineSeries.series_id}") { nodes { repoName value } } }`,
      );
      t.is(body.errors, undefined, JSON.stringify(body.errors));
      const nodes = body.data.insightSeriesPointsFilled.nodes as Array<{ repoName: string; value: number }>;
      return [...new Set(nodes.map((n) => n.repoName))].sort();
    },
    {
      owner: ['acme/open', 'acme/secret'],
      viewer: ['acme/open'],
      editor: ['acme/open', 'acme/secret'],
      member: ['acme/open', 'acme/secret'],
      otherOrg: [],
      anonymous: [],
    },
  );
});

test('exports and subscriptions follow the grants and the restricted repository', async (t) => {
  const { server, tokens, line } = await world(t);
  await matrix(
    t,
    'CSV export: status and the repositories in it',
    async (who) => {
      const token = tokens.get(who);
      const response = await fetch(`${server.url}/export/views/${line}.csv`, {
        headers: token ? { authorization: `Bearer ${token}` } : {},
      });
      const text = await response.text();
      return { status: response.status, secret: text.includes('acme/secret'), open: text.includes('acme/open') };
    },
    {
      owner: { status: 200, secret: true, open: true },
      viewer: { status: 200, secret: false, open: true },
      editor: { status: 200, secret: true, open: true },
      member: { status: 200, secret: true, open: true },
      otherOrg: { status: 404, secret: false, open: false },
      anonymous: { status: 404, secret: false, open: false },
    },
  );
  await matrix(
    t,
    'subscriptions: the first event for those who may see the view, a refusal for the others',
    async (who) => {
      const subscription = await subscribe(
        t,
        server.url,
        `subscription { backfillProgress(viewId: ${line}) { insightView { title } } }`,
        tokens.get(who),
      );
      const first = await subscription.next();
      return first.type === 'next' && first.payload.data
        ? first.payload.data.backfillProgress.insightView.title
        : JSON.stringify(first.payload).includes(`no insight view ${line} that you may see`)
          ? 'refused'
          : JSON.stringify(first);
    },
    { owner: 'Debt', viewer: 'Debt', editor: 'Debt', member: 'Debt', otherOrg: 'refused', anonymous: 'refused' },
  );
});

test('writing: viewers cannot edit, republish or revoke; editors edit and share but do not own; owners do all', async (t) => {
  const { db, gql, line, dashboard } = await world(t);
  const message = (body: { errors?: Array<{ message: string }> }) => body.errors?.[0]?.message ?? 'ok';
  const etag = async () =>
    (await db.pool.query('select insight_view_etag(v) as etag from insight_view v where id = $1', [line])).rows[0]
      .etag as string;
  const updated = async () =>
    (await gql('owner', `{ dashboardByRowId(rowId: ${dashboard}) { lastUpdatedAt } }`)).data.dashboardByRowId
      .lastUpdatedAt as string;

  // Renaming the dashboard: editors and the owner (a fresh precondition each time).
  await matrix(
    t,
    'rename the dashboard',
    async (who) => {
      const expected = await updated();
      return message(
        await gql(
          who,
          `mutation { updateDashboard(input: { dashboardId: ${dashboard}, title: "by ${who}", expectedLastUpdatedAt: "${expected}" }) { result { title } } }`,
        ),
      ).replace(/\d+/, 'N');
    },
    {
      owner: 'ok',
      viewer: 'dashboard N: you are its viewer; to edit it you need the editor role (or owner)',
      editor: 'ok',
      member: 'dashboard N: you are its viewer; to edit it you need the editor role (or owner)',
      otherOrg: 'no dashboard N that you may edit',
      anonymous: 'sign in first: this operation needs a user token',
    },
  );
  const UPDATE = `mutation ($input: UpdateLineChartInsightInput!) { updateLineChartInsight(input: $input) { result { title } } }`;
  await matrix(
    t,
    'edit the line chart',
    async (who) =>
      message(
        await gql(who, UPDATE, {
          input: {
            viewId: line,
            expectedEtag: await etag(),
            title: `by ${who}`,
            series: [{ query: 'TODO', label: 'todo' }],
            repositories: ['acme/open', 'acme/secret'],
            intervalUnit: 'WEEK',
            intervalValue: 1,
          },
        }),
      ).replace(/\d+/, 'N'),
    {
      owner: 'ok',
      viewer: 'insight view N: you are its viewer; to edit it you need the editor role (or owner)',
      editor: 'ok',
      member: 'insight view N: you are its viewer; to edit it you need the editor role (or owner)',
      otherOrg: 'no insight view N that you may edit',
      anonymous: 'sign in first: this operation needs a user token',
    },
  );
  // Republishing: putting the line chart on a dashboard of one's own shares it with that dashboard's readers.
  await matrix(
    t,
    'put the line chart on my own dashboard',
    async (who) => {
      const mine = await gql(who, `mutation { createDashboard(input: { title: "${who}'s" }) { result { rowId } } }`);
      if (mine.errors) return message(mine);
      const id = mine.data.createDashboard.result.rowId;
      return message(
        await gql(
          who,
          `mutation { addViewToDashboard(input: { dashboardId: ${id}, viewId: ${line} }) { result { rowId } } }`,
        ),
      ).replace(/\d+/, 'N');
    },
    {
      owner: 'ok',
      viewer:
        'view N: you are its viewer; putting it on a dashboard shares it with everyone who sees the dashboard, which needs the editor role (or owner)',
      editor: 'ok',
      member:
        'view N: you are its viewer; putting it on a dashboard shares it with everyone who sees the dashboard, which needs the editor role (or owner)',
      otherOrg: 'no view N that you may see',
      anonymous: 'sign in first: this operation needs a user token',
    },
  );
  // Sharing as viewer: editors and the owner; as owner: the owner only.
  await matrix(
    t,
    'share the line chart with user 9 as viewer',
    async (who) =>
      message(
        await gql(who, `mutation { grantInsightView(input: { viewId: ${line}, userId: 9 }) { result { role } } }`),
      ).replace(/\d+/, 'N'),
    {
      owner: 'ok',
      viewer: 'view N: you are its viewer; to share it you need the editor role (or owner)',
      editor: 'ok',
      member: 'view N: you are its viewer; to share it you need the editor role (or owner)',
      otherOrg: 'no view N that you may share',
      anonymous: 'sign in first: this operation needs a user token',
    },
  );
  await matrix(
    t,
    'make user 9 an owner of the line chart',
    async (who) =>
      message(
        await gql(
          who,
          `mutation { grantInsightView(input: { viewId: ${line}, userId: 8, role: owner }) { result { role } } }`,
        ),
      ).replace(/\d+/, 'N'),
    {
      owner: 'ok',
      viewer: 'view N: you are its viewer; to share it you need the editor role (or owner)',
      editor: 'view N: you are its editor; to make others its owners it you need the owner role',
      member: 'view N: you are its viewer; to share it you need the editor role (or owner)',
      otherOrg: 'no view N that you may share',
      anonymous: 'sign in first: this operation needs a user token',
    },
  );
  t.is(
    message(
      await gql(
        'owner',
        `mutation { grantInsightView(input: { viewId: ${line}, isGlobal: true, role: editor }) { result { role } } }`,
      ),
    ),
    'a grant to everyone can only be viewer, not editor',
  );
  // Revoking user 9's grant: only the owner revokes others.
  const grantOf = async (userId: number) =>
    (
      await db.pool.query('select id from insight_view_grants where insight_view_id = $1 and user_id = $2', [
        line,
        userId,
      ])
    ).rows[0].id as number;
  const nine = await grantOf(9);
  await matrix(
    t,
    "revoke user 9's grant on the line chart",
    async (who) =>
      message(
        await gql(who, `mutation { revokeInsightViewGrant(input: { grantId: ${nine} }) { result { rowId } } }`),
      ).replace(/\d+/, 'N'),
    {
      anonymous: 'sign in first: this operation needs a user token',
      otherOrg: 'no view grant N that you may revoke',
      viewer: "view N: you are its viewer; to revoke others' grants you need the owner role",
      member: "view N: you are its viewer; to revoke others' grants you need the owner role",
      editor: "view N: you are its editor; to revoke others' grants you need the owner role",
      owner: 'ok',
    },
  );
  // Anyone may leave (their own grant); the last owner may not.
  t.is(
    message(
      await gql(
        'viewer',
        `mutation { revokeInsightViewGrant(input: { grantId: ${await grantOf(2)} }) { result { rowId } } }`,
      ),
    ),
    'ok',
  );
  t.is(
    (await gql('viewer', `{ insightViewByRowId(rowId: ${line}) { title } }`)).data.insightViewByRowId.title,
    'by editor',
    'still on the dashboard',
  );
  const eight = await grantOf(8);
  t.is(
    message(
      await gql('owner', `mutation { revokeInsightViewGrant(input: { grantId: ${eight} }) { result { rowId } } }`),
    ),
    'ok',
  );
  t.regex(
    message(
      await gql(
        'owner',
        `mutation { revokeInsightViewGrant(input: { grantId: ${await grantOf(1)} }) { result { rowId } } }`,
      ),
    ),
    /^grant \d+ is the last owner of view \d+: make someone else its owner first, or delete it$/,
  );
  // Deleting: the owner only.
  const DELETE = `mutation ($viewId: Int!, $etag: String!) { deleteInsightView(input: { viewId: $viewId, expectedEtag: $etag }) { result { rowId } } }`;
  for (const who of ['viewer', 'editor', 'member'] as Who[]) {
    t.regex(
      message(await gql(who, DELETE, { viewId: line, etag: await etag() })),
      /^view \d+: you are its (viewer|editor); to delete it you need the owner role$/,
      who,
    );
  }
  t.regex(
    message(
      await gql('editor', `mutation { deleteDashboard(input: { dashboardId: ${dashboard} }) { result { rowId } } }`),
    ),
    /to delete it you need the owner role/,
  );
  t.is(message(await gql('owner', DELETE, { viewId: line, etag: await etag() })), 'ok');
});

test('restricting a repository is for admins; a reused series reveals nothing to a user who could not see it', async (t) => {
  const { db, gql, server, secret } = await world(t);
  const restrict = `mutation { restrictRepository(input: { repoId: ${secret}, userIds: [], orgIds: [] }) { result { name } } }`;
  t.is(
    (await gql('owner', restrict)).errors![0]!.message,
    'admin only: this operation needs a token with the admin claim',
  );
  const admin = await issueToken({ userId: 7, orgIds: [], admin: true, ttl: '5m' }, SECRET);
  t.is((await postGraphql(server.url, restrict, admin)).body.errors, undefined);
  t.deepEqual(
    (await gql('viewer', '{ allRepositories(orderBy: NAME_ASC) { nodes { name } } }')).data.allRepositories.nodes,
    [{ name: 'acme/open' }, { name: 'acme/secret' }],
    'unrestricted again: visible to all',
  );

  // User 1's private unscoped series has history; user 5 asking for the same query gets a series of their own.
  const create = (title: string) =>
    `mutation { createLineChartInsight(input: { title: "${title}", series: [{ query: "password" }], intervalUnit: WEEK,
       intervalValue: 1 }) { result { rowId insightViewSeriesByInsightViewId { nodes { insightSeriesByInsightSeriesId { seriesId } } } } } }`;
  const seriesOf = (body: any) =>
    body.data.createLineChartInsight.result.insightViewSeriesByInsightViewId.nodes[0].insightSeriesByInsightSeriesId
      .seriesId as string;
  const first = seriesOf(await gql('owner', create('mine')));
  t.regex(first, /^[0-9a-f-]{36}$/, 'a random id, not a digest of the query');
  const again = seriesOf(await gql('owner', create('mine again')));
  t.is(again, first, 'the owner reuses the series they can see');
  const theirs = seriesOf(await gql('otherOrg', create('theirs')));
  t.not(theirs, first, 'another user gets a new series');
  const { rows } = await db.pool.query('select count(*)::int as n from insight_series where query = $1', ['password']);
  t.is(rows[0].n, 2);
});

test('a restricted repository does not show through costs, scope checks, backfill counts or series definitions', async (t) => {
  const { db, gql, line, lineSeries } = await world(t);
  // The backfill of the line chart, planned as a worker would (it covers both repositories).
  const backfill = (
    await db.pool.query('select id from insight_series_backfill where series_id = $1 order by id desc limit 1', [
      lineSeries.id,
    ])
  ).rows[0].id;
  await db.pool.query('select insights_core.backfill_plan($1, 1)', [backfill]);
  await matrix(
    t,
    'backfill repository counts: only for readers who may see all of its repositories',
    async (who) => {
      const body = await gql(
        who,
        `{ allBackfillStatuses(condition: { backfillId: ${backfill} }) { nodes { repositories repositoriesDone } } }`,
      );
      return body.data.allBackfillStatuses.nodes[0] ?? null;
    },
    {
      owner: { repositories: 2, repositoriesDone: 0 },
      viewer: { repositories: null, repositoriesDone: null },
      editor: { repositories: 2, repositoriesDone: 0 },
      member: { repositories: 2, repositoriesDone: 0 },
      otherOrg: null,
      anonymous: null,
    },
  );
  await matrix(
    t,
    "the series' repositories, and what a backfill of it costs",
    async (who) => {
      const body = await gql(
        who,
        `{ insightViewByRowId(rowId: ${line}) { insightViewSeriesByInsightViewId { nodes {
           insightSeriesByInsightSeriesId { repositories seriesBackfillCost } } } } }`,
      );
      const series =
        body.data.insightViewByRowId?.insightViewSeriesByInsightViewId.nodes[0].insightSeriesByInsightSeriesId;
      return series ? { repositories: series.repositories, perSample: series.seriesBackfillCost > 0 } : null;
    },
    {
      owner: { repositories: ['acme/open', 'acme/secret'], perSample: true },
      viewer: { repositories: ['acme/open'], perSample: true },
      editor: { repositories: ['acme/open', 'acme/secret'], perSample: true },
      member: { repositories: ['acme/open', 'acme/secret'], perSample: true },
      otherOrg: null,
      anonymous: null,
    },
  );
  // Creating over a hidden repository: the same refusal as for one that does not exist, and a
  // criteria that matches only hidden repositories costs (and charges) nothing.
  const create = (scope: string) =>
    gql(
      'viewer',
      `mutation { createLineChartInsight(input: { title: "probe", series: [{ query: "x" }], ${scope},
         intervalUnit: WEEK, intervalValue: 1 }) { result { rowId } } }`,
    );
  t.is((await create('repositories: ["acme/secret"]')).errors?.[0]?.message, 'unknown repositories: acme/secret');
  t.is((await create('repositories: ["acme/nothing"]')).errors?.[0]?.message, 'unknown repositories: acme/nothing');
  await db.pool.query(`select insights_core.set_daily_usage_limit('backfill_cost', 1)`);
  t.is((await create('repositoryCriteria: "repo:^acme/secret$"')).errors, undefined, 'no hidden repository is charged');
  const charged = await db.pool.query(
    `select amount from usage_events where user_id = 2 and event_type = 'backfill_cost' order by id desc limit 1`,
  );
  t.deepEqual(charged.rows, [{ amount: 0 }]);
  const over = await create('repositoryCriteria: "repo:^acme/"');
  t.regex(over.errors?.[0]?.message ?? '', /^daily backfill cost budget exceeded: this needs (\d+)\.0/);
  const needs = Number(/needs (\d+)/.exec(over.errors![0]!.message)![1]);
  const samples = (
    await db.pool.query(`select count(*)::int as n from insights_core.insight_series_sample_times(
      (select s from insight_series s order by id desc limit 1))`)
  ).rows[0].n;
  t.true(needs > 0 && needs <= samples, `${needs}: one visible repository's samples, not two`);
});
