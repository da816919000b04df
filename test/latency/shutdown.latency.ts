// Prompt, clean shutdown (issue 14): SIGTERM while a backfill step is searching makes a real
// `worker` process exit within SHUTDOWN_GRACE_SECONDS; the page in progress is abandoned, nothing
// committed is lost, and the next start resumes from the cursor to exactly the points a run
// without the interruption records.
import test from 'ava';
import { cliEnv, startCli } from '../helpers/cli.ts';
import { useTestDatabase } from '../helpers/database.ts';
import { waitFor } from '../helpers/wait.ts';
import { createFixtureRepository, tempDir } from '../fixtures/git-repository.ts';

const GRACE_SECONDS = 4;
const REPOSITORIES = 10;
const QUERY = 'TODO';

test('SIGTERM during a backfill step exits within the grace period; the next start completes it with every point', async (t) => {
  const db = await useTestDatabase(t);
  const dir = tempDir(t);
  const names: string[] = [];
  const expected = new Map<string, number>();
  for (let k = 0; k < REPOSITORIES; k++) {
    const files = { 'todo.txt': `TODO ${k}\n`.repeat(k + 1) };
    createFixtureRepository(`${dir}/r${k}.git`, [
      { date: new Date(Date.now() - 20 * 86_400_000).toISOString(), files },
    ]);
    const name = `acme/r${k}`;
    await db.pool.query('select insights_core.register_repository($1, $2)', [`${dir}/r${k}.git`, name]);
    names.push(name);
    expected.set(name, k + 1);
  }
  const env = cliEnv({
    DATABASE_URL: db.connectionString,
    WORKER_CONCURRENCY: '1',
    SHUTDOWN_GRACE_SECONDS: String(GRACE_SECONDS),
    BACKFILL_PAGE_SIZE: '1',
    BACKFILL_TIME_BUDGET_SECONDS: '600',
    SEARCH_TIMEOUT_SECONDS: '120',
  });
  const dataDir = `${dir}/data`;
  const start = () => {
    const worker = startCli(['worker', '--data-dir', dataDir], env);
    t.teardown(() => {
      if (worker.child.exitCode === null) worker.child.kill('SIGKILL');
    });
    return worker;
  };
  let worker = start();
  await worker.waitForOutput(/Code Insights worker is running/);
  const view = (
    await db.pool.query(
      `select (insights_core.create_line_insight('slow', $1::jsonb, $2::text[], null, 'WEEK', 1,
               now() - interval '15 days')).id`,
      [JSON.stringify([{ query: QUERY }]), names],
    )
  ).rows[0].id;
  const series = (
    await db.pool.query(
      `select s.id, s.series_id from insight_view_series vs join insight_series s on s.id = vs.insight_series_id
        where vs.insight_view_id = $1`,
      [view],
    )
  ).rows[0] as { id: number; series_id: string };
  const progress = async () =>
    (
      await db.pool.query<{ state: string; cursor: number | null; total: number | null }>(
        `select b.state, i.repo_cursor as cursor, i.total_count as total from insight_series_backfill b
           left join repo_iterator i on i.id = b.repo_iterator_id where b.series_id = $1 order by b.id desc limit 1`,
        [series.id],
      )
    ).rows[0]!;

  // Once the first page is committed, the step is searching the next repository: stop it there.
  await waitFor(async () => ((await progress()).cursor ?? 0) >= 1 || undefined, 180_000, 'the first page');
  const before = await progress();
  t.is(before.state, 'processing', JSON.stringify(before));
  t.true(before.cursor! < REPOSITORIES, `pages left to do: ${JSON.stringify(before)}`);
  const signalled = performance.now();
  worker.child.kill('SIGTERM');
  const exit = await worker.exited;
  const tookMs = performance.now() - signalled;
  t.log(`exited ${Math.round(tookMs)} ms after SIGTERM (grace ${GRACE_SECONDS} s): ${JSON.stringify(exit)}`);
  t.is(exit.code, 0, worker.output().slice(-2000));
  t.true(tookMs < GRACE_SECONDS * 1000, `exited after ${Math.round(tookMs)} ms`);
  const after = await progress();
  t.is(after.state, 'processing', 'not failed: resumed at the next start');
  t.true(after.cursor! >= before.cursor!, 'committed pages stay committed');
  const queued = await db.pool.query(`select attempts, max_attempts from graphile_worker.jobs where key = $1`, [
    `backfill:${(await db.pool.query('select id from insight_series_backfill where series_id = $1', [series.id])).rows[0].id}`,
  ]);
  t.is(queued.rows.length, 1, 'the next step is queued');

  worker = start();
  await waitFor(async () => ((await progress()).state === 'completed' ? true : undefined), 300_000, 'the backfill');
  worker.child.kill('SIGTERM');
  await worker.exited;

  const { rows } = await db.pool.query<{ name: string; times: number; values: number[] }>(
    `select n.name::text as name, count(*)::int as times, array_agg(distinct p.value) as values
       from series_points p join repo_names n on n.id = p.repo_name_id
      where p.series_id = $1 and p.time < (select created_at from insight_series where id = $2)
      group by 1 order by 1`,
    [series.series_id, series.id],
  );
  const samples = (
    await db.pool.query(
      `select count(*)::int as n from insight_series_recording_times where insight_series_id = $1 and not snapshot
         and recording_time < (select created_at from insight_series where id = $1)`,
      [series.id],
    )
  ).rows[0].n;
  t.true(samples >= 2, `${samples} backfilled sample times`);
  t.deepEqual(
    rows,
    names.map((name) => ({ name, times: samples, values: [expected.get(name)!] })),
    'every repository at every sample time, counted once and right',
  );
});
