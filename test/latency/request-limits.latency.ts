// The request cost limits under attack, against a real `serve` process (loopback only): several
// concurrent 97 KB alias-amplification requests (issue 13, item 3), then 2,000 subscriptions on one
// websocket (item 4), then 2,000 over 100 websockets. Each attack is refused with the limit it
// exceeds, and meanwhile a second client's `{__typename}` keeps being answered within 200 ms.
import { Worker } from 'node:worker_threads';
import test from 'ava';
import { issueToken } from '../../src/auth/tokens.ts';
import { cliEnv, startCli } from '../helpers/cli.ts';
import { useTestDatabase } from '../helpers/database.ts';
import { startLatencyProbe } from '../helpers/latency-probe.ts';
import { postGraphql } from '../helpers/server.ts';
import { tempDir } from '../fixtures/git-repository.ts';

const SECRET = 'request-limits-latency-secret-long-enough-xx';
const ALIASES = `{${Array.from({ length: 2000 }, (_, i) => `a${i}:allRepositories{nodes{name lastFetchError}}`).join('')}}`;
const ALIAS_REFUSAL = 'the query selects 2,000 aliases; the limit is 100 (setting GRAPHQL_MAX_ALIASES)';
/** 97 KB of fields without aliases: refused by its length. */
const FIELDS = `{${' allRepositories { nodes { name lastFetchError } }'.repeat(1900)}}`;
const LENGTH_REFUSAL =
  /^the query is 9\d,\d{3} characters long; the limit is 20,000 \(setting GRAPHQL_MAX_QUERY_LENGTH\)$/;

interface AttackCounts {
  events: number;
  refused: number;
  other: string[];
}
const PROCESS_REFUSAL =
  /^the server already runs \d+ subscriptions \(or other websocket operations\); the limit is 500 per server process \(setting GRAPHQL_MAX_SUBSCRIPTIONS\): try again later$/;
/** A worker thread's clients: each connection subscribes perConnection times; counts posted every 50 ms. */
const ATTACKERS = `
const { parentPort, workerData } = require('node:worker_threads');
const { url, token, query, connections, perConnection, refusal } = workerData;
const pattern = new RegExp(refusal);
const counts = { events: 0, refused: 0, other: [] };
for (let c = 0; c < connections; c++) {
  const ws = new WebSocket(url.replace(/^http/, 'ws') + '/graphql', 'graphql-transport-ws');
  ws.addEventListener('open', () =>
    ws.send(JSON.stringify({ type: 'connection_init', payload: { authorization: 'Bearer ' + token } })),
  );
  ws.addEventListener('message', (event) => {
    const message = JSON.parse(String(event.data));
    if (message.type === 'connection_ack') {
      for (let k = 1; k <= perConnection; k++)
        ws.send(JSON.stringify({ id: String(k), type: 'subscribe', payload: { query } }));
    } else if (message.type === 'next') counts.events++;
    else if (message.type === 'ping') ws.send(JSON.stringify({ type: 'pong' }));
    else if (message.type === 'error' && pattern.test(message.payload[0].message)) counts.refused++;
    else counts.other.push(String(event.data).slice(0, 200));
  });
  ws.addEventListener('close', (event) => counts.other.push('closed: ' + event.code + ' ' + event.reason));
}
setInterval(() => parentPort.postMessage(counts), 50);
`;

