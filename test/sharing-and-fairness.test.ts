// The hostile-input items settled in SQL (migration 000022), each through the door a user or DBA
// would use: a clone URL's credentials never become a repository name; a series query that is not
// a JSON string is refused; one user's backfill steps run one at a time in that user's queue, and a
// step does not yield to work that cannot run; the daily budget has a default.
import test from 'ava';
import { issueToken } from '../src/auth/tokens.ts';
import { cliEnv, runCli } from './helpers/cli.ts';
import { useTestDatabase } from './helpers/database.ts';
import { tempDir } from './fixtures/git-repository.ts';
import { postGraphql, startTestServer } from './helpers/server.ts';

const SECRET = new TextEncoder().encode('sharing-and-fairness-test-secret-long-enough');

test('repository names derived from clone URLs never carry their credentials', async (t) => {
  const db = await useTestDatabase(t);
  const cases: Array<[string, string]> = [
    ['https://user:p@ss@git.example.com/acme/api.git', 'git.example.com/acme/api'],
    ['https://x-access-token:ghp_secret123@github.com/acme/web', 'github.com/acme/web'],
    ['https://github.com/acme/tools.git?access_token=ghp_secret456', 'github.com/acme/tools'],
    ['https://github.com/acme/docs#token=ghp_secret789', 'github.com/acme/docs'],
    ['ssh://git@git.example.com/acme/ssh.git', 'git.example.com/acme/ssh'],
    ['git@github.com:acme/scp.git', 'github.com/acme/scp'],
    ['HTTPS://x-access-token:SECRET_A@host.example.com/acme/upper', 'host.example.com/acme/upper'],
    ['Https://TOKEN_B@host2.example.com/', 'host2.example.com'],
    ['HTTPS://host3.example.com/acme/y.git?access_token=SECRET_C', 'host3.example.com/acme/y'],
    ['https://host4.example.com/acme/h;token=SECRET_D', 'host4.example.com/acme/h'],
    ['user:p@ss@host5.example.com:acme/x5.git', 'x5'],
  ];
  for (const [url, name] of cases) {
    const { rows } = await db.pool.query('select (insights_core.register_repository($1)).name', [url]);
    t.is(rows[0].name, name, url);
    t.notRegex(rows[0].name, /secret|p@ss|user|token|@/i, url);
  }
});

test("a failed fetch's error, readable as lastFetchError, and the CLI's output carry no credentials", async (t) => {
  const db = await useTestDatabase(t);
  const env = cliEnv({ DATABASE_URL: db.connectionString, DATA_DIR: `${tempDir(t)}/data` });
  // Port 9 (discard) refuses at once; git's message quotes the URL.
  const url = 'https://x-access-token:tok_SECRET_1@127.0.0.1:9/acme/api.git?access_token=tok_SECRET_2';
  const added = await runCli(['repos', 'add', url, '--name', 'acme/api'], env);
  t.is(added.code, 1, 'the fetch fails');
  const listed = await runCli(['repos', 'list', '--json'], env);
  const { rows } = await db.pool.query(`select last_fetch_error from repositories where name = 'acme/api'`);
  t.truthy(rows[0].last_fetch_error, 'the error is recorded');
  for (const [what, text] of [
    ['lastFetchError', rows[0].last_fetch_error as string],
    ['repos add', added.stdout + added.stderr],
    ['repos list', listed.stdout],
  ]) {
    t.false(text!.includes('tok_SECRET'), `${what}: ${text}`);
  }
  t.regex(listed.stdout, /x-access-token:\*\*\*@127\.0\.0\.1:9/, 'the URL is still recognisable');
});

