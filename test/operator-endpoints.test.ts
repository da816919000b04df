// Operator endpoints tell operators, not the world (issue 13, items 6, 7, 9, 18, 19): /healthz gives
// anyone states only and an admin the detail with credentials redacted; /metrics labels nothing a
// user wrote; dev sign-in refuses a foreign Host, Origin or cross-site request; every response has
// security headers; a series query that is not a string is refused at the GraphQL boundary.
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { issueToken } from '../src/auth/tokens.ts';
import { createPool } from '../src/db/pool.ts';
import { redactCredentials } from '../src/git/redact-credentials.ts';
import { createLogger } from '../src/logger.ts';
import { projectRoot } from '../src/project-root.ts';
import { startHttpServer } from '../src/server/http-server.ts';
import { useTestDatabase } from './helpers/database.ts';
import { postGraphql, startTestServer } from './helpers/server.ts';
import { waitFor } from './helpers/wait.ts';
import { startTestWorker } from './helpers/worker.ts';

const SECRET = new TextEncoder().encode('operator-endpoints-secret-long-enough-hs256');
const token = (admin: boolean) => issueToken({ userId: 1, orgIds: [], admin, ttl: '5m' }, SECRET);

/** A GET with headers fetch will not send (Host), answered as status, headers and text. */
function rawGet(
  url: string,
  headers: Record<string, string>,
): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const request = http.get(url, { headers }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (body += chunk));
      response.on('end', () => resolve({ status: response.statusCode!, headers: response.headers, body }));
    });
    request.on('error', reject);
    request.setTimeout(10_000, () => request.destroy(new Error('no answer in 10 s')));
  });
}

test('/healthz gives anyone states only; an admin token gets the detail, with the clone URL token redacted', async (t) => {
  const db = await useTestDatabase(t);
  // A clone URL with credentials in its user info and its query: git prints the query back in its
  // error, and the worker's status kept that message as its last error.
  const cloneUrl = 'https://x-access-token:ghs_USERINFO_SECRET@127.0.0.1:1/acme/api.git?access_token=QUERY_SECRET';
  const { rows } = await db.pool.query<{ id: number }>(
    `insert into repositories (name, clone_url) values ('acme/api', $1) returning id`,
    [cloneUrl],
  );
  const worker = await startTestWorker(t, db.connectionString);
  await db.pool.query(
    `select graphile_worker.add_job('sync_repo', json_build_object('repo_id', $1::int), max_attempts => 1)`,
    [rows[0]!.id],
  );
  await waitFor(async () => worker.status.jobsFailed > 0, 60_000, 'the failing fetch');
  const server = await startTestServer(t, db.connectionString, {
    jwtSecret: SECRET,
    workerStatus: () => worker.status,
  });

  const anonymous = await fetch(`${server.url}/healthz`);
  const text = await anonymous.text();
  t.false(/SECRET|access_token|127\.0\.0\.1:1/.test(text), `no error text for anyone: ${text}`);
  const report = JSON.parse(text);
  t.deepEqual(Object.keys(report).sort(), ['database', 'detail', 'ok', 'scheduler', 'worker']);
  t.deepEqual(Object.keys(report.database), ['ok'], 'no latency, server version or error');
  t.deepEqual(Object.keys(report.worker).sort(), ['ok', 'state'], 'no hostname, counters or last error');
  t.deepEqual(Object.keys(report.scheduler), ['ok'], 'no task list');
  t.is(report.worker.state, 'running');
  t.true(report.database.ok);
  t.is(anonymous.status, report.ok ? 200 : 503, 'the status still says healthy or not');

  const user = await fetch(`${server.url}/healthz`, { headers: { authorization: `Bearer ${await token(false)}` } });
  t.deepEqual(Object.keys(await user.json()).sort(), Object.keys(report).sort(), 'a user token is not enough');

  const admin = await fetch(`${server.url}/healthz`, { headers: { authorization: `Bearer ${await token(true)}` } });
  const full = await admin.text();
  t.false(full.includes('SECRET'), `no credentials even for an admin: ${full}`);
  const detail = JSON.parse(full);
  t.regex(detail.database.serverVersion, /^\d+/);
  t.is(typeof detail.queue.runnable, 'number');
  t.regex(detail.worker.lastError, /access_token=\*\*\*/, 'the error is there, its secret replaced');
  t.true(detail.worker.jobsFailed >= 1);

  // A probe that sends a bad or expired token still gets the states, and only them.
  const forged = await fetch(`${server.url}/healthz`, { headers: { authorization: 'Bearer not-a-token' } });
  t.is(forged.status, 200);
  t.deepEqual(Object.keys((await forged.json()) as object).sort(), ['database', 'detail', 'ok', 'scheduler', 'worker']);
});

