// Retention, pruning and the scheduler's run log, with a real worker running the real tasks.
import fs from 'node:fs';
import test from 'ava';
import { blobFingerprint } from '../src/search/query/fingerprint.ts';
import { parseQuery } from '../src/search/query/parse-query.ts';
import { parseCrontab } from 'graphile-worker';
import { workerCrontab } from '../src/store/worker-processes.ts';
import { useTestDatabase, type TestDatabase } from './helpers/database.ts';
import { waitFor } from './helpers/wait.ts';
import { startTestWorker } from './helpers/worker.ts';

const week = (n: number) => new Date(Date.UTC(2023, 0, 2) + n * 7 * 86_400_000).toISOString();

/** A scoped weekly series (no recordings due: they are pushed a day out) over two repositories. */
async function seriesWithHistory(db: TestDatabase, times: number) {
  const api = (await db.pool.query(`select (insights_core.register_repository('/nonexistent/api.git', 'acme/api')).id`))
    .rows[0].id as number;
  const web = (await db.pool.query(`select (insights_core.register_repository('/nonexistent/web.git', 'acme/web')).id`))
    .rows[0].id as number;
  const view = (
    await db.pool.query(
      `select id from insights_core.create_line_insight('Debt', '[{"query": "TODO"}]', array['acme/api', 'acme/web'], null, 'WEEK', 1)`,
    )
  ).rows[0].id;
  const { rows } = await db.pool.query(
    `select s.id, s.series_id from insight_view_series vs join insight_series s on s.id = vs.insight_series_id where vs.insight_view_id = $1`,
    [view],
  );
  const { id, series_id: seriesId } = rows[0] as { id: number; series_id: string };
  await db.pool.query(`
    select graphile_worker.remove_job(key) from graphile_worker.jobs where key is not null;
    update insight_series set next_recording_after = now() + interval '1 day', next_snapshot_after = now() + interval '1 day';`);
  for (let n = 0; n < times; n++) {
    await db.pool.query(`select insights_core.store_series_recording($1, $2, false, $3::jsonb)`, [
      id,
      week(n),
      JSON.stringify([
        { repo_id: api, value: n },
        { repo_id: web, value: 1 },
      ]),
    ]);
  }
  await db.pool.query(`select insights_core.store_series_recording($1, now(), true, $2::jsonb, $3::jsonb)`, [
    id,
    JSON.stringify([{ repo_id: api, value: 7 }]),
    JSON.stringify([{ repo_id: web, reason: 'timeout' }]),
  ]);
  return { id, seriesId, api, web, view };
}

const allPoints = async (db: TestDatabase, seriesId: string, table: string) =>
  (
    await db.pool.query(
      `select time, repo_id, value, capture from ${table} where series_id = $1 order by time, repo_id`,
      [seriesId],
    )
  ).rows.map((r) => JSON.stringify(r));

