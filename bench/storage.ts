// bench:storage — series_points at scale, three ways: the plain table (the contract's indexes plus
// the point key), the plain table with a BRIN index on time, and a table range-partitioned by month
// (partitions made by ensure_monthly_partitions). 10 million points by default (100 series x 1,000
// repositories x 100 weekly samples), identical in each variant. Times reads a view makes and
// retention (archive everything older than the newest 52 samples of 20 series), and prints each
// variant's time as a ratio to the plain table measured in the same run.
//   npm run bench:storage [-- --series 100 --repos 1000 --samples 100 --runs 5]
import pg from 'pg';
import { startScratchServer } from '../src/db/scratch-database.ts';
import { createLogger } from '../src/logger.ts';
import { positiveIntegerArgs } from './positive-integer-args.ts';

const args = positiveIntegerArgs({ series: 100, repos: 1000, samples: 100, runs: 5 });
const scale = { series: args.series, repos: args.repos, samples: args.samples };
const runs = args.runs;
const KEEP = Math.min(52, scale.samples - 1);
const RETAINED_SERIES = Math.min(20, scale.series);

const logger = createLogger({ level: 'warn' });
const server = await startScratchServer({ logger, databaseUrl: process.env.DATABASE_URL });
const pool = new pg.Pool({ connectionString: await server.createDatabase('bench_storage'), max: 2 });
const q = (text: string, values?: unknown[]) => pool.query(text, values);
const seconds = (since: number) => ((performance.now() - since) / 1000).toFixed(1);

// Indexes of series_points (seed contract + point key), recreated by name on each variant.
const INDEXES = [
  'using btree (original_repo_name_id)',
  'using btree (repo_id)',
  'using btree (repo_name_id)',
  'using btree (series_id)',
  'using btree (series_id, repo_id, "time")',
];