test('every dashboard and view keeps an owner: no demotion, revocation or CLI revoke removes the last one', async (t) => {
  const db = await useTestDatabase(t);
  const server = await startTestServer(t, db.connectionString, { jwtSecret: SECRET });
  const owner = await issueToken({ userId: 1, orgIds: [], admin: false, ttl: '5m' }, SECRET);
  const gql = async (source: string) => (await postGraphql(server.url, source, owner)).body;
  const dashboard = (await gql('mutation { createDashboard(input: { title: "d" }) { result { rowId } } }')).data
    .createDashboard.result.rowId;
  const view = (
    await gql(
      'mutation { createLineChartInsight(input: { title: "v", series: [{ query: "x" }], intervalUnit: WEEK, intervalValue: 1 }) { result { rowId } } }',
    )
  ).data.createLineChartInsight.result.rowId;
  const last = /^grant \d+ is the last owner of (dashboard|view) \d+: make someone else its owner first, or delete it$/;
  for (const demote of [
    `grantDashboard(input: { dashboardId: ${dashboard}, userId: 1, role: viewer })`,
    `grantInsightView(input: { viewId: ${view}, userId: 1, role: editor })`,
  ])
    t.regex((await gql(`mutation { ${demote} { result { role } } }`)).errors?.[0]?.message ?? 'ok', last, demote);
  const env = cliEnv({ DATABASE_URL: db.connectionString });
  const grantOf = async (table: string, column: string, id: number) =>
    (await db.pool.query(`select id from ${table} where ${column} = $1 and user_id = 1`, [id])).rows[0].id as number;
  const cliRevoke = await runCli(
    ['revoke', 'view', String(await grantOf('insight_view_grants', 'insight_view_id', view))],
    env,
  );
  t.not(cliRevoke.code, 0);
  t.regex(cliRevoke.stderr, /is the last owner of view/);
  // With a second owner, the first may step down.
  t.is(
    (
      await gql(
        `mutation { grantDashboard(input: { dashboardId: ${dashboard}, userId: 2, role: owner }) { result { role } } }`,
      )
    ).errors,
    undefined,
  );
  t.is(
    (
      await gql(
        `mutation { grantDashboard(input: { dashboardId: ${dashboard}, userId: 1, role: viewer }) { result { role } } }`,
      )
    ).data.grantDashboard.result.role,
    'viewer',
  );
  const roles = await db.pool.query(
    `select g.user_id, r.role::text from dashboard_grants g join insights_core.dashboard_grant_roles r on r.grant_id = g.id
      where g.dashboard_id = $1 order by g.user_id`,
    [dashboard],
  );
  t.deepEqual(roles.rows, [
    { user_id: 1, role: 'viewer' },
    { user_id: 2, role: 'owner' },
  ]);
});

test("a backfill queued for a request runs in the requester's queue, whoever owns the view", async (t) => {
  const db = await useTestDatabase(t);
  const server = await startTestServer(t, db.connectionString, { jwtSecret: SECRET });
  const asUser = async (userId: number, orgIds: number[], source: string) =>
    (await postGraphql(server.url, source, await issueToken({ userId, orgIds, admin: false, ttl: '5m' }, SECRET))).body;
  // User 5 makes org 9 the owner and leaves: the backfill still runs in user 5's queue.
  const view = (
    await asUser(
      5,
      [9],
      'mutation { createLineChartInsight(input: { title: "v", series: [{ query: "mine" }], intervalUnit: WEEK, intervalValue: 1 }) { result { rowId } } }',
    )
  ).data.createLineChartInsight.result.rowId;
  await asUser(
    5,
    [9],
    `mutation { grantInsightView(input: { viewId: ${view}, orgId: 9, role: owner }) { result { role } } }`,
  );
  const own = (
    await db.pool.query('select id from insight_view_grants where insight_view_id = $1 and user_id = 5', [view])
  ).rows[0].id;
  t.is(
    (await asUser(5, [9], `mutation { revokeInsightViewGrant(input: { grantId: ${own} }) { result { rowId } } }`))
      .errors,
    undefined,
  );
  const backfill = (
    await db.pool.query(
      `select b.id from insight_view_series vs join insight_series_backfill b on b.series_id = vs.insight_series_id where vs.insight_view_id = $1`,
      [view],
    )
  ).rows[0].id;
  t.is(
    (await db.pool.query('select insights_core.backfill_queue_name($1) as q', [backfill])).rows[0].q,
    'backfill-user-5',
  );
});

