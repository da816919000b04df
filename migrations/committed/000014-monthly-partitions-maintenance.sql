--! Previous: sha1:7f8cb6014809911af1e21b09fb3b73859396af14
--! Hash: sha1:cdaf44d9b671f7cdd6ce3b49bb608d4c40e848ab
--! Message: monthly partitions maintenance

-- The plan for partitioning time-series tables by month (docs/storage.md): a maintenance function
-- that creates monthly range partitions ahead, plus a default partition whose rows mean a month was
-- missed. bench:storage measures a monthly-partitioned series_points against the plain table with
-- it; the production tables stay plain until the measurements say otherwise.
drop function if exists ensure_monthly_partitions(regclass, date, integer);

create function ensure_monthly_partitions(parent regclass, first_month date, months_ahead integer default 3)
returns integer language plpgsql volatile as $$
declare
  month date := date_trunc('month', first_month)::date;
  last_month date := (date_trunc('month', now() at time zone 'utc') + make_interval(months => months_ahead))::date;
  schema_name text;
  table_name text;
  partition_name text;
  created integer := 0;
begin
  if months_ahead is null or months_ahead < 0 or months_ahead > 120 then
    raise exception 'months_ahead must be between 0 and 120, got %', months_ahead using errcode = '22023';
  end if;
  select n.nspname, c.relname into schema_name, table_name
    from pg_class c join pg_namespace n on n.oid = c.relnamespace where c.oid = parent and c.relkind = 'p';
  if not found then
    raise exception '% is not a partitioned table', parent using errcode = '22023';
  end if;
  while month <= last_month loop
    partition_name := format('%s_y%sm%s', table_name, to_char(month, 'YYYY'), to_char(month, 'MM'));
    if to_regclass(format('%I.%I', schema_name, partition_name)) is null then
      execute format('create table %I.%I partition of %s for values from (%L) to (%L)',
                     schema_name, partition_name, parent, month::timestamp at time zone 'utc',
                     (month + interval '1 month')::timestamp at time zone 'utc');
      created := created + 1;
    end if;
    month := (month + interval '1 month')::date;
  end loop;
  if to_regclass(format('%I.%I', schema_name, table_name || '_default')) is null then
    execute format('create table %I.%I partition of %s default', schema_name, table_name || '_default', parent);
    created := created + 1;
  end if;
  return created;
end
$$;
comment on function ensure_monthly_partitions(regclass, date, integer) is
  'Creates the missing monthly (UTC) range partitions of a table partitioned by a timestamptz column, from first_month to months_ahead months after this one, and a default partition (rows there mean a month was missed); returns how many it created.';
