// The code-insights command line: help, version, usage errors, configuration errors, migrate.
import fs from 'node:fs';
import path from 'node:path';
import test from 'ava';
import { projectRoot } from '../src/project-root.ts';
import pg from 'pg';
import { cliEnv, runCli, systemNode } from './helpers/cli.ts';
import { createTestDatabase, dropTestDatabase } from './helpers/database.ts';

test('--help lists the commands; every command has --help with examples', async (t) => {
  const main = await runCli(['--help']);
  t.is(main.code, 0);
  for (const command of ['serve', 'worker', 'migrate']) {
    t.regex(main.stdout, new RegExp(`^  ${command} `, 'm'));
    const help = await runCli([command, '--help']);
    t.is(help.code, 0, `${command} --help`);
    t.regex(help.stdout, new RegExp(`^Usage: code-insights ${command}`));
    t.regex(help.stdout, /Examples:/);
    t.regex(help.stdout, /DATABASE_URL/);
    const viaHelp = await runCli(['help', command]);
    t.is(viaHelp.stdout, help.stdout);
  }
});

test('on an old system Node the command re-executes itself on the project Node 24', async (t) => {
  const result = await runCli(['--version'], cliEnv(), systemNode);
  t.is(result.code, 0);
  t.regex(result.stdout, /^code-insights \d+\.\d+\.\d+ \(node v2[4-9]\./);
  t.log(`started with ${systemNode}: ${result.stdout.trim()}`);
});

test('usage errors exit 2 with a message; configuration errors exit 1 naming the setting', async (t) => {
  const unknown = await runCli(['frobnicate']);
  t.is(unknown.code, 2);
  t.regex(unknown.stderr, /unknown command "frobnicate"/);

  const badFlag = await runCli(['serve', '--prot', '80']);
  t.is(badFlag.code, 2);
  t.regex(badFlag.stderr, /Unknown option '--prot'/);

  const badPort = await runCli(['serve'], cliEnv({ PORT: 'eighty' }));
  t.is(badPort.code, 1);
  t.is(badPort.stderr.trim(), 'code-insights: Invalid configuration: PORT must be a number (got "eighty")');

  const badFlagValue = await runCli(['worker', '--concurrency', '0']);
  t.is(badFlagValue.code, 1);
  t.is(
    badFlagValue.stderr.trim(),
    'code-insights: Invalid configuration: WORKER_CONCURRENCY must be at least 1 (got "0")',
  );
});

test('an unreachable database is a clear error, not a hang', async (t) => {
  const started = Date.now();
  const result = await runCli(['migrate'], cliEnv({ DATABASE_URL: 'postgres://postgres@127.0.0.1:1/nowhere' }));
  t.is(result.code, 1);
  t.regex(
    result.stderr,
    /cannot connect to the database at postgres:\/\/postgres@127\.0\.0\.1:1\/nowhere: .*ECONNREFUSED/,
  );
  t.true(Date.now() - started < 45_000);
});

test('migrate installs Graphile Worker and the schema on an empty database, and is idempotent', async (t) => {
  const db = await createTestDatabase({ template: false });
  t.teardown(() => dropTestDatabase(db.name));
  const first = await runCli(['migrate'], cliEnv({ DATABASE_URL: db.connectionString }));
  t.is(first.code, 0, first.stderr);
  const committed = fs
    .readdirSync(path.join(projectRoot, 'migrations', 'committed'))
    .filter((f) => f.endsWith('.sql')).length;
  t.regex(first.stderr, new RegExp(`applied ${committed} migration\\(s\\)`));
  const second = await runCli(['migrate'], cliEnv({ DATABASE_URL: db.connectionString }));
  t.is(second.code, 0, second.stderr);
  t.regex(second.stderr, /database schema is up to date/);

  const client = new pg.Client({ connectionString: db.connectionString });
  await client.connect();
  try {
    await client.query(`select graphile_worker.add_job('prune_task_runs', '{}'::json)`);
    const job = await client.query(`select task_identifier from graphile_worker.jobs`);
    t.deepEqual(job.rows, [{ task_identifier: 'prune_task_runs' }]);
    const tables = await client.query(
      `select count(*)::int as n from information_schema.tables where table_schema = 'public'`,
    );
    t.true(tables.rows[0].n >= 21);
  } finally {
    await client.end();
  }
});
