// Backfills end to end: correctness against git itself, fairness between cheap and expensive
// backfills, resuming after a SIGKILLed worker, and the admin operations.
import { execFileSync } from 'node:child_process';
import test, { type ExecutionContext } from 'ava';
import { cliEnv, startCli } from './helpers/cli.ts';
import { useTestDatabase, type TestDatabase } from './helpers/database.ts';
import { waitFor } from './helpers/wait.ts';
import { startTestWorker } from './helpers/worker.ts';
import { createFixtureRepository, type FixtureRepository, tempDir } from './fixtures/git-repository.ts';

const WEEK = 7 * 24 * 3600 * 1000;
const weeksAgo = (weeks: number) => new Date(Date.now() - weeks * WEEK).toISOString();

/** A history with a merged side branch, dated relative to now so weekly samples fall between commits. */
function historyRepository(dir: string, seed = 0): FixtureRepository {
  return createFixtureRepository(dir, [
    { date: weeksAgo(9.5), files: { 'a.ts': 'TODO\n'.repeat(1 + seed) } },
    { date: weeksAgo(6.5), files: { 'b.ts': 'TODO TODO\n' } },
    { date: weeksAgo(5.5), branch: 'side', files: { 'c.ts': 'TODO TODO TODO\n' } }, // only on the side branch
    { date: weeksAgo(4.5), parent: 1, files: { 'a.ts': 'TODO x TODO\n' } },
    { date: weeksAgo(3.5), parent: 3, merge: 2, files: { 'c.ts': 'TODO TODO TODO\n' } }, // merge of side
    { date: weeksAgo(1.5), files: { 'b.ts': null, 'big.bin': Buffer.from('TODO\0') } },
  ]);
}

/** What git itself says for one sample time: git grep at `rev-list --first-parent -1 --before`. */
function gitValue(repo: FixtureRepository, time: Date, pattern: string): number | undefined {
  const commit = execFileSync(
    'git',
    [
      '--git-dir',
      repo.path,
      'rev-list',
      '--first-parent',
      '-1',
      `--before=${Math.floor(time.getTime() / 1000)}`,
      repo.branch,
    ],
    {
      encoding: 'utf8',
    },
  ).trim();
  if (!commit) return undefined;
  try {
    return execFileSync('git', ['--git-dir', repo.path, 'grep', '-o', '-i', '-I', '-F', pattern, commit], {
      encoding: 'utf8',
    })
      .trim()
      .split('\n').length;
  } catch {
    return 0; // git grep exits 1 when nothing matches
  }
}

async function createInsight(db: TestDatabase, query: string, repositories: string[], weeks = 12) {
  const view = await db.pool.query(
    `select id from insights_core.create_line_insight('backfill test', $1::jsonb, $2, null, 'WEEK', 1, now() - make_interval(weeks => $3))`,
    [JSON.stringify([{ query }]), repositories, weeks],
  );
  const { rows } = await db.pool.query(
    `select s.id, s.series_id, b.id as backfill_id from insight_view_series vs join insight_series s on s.id = vs.insight_series_id
       join insight_series_backfill b on b.series_id = s.id where vs.insight_view_id = $1`,
    [view.rows[0].id],
  );
  return rows[0] as { id: number; series_id: string; backfill_id: number };
}

async function backfillState(db: TestDatabase, backfillId: number) {
  return (await db.pool.query('select * from backfill_status where backfill_id = $1', [backfillId])).rows[0];
}

async function waitForBackfill(
  db: TestDatabase,
  backfillId: number,
  states = ['completed', 'failed'],
  timeoutMs = 120_000,
) {
  return waitFor(
    async () => {
      const row = await backfillState(db, backfillId);
      return states.includes(row.state) && ['completed', 'failed', 'canceled'].includes(row.job_state)
        ? row
        : undefined;
    },
    timeoutMs,
    `backfill ${backfillId} to finish`,
  );
}

async function registerRepositories(t: ExecutionContext, db: TestDatabase, count: number, prefix = 'acme/repo') {
  const dir = tempDir(t);
  const repos: Array<{ name: string; repo: FixtureRepository }> = [];
  for (let i = 0; i < count; i++) {
    const name = `${prefix}${i}`;
    const repo = historyRepository(`${dir}/${i}.git`, i % 3);
    await db.pool.query('select insights_core.register_repository($1, $2)', [repo.path, name]);
    repos.push({ name, repo });
  }
  return repos;
}

