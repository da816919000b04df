// Two doors, one set of rules: the CLI (a DBA, through the core writers) and the GraphQL API (a
// user, through the thin public functions that call the same writers) trim, validate, stay
// idempotent and bump a dashboard's last_updated_at alike, so a precondition read at one door is
// checked by the other.
import test, { type ExecutionContext } from 'ava';
import { issueToken } from '../src/auth/tokens.ts';
import { cliEnv, runCli } from './helpers/cli.ts';
import { useTestDatabase } from './helpers/database.ts';
import { postGraphql, startTestServer } from './helpers/server.ts';
import { tempDir } from './fixtures/git-repository.ts';

const SECRET = new TextEncoder().encode('cli-api-doors-test-secret-long-enough-for-hs256');
const STALE = /stale update: dashboard \d+ was changed by someone else since you read it; reload and retry/;

async function setup(t: ExecutionContext) {
  const db = await useTestDatabase(t);
  const env = cliEnv({ DATABASE_URL: db.connectionString, DATA_DIR: `${tempDir(t)}/data` });
  const cli = async (...args: string[]) => {
    const result = await runCli(args, env);
    return { ...result, json: () => JSON.parse(result.stdout) };
  };
  // A view of user 1's (an edit grant), so the API lets user 1 put it on dashboards too.
  const { rows } = await db.pool.query(`insert into insight_view (title, unique_id) values ('mine', 'v1')
    returning id`);
  const view = rows[0].id as number;
  await db.pool.query('insert into insight_view_grants (insight_view_id, user_id) values ($1, 1)', [view]);
  const server = await startTestServer(t, db.connectionString, { jwtSecret: SECRET });
  /** A GraphQL request as user 1. */
  const gql = async (source: string, variables?: Record<string, unknown>) => {
    const token = await issueToken({ userId: 1, orgIds: [], admin: false, ttl: '5m' }, SECRET);
    return (await postGraphql(server.url, source, token, variables)).body;
  };
  /** The dashboard's last_updated_at as stored, to the microsecond. */
  const stamp = async (id: number): Promise<string> => {
    const sql = `select to_char(last_updated_at, 'YYYY-MM-DD"T"HH24:MI:SS.US') as at from dashboard where id = $1`;
    return (await db.pool.query(sql, [id])).rows[0].at;
  };
  const title = async (id: number): Promise<string> =>
    (await db.pool.query('select title from dashboard where id = $1', [id])).rows[0].title;
  /** A dashboard owned by user 1, made by the CLI. */
  const createDashboard = async (name: string): Promise<number> => {
    const created = await cli('dashboard', 'create', name, '--user', '1', '--json');
    t.is(created.code, 0, created.stderr);
    return created.json().id;
  };
  return { db, cli, gql, stamp, title, createDashboard, view };
}

const UPDATE = `mutation ($id: Int!, $title: String!, $expected: Datetime!) {
  updateDashboard(input: { dashboardId: $id, title: $title, expectedLastUpdatedAt: $expected }) {
    result { title lastUpdatedAt }
  }
}`;
const READ = 'query ($id: Int!) { dashboardByRowId(rowId: $id) { title lastUpdatedAt } }';

/** The message of a CLI failure, without the "code-insights <command>: " prefix and the usage hint. */
const cliMessage = (stderr: string) => stderr.match(/^code-insights \w+: (.*)$/m)?.[1];

