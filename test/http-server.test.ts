// The HTTP server: GraphQL over the schema, GraphiQL, /healthz and static files.
import test from 'ava';
import { issueToken } from '../src/auth/tokens.ts';
import { createPool } from '../src/db/pool.ts';
import { createLogger } from '../src/logger.ts';
import { startHttpServer } from '../src/server/http-server.ts';
import { maskError } from '../src/server/postgraphile-preset.ts';
import { requestLogs } from '../src/server/request-log.ts';
import { GraphQLError } from 'postgraphile/graphql';
import type { WorkerStatus } from '../src/worker/start-worker.ts';
import { useTestDatabase } from './helpers/database.ts';
import { postGraphql, startTestServer } from './helpers/server.ts';
import { occupyPort } from './helpers/occupy-port.ts';

const quiet = createLogger({ level: 'error' });
const TEST_SECRET = new TextEncoder().encode('a-test-secret-that-is-long-enough-for-hs256');

async function setup(t: import('ava').ExecutionContext, workerStatus?: () => WorkerStatus) {
  const db = await useTestDatabase(t);
  const server = await startTestServer(t, db.connectionString, { jwtSecret: TEST_SECRET, workerStatus });
  return { db, server };
}

const graphql = async (url: string, query: string) => (await postGraphql(url, query)).body;

const runningWorker: WorkerStatus = {
  state: 'running',
  concurrency: 2,
  hostname: 'test',
  jobsSucceeded: 0,
  jobsFailed: 0,
};

test('GraphQL serves the schema; tables have no CRUD mutations', async (t) => {
  const { db, server } = await setup(t);
  await db.pool.query(
    `insert into repositories (name, clone_url) values ('acme/api', '/srv/git/api'), ('acme/web', '/srv/git/web')`,
  );
  const result = await graphql(
    server.url,
    '{ allRepositories(orderBy: NAME_ASC) { totalCount nodes { name defaultBranch } } }',
  );
  t.deepEqual(result, {
    data: {
      allRepositories: {
        totalCount: 2,
        nodes: [
          { name: 'acme/api', defaultBranch: null },
          { name: 'acme/web', defaultBranch: null },
        ],
      },
    },
  });
  const repository = await graphql(server.url, '{ __type(name: "Repository") { fields { name } } }');
  const fields: string[] = repository.data.__type.fields.map((f: { name: string }) => f.name);
  t.false(
    fields.includes('cloneUrl') || fields.includes('mirrorPath'),
    'clone URLs may carry credentials: not in the API',
  );
  const introspection = await graphql(server.url, '{ __type(name: "Mutation") { fields { name } } }');
  const mutations: string[] = introspection.data.__type.fields.map((f: { name: string }) => f.name);
  t.false(
    mutations.some((name) => /^(create|update|delete)Repository/.test(name)),
    'no CRUD mutations on tables',
  );
  t.false(mutations.includes('registerRepository'), 'internal functions are not mutations');
});

test('GraphiQL is served at /graphiql and the web UI at /', async (t) => {
  const { server } = await setup(t);
  const graphiql = await fetch(`${server.url}/graphiql`, { headers: { accept: 'text/html' } });
  t.is(graphiql.status, 200);
  t.regex(await graphiql.text(), /ruru|graphiql/i);
  const home = await fetch(`${server.url}/`);
  t.is(home.status, 200);
  t.regex(await home.text(), /<h1>Code Insights<\/h1>/);
  const outside = await fetch(`${server.url}/..%2Fpackage.json`);
  t.is(outside.status, 404);
  const missing = await fetch(`${server.url}/nope.html`);
  t.is(missing.status, 404);
  const malformed = await fetch(`${server.url}/%E0%A4%A`);
  t.is(malformed.status, 400, 'a malformed URL is a bad request, not a crash');
  t.true([200, 503].includes((await fetch(`${server.url}/healthz`)).status), 'and the server still answers');
  const vendor = await fetch(`${server.url}/vendor/chart.umd.js`);
  t.is(vendor.headers.get('content-type'), 'text/javascript; charset=utf-8');
});

test('/healthz reports database, worker and queue state (the detail to an admin token)', async (t) => {
  let status: WorkerStatus = { ...runningWorker };
  const { db, server } = await setup(t, () => status);
  await db.pool.query(`select graphile_worker.add_job('prune_task_runs', '{}'::json)`);
  const admin = await issueToken({ userId: 1, orgIds: [], admin: true, ttl: '5m' }, TEST_SECRET);
  const healthz = () => fetch(`${server.url}/healthz`, { headers: { authorization: `Bearer ${admin}` } });
  const healthy = await healthz();
  t.is(healthy.status, 200);
  const report = (await healthy.json()) as any;
  t.true(report.ok);
  t.true(report.database.ok);
  t.regex(report.database.serverVersion, /^\d+/);
  t.is(report.worker.state, 'running');
  t.is(report.queue.runnable, 1);

  status = { ...runningWorker, state: 'failed', lastError: 'boom' };
  const unhealthy = await healthz();
  t.is(unhealthy.status, 503);
  const bad = (await unhealthy.json()) as any;
  t.false(bad.ok);
  t.is(bad.worker.lastError, 'boom');

  // A worker process has been alive for an hour, and the every-minute task last succeeded 10 minutes ago.
  status = { ...runningWorker };
  await db.pool.query(`
    insert into insights_core.worker_processes (id, hostname, pid, started_at) values ('w1', 'elsewhere', 1, now() - interval '1 hour');
    insert into task_runs (task_name, started_at, finished_at, status) values
      ('enqueue_due_recordings', now() - interval '10 minutes', now() - interval '10 minutes', 'succeeded'),
      ('sync_due_repos', now() - interval '1 minute', now() - interval '1 minute', 'succeeded');`);
  const overdue = await healthz();
  t.is(overdue.status, 503);
  const late = (await overdue.json()) as any;
  t.false(late.scheduler.ok);
  t.deepEqual(
    late.scheduler.overdue.map((o: any) => o.task),
    ['enqueue_due_recordings'],
    'daily tasks are not due yet; sync_due_repos ran',
  );
});

