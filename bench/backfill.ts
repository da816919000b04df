// bench:backfill — the history backfill of one weekly series over two years (104 samples) of the
// history corpus (bench/corpus.ts: 3,000 files, then two commits a week rewriting 8 files each),
// through the engine's real per-repository path (src/backfill/backfill-repository.ts) with cold
// caches, against, in the same run:
//   baseline: one full `git grep -o -I` per sample commit (what a naive backfill does)
//   floor:    one `git cat-file --batch` over the distinct blobs of all sample commits (reading
//             every blob once; no engine can count them without reading them)
// Prints medians, the ratios baseline / engine (target >= 10) and engine / floor (target <= 2), and
// the peak memory of the bench process while the engine runs in it (git's processes not counted).
//   npm run bench:backfill [-- --runs 5]
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { backfillRepository } from '../src/backfill/backfill-repository.ts';
import { startScratchServer } from '../src/db/scratch-database.ts';
import { firstParentHistory, resolveSampleCommits } from '../src/git/first-parent-history.ts';
import { TreeCache } from '../src/git/tree-cache.ts';
import { createLogger } from '../src/logger.ts';
import { projectRoot } from '../src/project-root.ts';
import { ensureMirror } from '../src/repos/sync-repository.ts';
import { BlobCountCache } from '../src/search/blob-count-cache.ts';
import { parseQuery } from '../src/search/query/parse-query.ts';
import { describeEngine } from '../src/search/regexp/engine-name.ts';
import { truncateBlobCounts } from '../src/store/bench.ts';
import { loadRepositories } from '../src/store/repositories.ts';
import { registerRepository } from '../src/store/repositories-admin.ts';
import { buildHistoryCorpus, HISTORY } from './corpus.ts';
import { positiveIntegerArgs } from './positive-integer-args.ts';

const { runs } = positiveIntegerArgs({ runs: 5 });
const logger = createLogger({ level: 'warn' });
const DAY = 86_400_000;

const corpusDir = path.join(projectRoot, 'bench', '.cache', 'corpus-history-v1.git');
const built = Date.now();
buildHistoryCorpus(corpusDir);
console.log(
  `history corpus: ${HISTORY.weeks} weeks, 2 commits a week (${Date.now() - built < 1000 ? 'cached' : `built in ${Date.now() - built} ms`})`,
);

// Each sample is the Monday after a week's two commits, so all 104 resolve to distinct commits.
const times = Array.from({ length: HISTORY.weeks }, (_, week) => new Date(HISTORY.start + (week + 1) * 7 * DAY));

const cases = [
  { name: 'literal', query: 'TODO', grep: ['-F', '-i', '-e', 'TODO'] },
  { name: 'regexp', query: '/[a-z]+Error\\(/', grep: ['-E', '-i', '-e', '[a-z]+Error\\('] },
];

const median = (samples: number[]) => [...samples].sort((a, b) => a - b)[Math.floor(samples.length / 2)]!;
const git = (gitDir: string, args: string[], input?: string) => {
  const result = spawnSync('git', ['--git-dir', gitDir, ...args], {
    input,
    maxBuffer: 1024 * 1024 * 1024,
    env: { ...process.env, LC_ALL: 'C' },
  });
  if (result.status !== 0 && !(args[0] === 'grep' && result.status === 1))
    throw new Error(`git ${args[0]} failed: ${result.stderr}`);
  return result.stdout;
};
const lineCount = (output: Buffer) => output.reduce((n, byte) => n + (byte === 10 ? 1 : 0), 0);

const server = await startScratchServer({ logger, databaseUrl: process.env.DATABASE_URL });
const pool = new pg.Pool({ connectionString: await server.createDatabase('bench_backfill'), max: 4 });
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'code-insights-bench-backfill-'));
try {
  const repository = await registerRepository(pool, corpusDir, 'bench/history', null);
  // The mirror is cloned once, outside the timings: a backfill finds it there.
  const { gitDir, branch } = await ensureMirror({ pool, dataDir, repository });
  const [fresh] = await loadRepositories(pool, [repository.id]);
  // The commit of each sample, as the engine resolves it (every sample is after the first commit).
  const sampleCommits = resolveSampleCommits(await firstParentHistory(gitDir, branch!), times) as string[];
  const blobs = new Set<string>();
  for (const commit of sampleCommits) {
    for (const line of git(gitDir, ['ls-tree', '-r', commit]).toString().trim().split('\n'))
      blobs.add(line.split(/\s+/)[2]!);
  }
  const blobList = `${[...blobs].join('\n')}\n`;
  console.log(`${times.length} samples, ${new Set(sampleCommits).size} distinct commits, ${blobs.size} distinct blobs`);

  const rssBefore = process.memoryUsage.rss();
  let enginePeak = rssBefore;
  for (const { name, query: source, grep } of cases) {
    const query = parseQuery(source);
    console.log(`${name}: ${source} counted by ${describeEngine(query)}`);
    const engineMs: number[] = [];
    const baselineMs: number[] = [];
    const floorMs: number[] = [];
    for (let run = 0; run < runs; run++) {
      // Interleaved, so load on the shared machine hits all three alike.
      await truncateBlobCounts(pool);
      // RSS sampled every 5 ms while the engine runs (the process's lifetime peak would include the
      // baseline's and floor's output buffers).
      const sampler = setInterval(() => (enginePeak = Math.max(enginePeak, process.memoryUsage.rss())), 5);
      let started = performance.now();
      const result = await backfillRepository({
        pool,
        dataDir,
        repository: fresh!,
        query,
        times,
        cache: new BlobCountCache({ pool }),
        trees: new TreeCache(),
        deadline: Date.now() + 600_000,
      });
      engineMs.push(performance.now() - started);
      clearInterval(sampler);

      started = performance.now();
      const expected = sampleCommits.map((commit) =>
        lineCount(git(gitDir, ['grep', '-o', '-I', '--no-color', ...grep, commit])),
      );
      baselineMs.push(performance.now() - started);

      started = performance.now();
      const read = git(gitDir, ['cat-file', '--batch'], blobList).length;
      floorMs.push(performance.now() - started);
      if (read === 0) throw new Error('cat-file read nothing');

      // The comparison means nothing unless the engine counted what git grep counts.
      const byTime = new Map(result.points.map((point) => [point.time, point.value]));
      times.forEach((time, index) => {
        const counted = byTime.get(time.toISOString()) ?? 0;
        if (counted !== expected[index])
          throw new Error(`${name}: ${time.toISOString()}: engine ${counted}, git grep ${expected[index]}`);
      });
    }
    const [engine, baseline, floor] = [median(engineMs), median(baselineMs), median(floorMs)];
    console.log(
      `${name.padEnd(8)} engine ${engine.toFixed(0).padStart(6)} ms   baseline (git grep x ${times.length}) ${baseline.toFixed(0).padStart(6)} ms   floor (cat-file) ${floor.toFixed(0).padStart(5)} ms` +
        `   baseline / engine ${(baseline / engine).toFixed(1)}x   engine / floor ${(engine / floor).toFixed(2)}x`,
    );
  }
  console.log(
    `\npeak memory (RSS) while the engine ran: ${(enginePeak / 1e6).toFixed(0)} MB (${(rssBefore / 1e6).toFixed(0)} MB before the first backfill)`,
  );
  console.log(`targets: baseline / engine >= 10; engine / floor <= 2 (${runs} runs each, medians)`);
} finally {
  await pool.end();
  await server.close();
  fs.rmSync(dataDir, { recursive: true, force: true });
}