/** Every historical point as "time|repo|value", for exact comparisons. */
async function historicalPoints(db: TestDatabase, seriesId: string): Promise<string[]> {
  const { rows } = await db.pool.query(
    `select p.time, r.name::text as repo, p.value from series_points p join repositories r on r.id = p.repo_id
      where p.series_id = $1 and p.time < now() - interval '1 hour' order by 1, 2`,
    [seriesId],
  );
  return rows.map((r) => `${r.time.toISOString()}|${r.repo}|${r.value}`);
}

async function expectedPoints(
  db: TestDatabase,
  seriesId: number,
  repos: Array<{ name: string; repo: FixtureRepository }>,
  pattern: string,
) {
  const times = await db.pool.query(
    `select recording_time from insight_series_recording_times where insight_series_id = $1 and recording_time < now() - interval '1 hour' order by 1`,
    [seriesId],
  );
  const expected: string[] = [];
  for (const { recording_time } of times.rows) {
    for (const { name, repo } of [...repos].sort((a, b) => a.name.localeCompare(b.name))) {
      const value = gitValue(repo, recording_time, pattern);
      if (value) expected.push(`${recording_time.toISOString()}|${name}|${value}`);
    }
  }
  return expected.sort();
}

/**
 * Stops a series' backfill at a known page: the row of the repository at `position` (1-based, in
 * backfill order) is held locked, so the page for it waits until release(). Pages take milliseconds,
 * too quick to catch by polling. Work that would wait on that row first is taken out of the way,
 * queued or due by cron: live recordings (they lock every repository) and mirror syncs (a worker
 * clones a missing mirror on demand). Call it before the worker starts.
 */
async function holdBackfillAt(t: ExecutionContext, db: TestDatabase, seriesId: number, position: number) {
  await db.pool.query(
    `select graphile_worker.complete_jobs(array_agg(id)) from graphile_worker.jobs where task_identifier in ('record_series', 'sync_repo')`,
  );
  await db.pool.query(
    `update insight_series set next_recording_after = now() + interval '1 day', next_snapshot_after = now() + interval '1 day'`,
  );
  await db.pool.query(`update repositories set last_fetch_attempt_at = now()`);
  const holder = await db.pool.connect();
  t.teardown(() => holder.release(true));
  await holder.query('begin');
  const { pid } = (await holder.query('select pg_backend_pid() as pid')).rows[0];
  const held = await holder.query(
    `select 1 from repositories where id = (select (insight_series_repository_ids(s))[$2] from insight_series s where s.id = $1) for update`,
    [seriesId, position],
  );
  if (held.rowCount !== 1) throw new Error(`series ${seriesId} has no repository at position ${position}`);
  return {
    /** Resolves when a worker's page waits for the held repository. */
    reached: () =>
      waitFor(
        async () =>
          (await db.pool.query('select 1 from pg_stat_activity where $1 = any (pg_blocking_pids(pid))', [pid])).rows
            .length > 0,
        60_000,
        `the backfill to reach repository ${position}`,
      ),
    release: () => holder.query('rollback'),
  };
}

test("a query's repo: filter scopes the backfill exactly as it scopes recordings", async (t) => {
  const db = await useTestDatabase(t);
  const acme = await registerRepositories(t, db, 1, 'acme/repo');
  const other = await registerRepositories(t, db, 1, 'other/repo');
  await startTestWorker(t, db.connectionString);
  const series = await createInsight(
    db,
    'TODO repo:^acme/',
    [...acme, ...other].map((r) => r.name),
  );
  t.like(await waitForBackfill(db, series.backfill_id), { state: 'completed' });
  const recorded = await waitFor(
    async () => {
      const { rows } = await db.pool.query(
        `select r.name::text as repo, p.value from series_points p join repositories r on r.id = p.repo_id
        where p.series_id = $1 and p.time > now() - interval '1 hour' order by 1`,
        [series.series_id],
      );
      return rows.length ? rows : undefined;
    },
    60_000,
    'the live recording',
  );
  t.deepEqual(
    recorded.map((r) => r.repo),
    ['acme/repo0'],
    'the recording counts only acme/',
  );
  const history = await historicalPoints(db, series.series_id);
  t.true(history.length > 3, `${history.length} historical points`);
  t.deepEqual(
    history,
    await expectedPoints(db, series.id, acme, 'TODO'),
    'the backfill counts only acme/, as git grep does there',
  );
  t.is(
    Number(history.at(-1)!.split('|')[2]),
    recorded[0].value,
    'the newest backfilled sample equals the live recording',
  );
  t.deepEqual(await snapshotPoints(db, series.series_id), ['acme/repo0|' + recorded[0].value], 'and the snapshot');
});