test('a series query, label or stroke that is not a JSON string is refused with a message', async (t) => {
  const db = await useTestDatabase(t);
  const server = await startTestServer(t, db.connectionString, { jwtSecret: SECRET });
  const token = await issueToken({ userId: 1, orgIds: [], admin: false, ttl: '5m' }, SECRET);
  const create = (series: unknown) =>
    postGraphql(
      server.url,
      `mutation ($series: JSON!) { createLineChartInsight(input: { title: "x", series: $series }) { result { rowId } } }`,
      token,
      { series },
    );
  for (const [series, message] of [
    [[{ query: ['TODO'] }], /series 1('s)?:? (")?query(")? must be a string, not an array/],
    [[{ query: 'TODO' }, { query: { a: 1 } }], /series 2('s)?:? (")?query(")? must be a string, not an object/],
    [[{ query: 7 }], /series 1('s)?:? (")?query(")? must be a string, not a number/],
  ] as const) {
    const { body } = await postGraphql(
      server.url,
      `mutation ($series: JSON!) { createLineChartInsight(input: { title: "x", series: $series }) { result { rowId } } }`,
      token,
      { series },
    );
    t.regex(body.errors?.[0]?.message ?? 'no error', message, JSON.stringify(series));
  }
  // The DBA's door (the core function) refuses it too, with the same meaning.
  const error = await t.throwsAsync(
    db.pool.query(`select insights_core.create_line_insight('x', '[{"query": ["TODO"]}]')`),
  );
  t.is(error?.message, 'series 1: "query" must be a string, not an array');
  t.regex(
    (await create([{ query: 'TODO', label: 5 }])).body.errors?.[0]?.message ?? 'no error',
    /^series 1('s label must be a string|: "label" and "stroke" must be strings)/,
  );
  const stroke = await t.throwsAsync(
    db.pool.query(`select insights_core.create_line_insight('x', '[{"query": "TODO", "stroke": 1}]')`),
  );
  t.is(stroke?.message, 'series 1: "label" and "stroke" must be strings');
  t.is((await db.pool.query('select count(*)::int as n from insight_view')).rows[0].n, 0, 'nothing was written');
});

test("one user's backfill steps share that user's queue; a step does not yield to work that cannot run now", async (t) => {
  const db = await useTestDatabase(t);
  const create = async (userId: number | null, query: string) => {
    const view = (
      await db.pool.query(
        `select (insights_core.create_line_insight('x', $1::jsonb, null, null, 'WEEK', 1, null, $2)).id`,
        [JSON.stringify([{ query }]), userId],
      )
    ).rows[0].id;
    return (
      await db.pool.query(
        `select b.id from insight_view_series vs join insight_series_backfill b on b.series_id = vs.insight_series_id
          where vs.insight_view_id = $1`,
        [view],
      )
    ).rows[0].id as number;
  };
  const mine = [await create(1, 'one'), await create(1, 'two')];
  const theirs = await create(2, 'three');
  const shared = await create(null, 'four');
  for (const id of [...mine, theirs, shared]) {
    await db.pool.query(`update insight_series_backfill set state = 'processing' where id = $1`, [id]);
    await db.pool.query('select insights_core.backfill_queue_step($1)', [id]);
  }
  const { rows } = await db.pool.query<{ key: string; queue_name: string | null }>(
    `select key, queue_name from graphile_worker.jobs where task_identifier = 'backfill_step' order by key`,
  );
  t.deepEqual(
    Object.fromEntries(rows.map((r) => [r.key, r.queue_name])),
    {
      [`backfill:${mine[0]}`]: 'backfill-user-1',
      [`backfill:${mine[1]}`]: 'backfill-user-1',
      [`backfill:${theirs}`]: 'backfill-user-2',
      [`backfill:${shared}`]: null,
    },
    "each user's steps in their own queue (one at a time); a series no user owns in none",
  );

  // User 2's step is cheaper (priority 0) but its queue is busy with another of theirs: user 1's
  // running step must not yield to it, and does yield once that queue is free.
  const reprioritize = (keys: string[], priority: number) =>
    db.pool.query(
      `select graphile_worker.reschedule_jobs(array(select id from graphile_worker.jobs where key = any ($1)),
         priority := $2)`,
      [keys, priority],
    );
  await reprioritize([`backfill:${theirs}`], 0);
  await reprioritize([`backfill:${mine[1]}`, `backfill:${shared}`], 3);
  // What a worker running another of user 2's steps holds (Graphile Worker has no public call for it).
  await db.pool.query(
    `update graphile_worker._private_job_queues set locked_at = now(), locked_by = 'another-worker' where queue_name = 'backfill-user-2'`,
  );
  // mine[0] is unplanned, so its cost bucket (its priority) is 1: only user 2's step is cheaper.
  const yields = async () =>
    (await db.pool.query('select insights_core.backfill_should_yield($1) as y', [mine[0]])).rows[0].y as boolean;
  t.false(await yields(), "the cheaper job's queue is held: it cannot run now");
  await db.pool.query(`update graphile_worker._private_job_queues set locked_at = null, locked_by = null`);
  t.true(await yields(), 'once its queue is free, the cheaper job goes first');
});

test('the daily backfill budget has a default', async (t) => {
  const db = await useTestDatabase(t);
  const { rows } = await db.pool.query(`select daily_limit from usage_quotas where event_type = 'backfill_cost'`);
  t.deepEqual(rows, [{ daily_limit: 1_000_000 }]);
});

test('the CLI restricts repositories and grants in a role, as the API does', async (t) => {
  const db = await useTestDatabase(t);
  const env = cliEnv({ DATABASE_URL: db.connectionString });
  await db.pool.query(`select insights_core.register_repository('/nowhere/secret.git', 'acme/secret')`);
  const restricted = await runCli(['repos', 'restrict', 'acme/secret', '--user', '4', '--org', '9', '--org', '3'], env);
  t.is(restricted.code, 0, restricted.stderr);
  t.is(restricted.stdout.trim(), 'acme/secret is visible to user 4, org 9, org 3 (and admins) only.');
  const listed = JSON.parse((await runCli(['repos', 'list', '--json'], env)).stdout);
  t.deepEqual(listed[0].restricted_to, { user_ids: [4], org_ids: [3, 9] });
  const opened = await runCli(['repos', 'restrict', 'acme/secret'], env);
  t.is(opened.stdout.trim(), 'acme/secret is visible to everyone.');
  t.is(JSON.parse((await runCli(['repos', 'list', '--json'], env)).stdout)[0].restricted_to, null);
  const bad = await runCli(['repos', 'restrict', 'acme/secret', '--user', 'x'], env);
  t.is(bad.code, 2);

  const view = (await db.pool.query(`select (insights_core.create_line_insight('x', '[{"query": "TODO"}]')).id`))
    .rows[0].id;
  const granted = await runCli(['grant', 'view', String(view), '--user', '6', '--role', 'editor'], env);
  t.regex(granted.stdout, /^View \d+ is shared with user 6 as editor \(grant \d+\)\.$/m);
  const list = JSON.parse((await runCli(['grant', 'list', 'view', String(view), '--json'], env)).stdout);
  t.deepEqual(
    list.map((g: { user_id: number | null; global: boolean | null; role: string }) => [g.user_id, g.global, g.role]),
    [
      [null, true, 'viewer'],
      [6, null, 'editor'],
    ],
  );
  const wrongRole = await runCli(['grant', 'view', String(view), '--user', '6', '--role', 'admin'], env);
  t.is(wrongRole.code, 2);
  t.regex(wrongRole.stderr, /--role is one of viewer, editor, owner, not "admin"/);
  const globalEditor = await runCli(['grant', 'view', String(view), '--global', '--role', 'editor'], env);
  t.regex(globalEditor.stderr, /a grant to everyone \(--global\) can only be viewer/);
});
