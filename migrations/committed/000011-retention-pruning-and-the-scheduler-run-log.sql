--! Previous: sha1:5852ed831164a8597a9c4961ebe8c8c8144e80fc
--! Hash: sha1:a1b5d0465d339451a54822a4e3e04067ec010e2f
--! Message: retention, pruning and the scheduler run log

-- Retention, pruning and the scheduler's run log.
--
-- Retention keeps the newest N non-snapshot recording times of a series live and moves older points
-- and recording times into the archived_* tables in one transaction (DESIGN.md §4). It locks the
-- series row first, as store_series_recording does, so a recording of the same series waits for it
-- (or it for the recording) and nothing is lost. Snapshots and incomplete points stay.

drop view if exists task_run_status;
drop table if exists recurring_tasks;
drop function if exists archive_series_points(integer, integer);
drop function if exists enqueue_series_retention(integer);
drop function if exists prune_deleted_series();

create function archive_series_points(series_id integer, keep integer) returns jsonb
language plpgsql volatile as $$
#variable_conflict use_column
declare
  series insight_series;
  cutoff timestamptz;
  moved_points integer := 0;
  moved_times integer := 0;
begin
  if keep is null or keep < 1 then
    raise exception 'keep must be at least 1, got %', keep using errcode = '22023';
  end if;
  select * into series from insight_series s where s.id = archive_series_points.series_id for update;
  if not found then
    raise exception 'no series with id %', archive_series_points.series_id using errcode = 'P0002';
  end if;
  select t.recording_time into cutoff from insight_series_recording_times t
   where t.insight_series_id = series.id and not t.snapshot
   order by t.recording_time desc offset keep - 1 limit 1;
  if cutoff is not null then
    -- Repositories first, like every point writer, so a concurrent rename waits instead of deadlocking.
    perform 1 from repositories r
      where r.id in (select distinct p.repo_id from series_points p where p.series_id = series.series_id and p.time < cutoff)
      order by r.id for share;
    with moved as (
      delete from series_points p where p.series_id = series.series_id and p.time < cutoff
      returning p.series_id, p.time, p.value, p.repo_id, p.repo_name_id, p.original_repo_name_id, p.capture
    )
    insert into archived_series_points (series_id, time, value, repo_id, repo_name_id, original_repo_name_id, capture)
      select * from moved
    on conflict do nothing;
    get diagnostics moved_points = row_count;
    with moved as (
      delete from insight_series_recording_times t
       where t.insight_series_id = series.id and not t.snapshot and t.recording_time < cutoff
      returning t.insight_series_id, t.recording_time, t.snapshot
    )
    insert into archived_insight_series_recording_times (insight_series_id, recording_time, snapshot)
      select * from moved
    on conflict do nothing;
    get diagnostics moved_times = row_count;
  end if;
  return jsonb_build_object('series_id', series.id, 'keep', keep, 'archived_before', cutoff,
                            'archived_points', moved_points, 'archived_recording_times', moved_times);
end
$$;
comment on function archive_series_points(integer, integer) is
  'Keeps the newest keep non-snapshot recording times of a series live and moves older points and recording times to the archived_* tables, in one transaction; running it again moves nothing.';

create function enqueue_series_retention(keep integer) returns integer language plpgsql volatile as $$
#variable_conflict use_column
declare
  queued integer := 0;
  due record;
  retention_job_id integer;
begin
  for due in
    select s.id, s.series_id from insight_series s
     where s.deleted_at is null
       and (select count(*) from insight_series_recording_times t where t.insight_series_id = s.id and not t.snapshot) > keep
       and not exists (select 1 from insights_data_retention_jobs j where j.series_id = s.id and j.state in ('queued', 'processing'))
     order by s.id
  loop
    insert into insights_data_retention_jobs (series_id, series_id_string) values (due.id, due.series_id) returning id into retention_job_id;
    perform graphile_worker.add_job('retain_series', json_build_object('retention_job_id', retention_job_id, 'keep', keep),
      job_key := 'retain_series:' || due.id, max_attempts := 3);
    queued := queued + 1;
  end loop;
  return queued;
end
$$;
comment on function enqueue_series_retention(integer) is
  'Queues a retention job (an insights_data_retention_jobs row and a retain_series job) for every live series with more than keep recording times and none queued.';

-- Soft-deleted series that no view uses go, with everything that hangs off them.
create function prune_deleted_series() returns jsonb language plpgsql volatile as $$
declare
  pruned insight_series[];
  iterators integer[];
