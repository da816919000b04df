// Repositories, insights, recordings and snapshots end to end: real fixture repositories, a real
// worker running the real tasks, and the SQL functions a DBA or the API calls.
import { execFileSync } from 'node:child_process';
import test, { type ExecutionContext } from 'ava';
import { useTestDatabase, type TestDatabase } from './helpers/database.ts';
import { waitFor } from './helpers/wait.ts';
import { startTestWorker } from './helpers/worker.ts';
import { createFixtureRepository, tempDir } from './fixtures/git-repository.ts';

interface Repos {
  api: number;
  web: number;
  empty: number;
  lib: number;
}

async function registerFixtures(t: ExecutionContext, db: TestDatabase): Promise<Repos> {
  const dir = tempDir(t);
  const api = createFixtureRepository(`${dir}/api.git`, [
    { date: '2024-01-01T00:00:00Z', files: { 'a.ts': 'TODO TODO\n', 'package.json': '{ "version": "1.0.0" }\n' } },
    { date: '2024-03-01T00:00:00Z', files: { 'b.ts': 'todo\n', 'lib/package.json': '{ "version": "2.1.0" }\n' } },
  ]);
  const web = createFixtureRepository(
    `${dir}/web.git`,
    [
      {
        date: '2024-02-01T00:00:00Z',
        files: { 'index.html': '<!-- TODO -->\n', 'package.json': '{ "version": "1.4.0" }\n' },
      },
    ],
    'trunk',
  );
  const lib = createFixtureRepository(`${dir}/lib.git`, [
    { date: '2024-02-01T00:00:00Z', files: { 'x.go': '// TODO TODO TODO\n' } },
  ]);
  const empty = createFixtureRepository(`${dir}/empty.git`, []);
  const register = async (path: string, name: string) =>
    (await db.pool.query(`select (insights_core.register_repository($1, $2)).id`, [path, name])).rows[0].id as number;
  return {
    api: await register(api.path, 'acme/api'),
    web: await register(web.path, 'acme/web'),
    lib: await register(lib.path, 'other/lib'),
    empty: await register(empty.path, 'acme/empty'),
  };
}

async function createInsight(
  db: TestDatabase,
  series: object[],
  scope: { repositories?: string[]; criteria?: string } = {},
) {
  const view = await db.pool.query(
    `select id from insights_core.create_line_insight('test insight', $1::jsonb, $2, $3, 'WEEK', 1)`,
    [JSON.stringify(series), scope.repositories ?? null, scope.criteria ?? null],
  );
  // A separate statement: the function's rows are not visible to the statement that called it.
  const { rows } = await db.pool.query(
    `select array_agg(s.series_id order by s.id) as series_ids, array_agg(s.id order by s.id) as ids
       from insight_view_series vs join insight_series s on s.id = vs.insight_series_id where vs.insight_view_id = $1`,
    [view.rows[0].id],
  );
  return { id: view.rows[0].id as number, ...(rows[0] as { series_ids: string[]; ids: number[] }) };
}

/** Waits for the live recording (or snapshot) of a series, which stamps its next due time. */
async function waitForRecording(db: TestDatabase, seriesId: number, snapshot: boolean) {
  const done = snapshot ? 'last_snapshot_at >= created_at' : 'next_recording_after > created_at';
  return waitFor(
    async () =>
      (await db.pool.query(`select 1 as ok from insight_series where id = $1 and ${done}`, [seriesId])).rows[0],
    30_000,
    `the ${snapshot ? 'snapshot' : 'recording'} of series ${seriesId}`,
  );
}

/** Points recorded live (not by the history backfill): the last hour. */
const LIVE = `p.time > now() - interval '1 hour'`;

async function points(db: TestDatabase, table: 'series_points' | 'series_points_snapshots', seriesId: string) {
  const { rows } = await db.pool.query(
    `select r.name::text as repo, p.capture, p.value from ${table} p join repositories r on r.id = p.repo_id where p.series_id = $1 and ${LIVE} order by 1, 2`,
    [seriesId],
  );
  return rows;
}

