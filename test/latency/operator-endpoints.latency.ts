// Floods of the operator endpoints against a real server process (loopback only, bounded in count and
// time): /healthz with and without an admin token, /metrics scrapes, dev sign-ins and refused
// (rebound-Host) dev sign-ins, all at once. Concurrent health checks and scrapes share one reading
// of the database, so another client's `{__typename}` keeps being answered within 200 ms.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import test from 'ava';
import { issueToken } from '../../src/auth/tokens.ts';
import { projectRoot } from '../../src/project-root.ts';
import { useTestDatabase } from '../helpers/database.ts';
import { startLatencyProbe } from '../helpers/latency-probe.ts';
import { postGraphql } from '../helpers/server.ts';
import { tempDir } from '../fixtures/git-repository.ts';

const SECRET = 'operator-endpoints-latency-secret-long-enough';
const FLOOD_MS = 3000;
const MAX_REQUESTS_PER_LOOP = 400;

/** A GET with a Host header of its own choosing (fetch will not send one). */
function getWithHost(url: string, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const request = http.get(url, { headers: { host } }, (response) => {
      response.resume();
      response.on('end', () => resolve(response.statusCode!));
    });
    request.on('error', reject);
    request.setTimeout(10_000, () => request.destroy(new Error('no answer in 10 s')));
  });
}

test('floods of /healthz, /metrics and dev sign-in do not stall the server', async (t) => {
  const db = await useTestDatabase(t);
  const dir = tempDir(t);
  // The server in a process of its own (dev sign-in on, which `serve` allows only on the embedded
  // database), so the probe measures the server and not this process's own flooding.
  const script = path.join(dir, 'server.ts');
  fs.writeFileSync(
    script,
    `import { createPool } from ${JSON.stringify(path.join(projectRoot, 'src/db/pool.ts'))};
import { createLogger } from ${JSON.stringify(path.join(projectRoot, 'src/logger.ts'))};
import { startHttpServer } from ${JSON.stringify(path.join(projectRoot, 'src/server/http-server.ts'))};
const logger = createLogger({ level: 'error' });
const pool = createPool({ connectionString: process.env.DATABASE_URL, logger, max: 4 });
const server = await startHttpServer({ pool, host: '127.0.0.1', port: 0, logger, dataDir: ${JSON.stringify(dir)},
  jwtSecret: new TextEncoder().encode(process.env.JWT_SECRET), devSignIn: true,
  workerStatus: () => ({ state: 'running', concurrency: 1, hostname: 'h', jobsSucceeded: 0, jobsFailed: 1,
                         lastError: 'https://x-access-token:SECRET@h/r.git' }) });
console.log('listening ' + server.url);
process.on('SIGTERM', async () => { await server.close(); await pool.end(); process.exit(0); });
`,
  );
  const child = spawn(process.execPath, [script], {
    env: { ...process.env, DATABASE_URL: db.connectionString, JWT_SECRET: SECRET },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  t.teardown(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      out += chunk;
      const match = /listening (http:\/\/\S+)/.exec(out);
      if (match) resolve(match[1]!);
    });
    child.once('exit', (code) => reject(new Error(`the server exited (${code}): ${out}`)));
  });
  const port = new URL(url).port;
  const admin = await issueToken({ userId: 1, orgIds: [], admin: true, ttl: '10m' }, new TextEncoder().encode(SECRET));

  const statuses = new Map<string, Map<number, number>>();
  const tally = (what: string, status: number) => {
    const counts = statuses.get(what) ?? new Map<number, number>();
    counts.set(status, (counts.get(status) ?? 0) + 1);
    statuses.set(what, counts);
  };
  /** A request's status, its body read to the end. */
  const status = async (path: string, headers: Record<string, string> = {}) => {
    const response = await fetch(`${url}${path}`, { headers });
    await response.arrayBuffer();
    return response.status;
  };
  const attacks: Record<string, () => Promise<number>> = {
    healthz: () => status('/healthz'),
    'healthz admin': () => status('/healthz', { authorization: `Bearer ${admin}` }),
    metrics: () => status('/metrics'),
    'dev token': () => status('/dev/token'),
    'dev token, rebound host': () => getWithHost(`${url}/dev/token`, `evil.example:${port}`),
  };

  // Warm: the first GraphQL request plans its operation, which is not what this test measures.
  await postGraphql(url, '{ __typename }');
  const probe = startLatencyProbe(url);
  const until = Date.now() + FLOOD_MS;
  await Promise.all(
    Object.entries(attacks).flatMap(([what, attack]) =>
      [0, 1].map(async () => {
        for (let i = 0; i < MAX_REQUESTS_PER_LOOP && Date.now() < until; i++) tally(what, await attack());
      }),
    ),
  );
  const result = await probe.stop();
  child.kill('SIGTERM');

  const summary = Object.fromEntries([...statuses].map(([what, counts]) => [what, Object.fromEntries(counts)]));
  t.log(`answers by status: ${JSON.stringify(summary)}`);
  t.deepEqual([...statuses.get('healthz')!.keys()], [200]);
  t.deepEqual([...statuses.get('healthz admin')!.keys()], [200]);
  t.deepEqual([...statuses.get('metrics')!.keys()], [200]);
  t.deepEqual([...statuses.get('dev token')!.keys()], [200]);
  t.deepEqual([...statuses.get('dev token, rebound host')!.keys()], [403]);
  t.deepEqual(result.wrong, [], 'every probe was answered');
  t.true(result.latencies.length >= 10, `${result.latencies.length} probes`);
  t.log(`{__typename} during the flood: ${result.latencies.length} answers, slowest ${result.slowest.toFixed(0)} ms`);
  t.true(result.slowest < 200, `the slowest {__typename} took ${result.slowest.toFixed(0)} ms`);
});