/** The series' snapshot points as "repo|value". */
async function snapshotPoints(db: TestDatabase, seriesId: string): Promise<string[]> {
  const { rows } = await waitFor(
    async () => {
      const result = await db.pool.query(
        `select r.name::text as repo, p.value from series_points_snapshots p join repositories r on r.id = p.repo_id
          where p.series_id = $1 order by 1`,
        [seriesId],
      );
      return result.rows.length ? result : undefined;
    },
    60_000,
    'the snapshot',
  );
  return rows.map((r) => `${r.repo}|${r.value}`);
}

// Recordings, snapshots and backfills count with the one stored plan of the series
// (src/search/series-plan.ts): scope (repo: filters and predicates) and counts cannot differ.
test('recording, snapshot and backfill agree on scope and count for a query with operators and predicates', async (t) => {
  const db = await useTestDatabase(t);
  const acme = await registerRepositories(t, db, 2, 'acme/repo');
  const other = await registerRepositories(t, db, 1, 'other/repo');
  await startTestWorker(t, db.connectionString);
  // acme/repo1 starts with two TODO lines in a.ts; the -repo: drops it, the predicate keeps repos
  // that hold a.ts (all, at every commit), `x` adds the x of a.ts's later version.
  const query = 'repo:^acme/ -repo:repo1$ repo:has.path(^a\\.ts$) TODO or x';
  const series = await createInsight(
    db,
    query,
    [...acme, ...other].map((r) => r.name),
  );
  t.like(await waitForBackfill(db, series.backfill_id), { state: 'completed' });
  const history = await historicalPoints(db, series.series_id);
  t.true(history.length > 3, `${history.length} historical points`);
  t.true(
    history.every((point) => point.includes('|acme/repo0|')),
    'only acme/repo0 is in scope at every sample',
  );
  // git's own count of `TODO or x` at each sample: the matches of both (they never overlap here).
  const expected = await expectedPoints(db, series.id, [acme[0]!], 'TODO');
  const withX = expected.map((point) => {
    const [time, repo, value] = point.split('|');
    const commit = execFileSync(
      'git',
      [
        '--git-dir',
        acme[0]!.repo.path,
        'rev-list',
        '--first-parent',
        '-1',
        `--before=${Math.floor(Date.parse(time!) / 1000)}`,
        'main',
      ],
      { encoding: 'utf8' },
    ).trim();
    let xs = 0;
    try {
      xs = execFileSync('git', ['--git-dir', acme[0]!.repo.path, 'grep', '-o', '-i', '-I', '-F', 'x', commit, '--'], {
        encoding: 'utf8',
      })
        .split('\n')
        .filter(Boolean).length;
    } catch {
      // git grep exits 1 when nothing matches
    }
    return `${time}|${repo}|${Number(value) + xs}`;
  });
  t.deepEqual(history, withX, 'the backfill counts what git counts, in scope');
  const recorded = await waitFor(
    async () => {
      const { rows } = await db.pool.query(
        `select r.name::text as repo, p.value from series_points p join repositories r on r.id = p.repo_id
        where p.series_id = $1 and p.time > now() - interval '1 hour' order by 1`,
        [series.series_id],
      );
      return rows.length ? rows : undefined;
    },
    60_000,
    'the live recording',
  );
  t.deepEqual(
    recorded.map((r) => `${r.repo}|${r.value}`),
    [history.at(-1)!.split('|').slice(1).join('|')],
    'the live recording equals the newest backfilled sample',
  );
  t.deepEqual(
    await snapshotPoints(db, series.series_id),
    [history.at(-1)!.split('|').slice(1).join('|')],
    'the snapshot too',
  );
  const plans = await db.pool.query(
    'select query, plan from insights_core.series_query_plans where insight_series_id = $1',
    [series.id],
  );
  t.is(plans.rows.length, 1, 'one stored parse for every path');
  t.is(plans.rows[0].query, query);
});

