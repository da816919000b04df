// The repos, insight and series commands against a real database and fixture repositories.
import test from 'ava';
import { cliEnv, runCli } from './helpers/cli.ts';
import { useTestDatabase } from './helpers/database.ts';
import { waitFor } from './helpers/wait.ts';
import { startTestWorker } from './helpers/worker.ts';
import { createFixtureRepository, tempDir } from './fixtures/git-repository.ts';

test('repos add, list and sync; insight create; series points', async (t) => {
  const db = await useTestDatabase(t);
  const dir = tempDir(t);
  const repo = createFixtureRepository(`${dir}/api.git`, [
    { date: '2024-01-01T00:00:00Z', files: { 'a.ts': 'TODO x\n// todo\n', 'b.go': 'TODO\n' } },
  ]);
  const env = cliEnv({ DATABASE_URL: db.connectionString, DATA_DIR: `${dir}/data` });

  const added = await runCli(['repos', 'add', repo.path, '--name', 'acme/api', '--json'], env);
  t.is(added.code, 0, added.stderr);
  const addedJson = JSON.parse(added.stdout);
  t.like(addedJson, {
    name: 'acme/api',
    clone_url: repo.path,
    sync: { ok: true, branch: 'main', head: repo.commits[0] },
  });

  const list = await runCli(['repos', 'list', '--json'], env);
  t.like(JSON.parse(list.stdout)[0], { name: 'acme/api', default_branch: 'main', last_fetch_error: null });
  const table = await runCli(['repos', 'list'], env);
  t.regex(table.stdout, /^ID\s+NAME\s+BRANCH/m);
  t.regex(table.stdout, /acme\/api\s+main/);

  t.is((await runCli(['repos', 'sync', 'acme/api'], env)).code, 0);
  const unknown = await runCli(['repos', 'sync', 'acme/nope'], env);
  t.is(unknown.code, 1);
  t.regex(unknown.stderr, /unknown repositories: acme\/nope/);

  const bad = await runCli(['insight', 'create', '--title', 'x', '--series', 'todos=TODO lnag:go'], env);
  t.is(bad.code, 2);
  t.regex(bad.stderr, /series 1 \("TODO lnag:go"\): unknown filter `lnag:` at 5; did you mean `lang:`\?/);
  const badInterval = await runCli(
    ['insight', 'create', '--title', 'x', '--series', 'TODO', '--interval', 'fortnightly'],
    env,
  );
  t.is(badInterval.code, 2);
  t.regex(badInterval.stderr, /invalid interval "fortnightly"/);
  const views = await db.pool.query('select count(*)::int as n from insight_view');
  t.is(views.rows[0].n, 0, 'rejected insights write nothing');

  const created = await runCli(
    [
      'insight',
      'create',
      '--title',
      'TODOs',
      '--series',
      'todos=TODO',
      '--repos',
      'acme/api',
      '--interval',
      '1w',
      '--json',
    ],
    env,
  );
  t.is(created.code, 0, created.stderr);
  const insight = JSON.parse(created.stdout);
  t.like(insight, { title: 'TODOs', interval: { unit: 'WEEK', value: 1 } });
  t.like(insight.series[0], { label: 'todos', query: 'TODO' });

  await startTestWorker(t, db.connectionString);
  const points = await waitFor(async () => {
    const result = await runCli(['series', 'points', insight.series[0].series_id, '--json'], env);
    const rows = JSON.parse(result.stdout) as Array<{ time: string; kind: string; repository: string; value: number }>;
    // The live recording and snapshot (the history backfill adds earlier times).
    const live = rows.filter((row) => Date.parse(row.time) > Date.now() - 3600_000);
    return live.length === 2 ? live : undefined;
  });
  t.deepEqual(
    // Sorted by kind: the two jobs may run in either order, and the points are listed by time.
    points
      .map(({ kind, repository, value }) => ({ kind, repository, value }))
      .sort((a, b) => a.kind.localeCompare(b.kind)),
    [
      { kind: 'recording', repository: 'acme/api', value: 3 },
      { kind: 'snapshot', repository: 'acme/api', value: 3 },
    ],
  );
  const missing = await runCli(['series', 'points', 'no-such-series'], env);
  t.is(missing.code, 1);
  t.regex(missing.stderr, /no series "no-such-series"/);
});

test('insight create --wait shows backfill progress as plain lines; backfill status, front, back, retry and cancel from the CLI', async (t) => {
  const db = await useTestDatabase(t);
  const dir = tempDir(t);
  const repo = createFixtureRepository(`${dir}/api.git`, [
    { date: new Date(Date.now() - 20 * 86400_000).toISOString(), files: { 'a.ts': 'TODO\n' } },
    { date: new Date(Date.now() - 5 * 86400_000).toISOString(), files: { 'b.ts': 'TODO TODO\n' } },
  ]);
  const env = cliEnv({ DATABASE_URL: db.connectionString, DATA_DIR: `${dir}/data` });
  t.is((await runCli(['repos', 'add', repo.path, '--name', 'acme/api', '--no-sync'], env)).code, 0);
  await startTestWorker(t, db.connectionString);

  const created = await runCli(
    [
      'insight',
      'create',
      '--title',
      'T',
      '--series',
      'TODO',
      '--repos',
      'acme/api',
      '--interval',
      '1w',
      '--wait',
      '--json',
    ],
    env,
  );
  t.is(created.code, 0, created.stderr);
  t.like(JSON.parse(created.stdout), { backfilled: true });
  // Not a terminal: one plain line per change, ending at 100 %.
  t.regex(created.stderr, /^backfill \[#{30}\] 100% {2}1\/1 repositories$/m);
  t.false(created.stderr.includes('\r'));

  const status = await runCli(['backfill', 'status', '--all', '--json'], env);
  t.is(status.code, 0);
  const [row] = JSON.parse(status.stdout);
  t.like(row, {
    state: 'completed',
    job_state: 'completed',
    repositories: 1,
    repositories_done: 1,
    errors: 0,
    percent_complete: '100.0',
  });

  const id = String(row.backfill_id);
  for (const action of ['front', 'back']) t.is((await runCli(['backfill', action, id], env)).code, 0, action);
  const retried = await runCli(['backfill', 'retry', id, '--json'], env);
  t.is(retried.code, 0);
  // Restarted: processing again, or already completed again by the running worker.
  t.true(['processing', 'completed'].includes(JSON.parse(retried.stdout).state));
  t.is(JSON.parse(retried.stdout).num_resets, 1, 'the iterator was restarted');
  await waitFor(
    async () =>
      (await db.pool.query(`select 1 as ok from backfill_status where state = 'completed' and job_state = 'completed'`))
        .rows[0],
  );
  const cancel = await runCli(['backfill', 'cancel', '999'], env);
  t.is(cancel.code, 1);
  t.regex(cancel.stderr, /backfill 999 is not running or queued/);
  const usage = await runCli(['backfill', 'front', 'abc'], env);
  t.is(usage.code, 2);
  t.regex(usage.stderr, /backfill id must be a number, not "abc"/);
});
