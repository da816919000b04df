// bench:search — counts a literal and a regexp at HEAD of a generated corpus with the engine, cold
// (no cached blob results) and warm (results cached), and with `git grep -o -I` in the same run.
// Prints medians and the ratios the targets are stated in:
//   cold: engine / git grep   (target <= 1.5)
//   warm: git grep / engine   (target >= 10)
// Then many small searches (3 new blobs each, like a backfill step of one commit): a regexp, which
// runs in a worker thread, against a literal, which runs in-process (the thread's cost per search).
// The corpus (deterministic, ~450,000 lines) is built once into bench/.cache/.
//   npm run bench:search [-- --runs 7]
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { startScratchServer } from '../src/db/scratch-database.ts';
import { createLogger } from '../src/logger.ts';
import { projectRoot } from '../src/project-root.ts';
import { TreeCache } from '../src/git/tree-cache.ts';
import { BlobCountCache } from '../src/search/blob-count-cache.ts';
import { countBlobs } from '../src/search/count-blobs.ts';
import { parseQuery } from '../src/search/query/parse-query.ts';
import { describeEngine } from '../src/search/regexp/engine-name.ts';
import { searchCommit } from '../src/search/search-commit.ts';
import { truncateBlobCounts } from '../src/store/bench.ts';
import { buildCorpus } from './corpus.ts';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '5' } } });
const runs = Math.max(1, Number(values.runs));
const logger = createLogger({ level: 'warn' });

const corpusDir = path.join(projectRoot, 'bench', '.cache', 'corpus-v1.git');
const started = Date.now();
const corpus = buildCorpus(corpusDir);
console.log(
  `corpus: ${corpus.files} files, ${corpus.lines} lines, ${(corpus.bytes / 1e6).toFixed(1)} MB (${fs.existsSync(corpusDir) && Date.now() - started < 1000 ? 'cached' : `built in ${Date.now() - started} ms`})`,
);

const server = await startScratchServer({ logger, databaseUrl: process.env.DATABASE_URL });
const pool = new pg.Pool({ connectionString: await server.createDatabase('bench'), max: 4 });

// Both sides search the same commit id (resolved once, outside the timings).
const head = spawnSync('git', ['--git-dir', corpusDir, 'rev-parse', 'HEAD'], { encoding: 'utf8' }).stdout.trim();

const cases = [
  { name: 'literal', query: 'TODO', grep: ['-F', '-i', '-e', 'TODO'] },
  { name: 'regexp', query: '/[a-z]+Error\\(/', grep: ['-E', '-i', '-e', '[a-z]+Error\\('] },
];

function median(samples: number[]): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

async function time<T>(work: () => Promise<T> | T): Promise<[number, T]> {
  const start = performance.now();
  const result = await work();
  return [performance.now() - start, result];
}

function gitGrep(args: string[]): number {
  const result = spawnSync('git', ['--git-dir', corpusDir, 'grep', '-o', '-I', '--no-color', ...args, head], {
    maxBuffer: 1024 * 1024 * 1024,
    env: { ...process.env, LC_ALL: 'C' },
  });
  if (result.status !== 0 && result.status !== 1) throw new Error(`git grep failed: ${result.stderr}`);
  let lines = 0;
  for (const byte of result.stdout) if (byte === 10) lines++;
  return lines;
}

try {
  console.log(`database: ${server.description}; ${runs} runs each, medians\n`);
  const rows: string[] = [];
  for (const { name, query: source, grep } of cases) {
    const query = parseQuery(source);
    console.log(`${name}: ${source} counted by ${describeEngine(query)}`);
    const search = (cache: BlobCountCache, trees?: TreeCache) =>
      searchCommit({ gitDir: corpusDir, commit: head, query, cache, trees, deadline: Date.now() + 600_000 });
    const grepTimes: number[] = [];
    const cold: number[] = [];
    const warmMemory: number[] = [];
    const warmDatabase: number[] = [];
    let expected = 0;
    let counted = 0;
    for (let run = 0; run < runs; run++) {
      // Interleaved, so load on the shared machine hits all variants alike.
      const [grepMs, grepCount] = await time(() => gitGrep(grep));
      grepTimes.push(grepMs);
      expected = grepCount;
      await truncateBlobCounts(pool);
      // Cold: nothing cached, in memory or in the database (a new process after a restart).
      const cache = new BlobCountCache({ pool });
      const trees = new TreeCache();
      const [coldMs, coldResult] = await time(() => search(cache, trees));
      cold.push(coldMs);
      counted = coldResult.value;
      // Warm: the same worker process searching again.
      warmMemory.push((await time(() => search(cache, trees)))[0]);
      // Warm after a restart: results come from the database, the tree is listed again.
      warmDatabase.push((await time(() => search(new BlobCountCache({ pool }))))[0]);
    }
    if (counted !== expected) throw new Error(`${name}: engine counted ${counted}, git grep ${expected}`);
    const g = median(grepTimes);
    const c = median(cold);
    const wm = median(warmMemory);
    const wd = median(warmDatabase);
    rows.push(
      `${name.padEnd(8)} matches ${String(expected).padStart(7)}  git grep ${g.toFixed(0).padStart(5)} ms  cold ${c.toFixed(0).padStart(5)} ms (${(c / g).toFixed(2)}x git grep)  ` +
        `warm ${wm.toFixed(1).padStart(6)} ms (git grep ${(g / wm).toFixed(1)}x slower)  warm, new process ${wd.toFixed(1).padStart(6)} ms (git grep ${(g / wd).toFixed(1)}x slower)`,
    );
  }
  console.log(rows.join('\n'));
  console.log('\ntargets: cold <= 1.5x git grep; warm: git grep >= 10x slower');

  // Small searches, no cache: the fixed cost of one search, in-process and in a worker thread.
  const blobs = spawnSync('git', ['--git-dir', corpusDir, 'ls-tree', '-r', head], {
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
  })
    .stdout.trim()
    .split('\n')
    .map((line) => line.split(/\s+/)[2]!);
  const SMALL = 200;
  const smallSearches = async (source: string) => {
    const query = parseQuery(source);
    const [ms] = await time(async () => {
      for (let i = 0; i < SMALL; i++) {
        const oids = blobs.slice((i * 3) % (blobs.length - 3), ((i * 3) % (blobs.length - 3)) + 3);
        await countBlobs({ gitDir: corpusDir, query, oids, deadline: Date.now() + 60_000 });
      }
    });
    return ms / SMALL;
  };
  const literalSmall: number[] = [];
  const regexpSmall: number[] = [];
  for (let run = 0; run < runs; run++) {
    literalSmall.push(await smallSearches('TODO'));
    regexpSmall.push(await smallSearches('/[a-z]+Error\\(/'));
  }
  const ls = median(literalSmall);
  const rs = median(regexpSmall);
  console.log(
    `\nsmall searches (${SMALL} x 3 blobs): literal ${ls.toFixed(2)} ms each, regexp ${rs.toFixed(2)} ms each (${(rs / ls).toFixed(2)}x literal)`,
  );
} finally {
  await pool.end();
  await server.close();
}