test('registering repositories mirrors them and records the branch and fetch time', async (t) => {
  const db = await useTestDatabase(t);
  const repos = await registerFixtures(t, db);
  await startTestWorker(t, db.connectionString);
  const rows = await waitFor(async () => {
    const { rows } = await db.pool.query(
      `select name::text, default_branch, last_fetched_at is not null as fetched, last_fetch_error from repositories order by id`,
    );
    return rows.every((r) => r.fetched) ? rows : undefined;
  });
  t.deepEqual(rows, [
    { name: 'acme/api', default_branch: 'main', fetched: true, last_fetch_error: null },
    { name: 'acme/web', default_branch: 'trunk', fetched: true, last_fetch_error: null },
    { name: 'other/lib', default_branch: 'main', fetched: true, last_fetch_error: null },
    // An empty repository has no branch until its first commit.
    { name: 'acme/empty', default_branch: null, fetched: true, last_fetch_error: null },
  ]);
  const names = await db.pool.query(`select name::text from repo_names order by id`);
  t.deepEqual(
    names.rows.map((r) => r.name),
    ['acme/api', 'acme/web', 'other/lib', 'acme/empty'],
  );

  // The same registration again is a no-op; a clash of names is a clear error.
  const again = await db.pool.query(
    `select (insights_core.register_repository(clone_url, name::text)).id from repositories where id = $1`,
    [repos.api],
  );
  t.is(again.rows[0].id, repos.api);
  await t.throwsAsync(db.pool.query(`select insights_core.register_repository('/elsewhere', 'acme/api')`), {
    message: /a repository named "acme\/api" is already registered/,
  });
  await t.throwsAsync(db.pool.query(`select insights_core.register_repository('  ')`), {
    message: /clone_url is required/,
  });

  // A repository that cannot be fetched keeps its error visible in SQL.
  const broken = await db.pool.query(
    `select (insights_core.register_repository('/does/not/exist.git', 'broken/repo')).id`,
  );
  const error = await waitFor(
    async () =>
      (await db.pool.query('select last_fetch_error from repositories where id = $1', [broken.rows[0].id])).rows[0]
        .last_fetch_error,
  );
  t.regex(error, /does not exist|not found|could not/i);
});

test('a recording and a snapshot at HEAD agree, zero-fill covers repositories without matches, and recording twice at one time keeps one point', async (t) => {
  const db = await useTestDatabase(t);
  await registerFixtures(t, db);
  await startTestWorker(t, db.connectionString);
  const insight = await createInsight(db, [{ query: 'TODO', label: 'todos', stroke: '#f00' }], {
    repositories: ['acme/api', 'acme/web', 'acme/empty'],
  });
  const [seriesId] = insight.ids;
  const [publicId] = insight.series_ids;
  await waitForRecording(db, seriesId!, false);
  await waitForRecording(db, seriesId!, true);

  const expected = [
    { repo: 'acme/api', capture: null, value: 3 },
    { repo: 'acme/web', capture: null, value: 1 },
  ];
  t.deepEqual(await points(db, 'series_points', publicId!), expected);
  t.deepEqual(await points(db, 'series_points_snapshots', publicId!), expected);

  const filled = await db.pool.query(
    `select snapshot, repo_name, value from insight_series_points_filled($1) p where p.recording_time > now() - interval '1 hour' order by snapshot, repo_name`,
    [publicId],
  );
  t.deepEqual(filled.rows, [
    { snapshot: false, repo_name: 'acme/api', value: 3 },
    { snapshot: false, repo_name: 'acme/empty', value: 0 },
    { snapshot: false, repo_name: 'acme/web', value: 1 },
    { snapshot: true, repo_name: 'acme/api', value: 3 },
    { snapshot: true, repo_name: 'acme/empty', value: 0 },
    { snapshot: true, repo_name: 'acme/web', value: 1 },
  ]);

  const series = await db.pool.query(
    'select (next_recording_after - last_recorded_at)::text as step, next_snapshot_after = date_trunc($$day$$, last_snapshot_at) + interval $$1 day$$ as midnight from insight_series where id = $1',
    [seriesId],
  );
  t.deepEqual(series.rows[0], { step: '7 days', midnight: true });

  // Recording twice at the same time leaves one point per repository.
  for (let i = 0; i < 2; i++) {
    await db.pool.query(
      `select graphile_worker.add_job('record_series', json_build_object('series_id', $1::int, 'time', '2026-01-01T00:00:00Z'))`,
      [seriesId],
    );
    await waitFor(
      async () => (await db.pool.query(`select count(*)::int as n from graphile_worker.jobs`)).rows[0].n === 0,
    );
  }
  const atFixedTime = await db.pool.query(
    `select count(*)::int as n, sum(value)::int as total from series_points where series_id = $1 and time = '2026-01-01T00:00:00Z'`,
    [publicId],
  );
  t.deepEqual(atFixedTime.rows[0], { n: 2, total: 4 });

  // A second snapshot replaces the first.
  await db.pool.query(
    `select graphile_worker.add_job('record_series', json_build_object('series_id', $1::int, 'mode', 'snapshot'))`,
    [seriesId],
  );
  await waitFor(
    async () => (await db.pool.query(`select count(*)::int as n from graphile_worker.jobs`)).rows[0].n === 0,
  );
  const snapshots = await db.pool.query(
    `select count(*)::int as points, count(distinct time)::int as times from series_points_snapshots where series_id = $1`,
    [publicId],
  );
  t.deepEqual(snapshots.rows[0], { points: 2, times: 1 });
  const times = await db.pool.query(
    `select count(*)::int as n from insight_series_recording_times where insight_series_id = $1 and snapshot`,
    [seriesId],
  );
  t.is(times.rows[0].n, 1);
});

