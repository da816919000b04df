// Request cost limits against a real server: aliases, depth, fragment-spread explosions, bracket
// nesting, query length, subscriptions per websocket and websockets per process, the API roles'
// statement timeout; and bad input PostgreSQL refuses (NUL bytes, bad datetimes) or Grafast refuses
// (too deep to plan) answered with what is wrong instead of a masked "An error occurred".
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { getIntrospectionQuery, GraphQLError, parse } from 'postgraphile/graphql';
import { issueToken, pgSettingsFor } from '../src/auth/tokens.ts';
import { loadConfig } from '../src/config.ts';
import { createPool } from '../src/db/pool.ts';
import { createLogger } from '../src/logger.ts';
import { startHttpServer } from '../src/server/http-server.ts';
import { makeMaskError, maskError } from '../src/server/postgraphile-preset.ts';
import { projectRoot } from '../src/project-root.ts';
import {
  checkDocument,
  DEFAULT_REQUEST_LIMITS,
  measureDocument,
  type RequestLimits,
} from '../src/server/request-limits.ts';
import { useTestDatabase } from './helpers/database.ts';
import { postGraphql } from './helpers/server.ts';

const SECRET = new TextEncoder().encode('api-limits-test-secret-long-enough-for-hs256');
const quiet = createLogger({ level: 'error', write: () => {} });
const userToken = () => issueToken({ userId: 1, orgIds: [], admin: false, ttl: '5m' }, SECRET);

/** A real server on a free port with the given limits (the defaults otherwise). */
async function serverWith(t: ExecutionContext, limits: Partial<RequestLimits> = {}) {
  const db = await useTestDatabase(t);
  const pool = createPool({ connectionString: db.connectionString, logger: quiet, max: 4 });
  const server = await startHttpServer({
    pool,
    host: '127.0.0.1',
    port: 0,
    logger: quiet,
    jwtSecret: SECRET,
    dataDir: '',
    limits,
  });
  t.teardown(async () => {
    await server.close();
    await pool.end();
  });
  return { db, url: server.url };
}

const firstError = (body: { errors?: Array<{ message: string; extensions?: Record<string, unknown> }> }) =>
  body.errors?.[0] ?? { message: `(no error: ${JSON.stringify(body).slice(0, 200)})` };

const nested = (levels: number) => `{ ${'query { '.repeat(levels)}__typename${' }'.repeat(levels)} }`;

test('the defaults are the settings’ defaults', (t) => {
  const config = loadConfig({});
  t.deepEqual(
    {
      maxDepth: config.GRAPHQL_MAX_DEPTH,
      maxAliases: config.GRAPHQL_MAX_ALIASES,
      maxFields: config.GRAPHQL_MAX_FIELDS,
      maxQueryLength: config.GRAPHQL_MAX_QUERY_LENGTH,
      maxSubscriptionsPerConnection: config.GRAPHQL_MAX_SUBSCRIPTIONS_PER_CONNECTION,
      maxSubscriptions: config.GRAPHQL_MAX_SUBSCRIPTIONS,
      maxWebsockets: config.GRAPHQL_MAX_WEBSOCKETS,
      statementTimeoutMs: config.API_STATEMENT_TIMEOUT_SECONDS * 1000,
    },
    { ...DEFAULT_REQUEST_LIMITS },
  );
  t.throws(() => loadConfig({ GRAPHQL_MAX_DEPTH: '0' }), { message: /GRAPHQL_MAX_DEPTH must be at least 1/ });
  t.throws(() => loadConfig({ API_STATEMENT_TIMEOUT_SECONDS: 'soon' }), {
    message: /API_STATEMENT_TIMEOUT_SECONDS must be a number/,
  });
});