test('alias amplification and 2,000 subscriptions (on one websocket, or on 100) are refused; {__typename} stays under 200 ms', async (t) => {
  const db = await useTestDatabase(t);
  // Repositories an accepted alias query would have listed 2,000 times over.
  await db.pool.query(
    `insert into repositories (name, clone_url) select 'acme/r' || k, '/nonexistent/' || k from generate_series(1, 500) k`,
  );
  const view = (
    await db.pool.query(
      `select id from insights_core.create_line_insight('Debt', '[{"query": "TODO"}]', null, null, 'WEEK', 1, null, 1)`,
    )
  ).rows[0].id as number;
  const serve = startCli(
    ['serve', '--no-worker', '--data-dir', tempDir(t)],
    cliEnv({ DATABASE_URL: db.connectionString, PORT: '0', JWT_SECRET: SECRET }),
  );
  t.teardown(() => {
    if (serve.child.exitCode === null) serve.child.kill('SIGKILL');
  });
  const [, url] = await serve.waitForOutput(/GraphQL: +(http:\/\/\S+)\/graphql/);
  const token = await issueToken({ userId: 1, orgIds: [], admin: false, ttl: '10m' }, new TextEncoder().encode(SECRET));
  t.true(ALIASES.length > 90_000 && ALIASES.length < 99_000, `${ALIASES.length} characters`);
  t.true(FIELDS.length > 90_000 && FIELDS.length < 99_000, `${FIELDS.length} characters`);
  // Warm up: the first request of each kind builds caches that are not part of the attack.
  await postGraphql(url!, '{ allRepositories(first: 1) { nodes { name } } }');
  await postGraphql(url!, ALIASES);

  // 1. Eight clients at once, six rounds each, send the 97 KB alias attack or 97 KB of plain fields
  // (anonymously), each request a different text (a comment), so that none is answered from a cache.
  let probe = startLatencyProbe(url!);
  const refusals: string[] = [];
  await Promise.all(
    Array.from({ length: 8 }, async (_, client) => {
      for (let round = 0; round < 6; round++) {
        const { body } = await postGraphql(url!, `# ${client}.${round}\n${round % 2 ? FIELDS : ALIASES}`);
        refusals.push(body.errors?.[0]?.message ?? JSON.stringify(body).slice(0, 200));
      }
    }),
  );
  await new Promise((resolve) => setTimeout(resolve, 200));
  let result = await probe.stop();
  t.is(refusals.length, 48);
  t.is(refusals.filter((message) => message === ALIAS_REFUSAL).length, 24, refusals[0]);
  t.is(refusals.filter((message) => LENGTH_REFUSAL.test(message)).length, 24, refusals[1]);
  t.deepEqual(result.wrong, [], 'every probe was answered');
  t.true(result.latencies.length >= 5, `${result.latencies.length} probes`);
  t.log(
    `{__typename} during the alias attack: ${result.latencies.length} answers, slowest ${result.slowest.toFixed(0)} ms`,
  );
  t.true(result.slowest < 200, `the slowest {__typename} took ${result.slowest.toFixed(0)} ms during the alias attack`);

  // 2. One websocket sends 2,000 subscriptions at once: 20 are accepted, 20 refused, then it is closed.
  const socket = new WebSocket(`${url!.replace(/^http/, 'ws')}/graphql`, 'graphql-transport-ws');
  t.teardown(() => socket.close());
  const firstMessages = new Map<string, { type: string; payload: any }>();
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    socket.addEventListener('close', (event) => resolve({ code: event.code, reason: event.reason })),
  );
  const acknowledged = new Promise<void>((resolve, reject) => {
    socket.addEventListener('message', (event) => {
      const message = JSON.parse(String(event.data));
      if (message.type === 'connection_ack') return resolve();
      if (message.type === 'ping') return socket.send(JSON.stringify({ type: 'pong' }));
      if (message.id && !firstMessages.has(message.id)) firstMessages.set(message.id, message);
    });
    socket.addEventListener('close', (event) => reject(new Error(`websocket closed: ${event.code} ${event.reason}`)));
  });
  await new Promise<void>((resolve, reject) => {
    socket.addEventListener('open', () => resolve());
    socket.addEventListener('error', () => reject(new Error('websocket did not open')));
  });
  socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${token}` } }));
  await acknowledged;
  const query = `subscription { backfillProgress(viewId: ${view}) { insightView { title seriesStatus { backfillState } } } }`;
  // Warm up: the first subscription plans the operation.
  socket.send(JSON.stringify({ id: 'warm-up', type: 'subscribe', payload: { query } }));
  while (!firstMessages.has('warm-up')) await new Promise((resolve) => setTimeout(resolve, 20));
  socket.send(JSON.stringify({ id: 'warm-up', type: 'complete' }));
  firstMessages.delete('warm-up');
  await new Promise((resolve) => setTimeout(resolve, 200));
  probe = startLatencyProbe(url!);
  await new Promise((resolve) => setTimeout(resolve, 100));
  const sent = performance.now();
  for (let k = 1; k <= 2000; k++) socket.send(JSON.stringify({ id: String(k), type: 'subscribe', payload: { query } }));
  // 20 are accepted, the next 20 are refused one by one, and then the connection is closed.
  const close = await Promise.race([
    closed,
    new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), 30_000)),
  ]);
  t.log(`2,000 subscribe messages handled in ${(performance.now() - sent).toFixed(0)} ms`);
  t.deepEqual(close, {
    code: 1008,
    reason: 'too many subscriptions: the limit is 20 per connection (setting GRAPHQL_MAX_SUBSCRIPTIONS_PER_CONNECTION)',
  });
  await new Promise((resolve) => setTimeout(resolve, 500));
  result = await probe.stop();
  const messages = [...firstMessages.values()];
  // (The accepted ones may not have sent their first event before the connection was closed.)
  t.true(messages.filter((m) => m.type === 'next').length <= 20);
  const refused = messages.filter((m) => m.type === 'error');
  t.is(refused.length, 20);
  t.true(
    refused.every((m) =>
      /^this connection already has \d+ subscriptions \(or other operations\) running; the limit is 20 per connection \(setting GRAPHQL_MAX_SUBSCRIPTIONS_PER_CONNECTION\)/.test(
        m.payload[0].message,
      ),
    ),
    JSON.stringify(refused[0]),
  );
  t.deepEqual(result.wrong, [], 'every probe was answered');
  t.true(result.latencies.length >= 5, `${result.latencies.length} probes`);
  t.log(
    `{__typename} during 2,000 subscriptions: ${result.latencies.length} answers, slowest ${result.slowest.toFixed(0)} ms`,
  );
  t.true(
    result.slowest < 200,
    `the slowest {__typename} took ${result.slowest.toFixed(0)} ms during the subscriptions`,
  );

  // 3. 2,000 subscriptions spread over 100 connections of 20 (each within its connection's limit):
  // 500 run (the limit per process), the others are refused; each running one gets an event when
  // the view's backfill advances. The 100 clients run in a worker thread, so that their own work
  // does not count against the probe.
  probe = startLatencyProbe(url!);
  await new Promise((resolve) => setTimeout(resolve, 100));
  const opened = performance.now();
  let counts: AttackCounts = { events: 0, refused: 0, other: [] };
  const attackers = new Worker(ATTACKERS, {
    eval: true,
    workerData: { url, token, query, connections: 100, perConnection: 20, refusal: PROCESS_REFUSAL.source },
  });
  attackers.on('message', (latest: AttackCounts) => (counts = latest));
  t.teardown(() => attackers.terminate());
  for (let waited = 0; counts.events + counts.refused < 2000 && waited < 60_000; waited += 50)
    await new Promise((resolve) => setTimeout(resolve, 50));
  t.log(`500 subscriptions running, 1,500 refused, after ${(performance.now() - opened).toFixed(0)} ms`);
  t.is(counts.events, 500, 'each running subscription sent its first event');
  t.is(counts.refused, 1500);
  t.deepEqual(counts.other, []);
  // The backfill advances: 500 events at once.
  await db.pool.query(`update insight_series_backfill set state = 'processing'`);
  for (let waited = 0; counts.events < 1000 && waited < 60_000; waited += 50)
    await new Promise((resolve) => setTimeout(resolve, 50));
  t.is(counts.events, 1000, 'each running subscription got the event');
  result = await probe.stop();
  await attackers.terminate();
  t.deepEqual(result.wrong, [], 'every probe was answered');
  t.log(
    `{__typename} during 2,000 subscriptions on 100 connections: ${result.latencies.length} answers, slowest ${result.slowest.toFixed(0)} ms`,
  );
  t.true(result.slowest < 200, `the slowest {__typename} took ${result.slowest.toFixed(0)} ms (100 connections)`);
});