test('capture-group series record one point per captured value; repository criteria choose repositories', async (t) => {
  const db = await useTestDatabase(t);
  await registerFixtures(t, db);
  await startTestWorker(t, db.connectionString);
  const captures = await createInsight(
    db,
    [{ query: 'patterntype:regexp "version": "(\\d+)\\.', capture_groups: true }],
    { criteria: 'repo:^acme/' },
  );
  await waitForRecording(db, captures.ids[0]!, false);
  t.deepEqual(await points(db, 'series_points', captures.series_ids[0]!), [
    { repo: 'acme/api', capture: '1', value: 1 },
    { repo: 'acme/api', capture: '2', value: 1 },
    { repo: 'acme/web', capture: '1', value: 1 },
  ]);

  const scoped = await createInsight(db, [{ query: 'TODO' }], { criteria: 'repo:^acme/ -repo:web' });
  await waitForRecording(db, scoped.ids[0]!, false);
  t.deepEqual(await points(db, 'series_points', scoped.series_ids[0]!), [
    { repo: 'acme/api', capture: null, value: 3 },
  ]);
  const filled = await db.pool.query(`select distinct repo_name from insight_series_points_filled($1) order by 1`, [
    scoped.series_ids[0],
  ]);
  t.deepEqual(
    filled.rows.map((r) => r.repo_name),
    ['acme/api', 'acme/empty'],
  );
});