test('alias amplification, deep queries and fragment explosions are refused with the limit they exceed', async (t) => {
  const { url } = await serverWith(t);
  // The attack of issue 13: 2,000 aliases of a list in one request (under the 100 KB body limit).
  const aliases = `{${Array.from({ length: 2000 }, (_, i) => `a${i}:allRepositories{nodes{name lastFetchError}}`).join('')}}`;
  t.true(aliases.length > 90_000 && aliases.length < 100_000, `${aliases.length} characters`);
  const amplified = await postGraphql(url, aliases);
  t.is(amplified.body.data, undefined);
  t.is(
    firstError(amplified.body).message,
    'the query selects 2,000 aliases; the limit is 100 (setting GRAPHQL_MAX_ALIASES)',
  );
  t.like(firstError(amplified.body).extensions, {
    code: 'QUERY_TOO_COMPLEX',
    limit: 100,
    setting: 'GRAPHQL_MAX_ALIASES',
  });
  t.is(amplified.body.errors!.length, 1, 'no other validation ran on it');
  t.is(amplified.status, 400, 'refused before it was parsed');
  // Aliases spread through fragments count as often as they are spread.
  const spread = await postGraphql(
    url,
    `{ ${Array.from({ length: 20 }, (_, i) => `q${i}: query { ...Ten }`).join(' ')} } fragment Ten on Query { ${Array.from({ length: 10 }, (_, i) => `r${i}: allRepositories { totalCount }`).join(' ')} }`,
  );
  t.is(
    firstError(spread.body).message,
    'the query selects 220 aliases; the limit is 100 (setting GRAPHQL_MAX_ALIASES)',
  );

  const deep = await postGraphql(url, nested(40));
  t.is(firstError(deep.body).message, 'the query is 41 fields deep; the limit is 15 (setting GRAPHQL_MAX_DEPTH)');
  t.like(firstError(deep.body).extensions, { code: 'QUERY_TOO_COMPLEX' });
  // Depth through fragments counts too.
  const viaFragments = await postGraphql(
    url,
    `{ ...F0 } ${Array.from({ length: 20 }, (_, i) => `fragment F${i} on Query { query { ${i === 19 ? '__typename' : `...F${i + 1}`} } }`).join(' ')}`,
  );
  t.is(
    firstError(viaFragments.body).message,
    'the query is 21 fields deep; the limit is 15 (setting GRAPHQL_MAX_DEPTH)',
  );

  // Each fragment spreads the previous one twice: 2^40 fields from a 2 KB document, measured in
  // linear time.
  const explosion = `{ ...F40 } fragment F0 on Query { __typename } ${Array.from(
    { length: 40 },
    (_, i) => `fragment F${i + 1} on Query { ...F${i} ...F${i} }`,
  ).join(' ')}`;
  // (How promptly, with others' requests meanwhile, is test/latency/hostile-input.latency.ts's job.)
  const exploded = await postGraphql(url, explosion);
  t.is(
    firstError(exploded.body).message,
    'the query selects 1,099,511,627,776 fields (fragments expanded); the limit is 2,000 (setting GRAPHQL_MAX_FIELDS)',
  );
  // A fragment cycle is graphql-js's own validation error, not a crash.
  const cycle = await postGraphql(url, '{ ...A } fragment A on Query { ...B } fragment B on Query { ...A }');
  t.regex(firstError(cycle.body).message, /^Cannot spread fragment "A" within itself/);

  // Within the limits: answered.
  const fine = await postGraphql(
    url,
    `{ ${Array.from({ length: 100 }, (_, i) => `r${i}: allRepositories { totalCount }`).join(' ')} }`,
  );
  t.is(fine.body.errors, undefined, JSON.stringify(fine.body.errors));
  t.is(fine.body.data.r99.totalCount, 0);
  const deepEnough = await postGraphql(url, nested(14));
  t.is(deepEnough.body.errors, undefined, JSON.stringify(deepEnough.body.errors));
});