test('CLI rename, view add, view remove, dashboard grant and revoke each bump last_updated_at', async (t) => {
  const { cli, stamp, createDashboard, view } = await setup(t);
  const id = await createDashboard('Ops');

  const bumps = async (what: string, args: string[]) => {
    const before = await stamp(id);
    const result = await cli(...args);
    t.is(result.code, 0, `${what}: ${result.stderr}`);
    const after = await stamp(id);
    t.true(after > before, `${what} bumps last_updated_at (${before} -> ${after})`);
    return { result, after };
  };
  const renamed = await bumps('rename', ['dashboard', 'rename', String(id), 'Ops 2', '--json']);
  t.is(renamed.result.json().last_updated_at, renamed.after, 'rename prints the new last_updated_at');
  const added = await bumps('add', ['dashboard', 'add', String(id), String(view), '--json']);
  t.like(added.result.json(), { dashboard: id, added: view, last_updated_at: added.after });
  const removed = await bumps('remove', ['dashboard', 'remove', String(id), 'v1', '--json']);
  t.like(removed.result.json(), { dashboard: id, removed: view, last_updated_at: removed.after });
  const again = await cli('dashboard', 'remove', String(id), 'v1');
  t.is(again.code, 2, 'a view that is not on the dashboard');
  t.is(cliMessage(again.stderr), `view ${view} is not on dashboard ${id}`, "the core's message, as the API gives it");
  t.is(await stamp(id), removed.after, 'a refused change bumps nothing');
  const granted = await bumps('grant', ['grant', 'dashboard', String(id), '--org', '7', '--json']);
  await bumps('revoke', ['revoke', 'dashboard', String(granted.result.json().id)]);

  const listed = (await cli('dashboard', 'list', '--json')).json();
  const stamps = listed.map((d: { id: number; last_updated_at: string }) => [d.id, d.last_updated_at]);
  t.deepEqual(stamps, [[id, await stamp(id)]], 'dashboard list --json shows last_updated_at');
  const table = (await cli('dashboard', 'list')).stdout;
  t.regex(table, /LAST UPDATED\n[- ]+\n\d+\s+Ops 2\s+user 1\s+(\S+)$/m);
  t.is(table.match(/user 1\s+(\S+)$/m)?.[1], await stamp(id), 'and the table too');
});

test("a change at one door makes the other door's old last_updated_at stale", async (t) => {
  const { cli, gql, stamp, title, createDashboard, view } = await setup(t);
  const id = await createDashboard('Team');

  // API reads, the CLI changes, the API's update with what it read is refused.
  const read = (await gql(READ, { id })).data.dashboardByRowId;
  t.is(read.lastUpdatedAt, await stamp(id), "the API shows last_updated_at in the CLI's format");
  t.is((await cli('dashboard', 'add', String(id), String(view))).code, 0);
  const stale = await gql(UPDATE, { id, title: 'Team A', expected: read.lastUpdatedAt });
  t.regex(stale.errors?.[0]?.message ?? '', STALE);
  t.is(stale.errors?.[0]?.extensions?.code, '40001');
  t.is(await title(id), 'Team', 'the stale API update wrote nothing');

  // The CLI reads, the API changes, the CLI's rename with what it read is refused (exit code 1).
  const old = (await cli('dashboard', 'list', '--json')).json()[0].last_updated_at;
  const fresh = await gql(UPDATE, { id, title: 'Team B', expected: old });
  t.is(fresh.errors, undefined, "the CLI's last_updated_at is a valid precondition for the API");
  t.is(fresh.data.updateDashboard.result.title, 'Team B');
  const refused = await cli('dashboard', 'rename', String(id), 'Team C', '--expected-last-updated-at', old);
  t.is(refused.code, 1, refused.stderr);
  t.regex(cliMessage(refused.stderr) ?? '', STALE);
  t.is(await title(id), 'Team B', 'the stale CLI rename wrote nothing');

  // With the value the API shows now, the CLI's rename goes through.
  const now = fresh.data.updateDashboard.result.lastUpdatedAt;
  const renamed = await cli('dashboard', 'rename', String(id), 'Team C', '--expected-last-updated-at', now);
  t.is(renamed.code, 0, renamed.stderr);
  t.is(await title(id), 'Team C');
  const garbled = await cli('dashboard', 'rename', String(id), 'Team D', '--expected-last-updated-at', 'soon');
  t.is(garbled.code, 2);
  t.regex(garbled.stderr, /--expected-last-updated-at must be a time such as/);
});

test('both doors trim titles and refuse an empty one with the same message', async (t) => {
  const { cli, gql, stamp, title, createDashboard } = await setup(t);
  const id = await createDashboard('  Padded  ');
  t.is(await title(id), 'Padded', 'CLI create trims');
  t.is((await cli('dashboard', 'rename', String(id), '  Spaced out  ')).code, 0);
  t.is(await title(id), 'Spaced out', 'CLI rename trims');
  const viaApi = await gql(UPDATE, { id, title: '  By the API  ', expected: await stamp(id) });
  t.is(viaApi.data.updateDashboard.result.title, 'By the API', 'API rename trims');

  const before = await stamp(id);
  const cliEmpty = await cli('dashboard', 'rename', String(id), '   ');
  t.is(cliEmpty.code, 2, 'an empty title is a usage error');
  const apiEmpty = await gql(UPDATE, { id, title: '   ', expected: before });
  t.is(apiEmpty.errors?.[0]?.message, 'title is required');
  t.is(cliMessage(cliEmpty.stderr), apiEmpty.errors?.[0]?.message, 'the same message at both doors');
  const cliCreateEmpty = await cli('dashboard', 'create', ' ');
  t.is(cliCreateEmpty.code, 2);
  t.is(cliMessage(cliCreateEmpty.stderr), 'title is required');
  t.is(await title(id), 'By the API');
  t.is(await stamp(id), before, 'refused renames change nothing');
});