begin
  select coalesce(array_agg(s order by s.id), '{}') into pruned from insight_series s
   where s.deleted_at is not null
     and not exists (select 1 from insight_view_series vs where vs.insight_series_id = s.id);
  if cardinality(pruned) = 0 then
    return jsonb_build_object('pruned_series', 0, 'queries', '[]'::jsonb);
  end if;
  perform graphile_worker.remove_job(j.key) from graphile_worker.jobs j
    where j.key in (select 'record_series:' || p.id || ':' || m from unnest(pruned) p, unnest(array['record', 'snapshot']) m
                    union all select 'retain_series:' || p.id from unnest(pruned) p
                    union all select 'backfill:' || b.id from insight_series_backfill b where b.series_id in (select p.id from unnest(pruned) p));
  select coalesce(array_agg(b.repo_iterator_id), '{}') into iterators from insight_series_backfill b
   where b.series_id in (select p.id from unnest(pruned) p) and b.repo_iterator_id is not null;
  delete from insights_data_retention_jobs j where j.series_id in (select p.id from unnest(pruned) p);
  delete from series_points p where p.series_id in (select q.series_id from unnest(pruned) q);
  delete from series_points_snapshots p where p.series_id in (select q.series_id from unnest(pruned) q);
  -- The rest cascades: archived points and times, recording times, incomplete points, backfills
  -- and their job rows, totals.
  delete from insight_series s where s.id in (select p.id from unnest(pruned) p);
  delete from repo_iterator_errors e where e.repo_iterator_id = any (iterators);
  delete from repo_iterator i where i.id = any (iterators);
  return jsonb_build_object('pruned_series', cardinality(pruned),
                            'queries', (select jsonb_agg(distinct p.query) from unnest(pruned) p));
end
$$;
comment on function prune_deleted_series() is
  'Deletes soft-deleted series that no view uses, with their points, snapshots, archived data, backfills and jobs; returns how many and their queries (whose cached blob counts the prune task then drops if no other series needs them).';

------------------------------------------------------------------------------------------------------
-- The scheduler's run log
------------------------------------------------------------------------------------------------------
create table recurring_tasks (
  task_name text primary key,
  schedule text not null,
  period interval not null,
  description text not null
);
comment on table recurring_tasks is 'The crontab of src/worker/task-list.ts (a test keeps them equal): what runs when, and how often, for task_run_status.';

insert into recurring_tasks (task_name, schedule, period, description) values
  ('enqueue_due_recordings', '* * * * *', '1 minute', 'queues record_series for due recordings and snapshots'),
  ('sync_due_repos', '*/5 * * * *', '5 minutes', 'queues sync_repo for repositories past their fetch cooldown'),
  ('enqueue_retention', '41 2 * * *', '1 day', 'queues retain_series for series with more than the maximum samples'),
  ('prune_deleted_series', '53 2 * * *', '1 day', 'deletes soft-deleted series no view uses, with their data'),
  ('prune_task_runs', '17 3 * * *', '1 day', 'deletes task_runs older than 30 days');

create view task_run_status as
  select t.task_name, t.schedule, t.period,
         last_run.started_at as last_run_at, last_run.status as last_status,
         ok.started_at as last_success_at, ok.duration_ms as last_success_duration_ms,
         bad.started_at as last_failure_at, bad.error as last_failure_error,
         -- Overdue: a worker has been up for more than two periods (plus a minute of slack) and the
         -- task has not succeeded within them. Without a live worker nothing runs: /healthz says so.
         coalesce(alive.since < now() - 2 * t.period - interval '1 minute'
                  and (ok.started_at is null or ok.started_at < now() - 2 * t.period - interval '1 minute'), false) as overdue
    from recurring_tasks t
    left join lateral (select r.started_at, r.status from task_runs r where r.task_name = t.task_name order by r.started_at desc limit 1) last_run on true
    left join lateral (select r.started_at, r.duration_ms from task_runs r where r.task_name = t.task_name and r.status = 'succeeded' order by r.started_at desc limit 1) ok on true
    left join lateral (select r.started_at, r.error from task_runs r where r.task_name = t.task_name and r.status = 'failed' order by r.started_at desc limit 1) bad on true
    cross join lateral (select min(w.started_at) as since from worker_processes w) alive;
comment on view task_run_status is 'Per recurring task: its schedule, last run, last success, last failure and whether it is overdue.';