test('retention keeps the newest N recording times live and archives the rest; a second run changes nothing', async (t) => {
  const db = await useTestDatabase(t);
  const series = await seriesWithHistory(db, 100);
  const before = await allPoints(db, series.seriesId, 'series_points');
  t.is(before.length, 200);
  const snapshotsBefore = await allPoints(db, series.seriesId, 'series_points_snapshots');

  await startTestWorker(t, db.connectionString);
  await db.pool.query(`select graphile_worker.add_job('enqueue_retention', '{"keep": 40}')`);
  const job = await waitFor(
    async () => (await db.pool.query(`select * from insights_data_retention_jobs where state = 'completed'`)).rows[0],
  );
  t.like(job, { series_id: series.id, series_id_string: series.seriesId, num_failures: 0 });
  t.regex(job.execution_logs[0].message, /^archived 120 point\(s\) and 60 recording time\(s\)$/);
  t.truthy(job.started_at && job.finished_at && job.worker_hostname);

  const live = await db.pool.query(
    `select count(*)::int as n, min(recording_time) as oldest from insight_series_recording_times where insight_series_id = $1 and not snapshot`,
    [series.id],
  );
  t.is(live.rows[0].n, 40);
  t.is(live.rows[0].oldest.toISOString(), week(60));
  const archivedTimes = await db.pool.query(
    `select count(*)::int as n, max(recording_time) as newest from archived_insight_series_recording_times where insight_series_id = $1`,
    [series.id],
  );
  t.is(archivedTimes.rows[0].n, 60);
  t.is(archivedTimes.rows[0].newest.toISOString(), week(59));
  const livePoints = await allPoints(db, series.seriesId, 'series_points');
  const archivedPoints = await allPoints(db, series.seriesId, 'archived_series_points');
  t.is(livePoints.length, 80);
  t.deepEqual(
    [...livePoints, ...archivedPoints].sort(),
    [...before].sort(),
    'live and archived together are the points before',
  );
  t.deepEqual(
    await allPoints(db, series.seriesId, 'series_points_snapshots'),
    snapshotsBefore,
    'the snapshot is untouched',
  );
  t.is(
    (
      await db.pool.query(`select count(*)::int as n from insight_series_incomplete_points where series_id = $1`, [
        series.id,
      ])
    ).rows[0].n,
    1,
    'incomplete points are untouched',
  );
  t.is(
    (
      await db.pool.query(
        `select count(*)::int as n from insight_series_recording_times where insight_series_id = $1 and snapshot`,
        [series.id],
      )
    ).rows[0].n,
    1,
  );

  const again = await db.pool.query(`select insights_core.archive_series_points($1, 40) as summary`, [series.id]);
  t.like(again.rows[0].summary, { archived_points: 0, archived_recording_times: 0 });
  t.is(
    (await db.pool.query(`select insights_core.enqueue_series_retention(40) as queued`)).rows[0].queued,
    0,
    'nothing left to retain',
  );
  t.deepEqual(await allPoints(db, series.seriesId, 'archived_series_points'), archivedPoints);

  const run = await waitFor(
    async () =>
      (
        await db.pool.query(
          `select * from insights_core.task_run_status where task_name = 'enqueue_retention' and last_success_at is not null`,
        )
      ).rows[0],
  );
  t.like(run, { last_status: 'succeeded', overdue: false });
});

test('a recording during retention waits for it and is kept live', async (t) => {
  const db = await useTestDatabase(t);
  const series = await seriesWithHistory(db, 10);
  const retention = await db.pool.connect();
  t.teardown(() => retention.release());
  await retention.query('begin');
  await retention.query(`select insights_core.archive_series_points($1, 3)`, [series.id]);
  const recording = db.pool.query(`select insights_core.store_series_recording($1, $2, false, $3::jsonb)`, [
    series.id,
    week(10),
    JSON.stringify([{ repo_id: series.api, value: 99 }]),
  ]);
  await waitFor(
    async () =>
      (
        await db.pool.query(
          `select 1 as waiting from pg_stat_activity where wait_event_type = 'Lock' and query like '%store_series_recording%'`,
        )
      ).rows[0],
    10_000,
    'the recording to wait',
  );
  await retention.query('commit');
  await recording;
  const live = await db.pool.query(
    `select time, value from series_points where series_id = $1 and repo_id = $2 and time = $3`,
    [series.seriesId, series.api, week(10)],
  );
  t.is(live.rows[0]?.value, 99, 'the concurrent recording is live');
  t.is(
    (
      await db.pool.query(
        `select count(*)::int as n from insight_series_recording_times where insight_series_id = $1 and not snapshot`,
        [series.id],
      )
    ).rows[0].n,
    4,
  );
  t.is(
    (
      await db.pool.query(`select count(*)::int as n from archived_series_points where series_id = $1`, [
        series.seriesId,
      ])
    ).rows[0].n,
    14,
  );
});