test("GraphiQL's introspection query and the dashboard's queries pass the default limits", async (t) => {
  const { url } = await serverWith(t);
  // As Ruru (GraphiQL) sends it: graphql 16's query with these options, 15 fields deep.
  const introspection = getIntrospectionQuery({ inputValueDeprecation: true, schemaDescription: true });
  const { body } = await postGraphql(url, introspection);
  t.is(body.errors, undefined, JSON.stringify(body.errors));
  t.is(body.data.__schema.queryType.name, 'Query');
  t.true(body.data.__schema.types.length > 50);
  // Every query of the web dashboard and of bench/api.ts, with room to spare.
  const sources = ['web/app.js', 'bench/api.ts'].map((file) => fs.readFileSync(path.join(projectRoot, file), 'utf8'));
  const documents = sources.flatMap((text) =>
    [...text.matchAll(/`((?:query|mutation|subscription)\b[^`]*|\{\s*\w+[({][^`]*)`/g)].map((match) => match[1]!),
  );
  t.true(documents.length >= 4, `${documents.length} documents`);
  for (const source of documents) {
    t.is(checkDocument(parse(source), DEFAULT_REQUEST_LIMITS), undefined, source);
    for (const cost of measureDocument(parse(source)).values()) t.true(cost.depth <= 8 && cost.fields <= 100, source);
  }
});

test('bracket nesting and query length are refused before parsing, with what is wrong', async (t) => {
  const { url } = await serverWith(t, { maxQueryLength: 5000 });
  // 20,000 levels would overflow graphql-js's recursive parser (a RangeError, sent as `{}`).
  const brackets = await postGraphql(url, `{ a(x: ${'['.repeat(2400)}1${']'.repeat(2400)}) }`);
  t.is(brackets.status, 400);
  t.is(
    firstError(brackets.body).message,
    'the query nests brackets 2,402 levels deep; the limit is 100 (twice the setting GRAPHQL_MAX_DEPTH, at least 100)',
  );
  t.like(firstError(brackets.body).extensions, { code: 'QUERY_TOO_COMPLEX' });
  const selections = await postGraphql(url, nested(400));
  t.regex(firstError(selections.body).message, /^the query nests brackets 401 levels deep; the limit is 100 /);
  // Brackets inside strings and comments do not count.
  const quoted = await postGraphql(url, `{ checkQuery(query: "${'('.repeat(300)}") { ok } # ${'{'.repeat(300)}\n}`);
  t.is(quoted.body.errors, undefined, JSON.stringify(quoted.body.errors));

  const long = await postGraphql(url, `{ __typename ${' '.repeat(6000)}}`);
  t.is(long.status, 400);
  t.is(
    firstError(long.body).message,
    'the query is 6,014 characters long; the limit is 5,000 (setting GRAPHQL_MAX_QUERY_LENGTH)',
  );
  t.like(firstError(long.body).extensions, { code: 'QUERY_TOO_LONG', limit: 5000 });
});

/** A graphql-transport-ws connection that can run several operations. */
async function openSocket(t: ExecutionContext, url: string, token?: string) {
  const socket = new WebSocket(`${url.replace(/^http/, 'ws')}/graphql`, 'graphql-transport-ws');
  t.teardown(() => socket.close());
  const messages = new Map<string, Array<{ type: string; payload: any }>>();
  const waiters = new Map<string, () => void>();
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    socket.addEventListener('close', (event) => resolve({ code: event.code, reason: event.reason })),
  );
  await new Promise<void>((resolve, reject) => {
    socket.addEventListener('open', () => resolve());
    socket.addEventListener('error', () => reject(new Error('websocket did not open')));
  });
  const acknowledged = new Promise<void>((resolve, reject) => {
    socket.addEventListener('message', (event) => {
      const message = JSON.parse(String(event.data));
      if (message.type === 'connection_ack') return resolve();
      if (message.type === 'ping') return socket.send(JSON.stringify({ type: 'pong' }));
      if (!message.id) return;
      const list = messages.get(message.id) ?? [];
      list.push(message);
      messages.set(message.id, list);
      waiters.get(message.id)?.();
    });
    socket.addEventListener('close', (event) => reject(new Error(`closed: ${event.code} ${event.reason}`)));
  });
  socket.send(JSON.stringify({ type: 'connection_init', payload: token ? { authorization: `Bearer ${token}` } : {} }));
  await acknowledged;
  return {
    closed,
    subscribe(id: string, query: string) {
      socket.send(JSON.stringify({ id, type: 'subscribe', payload: { query } }));
    },
    /** The first message for `id`. */
    async first(id: string, timeoutMs = 10_000): Promise<{ type: string; payload: any }> {
      if (!messages.get(id)?.length)
        await new Promise<void>((resolve, reject) => {
          const timer = setTimeout(() => reject(new Error(`no message for ${id} within ${timeoutMs} ms`)), timeoutMs);
          waiters.set(id, () => {
            clearTimeout(timer);
            resolve();
          });
        });
      return messages.get(id)![0]!;
    },
  };
}

test('a websocket may run 20 subscriptions; the 21st is refused with the limit, the 41st closes it', async (t) => {
  const { db, url } = await serverWith(t);
  const view = (
    await db.pool.query(
      `select id from insights_core.create_line_insight('Debt', '[{"query": "TODO"}]', null, null, 'WEEK', 1, null, 1)`,
    )
  ).rows[0].id;
  const socket = await openSocket(t, url, await userToken());
  const query = `subscription { backfillProgress(viewId: ${view}) { insightView { title } } }`;
  for (let k = 1; k <= 20; k++) socket.subscribe(String(k), query);
  for (let k = 1; k <= 20; k++) {
    const first = await socket.first(String(k));
    t.is(first.type, 'next', JSON.stringify(first));
    t.is(first.payload.data.backfillProgress.insightView.title, 'Debt');
  }
  socket.subscribe('21', query);
  const refused = await socket.first('21');
  t.is(refused.type, 'error');
  t.is(
    refused.payload[0].message,
    'this connection already has 20 subscriptions (or other operations) running; the limit is 20 per connection (setting GRAPHQL_MAX_SUBSCRIPTIONS_PER_CONNECTION): complete one first, or open another connection',
  );
  t.like(refused.payload[0].extensions, { code: 'TOO_MANY_SUBSCRIPTIONS', limit: 20 });
  // A client that goes on after 20 refusals in a row is closed, with the reason.
  for (let k = 22; k <= 40; k++) socket.subscribe(String(k), query);
  for (let k = 22; k <= 40; k++) t.is((await socket.first(String(k))).type, 'error');
  socket.subscribe('41', query);
  t.deepEqual(await socket.closed, {
    code: 1008,
    reason: 'too many subscriptions: the limit is 20 per connection (setting GRAPHQL_MAX_SUBSCRIPTIONS_PER_CONNECTION)',
  });
  // Another connection has its own 20.
  const other = await openSocket(t, url, await userToken());
  other.subscribe('1', query);
  t.is((await other.first('1')).type, 'next');
});

test('websocket limits: too many connections get a 503 naming the limit; long queries over a socket too', async (t) => {
  const { url } = await serverWith(t, { maxWebsockets: 2, maxQueryLength: 1000 });
  const first = await openSocket(t, url);
  await openSocket(t, url);
  const { status, body } = await new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = http.request(`${url}/graphql`, {
      headers: {
        connection: 'Upgrade',
        upgrade: 'websocket',
        'sec-websocket-version': '13',
        'sec-websocket-key': Buffer.from('0123456789abcdef').toString('base64'),
        'sec-websocket-protocol': 'graphql-transport-ws',
      },
    });
    req.on('response', (res) => {
      let text = '';
      res.on('data', (chunk) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode!, body: text }));
    });
    req.on('upgrade', () => reject(new Error('the third websocket was accepted')));
    req.on('error', reject);
    req.end();
  });
  t.is(status, 503);
  t.is(
    JSON.parse(body).errors[0].message,
    'the server already has 2 websocket connections open; the limit is 2 (setting GRAPHQL_MAX_WEBSOCKETS): try again later',
  );

  first.subscribe('long', `{ __typename ${' '.repeat(2000)}}`);
  const refused = await first.first('long');
  t.is(refused.type, 'error');
  t.is(
    refused.payload[0].message,
    'the query is 2,014 characters long; the limit is 1,000 (setting GRAPHQL_MAX_QUERY_LENGTH)',
  );
  first.subscribe('deep', nested(30));
  t.is(
    (await first.first('deep')).payload[0].message,
    'the query is 31 fields deep; the limit is 15 (setting GRAPHQL_MAX_DEPTH)',
  );
});

