// bench:scale — backfills at scale, through a real `code-insights worker` process:
//   1. a weekly series over 1,000 small repositories (a year of samples) is backfilled from
//      scratch (mirrors cloned on demand) and must complete;
//   2. 100 expensive series (a regexp each, over --scope repositories) are created; once their
//      live recordings are done and their backfills hold every worker, a cheap series (one
//      repository) is created: how long until its backfill starts and completes (target: starts
//      within 10 s), against the 60 s time budget an expensive step could otherwise hold a worker.
//   npm run bench:scale [-- --repos 1000 --series 100 --scope 100 --concurrency 4]
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { startScratchServer } from '../src/db/scratch-database.ts';
import { createLogger } from '../src/logger.ts';
import { projectRoot } from '../src/project-root.ts';
import { backfillStatus, backfillTotals, queuedJobCount, viewBackfillIds } from '../src/store/bench.ts';
import { createLineInsight } from '../src/store/insight-create.ts';
import { registerRepository } from '../src/store/repositories-admin.ts';
import { createFixtureRepository } from '../test/fixtures/git-repository.ts';
import { waitFor } from '../test/helpers/wait.ts';
import { positiveIntegerArgs } from './positive-integer-args.ts';

const args = positiveIntegerArgs({ repos: 1000, series: 100, scope: 100, concurrency: 4 });
const logger = createLogger({ level: 'warn' });
const DAY = 86_400_000;
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

const server = await startScratchServer({ logger, databaseUrl: process.env.DATABASE_URL });
const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'code-insights-bench-scale-'));
fs.chmodSync(workDir, 0o755);
let worker: ReturnType<typeof spawn> | undefined;
// Interrupted: stop the worker process too, or it would keep working on a database about to go.
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    worker?.kill('SIGTERM');
    process.exit(130);
  });
}
const databaseUrl = await server.createDatabase('bench_scale');
const pool = new pg.Pool({ connectionString: databaseUrl, max: 4 });

/** Creates a weekly line insight; returns its backfill id. */
async function createInsight(
  title: string,
  query: string,
  repositories: string[] | null,
  weeks: number,
): Promise<number> {
  const view = await createLineInsight(pool, {
    title,
    series: [{ query }],
    repositories,
    intervalUnit: 'WEEK',
    intervalValue: 1,
    oldestHistoricalAt: new Date(Date.now() - weeks * 7 * DAY),
  });
  return (await viewBackfillIds(pool, view.id))[0]!;
}

try {
  // Small repositories: four commits over the last year, a few TODOs each.
  let started = Date.now();
  const names: string[] = [];
  for (let i = 0; i < args.repos; i++) {
    const repo = createFixtureRepository(path.join(workDir, 'repos', `r${i}.git`), [
      {
        date: new Date(Date.now() - 360 * DAY).toISOString(),
        files: { 'a.ts': `// TODO ${i}\n`, 'b.go': '// nothing\n' },
      },
      { date: new Date(Date.now() - 200 * DAY).toISOString(), files: { 'c.py': '# TODO\n# TODO\n' } },
      { date: new Date(Date.now() - 90 * DAY).toISOString(), files: { 'b.go': `// TODO ${i % 7}\n` } },
      { date: new Date(Date.now() - 10 * DAY).toISOString(), files: { 'a.ts': '// done\n' } },
    ]);
    const name = `scale/repo-${i}`;
    await registerRepository(pool, repo.path, name, null);
    names.push(name);
    if (i % 50 === 49) process.stdout.write(`\rrepositories created and registered: ${i + 1}/${args.repos}`);
  }
  console.log(`\r${args.repos} repositories created and registered in ${seconds(Date.now() - started)}`);

  worker = spawn(process.execPath, [path.join(projectRoot, 'src', 'cli', 'bin.js'), 'worker'], {
    env: {
      ...process.env,
      DATABASE_URL: databaseUrl,
      DATA_DIR: path.join(workDir, 'data'),
      WORKER_CONCURRENCY: String(args.concurrency),
      LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise<void>((resolve, reject) => {
    let output = '';
    worker!.stdout!.on('data', (chunk) => {
      output += chunk;
      if (/worker is running/.test(output)) resolve();
    });
    worker!.once('exit', (code) => reject(new Error(`worker exited with ${code} before running`)));
  });

  // 1. One series over every repository, from scratch (each mirror is cloned on first use).
  started = Date.now();
  const wide = await createInsight('scale: TODO', 'TODO', null, 52);
  const finished = async (backfillId: number) => {
    const status = await backfillStatus(pool, backfillId);
    return status && ['completed', 'failed'].includes(status.state) ? status : undefined;
  };
  const done = await waitFor(() => finished(wide), 30 * 60_000, 'the 1,000-repository backfill');
  console.log(
    `1. backfill over ${done.repositories} repositories x 52 weekly samples: ${done.state} in ${seconds(Date.now() - started)} ` +
      `(${done.repositories_done} done, ${done.errors} errors, ${args.concurrency} concurrent jobs)`,
  );

  // 2. Every worker busy with expensive backfills, then a cheap one.
  started = Date.now();
  const scope = names.slice(0, args.scope);
  const expensive: number[] = [];
  for (let i = 0; i < args.series; i++)
    expensive.push(await createInsight(`scale: expensive ${i}`, `/TODO\\s+${i}\\b/`, scope, 52));
  // Each new series is first recorded live (and snapshotted) at HEAD; those jobs come first.
  await waitFor(
    async () => ((await queuedJobCount(pool, 'record_series')) === 0 ? true : undefined),
    30 * 60_000,
    "the new series' live recordings",
  );
  const recorded = Date.now() - started;
  const busy = await waitFor(
    async () => {
      const totals = await backfillTotals(pool, expensive);
      return totals.planned === args.series && totals.running >= args.concurrency ? totals : undefined;
    },
    10 * 60_000,
    `${args.series} backfills planned and ${args.concurrency} running`,
  );
  console.log(
    `2. ${args.series} expensive series over ${args.scope} repositories each: live recordings done after ${seconds(recorded)}; ` +
      `${busy.planned} backfills processing, ${busy.running} running, ${busy.done.toLocaleString('en')} of ${(args.series * args.scope).toLocaleString('en')} repository backfills done`,
  );
  const queued = Date.now();
  const cheap = await createInsight('scale: cheap', 'TODO', [names[0]!], 4);
  const startedAt = await waitFor(
    async () => (await backfillStatus(pool, cheap))?.started_at ?? undefined,
    10 * 60_000,
    'the cheap backfill to start',
  );
  const cheapDone = await waitFor(() => finished(cheap), 10 * 60_000, 'the cheap backfill to complete');
  const progress = await backfillTotals(pool, expensive);
  console.log(
    `   cheap backfill (1 repository) queued while they ran: started after ${seconds(startedAt.getTime() - queued)}, ` +
      `${cheapDone.state} after ${seconds(cheapDone.finished_at!.getTime() - queued)} ` +
      `(target: starts within 10 s; a step's time budget is 60 s). The expensive ones had done ` +
      `${progress.done.toLocaleString('en')} of ${progress.total.toLocaleString('en')} repository searches.`,
  );
} finally {
  if (worker && worker.exitCode === null) {
    worker.kill('SIGTERM');
    await new Promise((resolve) => worker!.once('exit', resolve));
  }
  await pool.end();
  await server.close();
  fs.rmSync(workDir, { recursive: true, force: true });
}