test('pruning removes every trace of an unused soft-deleted series and never touches one a view uses', async (t) => {
  const db = await useTestDatabase(t);
  const pruned = await seriesWithHistory(db, 6);
  await db.pool.query(`select insights_core.archive_series_points($1, 2)`, [pruned.id]);
  await db.pool.query(`select insights_core.queue_series_backfill($1)`, [pruned.id]);
  const iterator = (await db.pool.query(`insert into repo_iterator (total_count) values (2) returning id`)).rows[0].id;
  await db.pool.query(`update insight_series_backfill set repo_iterator_id = $2 where series_id = $1`, [
    pruned.id,
    iterator,
  ]);
  await db.pool.query(
    `insert into repo_iterator_errors (repo_iterator_id, repo_id, error_message, failure_count) values ($1, $2, '{boom}', 1)`,
    [iterator, pruned.web],
  );
  const backfills = (
    await db.pool.query(`select array_agg(id) as ids from insight_series_backfill where series_id = $1`, [pruned.id])
  ).rows[0].ids;
  await db.pool.query(`insert into insights_data_retention_jobs (series_id, series_id_string) values ($1, $2)`, [
    pruned.id,
    pruned.seriesId,
  ]);
  // A second view keeps its own (global) series; it is soft-deleted too, but still used.
  const keptView = (
    await db.pool.query(
      `select id from insights_core.create_line_insight('Kept', '[{"query": "FIXME"}]', null, null, 'WEEK', 1)`,
    )
  ).rows[0].id;
  const kept = (
    await db.pool.query(`select insight_series_id as id from insight_view_series where insight_view_id = $1`, [
      keptView,
    ])
  ).rows[0];
  await db.pool.query(`update insight_series set deleted_at = now()`);
  // Only the prune job runs here: the other jobs are not part of the test, except a queued backfill
  // step of the pruned series (due tomorrow), which pruning must remove.
  await db.pool.query(`select graphile_worker.remove_job(key) from graphile_worker.jobs where key is not null`);
  await db.pool.query(
    `select graphile_worker.add_job('backfill_new', json_build_object('backfill_id', $2::int), job_key := $1, run_at := now() + interval '1 day')`,
    [`backfill:${backfills[0]}`, backfills[0]],
  );
  await db.pool.query(`delete from insight_view where id = $1`, [pruned.view]);
  const fingerprint = (query: string) => blobFingerprint(parseQuery(query));
  await db.pool.query(
    `insert into insights_core.search_blob_counts (fingerprint, blob_oid, match_count) values ($1, 'a', 1), ($2, 'a', 2)`,
    [fingerprint('TODO'), fingerprint('FIXME')],
  );

  await startTestWorker(t, db.connectionString);
  await db.pool.query(`select graphile_worker.add_job('prune_deleted_series')`);
  const run = await waitFor(
    async () =>
      (
        await db.pool.query(
          `select details from task_runs where task_name = 'prune_deleted_series' and status = 'succeeded'`,
        )
      ).rows[0],
  );
  t.deepEqual(run.details, { pruned_series: 1, dropped_blob_counts: 1 });

  const traces = await db.pool.query(
    `
    select (select count(*) from insight_series where id = $1)
         + (select count(*) from series_points where series_id = $2) + (select count(*) from series_points_snapshots where series_id = $2)
         + (select count(*) from archived_series_points where series_id = $2) + (select count(*) from insights_core.series_point_totals where series_id = $2)
         + (select count(*) from insight_series_recording_times where insight_series_id = $1)
         + (select count(*) from archived_insight_series_recording_times where insight_series_id = $1)
         + (select count(*) from insight_series_incomplete_points where series_id = $1)
         + (select count(*) from insight_series_backfill where series_id = $1) + (select count(*) from insights_background_jobs where backfill_id = any ($3))
         + (select count(*) from repo_iterator where id = $4) + (select count(*) from repo_iterator_errors where repo_iterator_id = $4)
         + (select count(*) from insights_data_retention_jobs where series_id = $1)
         + (select count(*) from graphile_worker.jobs where key = any ($5)) as remaining`,
    [pruned.id, pruned.seriesId, backfills, iterator, backfills.map((id: number) => `backfill:${id}`)],
  );
  t.is(Number(traces.rows[0].remaining), 0, 'nothing of the pruned series remains');
  t.is(
    (await db.pool.query(`select count(*)::int as n from insight_series where id = $1`, [kept.id])).rows[0].n,
    1,
    'a series a view uses is kept',
  );
  t.deepEqual(
    (await db.pool.query(`select fingerprint from insights_core.search_blob_counts`)).rows.map((r) => r.fingerprint),
    [fingerprint('FIXME')],
  );
});

test('the worker crontab is built from insights_core.recurring_tasks: every row, valid, daily ones made up after downtime', async (t) => {
  const db = await useTestDatabase(t);
  const { rows } = await db.pool.query(
    `select task_name, schedule, period from insights_core.recurring_tasks order by task_name`,
  );
  const items = parseCrontab(await workerCrontab(db.pool));
  t.deepEqual(
    items.map((item) => item.task),
    rows.map((r) => r.task_name),
    'one crontab line per recurring task',
  );
  t.true(rows.length >= 6);
  const tasks = new Set(fs.readdirSync(new URL('../tasks/', import.meta.url)).map((file) => file.replace(/\.ts$/, '')));
  for (const item of items) t.true(tasks.has(item.task), `${item.task} is a task of tasks/`);
  for (const [index, row] of rows.entries()) {
    const item = items[index]!;
    t.is(item.options.backfillPeriod > 0, row.period.days === 1, `${row.task_name}: fill=1d exactly for daily tasks`);
  }
  // A change to the table is a change to the schedule: nothing else holds it.
  await db.pool.query(
    `update insights_core.recurring_tasks set schedule = '7 4 * * *' where task_name = 'prune_task_runs'`,
  );
  t.true((await workerCrontab(db.pool)).split('\n').includes('7 4 * * * prune_task_runs ?fill=1d'));
});

