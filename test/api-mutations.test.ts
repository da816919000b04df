// Dashboard and grant mutations through GraphQL: who may do what, clear errors, nothing written on
// error, and optimistic concurrency on updates.
import test from 'ava';
import { issueToken } from '../src/auth/tokens.ts';
import { useTestDatabase } from './helpers/database.ts';
import { postGraphql, startTestServer } from './helpers/server.ts';

const SECRET = new TextEncoder().encode('mutations-test-secret-long-enough-for-hs256');

async function setup(t: import('ava').ExecutionContext) {
  const db = await useTestDatabase(t);
  await db.pool.query(`
    insert into insight_view (id, title, unique_id) values (1, 'mine', 'v1'), (2, 'theirs', 'v2');
    insert into insight_view_grants (insight_view_id, user_id) values (1, 1), (2, 2);
    insert into insights_core.insight_view_grant_roles (grant_id, role) select id, 'owner' from insight_view_grants;`);
  // Production error masking: only our functions' client errors may show their messages.
  const previous = process.env.GRAPHILE_ENV;
  process.env.GRAPHILE_ENV = 'production';
  const server = await startTestServer(t, db.connectionString, { jwtSecret: SECRET }).finally(() => {
    process.env.GRAPHILE_ENV = previous;
  });
  const gql = async (source: string, userId?: number, orgIds: number[] = []) => {
    const token =
      userId === undefined ? undefined : await issueToken({ userId, orgIds, admin: false, ttl: '5m' }, SECRET);
    return (await postGraphql(server.url, source, token)).body;
  };
  return { db, gql };
}

const CREATE = (title: string) =>
  `mutation { createDashboard(input: { title: ${JSON.stringify(title)} }) { result { rowId title lastUpdatedAt } } }`;
const MY_DASHBOARDS = '{ allDashboards(orderBy: ROW_ID_ASC) { nodes { title } } }';

test('create, rename with a fresh precondition, reject a stale one, delete', async (t) => {
  const { db, gql } = await setup(t);
  const created = await gql(CREATE('Team'), 1);
  const dashboard = created.data.createDashboard.result;
  t.is(dashboard.title, 'Team');
  t.deepEqual((await gql(MY_DASHBOARDS, 1)).data.allDashboards.nodes, [{ title: 'Team' }]);
  t.deepEqual((await gql(MY_DASHBOARDS, 2)).data.allDashboards.nodes, [], 'not shared with user 2');

  const rename = (title: string, expected: string) =>
    gql(
      `mutation { updateDashboard(input: { dashboardId: ${dashboard.rowId}, title: "${title}", expectedLastUpdatedAt: "${expected}" }) { result { title lastUpdatedAt } } }`,
      1,
    );
  const renamed = await rename('Team A', dashboard.lastUpdatedAt);
  t.is(renamed.data.updateDashboard.result.title, 'Team A');
  const stale = await rename('Team B', dashboard.lastUpdatedAt);
  t.regex(
    stale.errors![0]!.message,
    /^stale update: dashboard \d+ was changed by someone else since you read it; reload and retry$/,
  );
  t.is(stale.errors![0]!.extensions?.code, '40001');
  const stored = await db.pool.query('select title from dashboard where id = $1', [dashboard.rowId]);
  t.is(stored.rows[0].title, 'Team A', 'the stale update wrote nothing');

  const notYours = await gql(
    `mutation { deleteDashboard(input: { dashboardId: ${dashboard.rowId} }) { result { rowId } } }`,
    2,
  );
  t.regex(notYours.errors![0]!.message, /^no dashboard \d+ that you may delete$/);
  await gql(`mutation { deleteDashboard(input: { dashboardId: ${dashboard.rowId} }) { result { rowId } } }`, 1);
  t.deepEqual((await gql(MY_DASHBOARDS, 1)).data.allDashboards.nodes, []);
});

test('anonymous requests and bad input get clear errors and write nothing', async (t) => {
  const { db, gql } = await setup(t);
  const anonymous = await gql(CREATE('x'));
  t.is(anonymous.errors![0]!.message, 'sign in first: this operation needs a user token');
  const blank = await gql(CREATE('   '), 1);
  t.is(blank.errors![0]!.message, 'title is required');
  const { rows } = await db.pool.query('select count(*)::int as n from dashboard');
  t.is(rows[0].n, 0);
});

