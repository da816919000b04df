// bench:storage's tables: series_points copied three ways (plain, BRIN on time, monthly partitions)
// and the reads and retention it times on each. Table names come from the closed PointsTable union,
// never from input, so they are written into the statements.
import type { Queryable } from './queryable.ts';

export type PointsTable = 'points_plain' | 'points_brin' | 'points_monthly';

/** The start of the current week: the newest sample time. */
export async function currentWeekStart(db: Queryable): Promise<Date> {
  const { rows } = await db.query<{ t: Date }>(`select date_trunc('week', now()) as t`);
  return rows[0]!.t;
}

export async function createRepositoryNames(db: Queryable): Promise<void> {
  await db.query('create table bench_repos (id integer primary key, name text not null)');
}

export async function insertRepositoryNames(db: Queryable, count: number): Promise<void> {
  await db.query(`insert into bench_repos select r, 'bench/repo-' || r from generate_series(1, $1::int) r`, [count]);
}

export async function createPlainPoints(db: Queryable): Promise<void> {
  await db.query('create table points_plain (like series_points including defaults including constraints)');
}

/** A table like points_plain, partitioned by time or not. */
export async function createPointsLikePlain(db: Queryable, table: PointsTable, partitioned: boolean): Promise<void> {
  const partitioning = partitioned ? ' partition by range (time)' : '';
  await db.query(`create table ${table} (like points_plain including defaults including constraints)${partitioning}`);
}

export async function setMaintenanceWorkMem(db: Queryable, size: string): Promise<void> {
  await db.query(`select set_config('maintenance_work_mem', $1, false)`, [size]);
}

/** A point per series, weekly sample and repository, with random values. */
export async function seedPlainPoints(
  db: Queryable,
  scale: { series: number; repos: number; samples: number },
  newest: Date,
): Promise<void> {
  await db.query(
    `insert into points_plain (series_id, time, value, repo_id, repo_name_id, original_repo_name_id)
     select 'series-' || s, $4::timestamptz - w * interval '1 week', floor(random() * 20), r, r, r
       from generate_series(1, $1::int) s, generate_series(0, $3::int - 1) w, generate_series(1, $2::int) r`,
    [scale.series, scale.repos, scale.samples, newest],
  );
}

export async function copyPlainPoints(db: Queryable, table: PointsTable, inTimeOrder: boolean): Promise<void> {
  await db.query(`insert into ${table} select * from points_plain${inTimeOrder ? ' order by time' : ''}`);
}

/** Monthly partitions from firstMonth (YYYY-MM-DD) to a month ahead, by the core's partitioner. */
export async function ensureMonthlyPartitions(db: Queryable, table: PointsTable, firstMonth: string): Promise<void> {
  await db.query('select insights_core.ensure_monthly_partitions($1::regclass, $2::date, 1)', [table, firstMonth]);
}

/** The indexes of series_points (seed contract and point key) and an archive table with its key. */
export async function indexPoints(db: Queryable, table: PointsTable): Promise<void> {
  // No parameters: one simple query may hold several statements.
  await db.query(`
    create index ${table}_0 on ${table} using btree (original_repo_name_id);
    create index ${table}_1 on ${table} using btree (repo_id);
    create index ${table}_2 on ${table} using btree (repo_name_id);
    create index ${table}_3 on ${table} using btree (series_id);
    create index ${table}_4 on ${table} using btree (series_id, repo_id, "time");
    create unique index ${table}_point_key on ${table} (series_id, repo_id, time, capture) nulls not distinct;
    create table ${table}_archive (like points_plain including defaults);
    create unique index ${table}_archive_key on ${table}_archive (series_id, repo_id, time, capture)
      nulls not distinct;`);
}

export async function createTimeBrinIndex(db: Queryable, table: PointsTable): Promise<void> {
  await db.query(`create index ${table}_time_brin on ${table} using brin (time)`);
}

export async function vacuumAnalyze(db: Queryable): Promise<void> {
  await db.query('vacuum analyze');
}

export async function rowCount(db: Queryable, table: PointsTable | 'points_monthly_default'): Promise<number> {
  const { rows } = await db.query<{ count: string }>(`select count(*) from ${table}`);
  return Number(rows[0]!.count);
}

export async function partitionCount(db: Queryable, table: PointsTable): Promise<number> {
  const { rows } = await db.query<{ count: string }>(
    'select count(*) from pg_inherits where inhparent = $1::regclass',
    [table],
  );
  return Number(rows[0]!.count);
}

/** Each variant's size with its indexes (a partitioned table's is the sum of its partitions'). */
export async function variantSizes(db: Queryable): Promise<Array<{ relname: string; size: string }>> {
  const { rows } = await db.query<{ relname: string; size: string }>(
    `select relname, pg_size_pretty(pg_total_relation_size(oid)) as size
       from pg_class where relname in ('points_plain', 'points_brin')
     union all
     select 'points_monthly', pg_size_pretty(sum(pg_total_relation_size(inhrelid)))
       from pg_inherits where inhparent = 'points_monthly'::regclass`,
  );
  return rows;
}

/** A view line: one series summed per time, filtered by repository name. */
export async function readViewLine(db: Queryable, table: PointsTable, seriesId: string): Promise<void> {
  await db.query(
    `select p.time, sum(p.value) from ${table} p join bench_repos r on r.id = p.repo_id
      where p.series_id = $1 and r.name ~ 'repo-1' group by p.time`,
    [seriesId],
  );
}

export async function readSamplesSince(
  db: Queryable,
  table: PointsTable,
  seriesId: string,
  since: Date,
): Promise<void> {
  await db.query(`select time, sum(value) from ${table} where series_id = $1 and time >= $2 group by time`, [
    seriesId,
    since,
  ]);
}

export async function readAllPointsSince(db: Queryable, table: PointsTable, since: Date): Promise<void> {
  await db.query(`select count(*), sum(value) from ${table} where time >= $1`, [since]);
}

/** Retention of one series: points before the cutoff move to the archive; returns how many. */
export async function archivePointsBefore(
  db: Queryable,
  table: PointsTable,
  seriesId: string,
  cutoff: Date,
): Promise<number> {
  const { rowCount: moved } = await db.query(
    `with moved as (delete from ${table} where series_id = $1 and time < $2 returning *)
     insert into ${table}_archive select * from moved on conflict do nothing`,
    [seriesId, cutoff],
  );
  return moved ?? 0;
}
