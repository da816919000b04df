// `serve` with the embedded default, as a user runs it: start, persist, stop cleanly on SIGTERM,
// recover from a killed run and a half-created data directory, refuse a taken port cleanly.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { projectRoot } from '../src/project-root.ts';
import { cliEnv, processesMentioning, type RunningCli, startCli, systemNode } from './helpers/cli.ts';
import { occupyPort } from './helpers/occupy-port.ts';
import { queryOnce as sql } from './helpers/sql.ts';
import { waitFor } from './helpers/wait.ts';

function tempDataDir(t: ExecutionContext): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'code-insights-lifecycle-'));
  fs.chmodSync(dir, 0o755); // as root, postgres runs as the postgres OS user and must reach it
  t.teardown(async () => {
    for (const pid of processesMentioning(dir)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    fs.rmSync(dir, { recursive: true, force: true });
  });
  return dir;
}

interface Started {
  cli: RunningCli;
  url: string;
  databaseUrl: string;
}

async function serve(
  dataDir: string,
  node = process.execPath,
  extraEnv: Record<string, string> = {},
  demo = false,
): Promise<Started> {
  // --data-dir on the command line (not DATA_DIR) so a failed test's teardown finds the process.
  // Without the first-run demo unless asked: these tests count the rows they make.
  const args = ['serve', '--data-dir', dataDir, ...(demo ? [] : ['--no-demo'])];
  const cli = startCli(args, cliEnv({ PORT: '0', EMBEDDED_PG_PORT: '0', WORKER_CONCURRENCY: '1', ...extraEnv }), node);
  const [, url] = await cli.waitForOutput(/GraphQL: +(http:\/\/\S+)\/graphql/);
  const [, port] = await cli.waitForOutput(/Database: postgres:\/\/postgres:\*\*\*@127\.0\.0\.1:(\d+)\/code_insights/);
  const password = fs.readFileSync(path.join(dataDir, 'postgres.password'), 'utf8').trim();
  return {
    cli,
    url: url!,
    databaseUrl: `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/code_insights`,
  };
}

async function stop(started: Started, signal: NodeJS.Signals = 'SIGTERM') {
  started.cli.child.kill(signal);
  return started.cli.exited;
}