test('every backfilled value equals git grep at the commit resolved for its time; earlier times have no points', async (t) => {
  const db = await useTestDatabase(t);
  const repos = await registerRepositories(t, db, 2);
  await startTestWorker(t, db.connectionString, { backfillPageSize: 1 });
  const series = await createInsight(
    db,
    'TODO',
    repos.map((r) => r.name),
  );
  const done = await waitForBackfill(db, series.backfill_id);
  t.like(done, { state: 'completed', job_state: 'completed', repositories: 2, repositories_done: 2, errors: 0 });
  t.is(Number(done.percent_complete), 100);

  const expected = await expectedPoints(db, series.id, repos, 'TODO');
  t.deepEqual(
    await historicalPoints(db, series.series_id),
    expected.sort((a, b) => a.localeCompare(b)),
  );
  t.true(expected.length > 10, `${expected.length} non-zero points`);

  const times = await db.pool.query(
    `select count(*)::int as n from insight_series_recording_times where insight_series_id = $1 and recording_time < now() - interval '1 hour'`,
    [series.id],
  );
  t.is(times.rows[0].n, 12, 'twelve weekly samples');
  // Samples before the first commit (9.5 weeks ago: those 10, 11 and 12 weeks ago) have no points but read as 0.
  const early = await db.pool.query(
    `select count(*)::int as stored from series_points where series_id = $1 and time < now() - interval '10 weeks'`,
    [series.series_id],
  );
  t.is(early.rows[0].stored, 0);
  const filled = await db.pool.query(
    `select count(*)::int as n, sum(value)::int as total from insight_series_points_filled($1) where recording_time < now() - interval '10 weeks'`,
    [series.series_id],
  );
  t.deepEqual(filled.rows[0], { n: 6, total: 0 }, 'three early samples x two repositories, zero-filled');

  // The read path (a view's line) shows the stored history: every sample's value is the sum of its
  // points (sample times and point times must match to the microsecond for that).
  const line = await db.pool.query(
    `select unnest(times) as time, unnest("values") as value
       from insight_view_data((select v from insight_view v join insight_view_series vs on vs.insight_view_id = v.id where vs.insight_series_id = $1))`,
    [series.id],
  );
  const sums = await db.pool.query(
    `select time, sum(value) as value from series_points where series_id = $1 group by time`,
    [series.series_id],
  );
  const sumAt = new Map(sums.rows.map((row) => [row.time.getTime(), row.value]));
  const historical = line.rows.filter((row) => row.time < Date.now() - 3_600_000);
  t.is(historical.length, 12);
  t.deepEqual(
    historical.map((row) => row.value),
    historical.map((row) => sumAt.get(row.time.getTime()) ?? 0),
  );
  t.true(
    historical.some((row) => row.value > 0),
    'the history is not all zeros',
  );

  const stamps = await db.pool.query(
    `select s.backfill_completed_at is not null as series_done, i.completed_at is not null as iterator_done, j.started_at is not null as started,
            j.finished_at is not null as finished, j.worker_hostname <> '' as worker, cardinality(j.execution_logs) > 0 as logged
       from insight_series s join insight_series_backfill b on b.series_id = s.id join repo_iterator i on i.id = b.repo_iterator_id
       join insights_background_jobs j on j.backfill_id = b.id where s.id = $1`,
    [series.id],
  );
  t.deepEqual(stamps.rows[0], {
    series_done: true,
    iterator_done: true,
    started: true,
    finished: true,
    worker: true,
    logged: true,
  });
});

