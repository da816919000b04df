// Hostile queries against a real `serve` process (API and worker in one process, loopback only):
// catastrophic regexps on contents, paths and repository names, a search that outlives its
// deadline, deeply nested groups, NUL and oversized queries. While they run, another client's
// `{__typename}` keeps being answered promptly; each hostile series gets its points (RE2 is linear)
// or a timeout point, each hostile query a refusal that says why.
import test from 'ava';
import { issueToken } from '../../src/auth/tokens.ts';
import { cliEnv, startCli } from '../helpers/cli.ts';
import { useTestDatabase } from '../helpers/database.ts';
import { postGraphql } from '../helpers/server.ts';
import { waitFor } from '../helpers/wait.ts';
import { createFixtureRepository, tempDir } from '../fixtures/git-repository.ts';

const SECRET = 'hostile-queries-test-secret-long-enough-xx';
const CREATE = `mutation ($input: CreateLineChartInsightInput!) { createLineChartInsight(input: $input) {
  result { insightViewSeriesByInsightViewId { nodes { insightSeriesByInsightSeriesId { rowId query } } } } } }`;
const A30 = 'a'.repeat(30);

test('hostile patterns never stall the server, and each gets its points, a timeout point or a refusal', async (t) => {
  const db = await useTestDatabase(t);
  const dir = tempDir(t);
  // `(a+)+$` backtracks exponentially on 30 a's followed by a non-match in a backtracking engine.
  // Eight distinct megabyte blobs (an identical one would be counted once) of one-character matches.
  const slow = Object.fromEntries([1, 2, 3, 4, 5, 6, 7, 8].map((k) => [`slow${k}.txt`, 'ab'.repeat(500_000 - k)]));
  const repo = createFixtureRepository(`${dir}/evil.git`, [
    {
      date: new Date(Date.now() - 86_400_000).toISOString(),
      files: { [`${A30}/${A30}`]: `${A30}!\n${A30}\n`, ...slow },
    },
  ]);
  await db.pool.query('select insights_core.register_repository($1, $2)', [repo.path, `acme/${A30}!`]);
  const serve = startCli(
    ['serve', '--data-dir', tempDir(t)],
    cliEnv({
      DATABASE_URL: db.connectionString,
      PORT: '0',
      JWT_SECRET: SECRET,
      SEARCH_TIMEOUT_SECONDS: '2',
      WORKER_CONCURRENCY: '2',
    }),
  );
  t.teardown(() => {
    if (serve.child.exitCode === null) serve.child.kill('SIGKILL');
  });
  const [, url] = await serve.waitForOutput(/GraphQL: +(http:\/\/\S+)\/graphql/);
  const token = await issueToken({ userId: 1, orgIds: [], admin: false, ttl: '10m' }, new TextEncoder().encode(SECRET));

  // A second client asks {__typename} every 20 ms for as long as the attack lasts.
  const latencies: number[] = [];
  const wrong: string[] = [];
  let attacking = true;
  t.teardown(() => void (attacking = false));
  const probe = (async () => {
    while (attacking) {
      const started = performance.now();
      const { body } = await postGraphql(url!, '{ __typename }');
      latencies.push(performance.now() - started);
      if (body.data?.__typename !== 'Query') wrong.push(JSON.stringify(body));
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  })();

  const series = [
    { query: `file:(a+)+$ /(a+)+$/`, expected: { value: 1 } }, // the file aaa…/aaa…, its second line
    { query: `type:path /(a+)+$/`, expected: { value: 1 } }, // the path aaa…/aaa…
    { query: `repo:(a+)+$ /(a+)+$/`, expected: { value: 0 } }, // the name ends in "!": out of scope
    { query: `repo:(a+)+! /(a+)+$/`, expected: { value: 1 } },
    // Eight million matches by re2js (`é?` case-insensitive keeps it off V8): past the 2 s deadline.
    { query: '/(.)é?/', expected: { timeout: true } },
  ];
  const created = await postGraphql(url!, CREATE, token, {
    input: {
      title: 'hostile',
      intervalUnit: 'WEEK',
      intervalValue: 1,
      repositories: [`acme/${A30}!`],
      series: series.map(({ query }) => ({ query })),
    },
  });
  t.is(created.body.errors, undefined, JSON.stringify(created.body.errors));
  const ids = (created.body.data.createLineChartInsight.result.insightViewSeriesByInsightViewId.nodes as any[]).map(
    (node) => node.insightSeriesByInsightSeriesId as { rowId: number; query: string },
  );

  const refusals: Array<[string, string]> = [
    [`${'('.repeat(20_000)}a${')'.repeat(20_000)}`, 'too-long'],
    [`/${'('.repeat(1500)}a${')'.repeat(1500)}/`, 'invalid-regexp'],
    ['TODO\u0000', 'syntax'],
    [`x lang:${'q'.repeat(4000)}`, 'unknown-language'],
  ];
  for (const [query, code] of refusals) {
    const { body } = await postGraphql(
      url!,
      'query ($q: String!) { checkQuery(query: $q) { ok code message } }',
      token,
      {
        q: query,
      },
    );
    t.is(body.data?.checkQuery.code, code, `${query.slice(0, 30)}: ${JSON.stringify(body)}`.slice(0, 300));
    t.false(body.data.checkQuery.message.includes('An error occurred'));
  }
  // A megabyte query is refused before it is parsed, with a message that says so.
  const huge = await postGraphql(url!, 'query ($q: String!) { checkQuery(query: $q) { ok code } }', token, {
    q: 'x'.repeat(1 << 20),
  });
  const hugeAnswer = JSON.stringify(huge.body);
  t.is(huge.status, 413, hugeAnswer.slice(0, 300));
  t.regex(huge.body.errors![0]!.message, /^the request body is \d+ bytes; the limit is 100000 bytes/);
  t.false(hugeAnswer.includes('An error occurred'));

  // Every hostile series is recorded: a value, or a timeout point for the one past its deadline.
  for (const [k, { rowId, query }] of ids.entries()) {
    const outcome = await waitFor(
      async () => {
        const { rows } = await db.pool.query(
          `select (select coalesce(sum(value), 0) from series_points p join insight_series s on s.series_id = p.series_id
                    where s.id = $1 and p.time > now() - interval '1 hour') as value,
                  (select array_agg(reason::text) from insight_series_incomplete_points where series_id = $1) as reasons,
                  exists (select 1 from insight_series_recording_times where insight_series_id = $1
                           and not snapshot and recording_time > now() - interval '1 hour') as recorded`,
          [rowId],
        );
        return rows[0].recorded ? rows[0] : undefined;
      },
      120_000,
      `the recording of ${query}`,
    );
    const expected = series[k]!.expected;
    if ('timeout' in expected) t.deepEqual(outcome.reasons, ['timeout'], `${query}: ${JSON.stringify(outcome)}`);
    else t.is(Number(outcome.value), expected.value, query);
  }
  attacking = false;
  await probe;
  t.deepEqual(wrong, [], 'every probe was answered');
  t.true(latencies.length >= 10, `${latencies.length} probes`);
  const slowest = Math.max(...latencies);
  t.log(`{__typename} during the attack: ${latencies.length} answers, slowest ${slowest.toFixed(0)} ms`);
  t.true(slowest < 200, `the slowest {__typename} took ${slowest.toFixed(0)} ms`);
});
