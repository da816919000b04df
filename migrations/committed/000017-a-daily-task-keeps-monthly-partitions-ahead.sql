--! Previous: sha1:669868ade1f6445dec269c5639d93060c5103b8a
--! Hash: sha1:c3b821d07bcab9a2e4daa2141b7250627432896d
--! Message: a daily task keeps monthly partitions ahead

-- The maintenance side of the monthly-partitioning plan (docs/storage.md): a daily task keeps
-- monthly partitions ahead for every range-partitioned table of the schema, and reports rows that
-- landed in a default partition (a month that was missed). With no partitioned table (today's
-- decision) it finds nothing to do.
drop function if exists ensure_partitions_ahead(integer);
delete from recurring_tasks where task_name = 'ensure_partitions';

create function ensure_partitions_ahead(months_ahead integer default 3) returns jsonb
language plpgsql volatile as $$
declare
  parent record;
  created integer;
  default_rows bigint;
  report jsonb := '[]';
begin
  for parent in
    select c.oid::regclass as relation, c.relname as name, n.nspname as schema_name
      from pg_partitioned_table p
      join pg_class c on c.oid = p.partrelid
      join pg_namespace n on n.oid = c.relnamespace
      join pg_attribute a on a.attrelid = p.partrelid and a.attnum = p.partattrs[0]
     where n.nspname = 'public' and p.partstrat = 'r' and p.partnatts = 1 and a.atttypid = 'timestamptz'::regtype
       and not c.relispartition
     order by c.relname
  loop
    created := ensure_monthly_partitions(parent.relation, (date_trunc('month', now() at time zone 'utc'))::date, months_ahead);
    execute format('select count(*) from %I.%I', parent.schema_name, parent.name || '_default') into default_rows;
    report := report || jsonb_build_object('table', parent.name, 'created', created, 'default_rows', default_rows);
  end loop;
  return jsonb_build_object('months_ahead', months_ahead, 'tables', report);
end
$$;
comment on function ensure_partitions_ahead(integer) is 'For every table of the public schema range-partitioned on one timestamptz column: creates its monthly partitions up to months_ahead months ahead (ensure_monthly_partitions) and counts the rows in its default partition, which should be 0. Run daily by the ensure_partitions task.';

insert into recurring_tasks (task_name, schedule, period, description) values
  ('ensure_partitions', '29 2 * * *', '1 day', 'creates monthly partitions ahead for range-partitioned time tables and reports rows in default partitions');
