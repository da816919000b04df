// A worker starting on a fresh database inserts its task identifiers into Graphile Worker's task
// table while a transaction of ours may be adding the first jobs of two of them (creating an
// insight adds backfill_new, then record_series). If the two orders disagree, one side deadlocks.
import fs from 'node:fs';
import path from 'node:path';
import test from 'ava';
import { projectRoot } from '../src/project-root.ts';
import { useTestDatabase } from './helpers/database.ts';
import { waitFor } from './helpers/wait.ts';
import { startTestWorker } from './helpers/worker.ts';

test('a starting worker does not deadlock with a transaction adding the first backfill_new and record_series jobs', async (t) => {
  const db = await useTestDatabase(t);
  const known = await db.pool.query(`select count(*)::int as n from graphile_worker._private_tasks`);
  t.is(known.rows[0].n, 0, 'a fresh database knows no task identifier yet');

  const client = await db.pool.connect();
  t.teardown(() => client.release(true));
  await client.query('begin');
  await client.query(`set local lock_timeout = '30s'`);
  await client.query(
    `select graphile_worker.add_job('backfill_new', '{"backfill_id": 1}', run_at := now() + interval '1 day')`,
  );
  const { pid } = (await client.query('select pg_backend_pid() as pid')).rows[0];

  const starting = startTestWorker(t, db.connectionString);
  await waitFor(
    async () => {
      const { rows } = await db.pool.query(
        `select 1 from pg_stat_activity where $1 = any (pg_blocking_pids(pid)) and query like '%_private_tasks%'`,
        [pid],
      );
      return rows.length > 0;
    },
    30_000,
    "the worker's task registration to wait for this transaction",
  );
  // Let the worker's own deadlock check pass first, so a deadlock (if any) is reported here.
  const { ms } = (await db.pool.query(`select setting::int as ms from pg_settings where name = 'deadlock_timeout'`))
    .rows[0];
  await new Promise((resolve) => setTimeout(resolve, ms + 500));

  await t.notThrowsAsync(
    client.query(
      `select graphile_worker.add_job('record_series', '{"series_id": 1, "mode": "record"}', run_at := now() + interval '1 day')`,
    ),
  );
  await client.query('rollback');
  await starting;
  // One task per file in tasks/, named as its identifier.
  const expected = fs
    .readdirSync(path.join(projectRoot, 'tasks'))
    .map((file) => path.basename(file, '.ts'))
    .sort();
  const registered = await waitFor(async () => {
    const { rows } = await db.pool.query(
      `select array_agg(identifier order by identifier collate "C") as ids from graphile_worker._private_tasks`,
    );
    return rows[0].ids?.length === expected.length ? rows[0].ids : undefined;
  });
  t.deepEqual(registered, expected, 'the worker registered every task');
});
