// The migrated schema implements the seed contract (test/fixtures/seed-schema-contract.md) exactly,
// and the comparison itself notices when any part of the contract is removed or altered.
import path from 'node:path';
import test from 'ava';
import { projectRoot } from '../src/project-root.ts';
import { useTestDatabase } from './helpers/database.ts';
import { compareWithContract, parseContract } from './helpers/schema-contract.ts';

const contract = parseContract(path.join(projectRoot, 'test', 'fixtures', 'seed-schema-contract.md'));

test('the contract document is parsed completely', (t) => {
  t.is(contract.tables.length, 21);
  t.deepEqual(contract.views.map((v) => v.name).sort(), [
    'insights_jobs_backfill_in_progress',
    'insights_jobs_backfill_new',
  ]);
  t.deepEqual(contract.enums.map((e) => e.name).sort(), [
    'presentation_type_enum',
    'series_sort_direction_enum',
    'series_sort_mode_enum',
    'time_unit',
  ]);
  const insightSeries = contract.tables.find((table) => table.name === 'insight_series')!;
  t.is(insightSeries.columns.length, 23);
  t.is(insightSeries.indexes.length, 4);
  const columns = contract.tables.reduce((n, table) => n + table.columns.length, 0);
  const indexes = contract.tables.reduce((n, table) => n + table.indexes.length, 0);
  t.log(
    `contract: ${contract.tables.length} tables, ${columns} columns, ${indexes} indexes, ${contract.views.length} views, ${contract.enums.length} enums`,
  );
  t.true(columns > 150);
});

test('the migrated database matches the contract', async (t) => {
  const db = await useTestDatabase(t);
  const problems = await compareWithContract(db.pool, contract);
  t.deepEqual(problems, []);
  const { rows } = await db.pool.query<{ version: string }>(`select current_setting('server_version') as version`);
  t.log(`checked on PostgreSQL ${rows[0]!.version}`);
});

test('the cost bucket view computes width_bucket over the processing backfills', async (t) => {
  const db = await useTestDatabase(t);
  await db.pool.query(`
    insert into insight_series (id, series_id, query, generation_method) values (1, 's1', 'TODO', 'search');
    insert into insight_series_backfill (id, series_id, estimated_cost, state) values
      (1, 1, 0, 'processing'), (2, 1, 50, 'processing'), (3, 1, 100, 'processing'), (4, 1, 5, 'new');
    insert into insights_background_jobs (backfill_id) values (1), (2), (3), (4);`);
  const { rows } = await db.pool.query<{ backfill_id: number; cost_bucket: number }>(
    'select backfill_id, cost_bucket from insights_jobs_backfill_in_progress order by backfill_id',
  );
  // max(cost + 1) = 101, four buckets of 25.25: 0 -> 1, 50 -> 2, 100 -> 4.
  t.deepEqual(rows, [
    { backfill_id: 1, cost_bucket: 1 },
    { backfill_id: 2, cost_bucket: 2 },
    { backfill_id: 3, cost_bucket: 4 },
  ]);
  const fresh = await db.pool.query('select backfill_id, estimated_cost from insights_jobs_backfill_new');
  t.deepEqual(fresh.rows, [{ backfill_id: 4, estimated_cost: 5 }]);
});

test('the comparison reports every kind of drift from the contract', async (t) => {
  const db = await useTestDatabase(t);
  await db.pool.query(`
    alter table dashboard drop column save;
    alter table insight_series alter column sample_interval_value set default 2;
    alter table insight_view alter column unique_id drop not null;
    alter table series_points alter column value type numeric;
    drop index insight_series_deleted_at_idx;
    drop index repo_names_name_trgm;
    create index repo_names_name_trgm on repo_names (name);
    alter table repo_names drop constraint check_name_nonempty;
    alter table insight_view_series drop constraint insight_view_series_insight_view_id_fkey;
    create or replace view insights_jobs_backfill_in_progress as
      select jobs.id, jobs.state, jobs.failure_message, jobs.queued_at, jobs.started_at, jobs.finished_at, jobs.process_after,
             jobs.num_resets, jobs.num_failures, jobs.last_heartbeat_at, jobs.execution_logs, jobs.worker_hostname, jobs.cancel,
             jobs.backfill_id, isb.state as backfill_state, isb.estimated_cost,
             width_bucket(isb.estimated_cost, 0::double precision, max(isb.estimated_cost + 1::double precision) over (), 5) as cost_bucket
        from insights_background_jobs jobs join insight_series_backfill isb on jobs.backfill_id = isb.id
       where isb.state = 'processing';
    drop view insights_jobs_backfill_new;
    alter type time_unit add value 'DECADE';
    comment on column insight_series.query is 'changed';`);
  const problems = await compareWithContract(db.pool, contract);
  t.log(`reported:\n${problems.join('\n')}`);
  const expectations = [
    /^column dashboard\.save is missing$/,
    /^column insight_series\.sample_interval_value has default 2, expected 1$/,
    /^column insight_view\.unique_id is nullable, expected not null$/,
    /^column series_points\.value has type numeric, expected double precision$/,
    /^index on insight_series is missing: "insight_series_deleted_at_idx"/,
    /^index on repo_names differs: "repo_names_name_trgm" btree \(name\)/,
    /^check constraint on repo_names is missing: "check_name_nonempty"/,
    /^foreign key on insight_view_series is missing: "insight_view_series_insight_view_id_fkey"/,
    /^view insights_jobs_backfill_in_progress differs/,
    /^view insights_jobs_backfill_new is missing$/,
    /^enum time_unit has labels HOUR, DAY, WEEK, MONTH, YEAR, DECADE/,
    /^column insight_series\.query has comment "changed"/,
  ];
  for (const expected of expectations)
    t.true(
      problems.some((p) => expected.test(p)),
      `expected a problem matching ${expected}`,
    );
  t.is(problems.length, expectations.length, problems.join('\n'));
});