test('views on dashboards and sharing: add only visible views, grants to orgs, revoke', async (t) => {
  const { gql } = await setup(t);
  const id = (await gql(CREATE('Shared'), 1)).data.createDashboard.result.rowId;
  const notVisible = await gql(
    `mutation { addViewToDashboard(input: { dashboardId: ${id}, viewId: 2 }) { result { rowId } } }`,
    1,
  );
  t.is(notVisible.errors![0]!.message, 'no view 2 that you may see');
  await gql(`mutation { addViewToDashboard(input: { dashboardId: ${id}, viewId: 1 }) { result { rowId } } }`, 1);

  const both = await gql(
    `mutation { grantDashboard(input: { dashboardId: ${id}, userId: 3, orgId: 7 }) { result { rowId } } }`,
    1,
  );
  t.is(both.errors![0]!.message, 'a grant names exactly one of userId, orgId or isGlobal');
  const granted = await gql(
    `mutation { grantDashboard(input: { dashboardId: ${id}, orgId: 7 }) { result { rowId orgId } } }`,
    1,
  );
  const grantId = granted.data.grantDashboard.result.rowId;
  // A member of org 7 now sees the dashboard and, through it, view 1 (which has no grant of its own for them).
  const viaDashboard = await gql('{ allInsightViews { nodes { title } } allDashboards { nodes { title } } }', 5, [7]);
  t.deepEqual(viaDashboard.data, {
    allInsightViews: { nodes: [{ title: 'mine' }] },
    allDashboards: { nodes: [{ title: 'Shared' }] },
  });
  // Org members may edit (an org grant), but not user 2 who has no grant.
  const byStranger = await gql(
    `mutation { revokeDashboardGrant(input: { grantId: ${grantId} }) { result { rowId } } }`,
    2,
  );
  t.regex(byStranger.errors![0]!.message, /^no dashboard grant \d+ that you may revoke$/);
  await gql(`mutation { revokeDashboardGrant(input: { grantId: ${grantId} }) { result { rowId } } }`, 1);
  t.deepEqual((await gql('{ allInsightViews { nodes { title } } }', 5, [7])).data.allInsightViews.nodes, []);

  const removed = await gql(
    `mutation { removeViewFromDashboard(input: { dashboardId: ${id}, viewId: 1 }) { result { rowId } } }`,
    1,
  );
  t.falsy(removed.errors);
  const again = await gql(
    `mutation { removeViewFromDashboard(input: { dashboardId: ${id}, viewId: 1 }) { result { rowId } } }`,
    1,
  );
  t.is(again.errors![0]!.message, `view 1 is not on dashboard ${id}`);
});

test('view grants: only editors share a view; a global grant lets everyone read', async (t) => {
  const { gql } = await setup(t);
  const denied = await gql(
    'mutation { grantInsightView(input: { viewId: 2, isGlobal: true }) { result { rowId } } }',
    1,
  );
  t.is(denied.errors![0]!.message, 'no view 2 that you may share');
  const shared = await gql(
    'mutation { grantInsightView(input: { viewId: 1, isGlobal: true }) { result { rowId global } } }',
    1,
  );
  t.deepEqual(shared.data.grantInsightView.result.global, true);
  t.deepEqual(
    (await gql('{ allInsightViews { nodes { title } } }')).data.allInsightViews.nodes,
    [{ title: 'mine' }],
    'anonymous now reads it',
  );
  const twice = await gql(
    'mutation { grantInsightView(input: { viewId: 1, isGlobal: true }) { result { rowId } } }',
    1,
  );
  t.is(
    twice.data.grantInsightView.result.rowId,
    shared.data.grantInsightView.result.rowId,
    'granting twice changes nothing',
  );
  const readerCannotEdit = await gql(
    'mutation { grantInsightView(input: { viewId: 1, userId: 9 }) { result { rowId } } }',
    4,
  );
  t.is(
    readerCannotEdit.errors![0]!.message,
    'view 1: you are its viewer; to share it you need the editor role (or owner)',
    'a global grant is not an edit grant',
  );
});
