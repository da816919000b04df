// bench:api — the dashboard read path under load. Seeds a dashboard of 10 views x 5 series over
// 1,000 repositories x 90 weekly samples (4.5 million points), starts `code-insights serve
// --no-worker` on it, and has 16 concurrent clients fetch the whole dashboard (every view's lines
// and loading flag) through GraphQL; then the same SQL (sql/dashboard-read.sql) run directly with
// pg as the same API role and claims. Rounds alternate between the two. Two loads: saturated (each
// client sends its next request as soon as the last one is answered: the machine's throughput) and
// paced (each client reads the dashboard every --pace-ms, like open dashboards refreshing). Prints
// p50/p95 of each path and the ratios GraphQL / SQL (target: GraphQL p95 under 50 ms).
// Other users' views (--other-views, 5 series each, with finished backfills) make the installation
// larger than the dashboard, as in production: a read must not grow with them.
//   npm run bench:api [-- --repos 1000 --samples 90 --other-views 2000 --clients 16 --requests 400 --pace-ms 250]
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { issueToken } from '../src/auth/tokens.ts';
import { startScratchServer } from '../src/db/scratch-database.ts';
import { createLogger } from '../src/logger.ts';
import { projectRoot } from '../src/project-root.ts';
import {
  analyzeDatabase,
  apiBenchTotals,
  dashboardSeriesIds,
  insertApiBenchPoints,
  readDashboard,
  seedApiBench,
} from '../src/store/bench.ts';
import { applyRequestSettings } from '../src/store/requester.ts';
import { withTransaction } from '../src/store/transaction.ts';
import { positiveIntegerArgs } from './positive-integer-args.ts';

const args = positiveIntegerArgs({
  repos: 1000,
  views: 10,
  series: 5,
  samples: 90,
  'other-views': 2000,
  clients: 16,
  requests: 400,
  rounds: 3,
  'pace-ms': 250,
});
const scale = {
  repos: args.repos,
  views: args.views,
  series: args.series,
  samples: args.samples,
  otherViews: args['other-views'],
};
const clients = args.clients;
const requestsPerRound = args.requests;
const rounds = args.rounds;
const paceMs = args['pace-ms'];

const logger = createLogger({ level: 'warn' });
const SECRET_TEXT = 'bench-api-secret-that-is-long-enough-for-hs256';
const SECRET = new TextEncoder().encode(SECRET_TEXT);

