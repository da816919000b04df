// /metrics after a real backfill: Prometheus text with job counts by task and outcome, blob and
// byte counters of the search engine, queue depth and backfills by state.
import test from 'ava';
import { cliEnv, runCli, startCli } from './helpers/cli.ts';
import { useTestDatabase } from './helpers/database.ts';
import { occupyPort } from './helpers/occupy-port.ts';
import { startTestServer } from './helpers/server.ts';
import { waitFor } from './helpers/wait.ts';
import { startTestWorker } from './helpers/worker.ts';
import { createFixtureRepository, tempDir } from './fixtures/git-repository.ts';

const SECRET = new TextEncoder().encode('metrics-test-secret-that-is-long-enough-x');

const day = 86_400_000;

/** A repository with an unchanged blob across two commits, so a backfill has both reads and cache hits. */
function fixtureRepository(dir: string) {
  return createFixtureRepository(`${dir}/api.git`, [
    { date: new Date(Date.now() - 40 * day).toISOString(), files: { 'a.ts': 'TODO one\n', 'b.ts': 'nothing\n' } },
    { date: new Date(Date.now() - 10 * day).toISOString(), files: { 'a.ts': 'TODO one\nTODO two\n' } },
  ]);
}

/** The value of one sample line (name and exact labels), or undefined. */
function sample(text: string, name: string, labels = ''): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${name}${labels} `));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}

test('/metrics counts jobs, blobs and bytes after a backfill, and reports the queue and backfills', async (t) => {
  const db = await useTestDatabase(t);
  const repo = fixtureRepository(tempDir(t));
  await db.pool.query(`select insights_core.register_repository($1, 'acme/api')`, [repo.path]);
  await startTestWorker(t, db.connectionString);
  const server = await startTestServer(t, db.connectionString, { jwtSecret: SECRET });
  await db.pool.query(
    `select insights_core.create_line_insight('m', '[{"query": "TODO"}]', array['acme/api'], null, 'WEEK', 1, now() - interval '8 weeks')`,
  );
  await waitFor(
    async () =>
      (await db.pool.query(`select 1 as done from insight_series_backfill where state = 'completed'`)).rows[0],
    120_000,
    'the backfill',
  );

  const response = await fetch(`${server.url}/metrics`);
  t.is(response.status, 200);
  t.regex(response.headers.get('content-type')!, /^text\/plain; version=0\.0\.4/);
  const text = await response.text();
  t.true(
    sample(text, 'code_insights_jobs_duration_seconds_count', '{task="backfill_step",outcome="success"}')! >= 1,
    'backfill steps counted',
  );
  t.true(
    sample(text, 'code_insights_jobs_duration_seconds_count', '{task="sync_repo",outcome="success"}')! >= 1,
    'repository syncs counted',
  );
  t.true(sample(text, 'code_insights_search_blobs_read_total')! > 0, 'blobs read');
  t.true(sample(text, 'code_insights_search_bytes_total')! > 0, 'bytes searched');
  t.true(
    sample(text, 'code_insights_search_blob_cache_hits_total')! > 0,
    'the unchanged blob of the older commit came from the cache',
  );
  const ratio = sample(text, 'code_insights_search_blob_cache_hit_ratio')!;
  t.true(ratio > 0 && ratio < 1);
  t.is(sample(text, 'code_insights_backfills', '{state="completed"}'), 1);
  t.not(sample(text, 'code_insights_queue_jobs', '{state="runnable"}'), undefined);
  t.regex(text, /# HELP code_insights_jobs_duration_seconds Jobs run by this process/);
});

test('a separate worker process serves its own job and search counters on --metrics-port', async (t) => {
  const db = await useTestDatabase(t);
  const repo = fixtureRepository(tempDir(t));
  await db.pool.query(`select insights_core.register_repository($1, 'acme/api')`, [repo.path]);
  const worker = startCli(
    ['worker', '--metrics-port', '0'],
    cliEnv({ DATABASE_URL: db.connectionString, DATA_DIR: tempDir(t), WORKER_CONCURRENCY: '2' }),
  );
  t.teardown(() => {
    if (worker.child.exitCode === null) worker.child.kill('SIGKILL');
  });
  const [, url] = await worker.waitForOutput(/Metrics:\s+(\S+\/metrics)/);
  await db.pool.query(
    `select insights_core.create_line_insight('m', '[{"query": "TODO"}]', array['acme/api'], null, 'WEEK', 1, now() - interval '8 weeks')`,
  );
  await waitFor(
    async () =>
      (await db.pool.query(`select 1 as done from insight_series_backfill where state = 'completed'`)).rows[0],
    120_000,
    'the backfill',
  );

  // The backfill's last step may still be finishing its bookkeeping: wait for its count.
  const text = await waitFor(
    async () => {
      const body = await (await fetch(url!)).text();
      return (sample(body, 'code_insights_jobs_duration_seconds_count', '{task="backfill_step",outcome="success"}') ??
        0) >= 1
        ? body
        : undefined;
    },
    30_000,
    "the backfill step in the worker's metrics",
  );
  t.true(sample(text, 'code_insights_search_blobs_read_total')! > 0, 'blobs read');
  t.true(sample(text, 'code_insights_search_bytes_total')! > 0, 'bytes searched');
  t.true(sample(text, 'code_insights_process_resident_memory_bytes')! > 0, 'process metrics');
  t.is(
    sample(text, 'code_insights_backfills', '{state="completed"}'),
    undefined,
    'database-wide gauges stay on the API',
  );
  t.is((await fetch(url!.replace(/\/metrics$/, '/graphql'))).status, 404);

  worker.child.kill('SIGTERM');
  t.like(await worker.exited, { code: 0 });
});

test('a taken --metrics-port stops the worker with a message naming the setting', async (t) => {
  const db = await useTestDatabase(t);
  const port = await occupyPort(t);
  const result = await runCli(
    ['worker', '--metrics-port', String(port)],
    cliEnv({ DATABASE_URL: db.connectionString, DATA_DIR: tempDir(t) }),
  );
  t.is(result.code, 1);
  t.regex(
    result.stderr,
    new RegExp(`METRICS_PORT ${port} is already in use on 127\\.0\\.0\\.1; set METRICS_PORT to a free port`),
  );
  t.is(
    (await db.pool.query(`select count(*)::int as n from graphile_worker.jobs where locked_by is not null`)).rows[0].n,
    0,
    'no job was taken',
  );
});