test('credentials are redacted wherever they sit in a message', (t) => {
  const cases: Array<[string, string]> = [
    [
      "fatal: unable to access 'https://x-access-token:ghs_abc123@github.com/acme/api.git/': 403",
      "fatal: unable to access 'https://x-access-token:***@github.com/acme/api.git/': 403",
    ],
    ['clone https://user:p@ss@host.example/r.git failed', 'clone https://user:***@host.example/r.git failed'],
    ['https://ghp_TOKEN@github.com/a/b', 'https://***@github.com/a/b'],
    ['https://h/r.git?access_token=S1&x=1#Password=S2', 'https://h/r.git?access_token=***&x=1#Password=***'],
    ['postgres://alice:s3cret@db/insights?sslpassword=k3y', 'postgres://alice:***@db/insights?sslpassword=***'],
    ['Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.e30.sig', 'Authorization: Bearer ***'],
    ['plain https://github.com/acme/api.git and a@b.com', 'plain https://github.com/acme/api.git and a@b.com'],
  ];
  for (const [given, expected] of cases) t.is(redactCredentials(given), expected);
});

test('/metrics has no series_id label (an unscoped series id was derived from its query)', async (t) => {
  const db = await useTestDatabase(t);
  await db.pool.query(`select insights_core.register_repository('/nonexistent/api.git', 'acme/api')`);
  // No worker: the backfill stays unfinished, so its progress gauge is there.
  await db.pool.query(
    `select insights_core.create_line_insight('private', '[{"query": "PRIVATE_QUERY_TEXT"}]', null, null, 'WEEK', 1, now() - interval '4 weeks', 7)`,
  );
  const { rows } = await db.pool.query<{ series_id: string; backfill_id: number }>(
    `select s.series_id, b.id as backfill_id from insight_series s join insight_series_backfill b on b.series_id = s.id`,
  );
  const server = await startTestServer(t, db.connectionString, { jwtSecret: SECRET });
  const text = await (await fetch(`${server.url}/metrics`)).text();
  t.false(text.includes('series_id'), 'no series_id label');
  // An unscoped series' id was md5(query || ...): a private query could be recovered from it.
  t.false(text.includes(rows[0]!.series_id.replace(/^global-/, '')), 'nor the series id anywhere');
  t.false(/PRIVATE_QUERY_TEXT|acme\/api|nonexistent/.test(text), 'no query, repository name or clone URL');
  t.regex(
    text,
    new RegExp(`^code_insights_backfill_progress_ratio\\{backfill_id="${rows[0]!.backfill_id}"\\} 0$`, 'm'),
  );
  // Every label of every sample is one of the few, bounded kinds.
  const labels = new Set(
    [...text.matchAll(/^\w+\{(.*)\} /gm)].flatMap((m) => [...m[1]!.matchAll(/(\w+)="/g)].map((l) => l[1]!)),
  );
  t.deepEqual(
    [...labels].filter(
      (l) =>
        ![
          'state',
          'backfill_id',
          'task',
          'outcome',
          'le',
          'type',
          'version',
          'major',
          'minor',
          'patch',
          'space',
          'kind',
        ].includes(l),
    ),
    [],
  );
});

test('dev sign-in refuses a foreign Host, Origin or a cross-site request, and says why', async (t) => {
  const db = await useTestDatabase(t);
  const quiet = createLogger({ level: 'error', write: () => {} });
  const pool = createPool({ connectionString: db.connectionString, logger: quiet, max: 2 });
  const server = await startHttpServer({
    pool,
    host: '127.0.0.1',
    port: 0,
    logger: quiet,
    jwtSecret: SECRET,
    dataDir: '',
    devSignIn: true,
  });
  t.teardown(async () => {
    await server.close();
    await pool.end();
  });
  const url = `${server.url}/dev/token`;
  const port = server.port;
  const ask = (headers: Record<string, string>) => rawGet(url, headers);

  for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, `LOCALHOST:${port}`, `[::1]:${port}`]) {
    const ok = await ask({ host });
    t.is(ok.status, 200, `Host ${host}`);
    t.truthy(JSON.parse(ok.body).token);
  }
  const sameOrigin = await ask({
    host: `localhost:${port}`,
    origin: `http://localhost:${port}`,
    'sec-fetch-site': 'same-origin',
  });
  t.is(sameOrigin.status, 200, 'the dashboard itself');
  t.is((await ask({ host: `localhost:${port}`, 'sec-fetch-site': 'none' })).status, 200, 'a typed-in address');

  // DNS rebinding: a page of evil.example whose name now resolves to 127.0.0.1.
  const rebound = await ask({ host: `evil.example:${port}` });
  t.is(rebound.status, 403);
  t.regex(JSON.parse(rebound.body).error, /loopback name .*not Host "evil\.example:\d+"/);
  t.false(rebound.body.includes('token"'), 'no token');
  t.is((await ask({ host: `localhost:${port + 1}` })).status, 403, 'another port is another server');
  t.is((await ask({ host: 'localhost' })).status, 403, 'no port: port 80, not this server');

  const crossOrigin = await ask({ host: `127.0.0.1:${port}`, origin: 'http://evil.example' });
  t.is(crossOrigin.status, 403);
  t.regex(JSON.parse(crossOrigin.body).error, /own pages .*not Origin "http:\/\/evil\.example"/);
  t.is((await ask({ host: `127.0.0.1:${port}`, origin: 'null' })).status, 403, 'a sandboxed or file: page');
  t.is((await ask({ host: `127.0.0.1:${port}`, origin: `http://localhost:${port + 1}` })).status, 403);
  const crossSite = await ask({ host: `127.0.0.1:${port}`, 'sec-fetch-site': 'cross-site' });
  t.is(crossSite.status, 403);
  t.regex(JSON.parse(crossSite.body).error, /"cross-site" request \(Sec-Fetch-Site\)/);
  t.is((await ask({ host: `127.0.0.1:${port}`, 'sec-fetch-site': 'same-site' })).status, 403, 'another local port');
});

test('every response has a content security policy, nosniff, no framing and no referrer', async (t) => {
  const db = await useTestDatabase(t);
  const server = await startTestServer(t, db.connectionString, { jwtSecret: SECRET });
  const check = (response: Response, what: string) => {
    t.is(response.headers.get('x-content-type-options'), 'nosniff', what);
    t.is(response.headers.get('x-frame-options'), 'DENY', what);
    t.is(response.headers.get('referrer-policy'), 'no-referrer', what);
    const csp = response.headers.get('content-security-policy') ?? '';
    t.regex(csp, /frame-ancestors 'none'/, what);
    t.regex(csp, /object-src 'none'/, what);
    return csp;
  };
  const home = await fetch(`${server.url}/`);
  t.is(home.status, 200);
  const dashboard = check(home, '/');
  t.regex(dashboard, /script-src 'self'(;|$)/, 'the dashboard runs its own scripts only');
  t.false(dashboard.includes('unsafe'), 'no inline script or style, no eval');
  check(await fetch(`${server.url}/app.js`), '/app.js');
  check(await fetch(`${server.url}/vendor/chart.umd.js`), '/vendor/chart.umd.js');
  check(await fetch(`${server.url}/nope.html`), 'a 404');
  check(await fetch(`${server.url}/healthz`), '/healthz');
  check(await fetch(`${server.url}/metrics`), '/metrics');
  const graphql = await fetch(`${server.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query: '{ __typename }' }),
  });
  check(graphql, 'POST /graphql');
  const graphiql = await fetch(`${server.url}/graphiql`, { headers: { accept: 'text/html' } });
  t.is(graphiql.status, 200);
  t.regex(check(graphiql, '/graphiql'), /script-src 'self' 'unsafe-inline'/, "Ruru's inline scripts run");

  // The strict policy holds only while the page has nothing inline.
  const html = fs.readFileSync(path.join(projectRoot, 'web', 'index.html'), 'utf8');
  t.false(/<script(?![^>]*\ssrc=)[^>]*>/.test(html), 'no inline script');
  t.false(/<style|\sstyle=|\son[a-z]+=/i.test(html), 'no inline style or handler');
});

const CREATE_LINE = `mutation ($input: CreateLineChartInsightInput!) { createLineChartInsight(input: $input) { result { rowId } } }`;

async function insightSetup(t: ExecutionContext) {
  const db = await useTestDatabase(t);
  const server = await startTestServer(t, db.connectionString, { jwtSecret: SECRET });
  const create = async (series: unknown) =>
    (
      await postGraphql(server.url, CREATE_LINE, await token(false), {
        input: { title: 't', series, intervalUnit: 'WEEK', intervalValue: 1 },
      })
    ).body;
  return { db, create };
}

test('a series query that is not a string is refused with a message, and nothing is written', async (t) => {
  const { db, create } = await insightSetup(t);
  const refusals: Array<[unknown, string]> = [
    [['TODO'], "series 2's query must be a string, not an array"],
    [42, "series 2's query must be a string, not a number"],
    [{ pattern: 'TODO' }, "series 2's query must be a string, not an object"],
    [null, "series 2's query must be a string, not null"],
    [true, "series 2's query must be a string, not a boolean"],
  ];
  for (const [query, message] of refusals) {
    const response = await create([{ query: 'FIXME' }, { query }]);
    t.is(response.data?.createLineChartInsight ?? null, null, message);
    t.is(response.errors?.[0]?.message, message);
    t.like(response.errors?.[0]?.extensions, { code: '22023', field: 'series[1].query' });
  }
  const label = await create([{ query: 'TODO', label: ['x'] }]);
  t.is(label.errors?.[0]?.message, "series 1's label must be a string, not an array");
  const { rows } = await db.pool.query('select count(*)::int as n from insight_series');
  t.is(rows[0].n, 0, 'no series was stored');
  const fine = await create([{ query: 'TODO', label: null }]);
  t.is(fine.errors, undefined);
  t.truthy(fine.data.createLineChartInsight.result.rowId);
});
