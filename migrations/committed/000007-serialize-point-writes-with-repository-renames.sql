--! Previous: sha1:6cc62807565848963dd1c39100bc3bfd9bf9ac44
--! Hash: sha1:ecc7e27efd1070af9d1386f3206f2c5940f46948
--! Message: serialize point writes with repository renames

-- Point writers and rename_repository deadlocked: a rename rewrites every point of a repository
-- while a recording or backfill page upserts some of them, each holding row locks the other wants.
-- Writers now take a share lock on their repositories (in id order) before touching points, and a
-- rename's update of the repository row waits for them (and they for it): one order, no cycle.
-- Rows are also written in key order so two writers of the same keys lock them in the same order.

create or replace function lock_point_repositories(points jsonb) returns void language plpgsql volatile as $$
begin
  -- PERFORM reads every row, so every lock is taken.
  perform 1 from repositories r
    where r.id in (select distinct (p->>'repo_id')::integer from jsonb_array_elements(points) p)
    order by r.id
    for share;
end
$$;
revoke execute on function lock_point_repositories(jsonb) from public;
comment on function lock_point_repositories(jsonb) is
  'Share-locks, in id order, the repositories named by points [{repo_id}]; point writers call it first so a concurrent rename_repository waits for them instead of deadlocking.';

create or replace function store_series_recording(
  series_id integer,
  recording_time timestamptz,
  snapshot boolean,
  points jsonb,
  incomplete jsonb default '[]'
) returns integer language plpgsql volatile as $$
#variable_conflict use_column
declare
  series insight_series;
  stored integer;
begin
  select * into series from insight_series s where s.id = store_series_recording.series_id for update;
  if not found then
    raise exception 'no series with id %', store_series_recording.series_id using errcode = 'P0002';
  end if;
  perform lock_point_repositories(points);
  if snapshot then
    -- A snapshot replaces the previous one as a whole.
    delete from series_points_snapshots p where p.series_id = series.series_id;
    delete from insight_series_recording_times t where t.insight_series_id = series.id and t.snapshot;
    insert into series_points_snapshots (series_id, time, value, repo_id, repo_name_id, original_repo_name_id, capture)
      select series.series_id, recording_time, (p->>'value')::double precision, r.id, n.id, n.id, p->>'capture'
        from jsonb_array_elements(points) p
        join repositories r on r.id = (p->>'repo_id')::integer
        join repo_names n on n.name = r.name
       order by r.id, p->>'capture';
    get diagnostics stored = row_count;
    insert into insight_series_recording_times (insight_series_id, recording_time, snapshot)
      values (series.id, recording_time, true) on conflict do nothing;
    update insight_series set last_snapshot_at = utc_now(),
                              next_snapshot_after = date_trunc('day', utc_now()) + interval '1 day'
     where id = series.id;
  else
    insert into series_points (series_id, time, value, repo_id, repo_name_id, original_repo_name_id, capture)
      select series.series_id, recording_time, (p->>'value')::double precision, r.id, n.id, n.id, p->>'capture'
        from jsonb_array_elements(points) p
        join repositories r on r.id = (p->>'repo_id')::integer
        join repo_names n on n.name = r.name
       order by r.id, p->>'capture'
      on conflict (series_id, repo_id, time, capture) do update set value = excluded.value;
    get diagnostics stored = row_count;
    insert into insight_series_recording_times (insight_series_id, recording_time, snapshot)
      values (series.id, recording_time, false)
      on conflict (insight_series_id, recording_time) do update set snapshot = false;
    update insight_series set last_recorded_at = utc_now(),
                              next_recording_after = utc_now() + time_unit_interval(sample_interval_unit, sample_interval_value)
     where id = series.id;
  end if;
  insert into insight_series_incomplete_points (series_id, reason, time, repo_id)
    select series.id, i->>'reason', timezone('utc', recording_time), (i->>'repo_id')::integer
      from jsonb_array_elements(incomplete) i
    on conflict do nothing;
  return stored;
end
$$;

create or replace function backfill_record_page(
  backfill_id integer,
  new_cursor integer,
  points jsonb,
  succeeded_repo_ids integer[],
  failures jsonb,
  runtime_ms bigint,
  log_message text default null
) returns repo_iterator language plpgsql volatile as $$
#variable_conflict use_column
declare
  backfill insight_series_backfill;
  series insight_series;
  iterator repo_iterator;
  failure jsonb;
  failed_times integer;
begin
  select * into backfill from insight_series_backfill b where b.id = backfill_record_page.backfill_id;
  select * into series from insight_series s where s.id = backfill.series_id;
  perform lock_point_repositories(points);
  insert into series_points (series_id, time, value, repo_id, repo_name_id, original_repo_name_id, capture)
    select series.series_id, (p->>'time')::timestamptz, (p->>'value')::double precision, r.id, n.id, n.id, p->>'capture'
      from jsonb_array_elements(points) p
      join repositories r on r.id = (p->>'repo_id')::integer
      join repo_names n on n.name = r.name
     order by r.id, (p->>'time')::timestamptz, p->>'capture'
    on conflict (series_id, repo_id, time, capture) do update set value = excluded.value;
  -- A repository that succeeds on a retry is no longer an error.
  delete from repo_iterator_errors e where e.repo_iterator_id = backfill.repo_iterator_id and e.repo_id = any (succeeded_repo_ids);
  for failure in select value from jsonb_array_elements(failures) loop
    update repo_iterator_errors e
       set error_message = e.error_message || array[failure->>'message'], failure_count = coalesce(e.failure_count, 0) + 1
     where e.repo_iterator_id = backfill.repo_iterator_id and e.repo_id = (failure->>'repo_id')::integer
    returning e.failure_count into failed_times;
    if not found then
      insert into repo_iterator_errors (repo_iterator_id, repo_id, error_message, failure_count)
        values (backfill.repo_iterator_id, (failure->>'repo_id')::integer, array[failure->>'message'], 1);
      failed_times := 1;
    end if;
    -- The third failure gives the repository up: incomplete points for every sample time.
    if failed_times = 3 then
      perform backfill_give_up_repository(backfill.id, (failure->>'repo_id')::integer, coalesce(failure->>'reason', 'generic'));
    end if;
  end loop;
  update repo_iterator i
     set repo_cursor = greatest(coalesce(i.repo_cursor, 0), new_cursor),
         success_count = i.success_count + coalesce(cardinality(succeeded_repo_ids), 0),
         runtime_duration = i.runtime_duration + runtime_ms,
         percent_complete = case when i.total_count = 0 then 1
                                 else least(1, greatest(coalesce(i.repo_cursor, 0), new_cursor)::double precision / i.total_count) end,
         last_updated_at = utc_now()
   where i.id = backfill.repo_iterator_id returning * into iterator;
  update insights_background_jobs j
     set last_heartbeat_at = now(),
         execution_logs = case when log_message is null then execution_logs
                               else coalesce(execution_logs, '{}') || json_build_object('time', now(), 'message', log_message) end
   where j.backfill_id = backfill.id;
  return iterator;
end
$$;