test('a taken port is a clear error', async (t) => {
  const db = await useTestDatabase(t);
  const port = await occupyPort(t);
  const pool = createPool({ connectionString: db.connectionString, logger: quiet, max: 2 });
  t.teardown(() => pool.end());
  await t.throwsAsync(
    startHttpServer({ pool, host: '127.0.0.1', port, logger: quiet, jwtSecret: TEST_SECRET, dataDir: '' }),
    {
      message: `PORT ${port} is already in use on 127.0.0.1; set PORT to a free port (0 picks one)`,
    },
  );
});

test('every request has an id, returned and on its JSON log lines', async (t) => {
  const db = await useTestDatabase(t);
  const lines: string[] = [];
  const logger = createLogger({ level: 'debug', format: 'json', write: (line) => void lines.push(line) });
  const pool = createPool({ connectionString: db.connectionString, logger: quiet, max: 2 });
  const server = await startHttpServer({
    pool,
    host: '127.0.0.1',
    port: 0,
    logger,
    jwtSecret: TEST_SECRET,
    dataDir: '',
  });
  t.teardown(async () => {
    await server.close();
    await pool.end();
  });
  const given = await fetch(`${server.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-request-id': 'req-42' },
    body: JSON.stringify({ query: '{ __typename }' }),
  });
  t.is(given.headers.get('x-request-id'), 'req-42');
  const generated = await fetch(`${server.url}/healthz`, { headers: { 'x-request-id': 'not ok: spaces' } });
  const id = generated.headers.get('x-request-id')!;
  t.regex(id, /^[0-9a-f-]{36}$/, 'an unusable id is replaced');
  await new Promise((resolve) => setTimeout(resolve, 50));
  const entries = lines.map((line) => JSON.parse(line));
  t.like(
    entries.find((e) => e.request_id === 'req-42'),
    { level: 'info', scope: 'request', request_id: 'req-42' },
  );
  t.regex(entries.find((e) => e.request_id === 'req-42').message, /^POST \/graphql 200 [\d.]+ ms$/);
  t.is(entries.find((e) => e.request_id === id).level, 'debug', 'probes log at debug level');
  t.regex(entries.find((e) => e.request_id === id).message, /^GET \/healthz (200|503) /);
  t.true(entries.every((e) => typeof e.time === 'string' && typeof e.message === 'string'));
});

test('an unexpected GraphQL error is masked for the client and logged with the request id', (t) => {
  const lines: string[] = [];
  const log = createLogger({ level: 'info', format: 'json', write: (line) => void lines.push(line) }).child('request', {
    request_id: 'req-7',
  });
  const internal = new GraphQLError('boom', {
    path: ['allInsightViews'],
    originalError: new Error('relation "x" does not exist'),
  });
  const masked = requestLogs.run(log, () => maskError(internal));
  t.regex(masked.message, /^An error occurred \(logged with id [0-9a-f]{8}\)$/);
  const entry = JSON.parse(lines[0]!);
  t.like(entry, { level: 'error', request_id: 'req-7' });
  t.is(entry.message, `GraphQL error ${masked.extensions.errorId} at allInsightViews: relation "x" does not exist`);
  const forClient = maskError(
    new GraphQLError('x', { originalError: Object.assign(new Error('title is required'), { code: '22023' }) }),
  );
  t.is(forClient.message, 'title is required', "our functions' input errors are shown");
  t.is(lines.length, 1);
});

test('the dev sign-in gives a working admin token when enabled, and nothing otherwise', async (t) => {
  const db = await useTestDatabase(t);
  const pool = createPool({ connectionString: db.connectionString, logger: quiet, max: 2 });
  const enabled = await startHttpServer({
    pool,
    host: '127.0.0.1',
    port: 0,
    logger: quiet,
    jwtSecret: TEST_SECRET,
    dataDir: '',
    devSignIn: true,
  });
  const disabled = await startTestServer(t, db.connectionString, { jwtSecret: TEST_SECRET });
  t.teardown(async () => {
    await enabled.close();
    await pool.end();
  });
  const { token } = (await (await fetch(`${enabled.url}/dev/token`)).json()) as { token: string };
  const me = await postGraphql(enabled.url, '{ allRepositories { totalCount } }', token);
  t.is(me.status, 200);
  t.is(me.body.errors, undefined);
  t.is((await fetch(`${disabled.url}/dev/token`)).status, 404);
});