test('a cheap backfill queued after an expensive one has started completes first', async (t) => {
  // One page of one repository at a time and a worker that runs one job at a time: slow on a busy
  // machine. The time budget is the default (60 s), longer than the whole expensive backfill takes
  // here: the expensive step gives way because cheaper work is waiting, not because time ran out.
  t.timeout(300_000);
  const db = await useTestDatabase(t);
  const repos = await registerRepositories(t, db, 16);
  const [cheapRepo] = await registerRepositories(t, db, 1, 'cheap/repo');
  const expensive = await createInsight(
    db,
    '/TODO\\s+\\w+/',
    repos.map((r) => r.name),
  );
  // The cheap one is created while the expensive one works on its third page.
  const hold = await holdBackfillAt(t, db, expensive.id, 3);
  await startTestWorker(t, db.connectionString, { concurrency: 1, backfillPageSize: 1 });
  await hold.reached();
  const cheap = await createInsight(db, 'TODO', [cheapRepo!.name], 2);
  await hold.release();
  const cheapDone = await waitForBackfill(db, cheap.backfill_id, ['completed', 'failed'], 120_000);
  const expensiveNow = await backfillState(db, expensive.backfill_id);
  t.is(cheapDone.state, 'completed');
  t.true(
    expensiveNow.repositories_done < 16,
    `the expensive one had done ${expensiveNow.repositories_done}/16 when the cheap one finished`,
  );
  const expensiveDone = await waitForBackfill(db, expensive.backfill_id, ['completed', 'failed'], 240_000);
  t.true(cheapDone.finished_at < expensiveDone.finished_at);
});

test('a worker killed with SIGKILL mid-backfill: another finishes it with exactly the points of an uninterrupted run', async (t) => {
  const db = await useTestDatabase(t);
  const repos = await registerRepositories(t, db, 40);
  const dataDir = tempDir(t);
  const env = cliEnv({
    DATABASE_URL: db.connectionString,
    DATA_DIR: dataDir,
    BACKFILL_PAGE_SIZE: '1',
    WORKER_CONCURRENCY: '1',
  });
  const series = await createInsight(
    db,
    'TODO',
    repos.map((r) => r.name),
  );
  const hold = await holdBackfillAt(t, db, series.id, 21);
  const first = startCli(['worker'], env);
  t.teardown(() => {
    if (first.child.exitCode === null) first.child.kill('SIGKILL');
  });
  await hold.reached();
  first.child.kill('SIGKILL');
  await first.exited;
  const atCrash = await backfillState(db, series.backfill_id);
  t.log(`killed at ${atCrash.repositories_done}/40 repositories`);
  t.is(atCrash.repositories_done, 20);
  await hold.release();

  // A second worker process with the default heartbeat settings (dead after 30 s of silence).
  const started = Date.now();
  // Its own data directory, as on another host: it clones the mirrors it lacks on demand.
  const second = startCli(['worker'], { ...env, DATA_DIR: tempDir(t) });
  t.teardown(() => {
    if (second.child.exitCode === null) second.child.kill('SIGKILL');
  });
  const done = await waitForBackfill(db, series.backfill_id, ['completed'], 90_000);
  t.log(
    `finished ${Math.round((Date.now() - started) / 1000)} s after the second worker started; resets: ${done.num_resets}`,
  );
  second.child.kill('SIGTERM');
  await second.exited;
  t.true(Date.now() - started < 90_000);
  t.is(done.repositories_done, 40);
  t.true(done.num_resets >= 1, 'the dead worker was released');
  const expected = await expectedPoints(db, series.id, repos, 'TODO');
  t.deepEqual(
    await historicalPoints(db, series.series_id),
    expected.sort((a, b) => a.localeCompare(b)),
  );
});

test('two worker processes with separate data directories share one backfill and store the points one worker would', async (t) => {
  t.timeout(300_000);
  const db = await useTestDatabase(t);
  const repos = await registerRepositories(t, db, 40);
  // One repository per page and a step per page: each next step goes to whichever worker takes it.
  const env = cliEnv({
    DATABASE_URL: db.connectionString,
    BACKFILL_PAGE_SIZE: '1',
    BACKFILL_TIME_BUDGET_SECONDS: '0.001',
    WORKER_CONCURRENCY: '1',
  });
  // Each on its own data directory, as on two hosts: each clones the mirrors it needs.
  const workers = [
    startCli(['worker'], { ...env, DATA_DIR: tempDir(t) }),
    startCli(['worker'], { ...env, DATA_DIR: tempDir(t) }),
  ];
  t.teardown(() => {
    for (const worker of workers) if (worker.child.exitCode === null) worker.child.kill('SIGKILL');
  });
  for (const worker of workers) await worker.waitForOutput(/worker is running/);
  const series = await createInsight(
    db,
    'TODO',
    repos.map((r) => r.name),
  );

  const done = await waitForBackfill(db, series.backfill_id, ['completed'], 120_000);
  t.is(done.repositories_done, 40);
  const { rows } = await db.pool.query<{ logs: Array<{ message: string }> }>(
    'select execution_logs as logs from insights_background_jobs where backfill_id = $1',
    [series.backfill_id],
  );
  const pagesBy = new Map<string, number>();
  for (const { message } of rows[0]!.logs) {
    const worker = message.match(/^page of \d+ repositories by worker (\S+):/)?.[1];
    if (worker) pagesBy.set(worker, (pagesBy.get(worker) ?? 0) + 1);
  }
  t.log(`pages by worker: ${JSON.stringify(Object.fromEntries(pagesBy))}`);
  t.is(pagesBy.size, 2, 'both workers recorded pages');
  t.is(
    [...pagesBy.values()].reduce((a, b) => a + b, 0),
    40,
    'one page per repository: none done twice',
  );
  t.deepEqual(
    await historicalPoints(db, series.series_id),
    (await expectedPoints(db, series.id, repos, 'TODO')).sort((a, b) => a.localeCompare(b)),
  );
  for (const worker of workers) worker.child.kill('SIGTERM');
  for (const worker of workers) t.like(await worker.exited, { code: 0 });
});