test("a statement past the API roles' statement timeout gets a message naming the limit", async (t) => {
  const { db, url } = await serverWith(t, { statementTimeoutMs: 1 });
  // Enough repositories that counting them (through row-level security) takes well over 1 ms.
  await db.pool.query(
    `insert into repositories (name, clone_url) select 'acme/r' || k, '/nonexistent/' || k from generate_series(1, 300000) k`,
  );
  const { body } = await postGraphql(
    url,
    '{ allRepositories(orderBy: NAME_DESC, first: 1) { totalCount nodes { name } } }',
  );
  t.is(
    firstError(body).message,
    'the request ran longer than the 1 ms statement limit (setting API_STATEMENT_TIMEOUT_SECONDS); ask for less (fewer rows, series or repositories) and try again',
  );
  t.like(firstError(body).extensions, { code: '57014' });
  t.false(JSON.stringify(body).includes('canceling statement'), 'not PostgreSQL’s own words');
});

test('pgSettingsFor sets statement_timeout in milliseconds when given one', (t) => {
  t.is(pgSettingsFor(undefined, { statementTimeoutMs: 15_000 }).statement_timeout, '15000');
  t.is(pgSettingsFor({ userId: 1, orgIds: [], admin: false }, { statementTimeoutMs: 0.2 }).statement_timeout, '1');
  t.is(pgSettingsFor(undefined, { statementTimeoutMs: 0 }).statement_timeout, undefined, '0: no limit');
  t.is(pgSettingsFor(undefined).statement_timeout, undefined);
});