test('ensure_monthly_partitions creates monthly partitions ahead and a default one, once', async (t) => {
  const db = await useTestDatabase(t);
  await db.pool.query(
    `create table points_by_month (like series_points including defaults including constraints) partition by range (time)`,
  );
  const first = new Date();
  first.setUTCMonth(first.getUTCMonth() - 2);
  const created = await db.pool.query(
    `select insights_core.ensure_monthly_partitions('points_by_month', $1::date, 2) as n`,
    [first.toISOString().slice(0, 10)],
  );
  t.is(created.rows[0].n, 6, 'two months back, this month, two ahead, and the default');
  t.is(
    (
      await db.pool.query(`select insights_core.ensure_monthly_partitions('points_by_month', $1::date, 2) as n`, [
        first.toISOString().slice(0, 10),
      ])
    ).rows[0].n,
    0,
  );
  await db.pool.query(
    `insert into points_by_month (series_id, time, value) values ('s', now(), 1), ('s', now() + interval '10 years', 2)`,
  );
  const placed = await db.pool.query(
    `select tableoid::regclass::text as part, value from points_by_month order by value`,
  );
  const month = new Date();
  t.is(
    placed.rows[0].part,
    `points_by_month_y${month.getUTCFullYear()}m${String(month.getUTCMonth() + 1).padStart(2, '0')}`,
  );
  t.is(
    placed.rows[1].part,
    'points_by_month_default',
    'a row beyond the partitions made lands in the default partition, where it can be found',
  );
  await t.throwsAsync(db.pool.query(`select insights_core.ensure_monthly_partitions('series_points', now()::date)`), {
    message: 'series_points is not a partitioned table',
  });
});

test('the ensure_partitions task keeps monthly partitions ahead and reports rows in a default partition', async (t) => {
  const db = await useTestDatabase(t);
  await startTestWorker(t, db.connectionString);
  const runOf = async (payload: object) => {
    const before = (await db.pool.query(`select coalesce(max(id), 0) as id from task_runs`)).rows[0].id;
    await db.pool.query(`select graphile_worker.add_job('ensure_partitions', $1::json)`, [JSON.stringify(payload)]);
    return waitFor(
      async () =>
        (
          await db.pool.query(
            `select status, details, error from task_runs where task_name = 'ensure_partitions' and status <> 'running' and id > $1`,
            [before],
          )
        ).rows[0],
    );
  };
  // No partitioned table (the service's tables are plain): nothing to do.
  t.like(await runOf({}), { status: 'succeeded', details: { months_ahead: 3, tables: [] } });

  // A table that adopted the plan, with partitions up to this month and a row that found none.
  await db.pool.query(
    `create table points_by_month (like series_points including defaults including constraints) partition by range (time)`,
  );
  await db.pool.query(`select insights_core.ensure_monthly_partitions('points_by_month', now()::date, 0)`);
  await db.pool.query(
    `insert into points_by_month (series_id, time, value) values ('s', now() + interval '3 months', 1)`,
  );
  t.like(await runOf({ months_ahead: 2 }), {
    status: 'succeeded',
    details: { months_ahead: 2, tables: [{ table: 'points_by_month', created: 2, default_rows: 1 }] },
  });
  const partitions = await db.pool.query(
    `select count(*)::int as n from pg_inherits where inhparent = 'points_by_month'::regclass`,
  );
  t.is(partitions.rows[0].n, 4, 'this month, two ahead, and the default');
  t.like(
    await runOf({ months_ahead: 2 }),
    { details: { tables: [{ table: 'points_by_month', created: 0, default_rows: 1 }] } },
    'a second run creates nothing',
  );

  const bad = await runOf({ months_ahead: -1 });
  t.is(bad.status, 'failed');
  t.regex(bad.error, /ensure_partitions: invalid payload: months_ahead: must be at least 0/);
});
