// The management commands against a real database: insight list/show/delete, dashboards, grants,
// jobs. Reads print tables or --json; usage errors exit 2 with a message.
import test from 'ava';
import { useTestDatabase } from './helpers/database.ts';
import { cliEnv, runCli } from './helpers/cli.ts';
import { tempDir } from './fixtures/git-repository.ts';

async function setup(t: import('ava').ExecutionContext) {
  const db = await useTestDatabase(t);
  const env = cliEnv({ DATABASE_URL: db.connectionString, DATA_DIR: `${tempDir(t)}/data` });
  const cli = async (...args: string[]) => {
    const result = await runCli(args, env);
    return { ...result, json: () => JSON.parse(result.stdout) };
  };
  const repo = (
    await db.pool.query(`select (insights_core.register_repository('/nonexistent/api.git', 'acme/api')).id`)
  ).rows[0].id;
  const view = (
    await db.pool.query(
      `select id from insights_core.create_line_insight('Debt', '[{"query": "TODO", "label": "todos"}]', array['acme/api'], null, 'WEEK', 1)`,
    )
  ).rows[0].id as number;
  const series = (
    await db.pool.query(`select insight_series_id as id from insight_view_series where insight_view_id = $1`, [view])
  ).rows[0].id;
  for (const [n, value] of [1, 3, 2, 8].entries()) {
    await db.pool.query(`select insights_core.store_series_recording($1, $2, false, $3::jsonb)`, [
      series,
      new Date(Date.UTC(2024, 0, 1 + 7 * n)).toISOString(),
      JSON.stringify([{ repo_id: repo, value }]),
    ]);
  }
  return { db, cli, view };
}

test('insight list, show with a sparkline, and delete', async (t) => {
  const { db, cli, view } = await setup(t);
  const listed = await cli('insight', 'list', '--json');
  t.is(listed.code, 0, listed.stderr);
  t.like(listed.json()[0], { id: view, title: 'Debt', type: 'LINE', series: 1 });
  t.regex(
    (await cli('insight', 'list')).stdout,
    /ID\s+TITLE\s+TYPE\s+SERIES\s+STATE\n[- ]+\n\d+\s+Debt\s+LINE\s+1\s+backfilling/,
  );

  const shown = await cli('insight', 'show', String(view), '--samples', '4');
  t.is(shown.code, 0, shown.stderr);
  t.regex(
    shown.stdout,
    /^Debt \(view \d+, line chart\)\n {2}todos\s+▁▃▂█ {2}8 now \(4 samples, 2024-01-01 \.\. 2024-01-22\)/,
  );
  t.deepEqual(JSON.parse((await cli('insight', 'show', String(view), '--json')).stdout).lines[0].values, [1, 3, 2, 8]);
  const missing = await cli('insight', 'show', '999');
  t.is(missing.code, 2);
  t.regex(missing.stderr, /no insight view "999"/);

  t.is((await cli('insight', 'delete', String(view))).code, 0);
  t.is((await db.pool.query('select count(*)::int as n from insight_view')).rows[0].n, 0);
  t.is(
    (await db.pool.query('select count(*)::int as n from insight_series where deleted_at is not null')).rows[0].n,
    1,
    'its series is retired',
  );
});

test('dashboards and grants', async (t) => {
  const { db, cli, view } = await setup(t);
  const created = await cli('dashboard', 'create', 'Platform', '--user', '42', '--json');
  t.is(created.code, 0, created.stderr);
  const dashboardId = created.json().id;
  t.is((await cli('dashboard', 'add', String(dashboardId), String(view))).code, 0);
  const granted = await cli('grant', 'dashboard', String(dashboardId), '--org', '7', '--json');
  t.like(granted.json(), { dashboard_id: dashboardId, org_id: 7 });
  t.is(
    (await cli('grant', 'dashboard', String(dashboardId), '--org', '7', '--json')).json().id,
    granted.json().id,
    'granting twice changes nothing',
  );
  const listed = (await cli('dashboard', 'list', '--json')).json();
  t.deepEqual(
    listed.map((d: any) => [
      d.title,
      d.views.map((v: any) => v.id),
      d.grants.map((g: any) => g.user_id ?? `org ${g.org_id}`),
    ]),
    [['Platform', [view], [42, 'org 7']]],
  );
  t.regex((await cli('dashboard', 'list')).stdout, /Platform\s+\d+\s+user 42, org 7/);

  const viewGrant = (await cli('grant', 'view', String(view), '--user', '5', '--json')).json();
  t.like(viewGrant, { insight_view_id: view, user_id: 5 });
  const viewGrants = (await cli('grant', 'list', 'view', String(view), '--json')).json();
  t.deepEqual(
    viewGrants.map((g: any) => [g.user_id, g.global]),
    [
      [null, true],
      [5, null],
    ],
    'the global grant of an insight made without a user, and this one',
  );
  t.is((await cli('revoke', 'view', String(viewGrant.id))).code, 0);
  t.is(
    (await db.pool.query('select count(*)::int as n from insight_view_grants where id = $1', [viewGrant.id])).rows[0].n,
    0,
  );

  const both = await cli('grant', 'view', String(view), '--user', '1', '--global');
  t.is(both.code, 2);
  t.regex(both.stderr, /give exactly one of --user ID, --org ID or --global/);
  t.is((await cli('dashboard', 'remove', String(dashboardId), String(view))).code, 0);
  t.is((await cli('dashboard', 'delete', String(dashboardId))).code, 0);
  t.deepEqual((await cli('dashboard', 'list', '--json')).json(), []);
});

test('jobs list, retry, remove and the run log', async (t) => {
  const { db, cli } = await setup(t);
  const { rows } = await db.pool.query(
    `select id from graphile_worker.add_job('prune_task_runs', '{}', max_attempts := 1) as id`,
  );
  // Graphile Worker's public admin function, as a DBA would fail a job for good.
  await db.pool.query(`select graphile_worker.permanently_fail_jobs(array[$1::bigint], 'boom')`, [rows[0].id]);
  const failed = (await cli('jobs', 'list', '--failed', '--json')).json();
  t.deepEqual(
    failed.map((j: any) => [j.task, j.state, j.last_error]),
    [['prune_task_runs', 'failed', 'boom']],
  );
  const retried = await cli('jobs', 'retry', String(rows[0].id), '--json');
  t.deepEqual(retried.json(), { retried: [Number(rows[0].id)], not_found_or_running: [] });
  t.deepEqual((await cli('jobs', 'list', '--failed', '--json')).json(), []);
  const removed = await cli('jobs', 'remove', String(rows[0].id), '999999');
  t.is(removed.code, 1, 'one of them did not exist');
  t.regex(removed.stdout, /Removed job\(s\) \d+\.\nNot found or running now: 999999\./);
  const runs = (await cli('jobs', 'runs', '--json')).json();
  const recurring = (await db.pool.query(`select task_name from insights_core.recurring_tasks order by 1`)).rows.map(
    (r) => r.task_name,
  );
  t.true(recurring.length >= 6);
  t.deepEqual(runs.map((r: any) => r.task_name).sort(), recurring, 'one line per recurring task');
  t.is((await cli('jobs', 'retry', 'abc')).code, 2);
});
