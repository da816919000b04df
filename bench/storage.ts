// bench:storage — series_points at scale, three ways: the plain table (the contract's indexes plus
// the point key), the plain table with a BRIN index on time, and a table range-partitioned by month
// (partitions made by ensure_monthly_partitions). 10 million points by default (100 series x 1,000
// repositories x 100 weekly samples), identical in each variant. Times reads a view makes and
// retention (archive everything older than the newest 52 samples of 20 series), and prints each
// variant's time as a ratio to the plain table measured in the same run. Its SQL is in
// src/store/bench-storage.ts.
//   npm run bench:storage [-- --series 100 --repos 1000 --samples 100 --runs 5]
import pg from 'pg';
import { startScratchServer } from '../src/db/scratch-database.ts';
import { createLogger } from '../src/logger.ts';
import {
  archivePointsBefore,
  copyPlainPoints,
  createPlainPoints,
  createPointsLikePlain,
  createRepositoryNames,
  createTimeBrinIndex,
  currentWeekStart,
  ensureMonthlyPartitions,
  indexPoints,
  insertRepositoryNames,
  partitionCount,
  type PointsTable,
  readAllPointsSince,
  readSamplesSince,
  readViewLine,
  rowCount,
  seedPlainPoints,
  setMaintenanceWorkMem,
  vacuumAnalyze,
  variantSizes,
} from '../src/store/bench-storage.ts';
import { positiveIntegerArgs } from './positive-integer-args.ts';

const args = positiveIntegerArgs({ series: 100, repos: 1000, samples: 100, runs: 5 });
const scale = { series: args.series, repos: args.repos, samples: args.samples };
const runs = args.runs;
const KEEP = Math.min(52, scale.samples - 1);
const RETAINED_SERIES = Math.min(20, scale.series);
const WEEK = 7 * 86_400_000;
const variants: PointsTable[] = ['points_plain', 'points_brin', 'points_monthly'];

const logger = createLogger({ level: 'warn' });
const server = await startScratchServer({ logger, databaseUrl: process.env.DATABASE_URL });
const pool = new pg.Pool({ connectionString: await server.createDatabase('bench_storage'), max: 2 });
const seconds = (since: number) => ((performance.now() - since) / 1000).toFixed(1);

try {
  // Times count back from this week; the newest sample is at the start of the current week.
  const newest = await currentWeekStart(pool);
  let started = performance.now();
  await createRepositoryNames(pool);
  await insertRepositoryNames(pool, scale.repos);
  await createPlainPoints(pool);
  await setMaintenanceWorkMem(pool, '256MB');
  await seedPlainPoints(pool, scale, newest);
  const total = await rowCount(pool, 'points_plain');
  console.log(
    `seeded ${total.toLocaleString('en')} points (${scale.series} series x ${scale.repos} repositories x ` +
      `${scale.samples} weekly samples) in ${seconds(started)} s`,
  );

  started = performance.now();
  await createPointsLikePlain(pool, 'points_brin', false);
  await copyPlainPoints(pool, 'points_brin', true);
  await createPointsLikePlain(pool, 'points_monthly', true);
  const firstMonth = new Date(newest.getTime() - scale.samples * WEEK);
  await ensureMonthlyPartitions(pool, 'points_monthly', firstMonth.toISOString().slice(0, 10));
  await copyPlainPoints(pool, 'points_monthly', false);
  for (const table of variants) await indexPoints(pool, table);
  await createTimeBrinIndex(pool, 'points_brin');
  await vacuumAnalyze(pool);
  const partitions = await partitionCount(pool, 'points_monthly');
  const defaultRows = await rowCount(pool, 'points_monthly_default');
  const sizes = (await variantSizes(pool)).map((r) => `${r.relname} ${r.size}`);
  console.log(
    `variants built in ${seconds(started)} s: ${sizes.join(', ')}; ${partitions} partitions ` +
      `(${defaultRows} rows in the default one)`,
  );

  const cutoff12 = new Date(newest.getTime() - 11 * WEEK);
  const monthAgo = new Date(newest.getTime() - 4 * WEEK);
  const series = (n: number) => `series-${(n % scale.series) + 1}`;
  const reads = [
    {
      name: 'a view line, filtered by repository (10 series)',
      read: async (table: PointsTable, run: number) => {
        for (let i = 0; i < 10; i++) await readViewLine(pool, table, series(run * 10 + i));
      },
    },
    {
      name: 'the newest 12 samples of a series (10 series)',
      read: async (table: PointsTable, run: number) => {
        for (let i = 0; i < 10; i++) await readSamplesSince(pool, table, series(run * 10 + i), cutoff12);
      },
    },
    {
      name: 'every point of the last 4 weeks (all series)',
      read: (table: PointsTable) => readAllPointsSince(pool, table, monthAgo),
    },
  ];
  const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
  const results: Record<string, Record<string, number>> = {};
  for (const read of reads) {
    results[read.name] = {};
    const timings: Record<string, number[]> = Object.fromEntries(variants.map((v) => [v, []]));
    for (let run = 0; run < runs + 1; run++) {
      for (const variant of variants) {
        const begin = performance.now();
        await read.read(variant, run);
        if (run > 0) timings[variant]!.push(performance.now() - begin); // run 0 warms the cache
      }
    }
    for (const variant of variants) results[read.name]![variant] = median(timings[variant]!);
  }

  // Retention, once per variant (it changes the data): the newest KEEP samples stay.
  results.retention = {};
  const retentionCutoff = new Date(newest.getTime() - (KEEP - 1) * WEEK);
  let archived = 0;
  for (const variant of variants) {
    const begin = performance.now();
    archived = 0;
    for (let s = 1; s <= RETAINED_SERIES; s++) {
      archived += await archivePointsBefore(pool, variant, `series-${s}`, retentionCutoff);
    }
    results.retention[variant] = performance.now() - begin;
  }

  console.log(`\nmedians of ${runs} runs (ms), and the ratio to the plain table (below 1 is faster):`);
  console.log(
    `${'measurement'.padEnd(52)} ${'plain'.padStart(9)} ${'BRIN(time)'.padStart(18)} ` +
      `${'monthly partitions'.padStart(24)}`,
  );
  for (const [name, byVariant] of Object.entries(results)) {
    const plain = byVariant.points_plain!;
    const cell = (variant: string) =>
      `${byVariant[variant]!.toFixed(1)} (${(byVariant[variant]! / plain).toFixed(2)}x)`;
    const label =
      name === 'retention'
        ? `retention of ${RETAINED_SERIES} series (${archived.toLocaleString('en')} points each way)`
        : name;
    console.log(
      `${label.padEnd(52)} ${plain.toFixed(1).padStart(9)} ${cell('points_brin').padStart(18)} ` +
        `${cell('points_monthly').padStart(24)}`,
    );
  }
} finally {
  await pool.end();
  await server.close();
}
