// The hostile-input suite of issue 13: every numbered attack, against a real `serve` process (API
// and worker in one process, loopback only), each checked for its defence while a second client
// asks `{__typename}` every 20 ms, which must keep being answered within 200 ms.
//
// Items with a fuller attack of their own elsewhere, also under the probe:
//   1 (catastrophic file:/type:path/repo: regexps)      test/latency/hostile-queries.latency.ts
//   3, 4 and the request limits (aliases, 2,000 subscriptions)  test/latency/request-limits.latency.ts
//   6, 7, 9 floods (/metrics, /healthz, dev sign-in)     test/latency/operator-endpoints.latency.ts
// and without a latency bound: test/grant-matrix.test.ts (5, roles, repository permissions),
// test/api-limits.test.ts (limits, 17), test/operator-endpoints.test.ts (6, 7, 9, 19 headers),
// test/search-bounds.test.ts (19 git processes and capture values), test/sharing-and-fairness.test.ts
// (8, 18, fairness). Here each item gets a compact attack, so one file shows all of them at once.
import fs from 'node:fs';
import http from 'node:http';
import { Worker } from 'node:worker_threads';
import test from 'ava';
import { issueToken } from '../../src/auth/tokens.ts';
import { cliEnv, startCli } from '../helpers/cli.ts';
import { useTestDatabase } from '../helpers/database.ts';
import { subscribe } from '../helpers/graphql-ws.ts';
import { startLatencyProbe } from '../helpers/latency-probe.ts';
import { postGraphql, startTestServer } from '../helpers/server.ts';
import { waitFor } from '../helpers/wait.ts';
import { createFixtureRepository, tempDir } from '../fixtures/git-repository.ts';

const SECRET = 'hostile-input-latency-secret-long-enough-xx';
const KEY = new TextEncoder().encode(SECRET);
const PASSWORD = 'hunter2-in-the-url';

/** Children of a process still in the process table, by state (Z: defunct). */
function childStates(pid: number): string[] {
  const states: string[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const status = fs.readFileSync(`/proc/${entry}/status`, 'utf8');
      if (new RegExp(`^PPid:\\s+${pid}$`, 'm').test(status)) states.push(/^State:\s+(\S)/m.exec(status)![1]!);
    } catch {
      // gone meanwhile
    }
  }
  return states;
}