const server = await startScratchServer({ logger, databaseUrl: process.env.DATABASE_URL });
let child: ReturnType<typeof spawn> | undefined;
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'code-insights-bench-api-'));
try {
  const url = await server.createDatabase('bench_api');
  const owner = new pg.Pool({ connectionString: url, max: 4 });
  const started = Date.now();
  await seedApiBench(owner, scale);
  // Points for the dashboard's series only: the other views stay empty.
  const series = await dashboardSeriesIds(owner);
  for (const [index, id] of series.entries()) {
    await insertApiBenchPoints(owner, id);
    process.stdout.write(`\rseeding points: series ${index + 1}/${series.length}`);
  }
  await analyzeDatabase(owner);
  const counted = await apiBenchTotals(owner);
  const dashboardId = counted.dashboard;
  console.log(
    `\rseeded ${counted.points.toLocaleString('en')} points: ${scale.views} views x ${scale.series} series x ` +
      `${scale.repos} repositories x ${scale.samples} samples, beside ${scale.otherViews.toLocaleString('en')} ` +
      `other users' views, in ${((Date.now() - started) / 1000).toFixed(0)} s`,
  );
  await owner.end();

  // The API in its own process, as it runs in production (no worker: nothing else competes).
  child = spawn(process.execPath, [path.join(projectRoot, 'src', 'cli', 'bin.js'), 'serve', '--no-worker'], {
    env: {
      ...process.env,
      DATABASE_URL: url,
      PORT: '0',
      HOST: '127.0.0.1',
      DATA_DIR: dataDir,
      JWT_SECRET: SECRET_TEXT,
      LOG_LEVEL: 'warn',
      GRAPHILE_ENV: 'production',
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const apiUrl = await new Promise<string>((resolve, reject) => {
    let output = '';
    child!.stdout!.on('data', (chunk) => {
      output += chunk;
      const match = output.match(/GraphQL:\s+(\S+)\/graphql/);
      if (match) resolve(match[1]!);
    });
    child!.once('exit', (code) => reject(new Error(`serve exited with ${code} before listening`)));
  });

  const token = await issueToken({ userId: 1, orgIds: [], admin: false, ttl: '1h' }, SECRET);
  const query = `query ($id: Int!) { dashboardByRowId(rowId: $id) { title
    dashboardInsightViewsByDashboardId(orderBy: ROW_ID_ASC) { nodes { insightViewByInsightViewId {
      rowId title loading data { seriesId label stroke times values } } } } } }`;
  const viaGraphql = async () => {
    const response = await fetch(`${apiUrl}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ query, variables: { id: dashboardId } }),
    });
    const body = (await response.json()) as { data?: any; errors?: unknown };
    if (body.errors) throw new Error(`GraphQL errors: ${JSON.stringify(body.errors)}`);
    return body.data.dashboardByRowId.dashboardInsightViewsByDashboardId.nodes.map(
      (n: any) => n.insightViewByInsightViewId.data,
    ) as Array<Array<{ values: number[] }>>;
  };
  // The same reads as the API makes them: a transaction as the API role with the token's claims.
  const direct = new pg.Pool({ connectionString: url, max: 10 });
  const viaSql = () =>
    withTransaction(direct, async (client) => {
      await applyRequestSettings(client, { role: 'code_insights_user', 'jwt.claims.user_id': '1' });
      return (await readDashboard(client, dashboardId)).map((row) => row.data) as Array<Array<{ values: number[] }>>;
    });

  // Both paths must return the same numbers, or the comparison means nothing.
  const total = (views: Array<Array<{ values: number[] }>>) =>
    views.flat().reduce((sum, line) => sum + line.values.reduce((a, b) => a + b, 0), 0);
  const [fromGraphql, fromSql] = [await viaGraphql(), await viaSql()];
  if (fromGraphql.length !== scale.views || total(fromGraphql) !== total(fromSql)) {
    throw new Error(
      `GraphQL and SQL disagree: ${fromGraphql.length} views, totals ${total(fromGraphql)} vs ${total(fromSql)}`,
    );
  }
  console.log(
    `each read: ${fromGraphql.length} views, ${fromGraphql.flat().length} lines, ${fromGraphql.flat().reduce((n, l) => n + l.values.length, 0)} points (sum ${total(fromGraphql)})`,
  );

  /** Each client reads, then waits until pace ms after its last start (0: at once). */
  const load = async (read: () => Promise<unknown>, pace = 0) => {
    const latencies: number[] = [];
    let next = 0;
    await Promise.all(
      Array.from({ length: clients }, async (_, client) => {
        if (pace) await new Promise((resolve) => setTimeout(resolve, (pace * client) / clients)); // spread the starts
        while (next++ < requestsPerRound) {
          const begin = performance.now();
          await read();
          const took = performance.now() - begin;
          latencies.push(took);
          if (pace > took) await new Promise((resolve) => setTimeout(resolve, pace - took));
        }
      }),
    );
    return latencies;
  };
  await load(viaGraphql); // warm-up: plans, caches, connections
  await load(viaSql);
  const measure = async (pace: number) => {
    const measured = { graphql: [] as number[], sql: [] as number[] };
    const begun = Date.now();
    for (let round = 0; round < rounds; round++) {
      measured.graphql.push(...(await load(viaGraphql, pace)));
      measured.sql.push(...(await load(viaSql, pace)));
    }
    return { measured, seconds: (Date.now() - begun) / 1000 };
  };
  const saturated = await measure(0);
  const paced = await measure(paceMs);
  await direct.end();

  const percentile = (values: number[], p: number) => {
    const sorted = [...values].sort((a, b) => a - b);
    return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
  };
  const row = (name: string, values: number[]) =>
    `  ${name.padEnd(8)} p50 ${percentile(values, 50).toFixed(1).padStart(7)} ms   p95 ${percentile(values, 95).toFixed(1).padStart(7)} ms   (${values.length} requests)`;
  const report = (title: string, { measured, seconds }: Awaited<ReturnType<typeof measure>>) => {
    console.log(`${title}: ${rounds} rounds of ${requestsPerRound} requests per path, in ${seconds.toFixed(0)} s`);
    console.log(row('GraphQL', measured.graphql));
    console.log(row('SQL', measured.sql));
    const ratio = (p: number) => (percentile(measured.graphql, p) / percentile(measured.sql, p)).toFixed(2);
    console.log(`  ratio GraphQL / SQL: p50 ${ratio(50)}x, p95 ${ratio(95)}x`);
    console.log(`  target, GraphQL p95 under 50 ms: ${percentile(measured.graphql, 95) < 50 ? 'met' : 'NOT met'}`);
  };
  report(`${clients} concurrent clients, saturated (next request as soon as the last is answered)`, saturated);
  report(`${clients} concurrent clients, paced (each reads the dashboard every ${paceMs} ms)`, paced);
} finally {
  if (child && child.exitCode === null) {
    child.kill('SIGTERM');
    await new Promise((resolve) => child!.once('exit', resolve));
  }
  fs.rmSync(dataDir, { recursive: true, force: true });
  await server.close();
}