test('cancel stops between pages and retry resumes to the same points', async (t) => {
  const db = await useTestDatabase(t);
  const repos = await registerRepositories(t, db, 20);
  const series = await createInsight(
    db,
    'TODO',
    repos.map((r) => r.name),
  );
  const hold = await holdBackfillAt(t, db, series.id, 6);
  await startTestWorker(t, db.connectionString, { backfillPageSize: 1, concurrency: 1 });
  await hold.reached();
  await db.pool.query('select insights_core.backfill_cancel($1)', [series.backfill_id]);
  await hold.release();
  // The waiting page is finished, then the step sees the flag.
  const canceled = await waitForBackfill(db, series.backfill_id, ['failed']);
  t.is(canceled.job_state, 'canceled');
  t.is(canceled.repositories_done, 6);
  await t.throwsAsync(db.pool.query('select insights_core.backfill_cancel($1)', [series.backfill_id]), {
    message: /is not running or queued/,
  });

  await db.pool.query('select insights_core.backfill_retry($1)', [series.backfill_id]);
  const done = await waitForBackfill(db, series.backfill_id, ['completed']);
  t.like(done, { job_state: 'completed', repositories_done: 20, cancel: false });
  t.deepEqual(
    await historicalPoints(db, series.series_id),
    (await expectedPoints(db, series.id, repos, 'TODO')).sort((a, b) => a.localeCompare(b)),
  );
});

test('front and back reorder queued backfills by cost bucket and Graphile Worker priority', async (t) => {
  const db = await useTestDatabase(t);
  await registerRepositories(t, db, 3);
  // No worker: plan the three backfills by hand, as a DBA could.
  const ids: number[] = [];
  for (const [query, complexity] of [
    ['a', 1],
    ['/b/', 2],
    ['c', 1],
  ] as const) {
    const series = await createInsight(
      db,
      query,
      ['acme/repo0', 'acme/repo1', 'acme/repo2'].slice(0, complexity === 2 ? 3 : 1),
    );
    await db.pool.query('select insights_core.backfill_plan($1, $2, 104)', [series.backfill_id, complexity]);
    ids.push(series.backfill_id);
  }
  const order = async () =>
    (
      await db.pool.query(
        // The job key is backfill:<id> (the jobs view does not show payloads).
        `select split_part(key, ':', 2)::int as id, priority from graphile_worker.jobs where task_identifier = 'backfill_step' order by priority, run_at, id`,
      )
    ).rows;
  const buckets = async () =>
    Object.fromEntries(
      (await db.pool.query('select backfill_id, cost_bucket from backfill_status order by 1')).rows.map((r) => [
        r.backfill_id,
        r.cost_bucket,
      ]),
    );
  t.deepEqual((await buckets())[ids[1]!], 4, 'the regexp over three repositories is the most expensive');

  await db.pool.query('select insights_core.backfill_move_to_front($1)', [ids[1]]);
  t.is((await buckets())[ids[1]!], 1);
  t.is((await order())[0].id, ids[1]);

  await db.pool.query('select insights_core.backfill_move_to_back($1)', [ids[0]]);
  const after = await buckets();
  t.is(after[ids[0]!], 4);
  t.true(after[ids[1]!] < 4 && after[ids[2]!] < 4);
  const queue = await order();
  t.is(queue[queue.length - 1].id, ids[0], 'moved to the back of the Graphile Worker queue');
  await t.throwsAsync(db.pool.query('select insights_core.backfill_move_to_front(999999)'), {
    message: 'no backfill with id 999999',
  });
});

