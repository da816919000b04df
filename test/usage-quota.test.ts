// Usage events and the per-user daily backfill budget: over budget, creating an insight is refused
// with a clear error and nothing is written; other users and DBAs are not affected.
import test from 'ava';
import { issueToken } from '../src/auth/tokens.ts';
import { ConfigError, loadConfig } from '../src/config.ts';
import { useTestDatabase } from './helpers/database.ts';
import { postGraphql, startTestServer } from './helpers/server.ts';

const SECRET = new TextEncoder().encode('quota-test-secret-that-is-long-enough-for-hs256');

test('a creation over the daily backfill budget is refused and writes nothing', async (t) => {
  const db = await useTestDatabase(t);
  await db.pool.query(
    `select insights_core.register_repository('/nonexistent/api.git', 'acme/api'), insights_core.register_repository('/nonexistent/web.git', 'acme/web')`,
  );
  await db.pool.query(`select insights_core.set_daily_usage_limit('backfill_cost', 30)`);
  const server = await startTestServer(t, db.connectionString, { jwtSecret: SECRET });
  const gql = async (userId: number, query: string) =>
    (await postGraphql(server.url, query, await issueToken({ userId, orgIds: [], admin: false, ttl: '5m' }, SECRET)))
      .body;
  // Weekly over two repositories, ten and a half weeks back: 10 sample times x 2 repositories = 20.
  const from = new Date(Date.now() - 10.5 * 7 * 86_400_000).toISOString();
  const create = (userId: number, query: string) =>
    gql(
      userId,
      `mutation { createLineChartInsight(input: { title: "t", series: [{ query: "${query}" }], repositories: ["acme/api", "acme/web"],
      intervalUnit: WEEK, intervalValue: 1, oldestHistoricalAt: "${from}" }) { result { rowId } } }`,
    );

  t.is((await create(1, 'TODO')).errors, undefined);
  const events = await db.pool.query(`select user_id, event_type, amount from usage_events order by id`);
  t.deepEqual(events.rows, [
    { user_id: 1, event_type: 'insight_created', amount: 1 },
    { user_id: 1, event_type: 'backfill_cost', amount: 20 },
  ]);

  const counts = async () =>
    (
      await db.pool
        .query(`select (select count(*) from insight_view) as views, (select count(*) from insight_series) as series,
      (select count(*) from insight_series_backfill) as backfills, (select count(*) from usage_events) as events,
      (select count(*) from graphile_worker.jobs) as jobs`)
    ).rows[0];
  const before = await counts();
  const refused = await create(1, 'FIXME');
  t.is(refused.data.createLineChartInsight, null);
  t.is(
    refused.errors![0]!.message,
    'daily backfill cost budget exceeded: this needs 20.0, and 20.0 of your 30.0 for today (UTC) is used; narrow the repositories or the history, or try again tomorrow',
  );
  t.is(refused.errors![0]!.extensions?.code, '54000');
  t.deepEqual(await counts(), before, 'nothing was written or queued');

  t.is((await create(2, 'FIXME')).errors, undefined, 'the budget is per user');
  const mine = await gql(1, '{ allUsageEvents { nodes { userId eventType amount } } }');
  t.deepEqual(
    mine.data.allUsageEvents.nodes.map((n: any) => n.userId),
    [1, 1],
    'users see their own usage only',
  );

  await db.pool.query(`select insights_core.set_daily_usage_limit('backfill_cost', null)`);
  t.is((await create(1, 'FIXME')).errors, undefined, 'no limit once it is removed');
});

test('BACKFILL_DAILY_BUDGET_PER_USER takes a positive number or "off"', (t) => {
  t.is(loadConfig({ BACKFILL_DAILY_BUDGET_PER_USER: '5000' }).BACKFILL_DAILY_BUDGET_PER_USER, 5000);
  t.is(loadConfig({ BACKFILL_DAILY_BUDGET_PER_USER: 'off' }).BACKFILL_DAILY_BUDGET_PER_USER, 'off');
  t.is(loadConfig({}).BACKFILL_DAILY_BUDGET_PER_USER, undefined);
  t.throws(() => loadConfig({ BACKFILL_DAILY_BUDGET_PER_USER: '-3' }), {
    instanceOf: ConfigError,
    message: 'Invalid configuration: BACKFILL_DAILY_BUDGET_PER_USER must be a positive number or "off" (got "-3")',
  });
});