test('maskError words statement timeouts after the limit in force, and hides PostgreSQL’s own words', (t) => {
  const pgError = (code: string, message: string) =>
    new GraphQLError('x', { originalError: Object.assign(new Error(message), { code }) });
  const timeout = pgError('57014', 'canceling statement due to statement timeout');
  t.is(
    maskError(timeout).message,
    'the request ran longer than the 15 s statement limit (setting API_STATEMENT_TIMEOUT_SECONDS); ask for less (fewer rows, series or repositories) and try again',
  );
  t.regex(
    makeMaskError({ statementTimeoutMs: 2500, maxDepth: 15 })(timeout).message,
    /longer than the 2\.5 s statement limit/,
  );
  t.regex(
    makeMaskError({ statementTimeoutMs: 0, maxDepth: 15 })(timeout).message,
    /database server's statement_timeout/,
  );
  t.regex(maskError(pgError('57014', 'canceling statement due to user request')).message, /^the request was cancelled/);
  const nul = maskError(pgError('22021', 'invalid byte sequence for encoding "UTF8": 0x00'));
  t.false(nul.message.includes('0x00'), nul.message);
  t.like(nul.extensions, { code: '22021' });
});

const CREATE = `mutation ($input: CreateLineChartInsightInput!) { createLineChartInsight(input: $input) { result { rowId } } }`;
const SERIES = [{ query: 'TODO' }];

test('NUL bytes, bad datetimes and queries too deep to plan get a message saying what is wrong', async (t) => {
  const { url } = await serverWith(t, { maxDepth: 200 });
  const token = await userToken();
  const cases: Array<[string, string, Record<string, unknown> | undefined, RegExp]> = [
    [
      'NUL in a text argument',
      'query ($n: String!) { repositoryByName(name: $n) { name } }',
      { n: 'acme/\u0000api' },
      /^a text argument contains a NUL character \(\\u0000\)/,
    ],
    [
      'NUL in a mutation title',
      CREATE,
      { input: { title: 'Debt\u0000', intervalUnit: 'WEEK', intervalValue: 1, series: SERIES } },
      /^a text argument contains a NUL character/,
    ],
    [
      'NUL in a JSON argument',
      CREATE,
      {
        input: { title: 'Debt', intervalUnit: 'WEEK', intervalValue: 1, series: [{ query: 'TODO', label: 'x\u0000' }] },
      },
      /^a JSON argument contains \\u0000/,
    ],
    [
      'not a datetime',
      'query ($at: Datetime!) { insightSeriesRecordingTimeByInsightSeriesIdAndRecordingTime(insightSeriesId: 1, recordingTime: $at) { recordingTime } }',
      { at: 'next tuesday-ish' },
      /^a date\/time argument is not a valid timestamp/,
    ],
    [
      'a datetime out of range',
      'query ($at: Datetime!) { insightSeriesRecordingTimeByInsightSeriesIdAndRecordingTime(insightSeriesId: 1, recordingTime: $at) { recordingTime } }',
      { at: '2024-13-45T00:00:00Z' },
      /^a date\/time argument is out of range/,
    ],
    [
      'a bad datetime in a mutation',
      CREATE,
      {
        input: {
          title: 'Debt',
          intervalUnit: 'WEEK',
          intervalValue: 1,
          series: SERIES,
          oldestHistoricalAt: 'yesterday-ish',
        },
      },
      /^a date\/time argument is not a valid timestamp/,
    ],
    [
      'a query too deep to plan',
      nested(199),
      undefined,
      /^the query is too complex to plan: it goes past planning depth \d+/,
    ],
  ];
  for (const [what, query, variables, expected] of cases) {
    const { body } = await postGraphql(url, query, token, variables);
    const answer = JSON.stringify(body);
    t.regex(firstError(body).message, expected, `${what}: ${answer.slice(0, 400)}`);
    t.false(answer.includes('An error occurred'), what);
    t.false(/\bselect\b[^"]*\bfrom\b|insights_core|\.[jt]s:\d/i.test(answer), `${what}: no SQL or stack`);
  }
});