test('every numbered attack is answered by its defence, and {__typename} stays under 200 ms throughout', async (t) => {
  const db = await useTestDatabase(t);
  const dir = tempDir(t);
  const repo = createFixtureRepository(`${dir}/acme.git`, [
    {
      date: new Date(Date.now() - 20 * 86_400_000).toISOString(),
      files: {
        'notes.txt': 'TODO one\n=cmd|calc\n',
        // Eight distinct megabytes of one-character matches: a search that outlives its deadline.
        ...Object.fromEntries([1, 2, 3, 4, 5, 6, 7, 8].map((k) => [`slow${k}.txt`, 'ab'.repeat(400_000 - k)])),
      },
    },
  ]);
  await db.pool.query(`select insights_core.register_repository($1, 'acme/repo')`, [repo.path]);
  // Item 12: the password in DATABASE_URL's query string (`?password=`): the database's own if it
  // has one (the embedded default does), else a made-up one (trust authentication ignores it).
  const withQueryPassword = new URL(db.connectionString);
  const password = withQueryPassword.password ? decodeURIComponent(withQueryPassword.password) : PASSWORD;
  withQueryPassword.password = '';
  withQueryPassword.searchParams.set('password', password);
  const databaseUrl = withQueryPassword.toString();
  const serve = startCli(
    ['serve', '--data-dir', tempDir(t)],
    cliEnv({
      DATABASE_URL: databaseUrl,
      PORT: '0',
      JWT_SECRET: SECRET,
      SEARCH_TIMEOUT_SECONDS: '2',
      WORKER_CONCURRENCY: '2',
      LOG_LEVEL: 'info',
    }),
  );
  t.teardown(() => {
    if (serve.child.exitCode === null) serve.child.kill('SIGKILL');
  });
  const [, url] = await serve.waitForOutput(/GraphQL: +(http:\/\/\S+)\/graphql/);
  const token = (userId: number, admin = false) =>
    issueToken({ userId, orgIds: [], admin, ttl: '10m' }, KEY) as Promise<string>;
  const [owner, other, admin] = [await token(1), await token(2), await token(9, true)];
  const gql = async (source: string, bearer?: string, variables?: Record<string, unknown>) =>
    (await postGraphql(url!, source, bearer, variables)).body;
  await gql('{ __typename }'); // warm-up: the first request builds caches that are not part of any attack

  const slowest: Record<string, number> = {};
  const during = async (item: string, attack: () => Promise<void>) => {
    const probe = startLatencyProbe(url!);
    try {
      await attack();
    } finally {
      const result = await probe.stop();
      t.deepEqual(result.wrong, [], `${item}: every probe was answered`);
      slowest[item] = Math.round(result.slowest);
    }
  };

  // Shared state: user 1's private line chart (on user 1's dashboard) and a capture-group chart.
  const created = await gql(
    `mutation { createLineChartInsight(input: { title: "private", repositories: ["acme/repo"], intervalUnit: WEEK,
       intervalValue: 1, series: [{ query: "TODO" }, { query: "/(.)é?/" }] }) { result { rowId } } }`,
    owner,
  );
  t.is(created.errors, undefined, JSON.stringify(created.errors));
  const view = created.data.createLineChartInsight.result.rowId as number;

  await during('1: a catastrophic file: regexp is checked in linear time', async () => {
    const { checkQuery } = (
      await gql('query ($q: String!) { checkQuery(query: $q) { ok } }', undefined, {
        q: `file:(a+)+$ /(a+)+$/ repo:(a+)+$`,
      })
    ).data;
    t.true(checkQuery.ok);
  });

  await during('2: did-you-mean over 38 huge unknown lang: values, anonymously', async () => {
    const count = 38;
    const variables = Object.fromEntries(
      Array.from({ length: count }, (_, k) => [`q${k}`, `x lang:${'q'.repeat(2400)}${k}`]),
    );
    const body = await gql(
      `query (${Object.keys(variables)
        .map((name) => `$${name}: String!`)
        .join(', ')}) { ${Object.keys(variables)
        .map((name) => `${name}: checkQuery(query: $${name}) { code }`)
        .join(' ')} }`,
      undefined,
      variables,
    );
    t.is(body.errors, undefined, JSON.stringify(body.errors)?.slice(0, 300));
    t.deepEqual(new Set(Object.values(body.data).map((answer: any) => answer.code)), new Set(['unknown-language']));
  });

  await during('3: 2,000 aliases in one request', async () => {
    const body = await gql(
      `{${Array.from({ length: 2000 }, (_, i) => `a${i}:allRepositories{nodes{name}}`).join('')}}`,
    );
    t.regex(body.errors?.[0]?.message ?? '', /aliases; the limit is \d+ \(setting GRAPHQL_MAX_ALIASES\)/);
  });

  await during('4: 100 subscriptions on one websocket', async () => {
    const socket = new WebSocket(`${url!.replace(/^http/, 'ws')}/graphql`, 'graphql-transport-ws');
    const refusals: string[] = [];
    await new Promise<void>((resolve, reject) => {
      socket.addEventListener('open', () =>
        socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${owner}` } })),
      );
      socket.addEventListener('message', (event) => {
        const message = JSON.parse(String(event.data));
        if (message.type === 'connection_ack')
          for (let k = 1; k <= 100; k++)
            socket.send(
              JSON.stringify({
                id: String(k),
                type: 'subscribe',
                payload: { query: `subscription { backfillProgress(viewId: ${view}) { insightView { title } } }` },
              }),
            );
        if (message.type === 'error') refusals.push(message.payload[0].message);
        if (refusals.length >= 10) resolve();
      });
      socket.addEventListener('close', () => resolve());
      setTimeout(() => reject(new Error(`only ${refusals.length} refusals`)), 20_000);
    });
    socket.close();
    t.regex(refusals[0] ?? '', /the limit is \d+ per connection \(setting GRAPHQL_MAX_SUBSCRIPTIONS_PER_CONNECTION\)/);
  });

  await during('5: republishing a view seen through a dashboard, then sharing it with everyone', async () => {
    const dashboard = (
      await gql('mutation { createDashboard(input: { title: "shared" }) { result { rowId } } }', owner)
    ).data.createDashboard.result.rowId;
    await gql(
      `mutation { addViewToDashboard(input: { dashboardId: ${dashboard}, viewId: ${view} }) { result { rowId } } }`,
      owner,
    );
    await gql(
      `mutation { grantDashboard(input: { dashboardId: ${dashboard}, userId: 2 }) { result { rowId } } }`,
      owner,
    );
    const mine = (await gql('mutation { createDashboard(input: { title: "mine" }) { result { rowId } } }', other)).data
      .createDashboard.result.rowId;
    const republished = await gql(
      `mutation { addViewToDashboard(input: { dashboardId: ${mine}, viewId: ${view} }) { result { rowId } } }`,
      other,
    );
    t.regex(republished.errors?.[0]?.message ?? '', /you are its viewer; putting it on a dashboard shares it/);
    await gql(
      `mutation { grantDashboard(input: { dashboardId: ${mine}, isGlobal: true }) { result { rowId } } }`,
      other,
    );
    t.is((await gql(`{ insightViewByRowId(rowId: ${view}) { title } }`)).data.insightViewByRowId, null, 'anonymous');
  });

  await during('6: /metrics labels, and the same unscoped query from another user', async () => {
    const metrics = await (await fetch(`${url}/metrics`)).text();
    t.false(metrics.includes('series_id'), 'no series_id label');
    const create = (bearer: string) =>
      gql(
        `mutation { createLineChartInsight(input: { title: "q", intervalUnit: WEEK, intervalValue: 1,
           series: [{ query: "secret-token-name" }] }) { result { insightViewSeriesByInsightViewId { nodes {
           insightSeriesByInsightSeriesId { seriesId } } } } } }`,
        bearer,
      );
    const idOf = (body: any) =>
      body.data.createLineChartInsight.result.insightViewSeriesByInsightViewId.nodes[0].insightSeriesByInsightSeriesId
        .seriesId;
    const first = idOf(await create(owner));
    t.not(idOf(await create(other)), first, "another user does not get user 1's series (or its history)");
    t.false(first.includes('global-'), 'a random id');
  });

  await during('7: /healthz for anyone', async () => {
    const report = await (await fetch(`${url}/healthz`)).json();
    t.deepEqual(
      Object.keys(report).sort(),
      ['database', 'detail', 'ok', 'scheduler', 'worker'],
      JSON.stringify(report),
    );
    t.deepEqual(Object.keys(report.database), ['ok'], 'no version, latency or error text');
    t.deepEqual(Object.keys(report.worker).sort(), ['ok', 'state'], 'no worker error text');
    const detailed = await (await fetch(`${url}/healthz`, { headers: { authorization: `Bearer ${admin}` } })).json();
    t.truthy(detailed.database.serverVersion, 'the admin gets the detail');
  });

  await during('8: a clone URL with credentials, as name and fetch error', async () => {
    const added = await gql(
      `mutation { addRepository(input: { cloneUrl: "https://x-access-token:tok_SECRET@127.0.0.1:9/acme/leak.git?access_token=tok_SECRET2" }) { result { name } } }`,
      admin,
    );
    t.is(added.data.addRepository.result.name, '127.0.0.1/9/acme/leak');
    const fetched = await waitFor(
      async () =>
        (await gql('{ allRepositories(condition: { name: "127.0.0.1/9/acme/leak" }) { nodes { lastFetchError } } }'))
          .data.allRepositories.nodes[0]?.lastFetchError,
      60_000,
      'the failed fetch',
    );
    t.false(String(fetched).includes('tok_SECRET'), String(fetched));
  });

  // Item 9 needs dev sign-in, which `serve` offers only on the embedded database: an in-process server.
  const local = await startTestServer(t, db.connectionString, { jwtSecret: KEY, devSignIn: true });
  {
    const probe = startLatencyProbe(local.url);
    // fetch() sets Host itself; http.get sends the one given.
    const status = (headers: Record<string, string>) =>
      new Promise<number>((resolve, reject) =>
        http
          .get(`${local.url}/dev/token`, { headers }, (response) => {
            response.resume();
            resolve(response.statusCode!);
          })
          .on('error', reject),
      );
    t.is(await status({ host: `evil.example:${local.port}` }), 403, 'a foreign Host (DNS rebinding)');
    t.is(await status({ origin: 'http://evil.example' }), 403, 'a foreign Origin');
    t.is(await status({}), 200, 'this machine, its own Host');
    const result = await probe.stop();
    slowest['9: dev sign-in from a foreign Host or Origin'] = Math.round(result.slowest);
  }

  await during('10: subscribing to a view one may not see', async () => {
    const subscription = await subscribe(
      t,
      url!,
      `subscription { backfillProgress(viewId: ${view}) { insightView { title } } }`,
      await token(3),
    );
    t.regex(JSON.stringify((await subscription.next()).payload), /no insight view \d+ that you may see/);
  });

  await during('11: a CSV export of repository content that looks like a formula', async () => {
    const series = (
      await db.pool.query('select insight_series_id as id from insight_view_series where insight_view_id = $1', [view])
    ).rows[0].id;
    await db.pool.query(
      `select insights_core.store_series_recording($1, now() - interval '1 day', false,
         json_build_array(json_build_object('repo_id', (select id from repositories where name = 'acme/repo'),
                                            'value', 1, 'capture', '=cmd|calc'))::jsonb)`,
      [series],
    );
    const csv = await (
      await fetch(`${url}/export/views/${view}.csv`, { headers: { authorization: `Bearer ${owner}` } })
    ).text();
    t.true(csv.includes("'=cmd|calc"), 'written as text');
    t.false(/(^|,)=cmd/m.test(csv), 'never a bare formula cell');
  });

  await during('12: a password in DATABASE_URL', async () => {
    t.false(serve.output().includes(password), 'not in the banner or any log line');
    t.regex(serve.output(), /password=\*\*\*/, 'the banner shows it redacted');
  });

  await during('13: a repository name with a newline in it', async () => {
    const body = await gql(
      `mutation ($name: String!) { addRepository(input: { cloneUrl: "/nowhere/forge.git", name: $name }) { result { name } } }`,
      admin,
      { name: 'acme/forge\n2026-01-01T00:00:00.000Z INFO  forged line' },
    );
    const refused = body.errors?.[0]?.message;
    // Refused, or logged escaped: never a line of its own.
    if (!refused) await new Promise((resolve) => setTimeout(resolve, 1500));
    t.false(/^2026-01-01T00:00:00\.000Z INFO {2}forged line/m.test(serve.output()), 'no forged log line');
  });

  await during('14: a clone URL that is a git option', async () => {
    const marker = `${dir}/pwned`;
    await gql(
      `mutation ($url: String!) { addRepository(input: { cloneUrl: $url, name: "acme/option" }) { result { name } } }`,
      admin,
      { url: `--upload-pack=touch ${marker}` },
    );
    await new Promise((resolve) => setTimeout(resolve, 1500));
    t.false(fs.existsSync(marker), 'git ran no command');
  });

  await during('15: ids past PostgreSQL integer, in GraphQL, a token and a job payload', async () => {
    const lookup = await gql('{ insightViewByRowId(rowId: 3000000000) { title } }', owner);
    t.regex(lookup.errors?.[0]?.message ?? '', /non 32-bit signed integer|at most 2147483647/);
    const huge = await issueToken({ userId: 3_000_000_000, orgIds: [], admin: false, ttl: '5m' }, KEY);
    const tokenAnswer = await postGraphql(url!, '{ __typename }', huge);
    t.is(tokenAnswer.status, 401);
    t.regex(tokenAnswer.body.errors?.[0]?.message ?? '', /2147483647/);
    const job = (
      await db.pool.query(
        `select (graphile_worker.add_job('record_series', '{"series_id": 3000000000}'::json, max_attempts := 25)).id`,
      )
    ).rows[0].id;
    const failed = await waitFor(
      async () =>
        (
          await db.pool.query(
            'select attempts, max_attempts, last_error from graphile_worker.jobs where id = $1 and attempts >= max_attempts',
            [job],
          )
        ).rows[0],
      60_000,
      'the job to fail for good',
    );
    t.is(failed.attempts, failed.max_attempts, 'not retried 25 times');
    t.regex(failed.last_error, /at most 2147483647/);
  });

  await during('16: a recording time in year 9999', async () => {
    const job = (
      await db.pool.query(
        `select (graphile_worker.add_job('record_series', json_build_object('series_id', 1, 'time', '9999-01-01T00:00:00Z'))).id`,
      )
    ).rows[0].id;
    const failed = await waitFor(
      async () =>
        (
          await db.pool.query(
            'select last_error from graphile_worker.jobs where id = $1 and attempts >= max_attempts',
            [job],
          )
        ).rows[0],
      60_000,
      'the job to fail for good',
    );
    t.regex(failed.last_error, /time/);
  });

  await during('17: NUL bytes, 20,000 nested groups, a too-deep query and a bad datetime', async () => {
    const nul = await gql('query ($q: String!) { checkQuery(query: $q) { code message } }', undefined, {
      q: 'TODO\u0000',
    });
    t.is(nul.data.checkQuery.code, 'syntax');
    const nested = await gql('query ($q: String!) { checkQuery(query: $q) { code } }', undefined, {
      q: `${'('.repeat(20_000)}a${')'.repeat(20_000)}`,
    });
    t.is(nested.data.checkQuery.code, 'too-long');
    let deep = '{ __typename }';
    for (let k = 0; k < 40; k++)
      deep = `{ allInsightViews { nodes { insightViewSeriesByInsightViewId { nodes ${deep} } } } }`;
    const tooDeep = await gql(deep.replace(/^\{ allInsightViews/, '{ a: allInsightViews'));
    t.regex(tooDeep.errors?.[0]?.message ?? '', /GRAPHQL_MAX_(DEPTH|QUERY_LENGTH)/);
    const datetime = await gql(
      `mutation { createLineChartInsight(input: { title: "d", intervalUnit: WEEK, intervalValue: 1,
         oldestHistoricalAt: "yesterday-ish", series: [{ query: "x" }] }) { result { rowId } } }`,
      owner,
    );
    const messages = [nul, nested, tooDeep, datetime].map((body) => JSON.stringify(body));
    t.true(datetime.errors?.length === 1, messages[3]);
    for (const message of messages) t.false(message.includes('An error occurred'), message);
  });

  await during('18: a series query given as a JSON array', async () => {
    const body = await gql(
      `mutation ($series: JSON!) { createLineChartInsight(input: { title: "a", series: $series }) { result { rowId } } }`,
      owner,
      { series: [{ query: ['TODO'] }] },
    );
    t.regex(body.errors?.[0]?.message ?? '', /must be a string, not an array/);
  });

  await during('19: security headers, and git processes after a timed-out search', async () => {
    const page = await fetch(`${url}/`);
    t.regex(page.headers.get('content-security-policy') ?? '', /default-src 'self'/);
    t.is(page.headers.get('x-content-type-options'), 'nosniff');
    t.is(page.headers.get('x-frame-options'), 'DENY');
    // The view's second series searches past the 2 s deadline: a timeout point, and no defunct git left.
    await waitFor(
      async () =>
        (
          await db.pool.query(
            `select 1 from insight_series_incomplete_points p join insight_view_series vs on vs.insight_series_id = p.series_id
              where vs.insight_view_id = $1 and p.reason = 'timeout'`,
            [view],
          )
        ).rows[0],
      120_000,
      'a timeout point',
    );
    await new Promise((resolve) => setTimeout(resolve, 500));
    t.false(
      childStates(serve.child.pid!).includes('Z'),
      `children of serve: ${childStates(serve.child.pid!).join(' ')}`,
    );
  });

  // The new limits not attacked above: a fragment-spread explosion, and more websockets than allowed.
  await during('limit: 2^40 fields from a 2 KB fragment explosion', async () => {
    const explosion = `{ ...F40 } fragment F0 on Query { __typename } ${Array.from(
      { length: 40 },
      (_, i) => `fragment F${i + 1} on Query { ...F${i} ...F${i} }`,
    ).join(' ')}`;
    t.regex((await gql(explosion)).errors?.[0]?.message ?? '', /the limit is 2,000 \(setting GRAPHQL_MAX_FIELDS\)/);
  });
  await during('limit: 520 websockets at once', async () => {
    // Opened from a worker thread, so the attacker's own work does not delay the probe in this one.
    const opener = new Worker(
      `const { parentPort, workerData } = require('node:worker_threads');
       const sockets = [];
       const outcomes = [];
       for (let k = 0; k < 520; k++) {
         const socket = new WebSocket(workerData.url.replace(/^http/, 'ws') + '/graphql', 'graphql-transport-ws');
         sockets.push(socket);
         const settle = (outcome) => {
           outcomes.push(outcome);
           if (outcomes.length === 520) {
             for (const s of sockets) s.close();
             parentPort.postMessage(outcomes);
           }
         };
         socket.addEventListener('open', () => settle('open'), { once: true });
         socket.addEventListener('error', () => settle('refused'), { once: true });
       }`,
      { eval: true, workerData: { url } },
    );
    t.teardown(() => opener.terminate());
    const outcomes = await new Promise<string[]>((resolve, reject) => {
      opener.once('message', resolve);
      opener.once('error', reject);
    });
    await opener.terminate();
    t.true(outcomes.filter((o) => o === 'refused').length >= 20, 'past 500 the handshake is refused');
    t.true(outcomes.filter((o) => o === 'open').length >= 400, 'up to the limit they open');
  });

  t.log(slowest);
  const over = Object.entries(slowest).filter(([, ms]) => ms >= 200);
  t.deepEqual(over, [], 'attacks during which a {__typename} took 200 ms or more');
  t.is(Object.keys(slowest).filter((item) => /^\d+:/.test(item)).length, 19, 'every numbered item ran');
});