test('a malformed backfill payload fails that job with a message naming the field and harms nothing else', async (t) => {
  const db = await useTestDatabase(t);
  const repos = await registerRepositories(t, db, 1);
  await startTestWorker(t, db.connectionString);
  await db.pool.query(`select graphile_worker.add_job('backfill_step', '{"backfill_id": "seven"}')`);
  await db.pool.query(`select graphile_worker.add_job('backfill_new', '{"backfillid": 7}')`);
  const series = await createInsight(db, 'TODO', [repos[0]!.name]);
  const errors = await waitFor(async () => {
    const { rows } = await db.pool.query(
      `select last_error from graphile_worker.jobs where attempts >= max_attempts and last_error is not null order by id`,
    );
    return rows.length === 2 ? rows.map((r) => r.last_error) : undefined;
  });
  t.deepEqual(errors, [
    'backfill_step: invalid payload: backfill_id: must be a backfill id (a number)',
    'backfill_new: invalid payload: backfill_id: must be a backfill id (a number); unknown field "backfillid"',
  ]);
  t.is((await waitForBackfill(db, series.backfill_id)).state, 'completed');
});

test('a failing repository is retried after the main pass and given up after three failures with incomplete points', async (t) => {
  const db = await useTestDatabase(t);
  const repos = await registerRepositories(t, db, 1);
  const broken = await db.pool.query(
    `select (insights_core.register_repository('/nonexistent/broken.git', 'acme/broken')).id`,
  );
  await startTestWorker(t, db.connectionString, { backfillPageSize: 1 });
  const series = await createInsight(db, 'TODO', ['acme/repo0', 'acme/broken']);
  const done = await waitForBackfill(db, series.backfill_id);
  t.like(done, { state: 'completed', repositories_done: 2, errors: 1 });
  const errors = await db.pool.query(
    `select e.failure_count, cardinality(e.error_message) as messages from repo_iterator_errors e
       join insight_series_backfill b on b.repo_iterator_id = e.repo_iterator_id where b.id = $1`,
    [series.backfill_id],
  );
  t.deepEqual(errors.rows, [{ failure_count: 3, messages: 3 }]);
  const incomplete = await db.pool.query(
    `select reason, repo_id, count(*)::int as times from insight_series_incomplete_points
      where series_id = $1 and time < timezone('utc', now()) - interval '1 hour' group by 1, 2`,
    [series.id],
  );
  t.deepEqual(incomplete.rows, [{ reason: 'generic', repo_id: broken.rows[0].id, times: 12 }]);
  t.deepEqual(
    await historicalPoints(db, series.series_id),
    (await expectedPoints(db, series.id, repos, 'TODO')).sort((a, b) => a.localeCompare(b)),
  );
});

// Serial (ava runs serial tests first, one at a time): 51 repositories failing three times each is
// ~150 git processes, which the file's other backfills running at once could slow past the wait.
test.serial('more failing repositories than max(50, 5 %) fail the backfill with exceeds-error-limit', async (t) => {
  const db = await useTestDatabase(t);
  await registerRepositories(t, db, 1);
  const names = ['acme/repo0'];
  for (let i = 0; i < 51; i++) {
    await db.pool.query(`select insights_core.register_repository($1, $2)`, [
      `/nonexistent/broken${i}.git`,
      `broken/${i}`,
    ]);
    names.push(`broken/${i}`);
  }
  await startTestWorker(t, db.connectionString, { backfillPageSize: 20 });
  const series = await createInsight(db, 'TODO', names, 4);
  const done = await waitForBackfill(db, series.backfill_id, ['failed'], 150_000);
  t.is(done.job_state, 'failed');
  t.regex(done.failure_message, /^51 repositories failed, more than the limit of 50$/);
  const incomplete = await db.pool.query(
    `select count(*)::int as n from insight_series_incomplete_points where series_id = $1 and reason = 'exceeds-error-limit' and repo_id is null`,
    [series.id],
  );
  t.is(incomplete.rows[0].n, 4, 'one per sample time');
});