test('identical global series are shared; scoped series never are', async (t) => {
  const db = await useTestDatabase(t);
  const first = await createInsight(db, [{ query: 'TODO' }]);
  const second = await createInsight(db, [{ query: 'TODO', label: 'other label' }]);
  t.deepEqual(first.series_ids, second.series_ids);
  // A random id: the digest of the query it used to be could be reversed offline.
  t.regex(first.series_ids[0]!, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
  const scopedA = await createInsight(db, [{ query: 'TODO' }], { criteria: 'repo:x' });
  const scopedB = await createInsight(db, [{ query: 'TODO' }], { criteria: 'repo:x' });
  t.notDeepEqual(scopedA.series_ids, scopedB.series_ids);
  await t.throwsAsync(createInsight(db, [{ query: 'TODO' }], { repositories: ['no/such-repo'] }), {
    message: 'unknown repositories: no/such-repo',
  });
  await t.throwsAsync(createInsight(db, []), { message: /series must be a non-empty array/ });
  const views = await db.pool.query('select count(*)::int as n from insight_view');
  t.is(views.rows[0].n, 4, 'failed creations write nothing');
});

test('a hostile regexp is counted in linear time; a search past its deadline is a timeout point', async (t) => {
  const db = await useTestDatabase(t);
  const dir = tempDir(t);
  const evil = createFixtureRepository(`${dir}/evil.git`, [
    { date: '2024-01-01T00:00:00Z', files: { 'evil.txt': `${'a'.repeat(36)}\n`.repeat(3) } },
  ]);
  // Eight distinct files of a million one-character matches each: about ten seconds of (linear) matching by
  // re2js (`é?` under case-insensitivity keeps the pattern off the V8 translation).
  const slowFiles = Object.fromEntries([1, 2, 3, 4, 5, 6, 7, 8].map((k) => [`slow${k}.txt`, 'ab'.repeat(500_000 - k)]));
  const slow = createFixtureRepository(`${dir}/slow.git`, [{ date: '2024-01-01T00:00:00Z', files: slowFiles }]);
  const good = createFixtureRepository(`${dir}/good.git`, [
    { date: '2024-01-01T00:00:00Z', files: { 'ok.txt': 'fine fine\n' } },
  ]);
  await db.pool.query(
    `select insights_core.register_repository($1, 'evil/repo'), insights_core.register_repository($2, 'good/repo'),
            insights_core.register_repository($3, 'slow/repo')`,
    [evil.path, good.path, slow.path],
  );
  await startTestWorker(t, db.connectionString, { searchTimeoutMs: 4000, concurrency: 2 });
  const hostile = await createInsight(db, [{ query: '/(a+)+$/' }], { repositories: ['evil/repo'] });
  const long = await createInsight(db, [{ query: '/(.)é?/' }], { repositories: ['slow/repo'] });
  const benign = await createInsight(db, [{ query: 'fine' }], { repositories: ['good/repo'] });
  await waitForRecording(db, benign.ids[0]!, false);
  t.deepEqual(await points(db, 'series_points', benign.series_ids[0]!), [
    { repo: 'good/repo', capture: null, value: 2 },
  ]);
  await waitForRecording(db, hostile.ids[0]!, false);
  t.deepEqual(await points(db, 'series_points', hostile.series_ids[0]!), [
    { repo: 'evil/repo', capture: null, value: 3 },
  ]);
  await waitForRecording(db, long.ids[0]!, false);
  const incomplete = await db.pool.query(`select reason from insight_series_incomplete_points where series_id = $1`, [
    long.ids[0],
  ]);
  t.deepEqual([...new Set(incomplete.rows.map((r) => r.reason))], ['timeout']);
});

test('renaming a repository keeps the original name on old points and moves them to the new one', async (t) => {
  const db = await useTestDatabase(t);
  const repos = await registerFixtures(t, db);
  await startTestWorker(t, db.connectionString);
  const insight = await createInsight(db, [{ query: 'TODO' }], { repositories: ['acme/api'] });
  await waitForRecording(db, insight.ids[0]!, false);
  // The history backfill writes points too; a point it wrote after the rename would rightly carry the
  // new name as its original, so rename only once every writer of this series is done.
  await waitFor(
    async () =>
      (
        await db.pool.query(
          `select 1 as done from backfill_status where insight_series_id = $1 having bool_and(state in ('completed', 'failed') and job_state in ('completed', 'failed', 'canceled'))`,
          [insight.ids[0]],
        )
      ).rows[0],
    60_000,
    'the history backfill',
  );
  await db.pool.query(`select insights_core.rename_repository($1, 'acme/api-renamed')`, [repos.api]);
  const { rows } = await db.pool.query(
    `select distinct current.name::text as current, original.name::text as original
       from series_points p join repo_names current on current.id = p.repo_name_id join repo_names original on original.id = p.original_repo_name_id
      where p.series_id = $1`,
    [insight.series_ids[0]],
  );
  t.deepEqual(rows, [{ current: 'acme/api-renamed', original: 'acme/api' }]);
});

test('a rename waits for a point writer holding its repository instead of deadlocking with it', async (t) => {
  const db = await useTestDatabase(t);
  // No worker: the points are written here, so the order of the locks is ours to choose.
  const repo = (
    await db.pool.query(`select (insights_core.register_repository('/nonexistent/api.git', 'acme/api')).id`)
  ).rows[0].id as number;
  const insight = await createInsight(db, [{ query: 'TODO' }], { repositories: ['acme/api'] });
  const seriesId = insight.ids[0]!;
  const week = (n: number) => new Date(Date.UTC(2024, 0, 1) + n * 7 * 86_400_000).toISOString();
  const record = (client: { query: (text: string, values: unknown[]) => Promise<unknown> }, n: number, value: number) =>
    client.query(`select insights_core.store_series_recording($1, $2, false, $3::jsonb)`, [
      seriesId,
      week(n),
      JSON.stringify([{ repo_id: repo, value }]),
    ]);
  for (let n = 0; n < 12; n++) await record(db.pool, n, 1);

  // The writer updates a late point, the rename starts, then the writer updates an early point: the
  // order in which a rename that rewrote points as it went would have locked the two and deadlocked.
  const writer = await db.pool.connect();
  t.teardown(() => writer.release());
  await writer.query('begin');
  await record(writer, 10, 2);
  const renamer = await db.pool.connect();
  t.teardown(() => renamer.release());
  const renamerPid = (await renamer.query('select pg_backend_pid() as pid')).rows[0].pid as number;
  const rename = renamer.query(`select insights_core.rename_repository($1, 'acme/api-renamed')`, [repo]);
  await waitFor(
    async () =>
      (
        await db.pool.query(`select 1 as waiting from pg_stat_activity where pid = $1 and wait_event_type = 'Lock'`, [
          renamerPid,
        ])
      ).rows[0],
    10_000,
    'the rename to wait for the writer',
  );
  await record(writer, 1, 2);
  await writer.query('commit');
  await rename;

  const { rows } = await db.pool.query(
    `select n.name::text as name, count(*)::int as points, sum(p.value)::int as total
       from series_points p join repo_names n on n.id = p.repo_name_id where p.series_id = $1 group by 1`,
    [insight.series_ids[0]],
  );
  t.deepEqual(rows, [{ name: 'acme/api-renamed', points: 12, total: 14 }]);
});

test('malformed record_series payloads fail with a message naming the field', async (t) => {
  const db = await useTestDatabase(t);
  await startTestWorker(t, db.connectionString);
  await db.pool.query(`select graphile_worker.add_job('record_series', '{"series_id": 1, "mode": "sometimes"}')`);
  await db.pool.query(`select graphile_worker.add_job('record_series', '{"series_id": 999}')`);
  await db.pool.query(`select graphile_worker.add_job('record_series', '{"series_id": 2147483648}')`);
  await db.pool.query(
    `select graphile_worker.add_job('record_series', '{"series_id": 1, "time": "9999-01-01T00:00:00Z"}')`,
  );
  await db.pool.query(
    `select graphile_worker.add_job('record_series', '{"series_id": 1, "time": "0001-01-01T00:00:00Z"}')`,
  );
  const errors = await waitFor(async () => {
    const { rows } = await db.pool.query(
      `select last_error from graphile_worker.jobs where attempts >= max_attempts and last_error is not null order by id`,
    );
    return rows.length === 5 ? rows.map((r) => r.last_error) : undefined;
  });
  t.deepEqual(errors, [
    'record_series: invalid payload: mode: must be "record" or "snapshot"',
    'record_series: no series 999',
    'record_series: invalid payload: series_id: must be at most 2147483647 (a PostgreSQL integer)',
    'record_series: invalid payload: time: must not be more than an hour in the future',
    'record_series: invalid payload: time: must not be before 1970',
  ]);
});

test('git grep agrees with the recorded value at HEAD', async (t) => {
  const db = await useTestDatabase(t);
  const repos = await registerFixtures(t, db);
  const worker = await startTestWorker(t, db.connectionString);
  const insight = await createInsight(db, [{ query: 'TODO' }], { repositories: ['other/lib'] });
  await waitForRecording(db, insight.ids[0]!, false);
  const mirror = `${worker.dataDir}/mirrors/${repos.lib}.git`;
  const grep = execFileSync('git', ['--git-dir', mirror, 'grep', '-o', '-i', '-I', '-F', 'TODO', 'main'], {
    encoding: 'utf8',
  });
  t.deepEqual(await points(db, 'series_points', insight.series_ids[0]!), [
    { repo: 'other/lib', capture: null, value: grep.trim().split('\n').length },
  ]);
});
