// The DBA path: a job added with plain SQL is run by a worker, and its run is visible in SQL.
import test from 'ava';
import { useTestDatabase } from './helpers/database.ts';
import { waitFor } from './helpers/wait.ts';
import { startTestWorker } from './helpers/worker.ts';

test('a job added with graphile_worker.add_job runs and is logged in task_runs', async (t) => {
  const db = await useTestDatabase(t);
  // An old finished run that should be pruned, and a newer one that should stay.
  await db.pool.query(`
    insert into task_runs (task_name, started_at, finished_at, status) values
      ('prune_task_runs', now() - interval '40 days', now() - interval '40 days', 'succeeded'),
      ('prune_task_runs', now() - interval '20 days', now() - interval '20 days', 'succeeded'),
      ('other_task', now() - interval '400 days', now() - interval '400 days', 'succeeded')`);
  const worker = await startTestWorker(t, db.connectionString);

  await db.pool.query(`select graphile_worker.add_job('prune_task_runs', '{"keep_days": 30}'::json)`);
  const run = await waitFor(async () => {
    const { rows } = await db.pool.query(
      `select * from task_runs where task_name = 'prune_task_runs' and status <> 'running' and graphile_job_id is not null`,
    );
    return rows[0];
  });
  t.is(run.status, 'succeeded');
  t.is(run.task_name, 'prune_task_runs');
  t.true(run.duration_ms >= 0);
  t.truthy(run.worker_hostname);
  t.deepEqual(run.details, { deleted: 1, keep_days: 30 });
  // (Recurring tasks the worker's cron starts meanwhile are left out.)
  const left = await db.pool.query(
    `select task_name, started_at < now() - interval '30 days' as old from task_runs where task_name in ('prune_task_runs', 'other_task') order by id`,
  );
  // The 40-day-old run is gone; the newest run of other_task stays however old it is.
  t.deepEqual(left.rows, [
    { task_name: 'prune_task_runs', old: false },
    { task_name: 'other_task', old: true },
    { task_name: 'prune_task_runs', old: false },
  ]);
  const jobs = await db.pool.query(
    `select count(*)::int as n from graphile_worker.jobs where task_identifier = 'prune_task_runs'`,
  );
  t.is(jobs.rows[0].n, 0, 'a successful job leaves the queue');
  t.true(worker.status.jobsSucceeded >= 1);
});

test('a malformed payload fails its job with a message naming the field, once, and harms nothing else', async (t) => {
  const db = await useTestDatabase(t);
  await startTestWorker(t, db.connectionString);
  await db.pool.query(`select graphile_worker.add_job('prune_task_runs', '{"keep_days": "soon"}'::json)`);
  await db.pool.query(`select graphile_worker.add_job('prune_task_runs', '{"keepdays": 3}'::json)`);
  await db.pool.query(`select graphile_worker.add_job('prune_task_runs', '{}'::json)`);

  const runs = await waitFor(async () => {
    const { rows } = await db.pool.query(
      `select status, error from task_runs where task_name = 'prune_task_runs' and status <> 'running' order by id`,
    );
    return rows.length === 3 ? rows : undefined;
  });
  const errors = runs
    .filter((r) => r.status === 'failed')
    .map((r) => r.error)
    .sort();
  t.deepEqual(errors, [
    'prune_task_runs: invalid payload: keep_days: must be a number of days',
    'prune_task_runs: invalid payload: unknown field "keepdays"',
  ]);
  t.is(runs.filter((r) => r.status === 'succeeded').length, 1, 'the valid job still ran');
  // The worker records the job's failure just after the run log does; once Graphile Worker has
  // released the job, it is marked out of attempts (graphile_worker.permanently_fail_jobs).
  const failedJobs = await waitFor(async () => {
    const { rows } = await db.pool.query(
      `select last_error, attempts, max_attempts from graphile_worker.jobs
        where task_identifier = 'prune_task_runs' and last_error is not null and attempts >= max_attempts order by id`,
    );
    return rows.length === 2 ? rows : undefined;
  });
  for (const job of failedJobs) {
    t.regex(job.last_error, /invalid payload/);
    t.is(job.attempts, job.max_attempts, 'a malformed payload is not retried');
  }
  const again = await db.pool.query(`select count(*)::int as n from task_runs where task_name = 'prune_task_runs'`);
  t.is(again.rows[0].n, 3, 'no job ran a second time: each malformed payload failed once');
});