test('serve starts the embedded database, runs SQL-enqueued jobs, stops cleanly on SIGTERM and keeps its data', async (t) => {
  const dataDir = tempDataDir(t);
  // Started the way `npx code-insights` starts on these machines: the system Node, re-executing.
  const first = await serve(dataDir, systemNode);
  const health = (await (await fetch(`${first.url}/healthz`)).json()) as any;
  t.true(health.ok);
  t.is(health.worker.state, 'running');

  await sql(first.databaseUrl, `insert into repositories (name, clone_url) values ('acme/kept', '/srv/kept')`);
  await sql(first.databaseUrl, `select graphile_worker.add_job('prune_task_runs', '{"keep_days": 5}')`);
  const run = await waitFor(
    async () =>
      (
        await sql(
          first.databaseUrl,
          `select status from task_runs where task_name = 'prune_task_runs' and status <> 'running'`,
        )
      ).rows[0],
  );
  t.is(run.status, 'succeeded');

  const exit = await stop(first);
  t.is(exit.code, 0, first.cli.output());
  t.deepEqual(processesMentioning(dataDir), [], 'no postgres process is left behind');
  t.regex(first.cli.output(), /SIGTERM received, shutting down[\s\S]*stopped/);

  const second = await serve(dataDir);
  t.notRegex(second.cli.output(), /creating embedded PostgreSQL cluster/);
  const response = await fetch(`${second.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query: '{ allRepositories { nodes { name } } }' }),
  });
  t.deepEqual(((await response.json()) as any).data, { allRepositories: { nodes: [{ name: 'acme/kept' }] } });
  const runs = await sql(
    second.databaseUrl,
    `select count(*)::int as n from task_runs where task_name = 'prune_task_runs'`,
  );
  t.is(runs.rows[0].n, 1, 'the run log survived the restart');
  t.is((await stop(second, 'SIGINT')).code, 0);
  t.deepEqual(processesMentioning(dataDir), []);
});

test('`npm start` then SIGTERM to npm stops the service and its database', async (t) => {
  const dataDir = tempDataDir(t);
  const npm = spawn('npm', ['start', '--silent', '--', '--data-dir', dataDir, '--no-demo'], {
    cwd: projectRoot,
    env: cliEnv({ PORT: '0', EMBEDDED_PG_PORT: '0', WORKER_CONCURRENCY: '1' }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  npm.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  npm.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => npm.on('close', (code) => resolve(code)));
  const url = await waitFor(() => output.match(/GraphQL: +(http:\/\/\S+)\/graphql/)?.[1], 60_000, 'the GraphQL URL');
  t.is((await fetch(`${url}/healthz`)).status, 200);
  npm.kill('SIGTERM');
  await exited;
  await waitFor(() => processesMentioning(dataDir).length === 0, 30_000, 'every process of the data directory to exit');
  t.regex(output, /SIGTERM received, shutting down/);
  t.deepEqual(processesMentioning(dataDir), []);
});

test('a run killed with SIGKILL leaves an orphaned postgres that the next start stops and recovers', async (t) => {
  const dataDir = tempDataDir(t);
  const first = await serve(dataDir);
  await sql(first.databaseUrl, `insert into repositories (name, clone_url) values ('acme/survivor', '/srv/s')`);
  first.cli.child.kill('SIGKILL');
  await first.cli.exited;
  t.true(processesMentioning(path.join(dataDir, 'postgres')).length > 0, 'postgres outlives a SIGKILLed parent');

  const second = await serve(dataDir);
  t.regex(second.cli.output(), /stopping an orphaned embedded PostgreSQL/);
  const { rows } = await sql(second.databaseUrl, `select name from repositories`);
  t.deepEqual(rows, [{ name: 'acme/survivor' }]);
  t.is((await stop(second)).code, 0);
  t.deepEqual(processesMentioning(dataDir), []);
});

test('a half-created data directory is moved aside and a new cluster is created', async (t) => {
  const dataDir = tempDataDir(t);
  fs.mkdirSync(path.join(dataDir, 'postgres'));
  fs.writeFileSync(path.join(dataDir, 'postgres', 'leftover'), 'from an interrupted initdb');
  const started = await serve(dataDir);
  t.regex(started.cli.output(), /holds an incomplete cluster \(no PG_VERSION\); moved it to/);
  const aside = fs.readdirSync(dataDir).find((name) => name.startsWith('postgres.incomplete-'));
  t.truthy(aside);
  t.true(fs.existsSync(path.join(dataDir, aside!, 'leftover')), 'nothing is deleted');
  t.is((await stop(started)).code, 0);
});

test('a taken HTTP port is a clear error and leaves no postgres behind', async (t) => {
  const dataDir = tempDataDir(t);
  const port = await occupyPort(t);
  const cli = startCli(['serve', '--data-dir', dataDir], cliEnv({ PORT: String(port), EMBEDDED_PG_PORT: '0' }));
  const exit = await cli.exited;
  t.is(exit.code, 1);
  t.regex(cli.output(), new RegExp(`code-insights serve: PORT ${port} is already in use on 127\\.0\\.0\\.1`));
  t.deepEqual(processesMentioning(dataDir), []);
});

test('a taken embedded database port is a clear error when it was asked for explicitly', async (t) => {
  const dataDir = tempDataDir(t);
  const port = await occupyPort(t);
  const cli = startCli(['serve', '--data-dir', dataDir], cliEnv({ PORT: '0', EMBEDDED_PG_PORT: String(port) }));
  const exit = await cli.exited;
  t.is(exit.code, 1);
  t.regex(cli.output(), new RegExp(`EMBEDDED_PG_PORT ${port} is already in use`));
  t.deepEqual(processesMentioning(dataDir), []);
});

test('the first start on an empty embedded database shows a demo insight with points', async (t) => {
  const dataDir = tempDataDir(t);
  const started = await serve(dataDir, process.execPath, { WORKER_CONCURRENCY: '2' }, true);
  t.teardown(() => stop(started));
  const query = `{ allDashboards { nodes { title dashboardInsightViewsByDashboardId { nodes { insightViewByInsightViewId {
    title presentationType loading data { label values } pie { label share } } } } } } }`;
  const ask = async () => {
    const response = await fetch(`${started.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query }),
    });
    return ((await response.json()) as any).data.allDashboards.nodes;
  };
  // Anonymous requests see it: the demo is shared with everyone.
  const dashboards = await waitFor(
    async () => {
      const nodes = await ask();
      const line = nodes[0]?.dashboardInsightViewsByDashboardId.nodes.find(
        (n: any) => n.insightViewByInsightViewId.presentationType === 'LINE',
      );
      return line &&
        !line.insightViewByInsightViewId.loading &&
        line.insightViewByInsightViewId.data[0].values.length > 20
        ? nodes
        : undefined;
    },
    150_000,
    'the demo backfill',
  );
  t.is(dashboards.length, 1);
  t.is(dashboards[0].title, 'Demo');
  const views = dashboards[0].dashboardInsightViewsByDashboardId.nodes.map((n: any) => n.insightViewByInsightViewId);
  const line = views.find((v: any) => v.presentationType === 'LINE');
  t.deepEqual(
    line.data.map((l: any) => l.label),
    ['TODO', 'FIXME'],
  );
  t.true(
    line.data[0].values.some((value: number) => value > 0),
    'this project has TODOs in its history',
  );
  const pie = views.find((v: any) => v.presentationType === 'PIE');
  t.true(pie.pie.length > 0 && pie.pie.some((slice: any) => slice.label === 'TypeScript'), 'languages at HEAD');
  t.regex(started.cli.output(), /first run: registered .* as code-insights\/demo/);

  // Not twice: a restart finds the database in use.
  t.is((await stop(started)).code, 0);
  const again = await serve(dataDir, process.execPath, {}, true);
  t.teardown(() => stop(again));
  const repositories = await sql(again.databaseUrl, `select count(*)::int as n from repositories`);
  t.is(repositories.rows[0].n, 1);
});