test('a CLI grant names one grantee; granting twice changes nothing, at either door', async (t) => {
  const { db, cli, gql, stamp, createDashboard } = await setup(t);
  const id = await createDashboard('Shared');
  const grants = async () => {
    const sql = 'select count(*)::int as n from dashboard_grants where dashboard_id = $1';
    return (await db.pool.query(sql, [id])).rows[0].n as number;
  };
  const before = { grants: await grants(), at: await stamp(id) };

  const two = await cli('grant', 'dashboard', String(id), '--user', '3', '--org', '7');
  t.is(two.code, 2);
  t.regex(two.stderr, /give exactly one of --user ID, --org ID or --global/);
  const GRANT = 'mutation ($input: GrantDashboardInput!) { grantDashboard(input: $input) { result { rowId } } }';
  const apiTwo = await gql(GRANT, { input: { dashboardId: id, userId: 3, orgId: 7 } });
  t.is(apiTwo.errors?.[0]?.message, 'a grant names exactly one of userId, orgId or isGlobal');
  t.deepEqual({ grants: await grants(), at: await stamp(id) }, before, 'refused grants write nothing');

  const first = await cli('grant', 'dashboard', String(id), '--org', '7', '--json');
  t.is(first.code, 0, first.stderr);
  const afterFirst = await stamp(id);
  const second = await cli('grant', 'dashboard', String(id), '--org', '7', '--json');
  t.is(second.json().id, first.json().id, 'the same grant again');
  const viaApi = await gql(GRANT, { input: { dashboardId: id, orgId: 7 } });
  t.is(viaApi.data.grantDashboard.result.rowId, first.json().id, "the API finds the CLI's grant");
  t.is(await grants(), before.grants + 1, 'one grant for org 7');
  t.is(await stamp(id), afterFirst, 'granting again is not a change');
});

test("insight delete --expected-etag: a stale etag is refused, the API's current one accepted", async (t) => {
  const { db, cli, gql } = await setup(t);
  await db.pool.query(`select insights_core.register_repository('/nonexistent/api.git', 'acme/api')`);
  const CREATE = `mutation { createPieChartInsight(input: { title: "Languages", repositories: ["acme/api"] }) {
    result { rowId etag }
  } }`;
  const view = (await gql(CREATE)).data.createPieChartInsight.result;
  const shown = (await cli('insight', 'show', String(view.rowId), '--json')).json();
  t.is(shown.etag, view.etag, 'insight show --json prints the etag the API shows');

  const UPDATE_PIE = `mutation ($id: Int!, $etag: String!) {
    updatePieChartInsight(input: { viewId: $id, expectedEtag: $etag, title: "Stack", repositories: ["acme/api"] }) {
      result { etag }
    }
  }`;
  const updated = await gql(UPDATE_PIE, { id: view.rowId, etag: view.etag });
  t.is(updated.errors, undefined);
  const stale = await cli('insight', 'delete', String(view.rowId), '--expected-etag', view.etag);
  t.is(stale.code, 1, stale.stderr);
  const message = cliMessage(stale.stderr) ?? '';
  t.regex(message, /^stale update: insight view \d+ was changed by someone else since you read it; reload and retry$/);
  const views = async () => {
    const sql = 'select count(*)::int as n from insight_view where id = $1';
    return (await db.pool.query(sql, [view.rowId])).rows[0].n as number;
  };
  t.is(await views(), 1, 'the stale delete deleted nothing');

  const current = (await gql(`{ insightViewByRowId(rowId: ${view.rowId}) { etag } }`)).data.insightViewByRowId.etag;
  const deleted = await cli('insight', 'delete', String(view.rowId), '--expected-etag', current, '--json');
  t.is(deleted.code, 0, deleted.stderr);
  t.deepEqual(deleted.json(), { deleted: view.rowId });
  t.is(await views(), 0);
});
