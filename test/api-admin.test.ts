// Admin mutations: backfill queue operations and repository registration, admin claim only.
import test from 'ava';
import { issueToken } from '../src/auth/tokens.ts';
import { useTestDatabase } from './helpers/database.ts';
import { postGraphql, startTestServer } from './helpers/server.ts';
import { createFixtureRepository, tempDir } from './fixtures/git-repository.ts';

const SECRET = new TextEncoder().encode('admin-test-secret-long-enough-for-hs256-x');

test('admin mutations need the admin claim, and do what the SQL functions do', async (t) => {
  const db = await useTestDatabase(t);
  const server = await startTestServer(t, db.connectionString, { jwtSecret: SECRET });
  const gql = async (source: string, admin: boolean) =>
    (await postGraphql(server.url, source, await issueToken({ userId: 1, orgIds: [], admin, ttl: '5m' }, SECRET))).body;

  const repo = createFixtureRepository(`${tempDir(t)}/api.git`, [
    { date: '2024-01-01T00:00:00Z', files: { a: 'TODO\n' } },
  ]);
  const add = `mutation { addRepository(input: { cloneUrl: "${repo.path}", name: "acme/api" }) { result { rowId name } } }`;
  const denied = await gql(add, false);
  t.is(denied.errors![0]!.message, 'admin only: this operation needs a token with the admin claim');
  t.is((await db.pool.query('select count(*)::int as n from repositories')).rows[0].n, 0, 'nothing written');
  const added = await gql(add, true);
  t.like(added.data.addRepository.result, { name: 'acme/api' });
  t.is((await db.pool.query('select clone_url from repositories')).rows[0].clone_url, repo.path);
  const repoId = added.data.addRepository.result.rowId;
  const clash = await gql(
    `mutation { addRepository(input: { cloneUrl: "/other", name: "acme/api" }) { result { rowId } } }`,
    true,
  );
  t.regex(clash.errors![0]!.message, /a repository named "acme\/api" is already registered/);

  await db.pool.query(`select graphile_worker.complete_jobs(array_agg(id)) from graphile_worker.jobs`);
  const synced = await gql(`mutation { syncRepository(input: { repoId: ${repoId} }) { result { name } } }`, true);
  t.is(synced.data.syncRepository.result.name, 'acme/api');
  const jobs = await db.pool.query(`select task_identifier, key from graphile_worker.jobs`);
  t.deepEqual(jobs.rows, [{ task_identifier: 'sync_repo', key: `sync_repo:${repoId}` }]);

  // A planned backfill to operate on (planned by hand, no worker needed).
  const view = await db.pool.query(
    `select id from insights_core.create_line_insight('t', '[{"query": "TODO"}]', array['acme/api'], null, 'WEEK', 1)`,
  );
  const backfill = await db.pool.query(
    `select b.id from insight_series_backfill b join insight_view_series vs on vs.insight_series_id = b.series_id where vs.insight_view_id = $1`,
    [view.rows[0].id],
  );
  const id = backfill.rows[0].id;
  await db.pool.query('select insights_core.backfill_plan($1, 1, 104)', [id]);
  const front = await gql(
    `mutation { moveBackfillToFront(input: { backfillId: ${id} }) { result { estimatedCost costBucket } } }`,
    true,
  );
  t.deepEqual(front.data.moveBackfillToFront.result, { estimatedCost: 0, costBucket: 1 });
  const back = await gql(
    `mutation { moveBackfillToBack(input: { backfillId: ${id} }) { result { estimatedCost } } }`,
    true,
  );
  t.is(back.data.moveBackfillToBack.result.estimatedCost, 4);
  const cancel = await gql(`mutation { cancelBackfill(input: { backfillId: ${id} }) { result { cancel } } }`, true);
  t.true(cancel.data.cancelBackfill.result.cancel);
  const retry = await gql(
    `mutation { retryBackfill(input: { backfillId: ${id} }) { result { state cancel numResets } } }`,
    true,
  );
  t.deepEqual(retry.data.retryBackfill.result, { state: 'processing', cancel: false, numResets: 1 });
  const userRetry = await gql(`mutation { retryBackfill(input: { backfillId: ${id} }) { result { state } } }`, false);
  t.is(userRetry.errors![0]!.message, 'admin only: this operation needs a token with the admin claim');
  const missing = await gql('mutation { retryBackfill(input: { backfillId: 999 }) { result { state } } }', true);
  t.is(missing.errors![0]!.message, 'no backfill with id 999');
});