try {
  // Times count back from this week; the newest sample is at the start of the current week.
  const newest = (await q(`select date_trunc('week', now()) as t`)).rows[0].t as Date;
  let started = performance.now();
  await q(`create table bench_repos (id integer primary key, name text not null)`);
  await q(`insert into bench_repos select r, 'bench/repo-' || r from generate_series(1, $1::int) r`, [scale.repos]);
  await q(`create table points_plain (like series_points including defaults including constraints)`);
  await q(`set maintenance_work_mem = '256MB'`);
  await q(
    `insert into points_plain (series_id, time, value, repo_id, repo_name_id, original_repo_name_id)
     select 'series-' || s, $4::timestamptz - w * interval '1 week', floor(random() * 20), r, r, r
       from generate_series(1, $1::int) s, generate_series(0, $3::int - 1) w, generate_series(1, $2::int) r`,
    [scale.series, scale.repos, scale.samples, newest],
  );
  const total = Number((await q('select count(*) from points_plain')).rows[0].count);
  console.log(`seeded ${total.toLocaleString('en')} points (${scale.series} series x ${scale.repos} repositories x ${scale.samples} weekly samples) in ${seconds(started)} s`);

  started = performance.now();
  await q(`create table points_brin (like points_plain including defaults including constraints)`);
  await q(`insert into points_brin select * from points_plain order by time`);
  await q(`create table points_monthly (like points_plain including defaults including constraints) partition by range (time)`);
  const firstMonth = new Date(newest.getTime() - scale.samples * 7 * 86_400_000);
  await q(`select ensure_monthly_partitions('points_monthly', $1::date, 1)`, [firstMonth.toISOString().slice(0, 10)]);
  await q(`insert into points_monthly select * from points_plain`);
  for (const table of ['points_plain', 'points_brin', 'points_monthly']) {
    for (const [i, definition] of INDEXES.entries()) await q(`create index ${table}_${i} on ${table} ${definition}`);
    await q(`create unique index ${table}_point_key on ${table} (series_id, repo_id, time, capture) nulls not distinct`);
    await q(`create table ${table}_archive (like points_plain including defaults)`);
    await q(`create unique index ${table}_archive_key on ${table}_archive (series_id, repo_id, time, capture) nulls not distinct`);
  }
  await q(`create index points_brin_time_brin on points_brin using brin (time)`);
  await q('vacuum analyze');
  const partitions = Number((await q(`select count(*) from pg_inherits where inhparent = 'points_monthly'::regclass`)).rows[0].count);
  const defaultRows = Number((await q(`select count(*) from points_monthly_default`)).rows[0].count);
  const sizes = (await q(
    `select relname, pg_size_pretty(pg_total_relation_size(oid)) as size from pg_class where relname in ('points_plain', 'points_brin')
     union all select 'points_monthly', pg_size_pretty(sum(pg_total_relation_size(inhrelid))) from pg_inherits where inhparent = 'points_monthly'::regclass`,
  )).rows.map((r) => `${r.relname} ${r.size}`);
  console.log(`variants built in ${seconds(started)} s: ${sizes.join(', ')}; ${partitions} partitions (${defaultRows} rows in the default one)`);

  const cutoff12 = new Date(newest.getTime() - 11 * 7 * 86_400_000);
  const monthAgo = new Date(newest.getTime() - 4 * 7 * 86_400_000);
  const reads = [
    {
      name: 'a view line, filtered by repository (10 series)',
      sql: (t: string) => `select p.time, sum(p.value) from ${t} p join bench_repos r on r.id = p.repo_id
                            where p.series_id = $1 and r.name ~ 'repo-1' group by p.time`,
      params: (run: number) => Array.from({ length: 10 }, (_, i) => [`series-${((run * 10 + i) % scale.series) + 1}`]),
    },
    {
      name: 'the newest 12 samples of a series (10 series)',
      sql: (t: string) => `select time, sum(value) from ${t} where series_id = $1 and time >= $2 group by time`,
      params: (run: number) => Array.from({ length: 10 }, (_, i) => [`series-${((run * 10 + i) % scale.series) + 1}`, cutoff12]),
    },
    {
      name: 'every point of the last 4 weeks (all series)',
      sql: (t: string) => `select count(*), sum(value) from ${t} where time >= $1`,
      params: () => [[monthAgo]],
    },
  ];
  const variants = ['points_plain', 'points_brin', 'points_monthly'];
  const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
  const results: Record<string, Record<string, number>> = {};
  for (const read of reads) {
    results[read.name] = {};
    const timings: Record<string, number[]> = Object.fromEntries(variants.map((v) => [v, []]));
    for (let run = 0; run < runs + 1; run++) {
      for (const variant of variants) {
        const begin = performance.now();
        for (const params of read.params(run)) await q(read.sql(variant), params);
        if (run > 0) timings[variant]!.push(performance.now() - begin); // run 0 warms the cache
      }
    }
    for (const variant of variants) results[read.name]![variant] = median(timings[variant]!);
  }

  // Retention, once per variant (it changes the data): the newest KEEP samples stay.
  results.retention = {};
  const retentionCutoff = new Date(newest.getTime() - (KEEP - 1) * 7 * 86_400_000);
  let archived = 0;
  for (const variant of variants) {
    const begin = performance.now();
    archived = 0;
    for (let s = 1; s <= RETAINED_SERIES; s++) {
      const { rowCount } = await q(
        `with moved as (delete from ${variant} where series_id = $1 and time < $2 returning *)
         insert into ${variant}_archive select * from moved on conflict do nothing`,
        [`series-${s}`, retentionCutoff],
      );
      archived += rowCount ?? 0;
    }
    results.retention[variant] = performance.now() - begin;
  }

  console.log(`\nmedians of ${runs} runs (ms), and the ratio to the plain table (below 1 is faster):`);
  console.log(`${'measurement'.padEnd(52)} ${'plain'.padStart(9)} ${'BRIN(time)'.padStart(18)} ${'monthly partitions'.padStart(24)}`);
  for (const [name, byVariant] of Object.entries(results)) {
    const plain = byVariant.points_plain!;
    const cell = (variant: string) => `${byVariant[variant]!.toFixed(1)} (${(byVariant[variant]! / plain).toFixed(2)}x)`;
    const label = name === 'retention' ? `retention of ${RETAINED_SERIES} series (${archived.toLocaleString('en')} points each way)` : name;
    console.log(`${label.padEnd(52)} ${plain.toFixed(1).padStart(9)} ${cell('points_brin').padStart(18)} ${cell('points_monthly').padStart(24)}`);
  }
} finally {
  await pool.end();
  await server.close();
}
