--! Previous: sha1:9ebbb30939c93872a356968d49612c7e88c42754
--! Hash: sha1:f4bcd6fe7121329e1c091d578dcb8316291124a2
--! Message: one door to the database: a core schema, one owner per rule

-- One door to the database: the core moves into a schema of its own.
--
-- insights_core holds every function and table that is not API: the rules (backfill moves, error
-- limits, schedules, scope), the writers the worker, the CLI and the demo call, and the internal
-- tables (caches, the per-view lines, the worker registry, the crontab). PostGraphile introspects
-- only `public`, so it sees the API and nothing else. Public API functions are thin: they check the
-- requester, then call the same core function the CLI calls, so every door gets the same trimming,
-- clock, etag bump and checks. The current definition of everything is in sql/schema.sql.

create schema insights_core;
comment on schema insights_core is 'The core of Code Insights that is not API: rules, writers and internal tables (PostGraphile does not see it).';
-- API roles reach core functions only through RLS policies and public API functions.
grant usage on schema insights_core to code_insights_anonymous, code_insights_user;

------------------------------------------------------------------------------------------------------
-- Internal tables and views (not in the seed contract) move. Their sequences, indexes, policies and
-- triggers move with them; views and functions refer to them by oid.
------------------------------------------------------------------------------------------------------
alter table public.insight_view_lines set schema insights_core;
alter table public.recurring_tasks set schema insights_core;
alter table public.search_blob_counts set schema insights_core;
alter table public.series_point_totals set schema insights_core;
alter table public.worker_processes set schema insights_core;
alter view public.task_run_status set schema insights_core;

------------------------------------------------------------------------------------------------------
-- Internal functions move.
------------------------------------------------------------------------------------------------------
alter function public.app_is_admin() set schema insights_core;
alter function public.app_may_read_view(view_id integer) set schema insights_core;
alter function public.app_org_ids() set schema insights_core;
alter function public.app_require_admin() set schema insights_core;
alter function public.app_require_user() set schema insights_core;
alter function public.app_user_id() set schema insights_core;
alter function public.app_visible_series_ids() set schema insights_core;
alter function public.archive_series_points(series_id integer, keep integer) set schema insights_core;
alter function public.backfill_cancel(backfill_id integer) set schema insights_core;
alter function public.backfill_claim(backfill_id integer, worker_id text) set schema insights_core;
alter function public.backfill_fail(backfill_id integer, message text) set schema insights_core;
alter function public.backfill_finish(backfill_id integer) set schema insights_core;
alter function public.backfill_give_up_repository(backfill_id integer, repo_id integer, reason text) set schema insights_core;
alter function public.backfill_move_to_back(backfill_id integer) set schema insights_core;
alter function public.backfill_move_to_front(backfill_id integer) set schema insights_core;
alter function public.backfill_plan(backfill_id integer, query_complexity double precision, max_samples integer) set schema insights_core;
alter function public.backfill_priority(backfill_id integer) set schema insights_core;
alter function public.backfill_queue_step(backfill_id integer) set schema insights_core;
alter function public.backfill_record_page(backfill_id integer, new_cursor integer, points jsonb, succeeded_repo_ids integer[], failures jsonb, runtime_ms bigint, log_message text) set schema insights_core;
alter function public.backfill_retry(backfill_id integer) set schema insights_core;
alter function public.backfill_sample_times(series_id integer) set schema insights_core;
alter function public.backfill_should_yield(backfill_id integer) set schema insights_core;
alter function public.backfill_step_failed(backfill_id integer, message text) set schema insights_core;
alter function public.backfill_stop_canceled(backfill_id integer) set schema insights_core;
alter function public.backfill_yield(backfill_id integer) set schema insights_core;
alter function public.charge_backfill_cost() set schema insights_core;
alter function public.charge_usage(user_id integer, event_type text, resource text, amount double precision, details jsonb) set schema insights_core;
alter function public.check_insight_scope(repositories text[], repository_criteria text) set schema insights_core;
alter function public.check_line_series(series jsonb) set schema insights_core;
alter function public.check_repo_regex(regex text, what text) set schema insights_core;
alter function public.create_line_insight(title text, series jsonb, repositories text[], repository_criteria text, interval_unit time_unit, interval_value integer, oldest_historical_at timestamp with time zone, user_id integer) set schema insights_core;
alter function public.dashboard_is_editable(dashboard_id integer) set schema insights_core;
alter function public.dashboard_is_visible(dashboard_id integer) set schema insights_core;
alter function public.enqueue_due_repo_syncs(cooldown interval) set schema insights_core;
alter function public.enqueue_due_series_recordings() set schema insights_core;
alter function public.enqueue_series_retention(keep integer) set schema insights_core;
alter function public.ensure_monthly_partitions(parent regclass, first_month date, months_ahead integer) set schema insights_core;
alter function public.ensure_partitions_ahead(months_ahead integer) set schema insights_core;
alter function public.grant_applies(user_id integer, org_id integer, is_global boolean) set schema insights_core;
alter function public.insight_series_pending_jobs(series_id integer) set schema insights_core;
alter function public.insight_series_sample_times(series insight_series, max_samples integer) set schema insights_core;
alter function public.insight_view_data_live(view insight_view, include_repo_regex text, exclude_repo_regex text, sort_mode series_sort_mode_enum, sort_direction series_sort_direction_enum, series_limit integer, num_samples integer) set schema insights_core;
alter function public.insight_view_export(view_id integer) set schema insights_core;
alter function public.insight_view_for_update(view_id integer, expected_etag text) set schema insights_core;
alter function public.insight_view_is_editable(view_id integer) set schema insights_core;
alter function public.insight_view_is_visible(view_id integer) set schema insights_core;
alter function public.lock_point_repositories(points jsonb) set schema insights_core;
alter function public.notify_backfill_state() set schema insights_core;
alter function public.notify_repo_iterator_progress() set schema insights_core;
alter function public.notify_series_views(series_id integer) set schema insights_core;
alter function public.prune_deleted_series() set schema insights_core;
alter function public.queue_series_backfill(series_id integer) set schema insights_core;
alter function public.record_insight_created() set schema insights_core;
alter function public.refresh_insight_view_lines(view_ids integer[]) set schema insights_core;
alter function public.refresh_lines_of_changed_times() set schema insights_core;
alter function public.refresh_lines_of_changed_totals() set schema insights_core;
alter function public.refresh_lines_of_changed_view_series() set schema insights_core;
alter function public.refresh_lines_of_view() set schema insights_core;
alter function public.register_repository(clone_url text, name text, default_branch text) set schema insights_core;
alter function public.release_dead_workers(stale_after interval) set schema insights_core;
alter function public.rename_repository(repo_id integer, new_name text) set schema insights_core;
alter function public.repository_criteria_matches(criteria text, repo_name text) set schema insights_core;
alter function public.repository_name_id(name text) set schema insights_core;
alter function public.retire_unused_series(series_ids integer[]) set schema insights_core;
alter function public.series_for_insight(element jsonb, reuse_from integer, repositories text[], repository_criteria text, interval_unit time_unit, interval_value integer, history_start timestamp without time zone, just_in_time boolean) set schema insights_core;
alter function public.series_point_totals_delete() set schema insights_core;
alter function public.series_point_totals_insert() set schema insights_core;
alter function public.series_point_totals_update() set schema insights_core;
alter function public.set_daily_usage_limit(event_type text, daily_limit double precision) set schema insights_core;
alter function public.set_insight_view_display(view_id integer, title text, description text, include_repo_regex text, exclude_repo_regex text, sort_mode series_sort_mode_enum, sort_direction series_sort_direction_enum, series_limit integer, num_samples integer, other_threshold double precision) set schema insights_core;
alter function public.set_insight_view_series(view insight_view, series jsonb, repositories text[], repository_criteria text, interval_unit time_unit, interval_value integer, oldest_historical_at timestamp with time zone, just_in_time boolean) set schema insights_core;
alter function public.store_series_recording(series_id integer, recording_time timestamp with time zone, snapshot boolean, points jsonb, incomplete jsonb) set schema insights_core;
alter function public.time_unit_interval(unit time_unit, value integer) set schema insights_core;
alter function public.utc_now() set schema insights_core;

------------------------------------------------------------------------------------------------------
-- Name resolution: functions that already pinned their search_path, and PL/pgSQL bodies that name a
-- core object, resolve core names through it (the others name only public objects and keep the
-- caller's search_path, as before).
------------------------------------------------------------------------------------------------------
alter function public.add_repository(clone_url text, name text, default_branch text) set search_path = public, insights_core, pg_temp;
alter function public.add_view_to_dashboard(dashboard_id integer, view_id integer) set search_path = public, insights_core, pg_temp;
alter function insights_core.app_require_admin() set search_path = public, insights_core, pg_temp;
alter function insights_core.app_require_user() set search_path = public, insights_core, pg_temp;
alter function insights_core.app_visible_series_ids() set search_path = public, insights_core, pg_temp;
alter function insights_core.backfill_finish(backfill_id integer) set search_path = public, insights_core, pg_temp;
alter function insights_core.backfill_give_up_repository(backfill_id integer, repo_id integer, reason text) set search_path = public, insights_core, pg_temp;
alter function insights_core.backfill_move_to_back(backfill_id integer) set search_path = public, insights_core, pg_temp;
alter function insights_core.backfill_move_to_front(backfill_id integer) set search_path = public, insights_core, pg_temp;
alter function insights_core.backfill_plan(backfill_id integer, query_complexity double precision, max_samples integer) set search_path = public, insights_core, pg_temp;
alter function insights_core.backfill_queue_step(backfill_id integer) set search_path = public, insights_core, pg_temp;
alter function insights_core.backfill_record_page(backfill_id integer, new_cursor integer, points jsonb, succeeded_repo_ids integer[], failures jsonb, runtime_ms bigint, log_message text) set search_path = public, insights_core, pg_temp;
alter function insights_core.backfill_retry(backfill_id integer) set search_path = public, insights_core, pg_temp;
alter function insights_core.backfill_yield(backfill_id integer) set search_path = public, insights_core, pg_temp;
alter function public.cancel_backfill(backfill_id integer) set search_path = public, insights_core, pg_temp;
alter function insights_core.charge_backfill_cost() set search_path = public, insights_core, pg_temp;
alter function public.create_dashboard(title text) set search_path = public, insights_core, pg_temp;
alter function public.create_line_chart_insight(title text, series jsonb, repositories text[], repository_criteria text, interval_unit time_unit, interval_value integer, oldest_historical_at timestamp with time zone, description text, include_repo_regex text, exclude_repo_regex text, sort_mode series_sort_mode_enum, sort_direction series_sort_direction_enum, series_limit integer, num_samples integer) set search_path = public, insights_core, pg_temp;
alter function insights_core.create_line_insight(title text, series jsonb, repositories text[], repository_criteria text, interval_unit time_unit, interval_value integer, oldest_historical_at timestamp with time zone, user_id integer) set search_path = public, insights_core, pg_temp;
alter function public.create_pie_chart_insight(title text, repositories text[], repository_criteria text, query text, other_threshold double precision, description text) set search_path = public, insights_core, pg_temp;
alter function insights_core.dashboard_is_editable(dashboard_id integer) set search_path = public, insights_core, pg_temp;
alter function insights_core.dashboard_is_visible(dashboard_id integer) set search_path = public, insights_core, pg_temp;
alter function public.delete_dashboard(dashboard_id integer) set search_path = public, insights_core, pg_temp;
alter function public.delete_insight_view(view_id integer, expected_etag text) set search_path = public, insights_core, pg_temp;
alter function insights_core.enqueue_due_series_recordings() set search_path = public, insights_core, pg_temp;
alter function insights_core.ensure_partitions_ahead(months_ahead integer) set search_path = public, insights_core, pg_temp;
alter function public.grant_dashboard(dashboard_id integer, user_id integer, org_id integer, is_global boolean) set search_path = public, insights_core, pg_temp;
alter function public.grant_insight_view(view_id integer, user_id integer, org_id integer, is_global boolean) set search_path = public, insights_core, pg_temp;
alter function insights_core.insight_series_pending_jobs(series_id integer) set search_path = public, insights_core, pg_temp;
alter function public.insight_view_data(view insight_view, include_repo_regex text, exclude_repo_regex text, sort_mode series_sort_mode_enum, sort_direction series_sort_direction_enum, series_limit integer, num_samples integer) set search_path = public, insights_core, pg_temp;
alter function insights_core.insight_view_data_live(view insight_view, include_repo_regex text, exclude_repo_regex text, sort_mode series_sort_mode_enum, sort_direction series_sort_direction_enum, series_limit integer, num_samples integer) set search_path = public, insights_core, pg_temp;
alter function insights_core.insight_view_export(view_id integer) set search_path = public, insights_core, pg_temp;
alter function insights_core.insight_view_for_update(view_id integer, expected_etag text) set search_path = public, insights_core, pg_temp;
alter function insights_core.insight_view_is_editable(view_id integer) set search_path = public, insights_core, pg_temp;
alter function insights_core.insight_view_is_visible(view_id integer) set search_path = public, insights_core, pg_temp;
alter function public.insight_view_loading(view insight_view) set search_path = public, insights_core, pg_temp;
alter function public.insight_view_pie(view insight_view) set search_path = public, insights_core, pg_temp;
alter function public.insight_view_series_status(view insight_view) set search_path = public, insights_core, pg_temp;
alter function public.move_backfill_to_back(backfill_id integer) set search_path = public, insights_core, pg_temp;
alter function public.move_backfill_to_front(backfill_id integer) set search_path = public, insights_core, pg_temp;
alter function insights_core.notify_backfill_state() set search_path = public, insights_core, pg_temp;
alter function insights_core.notify_repo_iterator_progress() set search_path = public, insights_core, pg_temp;
alter function insights_core.queue_series_backfill(series_id integer) set search_path = public, insights_core, pg_temp;
alter function insights_core.record_insight_created() set search_path = public, insights_core, pg_temp;
alter function insights_core.refresh_insight_view_lines(view_ids integer[]) set search_path = public, insights_core, pg_temp;
alter function insights_core.refresh_lines_of_changed_times() set search_path = public, insights_core, pg_temp;
alter function insights_core.refresh_lines_of_changed_totals() set search_path = public, insights_core, pg_temp;
alter function insights_core.refresh_lines_of_changed_view_series() set search_path = public, insights_core, pg_temp;
alter function insights_core.refresh_lines_of_view() set search_path = public, insights_core, pg_temp;
alter function insights_core.register_repository(clone_url text, name text, default_branch text) set search_path = public, insights_core, pg_temp;
alter function insights_core.release_dead_workers(stale_after interval) set search_path = public, insights_core, pg_temp;
alter function public.remove_view_from_dashboard(dashboard_id integer, view_id integer) set search_path = public, insights_core, pg_temp;
alter function insights_core.rename_repository(repo_id integer, new_name text) set search_path = public, insights_core, pg_temp;
alter function public.retry_backfill(backfill_id integer) set search_path = public, insights_core, pg_temp;
alter function public.revoke_dashboard_grant(grant_id integer) set search_path = public, insights_core, pg_temp;
alter function public.revoke_insight_view_grant(grant_id integer) set search_path = public, insights_core, pg_temp;
alter function insights_core.series_for_insight(element jsonb, reuse_from integer, repositories text[], repository_criteria text, interval_unit time_unit, interval_value integer, history_start timestamp without time zone, just_in_time boolean) set search_path = public, insights_core, pg_temp;
alter function insights_core.series_point_totals_delete() set search_path = public, insights_core, pg_temp;
alter function insights_core.series_point_totals_insert() set search_path = public, insights_core, pg_temp;
alter function insights_core.series_point_totals_update() set search_path = public, insights_core, pg_temp;
alter function insights_core.set_insight_view_display(view_id integer, title text, description text, include_repo_regex text, exclude_repo_regex text, sort_mode series_sort_mode_enum, sort_direction series_sort_direction_enum, series_limit integer, num_samples integer, other_threshold double precision) set search_path = public, insights_core, pg_temp;
alter function insights_core.set_insight_view_series(view insight_view, series jsonb, repositories text[], repository_criteria text, interval_unit time_unit, interval_value integer, oldest_historical_at timestamp with time zone, just_in_time boolean) set search_path = public, insights_core, pg_temp;
alter function insights_core.store_series_recording(series_id integer, recording_time timestamp with time zone, snapshot boolean, points jsonb, incomplete jsonb) set search_path = public, insights_core, pg_temp;
alter function public.sync_repository(repo_id integer) set search_path = public, insights_core, pg_temp;
alter function public.update_dashboard(dashboard_id integer, title text, expected_last_updated_at timestamp without time zone) set search_path = public, insights_core, pg_temp;
alter function public.update_line_chart_insight(view_id integer, expected_etag text, title text, series jsonb, repositories text[], repository_criteria text, interval_unit time_unit, interval_value integer, description text, include_repo_regex text, exclude_repo_regex text, sort_mode series_sort_mode_enum, sort_direction series_sort_direction_enum, series_limit integer, num_samples integer) set search_path = public, insights_core, pg_temp;
alter function public.update_pie_chart_insight(view_id integer, expected_etag text, title text, repositories text[], repository_criteria text, query text, other_threshold double precision, description text) set search_path = public, insights_core, pg_temp;

------------------------------------------------------------------------------------------------------
-- SQL functions without a pinned search_path stay inlinable: their bodies name core objects in full.
------------------------------------------------------------------------------------------------------
create or replace function insights_core.grant_applies(user_id integer, org_id integer, is_global boolean)
returns boolean language sql stable as $$
  select coalesce(is_global, false)
      or (user_id is not null and user_id = insights_core.app_user_id())
      or (org_id is not null and org_id = any (insights_core.app_org_ids()))
$$;

create or replace function insights_core.app_may_read_view(view_id integer) returns boolean language sql stable as $$
  -- API requests run as one of its roles (set_config('role', ...), still visible inside SECURITY
  -- DEFINER functions); workers, the CLI and DBAs connect as themselves and see everything.
  select current_setting('role') not in ('code_insights_anonymous', 'code_insights_user', 'code_insights_admin')
      or insights_core.insight_view_is_visible(view_id)
$$;

create or replace function insights_core.insight_series_sample_times(series insight_series, max_samples integer default 104)
returns setof timestamptz language sql stable as $$
  -- One time per interval step back from creation (the live recording covers creation itself),
  -- not before oldest_historical_at, at most max_samples (hard limit 1000), in whole milliseconds.
  select date_trunc('milliseconds', timezone('utc', series.created_at
           - step * insights_core.time_unit_interval(series.sample_interval_unit, series.sample_interval_value)))
    from generate_series(1, least(greatest(max_samples, 1), 1000)) step
   where series.created_at - step * insights_core.time_unit_interval(series.sample_interval_unit, series.sample_interval_value)
         >= series.oldest_historical_at
   order by 1
$$;

create or replace function insights_core.retire_unused_series(series_ids integer[]) returns void language sql as $$
  -- Soft delete: recordings stop; pruning (with the data) is retention's job.
  update insight_series s set deleted_at = insights_core.utc_now()
   where s.id = any (series_ids) and s.deleted_at is null
     and not exists (select 1 from insight_view_series vs where vs.insight_series_id = s.id)
$$;

create or replace function insights_core.backfill_should_yield(backfill_id integer) returns boolean language sql stable as $$
  select exists (
    select 1
      from graphile_worker.jobs j
     where j.task_identifier in ('backfill_new', 'backfill_step')
       and j.locked_at is null
       and j.run_at <= now()
       and j.attempts < j.max_attempts
       and j.priority < insights_core.backfill_priority(backfill_should_yield.backfill_id)
  )
$$;

create or replace function public.insight_series_repository_ids(series insight_series) returns integer[] language sql stable as $$
  select coalesce(array_agg(r.id order by r.id), '{}')
    from repositories r
   where r.deleted_at is null
     and case
       when series.repositories is not null and cardinality(series.repositories) > 0 then r.name = any (series.repositories::citext[])
       when series.repository_criteria is not null then insights_core.repository_criteria_matches(series.repository_criteria, r.name::text)
       else true
     end
$$;

create or replace function public.series_backfill_cost(series insight_series) returns double precision language sql stable as $$
  -- The searches a backfill runs at most: repositories in scope x historical sample times.
  select cardinality(public.insight_series_repository_ids(series))::double precision
       * (select count(*) from insights_core.insight_series_sample_times(series, 1000))
$$;

------------------------------------------------------------------------------------------------------
-- The backfill's rules, each defined once, and its next move decided in one place.
------------------------------------------------------------------------------------------------------
create function insights_core.backfill_repository_attempts() returns integer language sql immutable as $$
  select 3
$$;
comment on function insights_core.backfill_repository_attempts() is
  'How many times a backfill searches one repository before giving it up with incomplete points (the one definition of this rule).';

create function insights_core.backfill_error_limit(repositories integer) returns integer language sql immutable as $$
  select greatest(50, ceil(0.05 * coalesce(repositories, 0))::integer)
$$;
comment on function insights_core.backfill_error_limit(integer) is
  'Failed repositories a backfill over this many repositories tolerates: max(50, 5 %). Above it the backfill fails with exceeds-error-limit (the one definition of this rule).';

create or replace function insights_core.backfill_finish(backfill_id integer) returns insight_series_backfill
language plpgsql set search_path = public, insights_core, pg_temp as $$
#variable_conflict use_column
declare
  backfill insight_series_backfill;
  iterator repo_iterator;
  error_count integer;
  error_limit integer;
begin
  select * into backfill from insight_series_backfill b where b.id = backfill_finish.backfill_id for update;
  select * into iterator from repo_iterator i where i.id = backfill.repo_iterator_id;
  select count(*) into error_count from repo_iterator_errors e where e.repo_iterator_id = iterator.id;
  error_limit := backfill_error_limit(iterator.total_count);
  if error_count > error_limit then
    insert into insight_series_incomplete_points (series_id, reason, time, repo_id)
      select backfill.series_id, 'exceeds-error-limit', timezone('utc', t), null
        from backfill_sample_times(backfill.series_id) t
      on conflict do nothing;
    update insight_series_backfill set state = 'failed' where id = backfill.id returning * into backfill;
    update insights_background_jobs set state = 'failed', finished_at = now(),
           failure_message = format('%s repositories failed, more than the limit of %s', error_count, error_limit)
     where backfill_id = backfill.id;
  else
    update insight_series_backfill set state = 'completed' where id = backfill.id returning * into backfill;
    update insights_background_jobs set state = 'completed', finished_at = now() where backfill_id = backfill.id;
    update insight_series set backfill_completed_at = utc_now() where id = backfill.series_id;
  end if;
  update repo_iterator set completed_at = utc_now(), percent_complete = 1, last_updated_at = utc_now() where id = iterator.id;
  return backfill;
end
$$;

create or replace function insights_core.backfill_record_page(backfill_id integer, new_cursor integer, points jsonb,
  succeeded_repo_ids integer[], failures jsonb, runtime_ms bigint, log_message text default null)
returns repo_iterator language plpgsql set search_path = public, insights_core, pg_temp as $$
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
    -- The last allowed failure gives the repository up: incomplete points for every sample time.
    if failed_times = backfill_repository_attempts() then
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

create function insights_core.backfill_step_begin(backfill_id integer, worker_id text,
  out state text, out series_id integer, out query text, out capture_groups boolean, out sample_times timestamptz[])
language plpgsql set search_path = public, insights_core, pg_temp as $$
#variable_conflict use_column
declare
  backfill insight_series_backfill;
begin
  select * into backfill from insight_series_backfill b where b.id = backfill_step_begin.backfill_id;
  if not found then
    state := 'missing';
    return;
  end if;
  if backfill.state <> 'processing' then
    state := backfill.state; -- not planned yet, or finished
    return;
  end if;
  if (backfill_claim(backfill.id, worker_id)).id is null then
    state := 'stopped'; -- canceled or finished meanwhile
    return;
  end if;
  state := 'claimed';
  select s.id, s.query, s.generated_from_capture_groups into series_id, query, capture_groups
    from insight_series s where s.id = backfill.series_id;
  sample_times := array(select backfill_sample_times(backfill.series_id));
end
$$;
comment on function insights_core.backfill_step_begin(integer, text) is
  'Starts a backfill step: claims the backfill''s job for the worker and returns its series and sample times; state is claimed, or why there is nothing to do (missing, new, completed, failed, stopped).';

create function insights_core.backfill_next_move(backfill_id integer, page_size integer, budget_spent boolean,
  pages_done integer, out move text, out repo_ids integer[], out new_cursor integer, out detail text)
language plpgsql set search_path = public, insights_core, pg_temp as $$
#variable_conflict use_column
declare
  backfill insight_series_backfill;
  iterator repo_iterator;
  job insights_background_jobs;
  at_repo integer;
  error_count integer;
  retry_ids integer[];
begin
  select * into backfill from insight_series_backfill b where b.id = backfill_next_move.backfill_id;
  select * into iterator from repo_iterator i where i.id = backfill.repo_iterator_id;
  select * into job from insights_background_jobs j where j.backfill_id = backfill.id order by j.id desc limit 1;
  at_repo := coalesce(iterator.repo_cursor, 0);
  -- 1. The cancel flag, honoured between pages.
  if job.cancel then
    perform backfill_stop_canceled(backfill.id);
    move := 'canceled';
    detail := format('canceled at repository %s of %s', at_repo, iterator.total_count);
    return;
  end if;
  -- 2. Too many failed repositories: the backfill fails.
  select count(*) into error_count from repo_iterator_errors e where e.repo_iterator_id = iterator.id;
  if error_count > backfill_error_limit(iterator.total_count) then
    move := (backfill_finish(backfill.id)).state;
    detail := format('%s repositories failed', error_count);
    return;
  end if;
  -- 3. The main pass, then the failed repositories that have attempts left.
  if at_repo < coalesce(cardinality(iterator.repos), 0) then
    repo_ids := iterator.repos[at_repo + 1 : at_repo + page_size];
    new_cursor := at_repo + cardinality(repo_ids);
    move := 'page';
  else
    select array_agg(e.repo_id order by e.repo_id) into retry_ids
      from (select e.repo_id from repo_iterator_errors e
             where e.repo_iterator_id = iterator.id and coalesce(e.failure_count, 1) < backfill_repository_attempts()
             order by e.repo_id limit page_size) e;
    if retry_ids is null then
      move := (backfill_finish(backfill.id)).state;
      detail := format('%s of %s repositories done', iterator.success_count, iterator.total_count);
      return;
    end if;
    repo_ids := retry_ids;
    new_cursor := at_repo;
    move := 'retry';
  end if;
  -- 4. Work remains: after the first page of a step, give way when its time budget is spent (the
  --    worker measures it, on its own clock) or as soon as cheaper backfill work is waiting.
  if pages_done > 0 and (budget_spent or backfill_should_yield(backfill.id)) then
    detail := case when budget_spent then 'its time budget ran out' else 'cheaper backfill work is waiting' end;
    move := 'yield';
    repo_ids := null;
    new_cursor := null;
  end if;
end
$$;
comment on function insights_core.backfill_next_move(integer, integer, boolean, integer) is
  'The next move of a backfill step, decided in one place: canceled, failed (error limit) or completed (the backfill is closed here), yield (re-queue: time budget or cheaper work waiting), or page/retry with the repositories to search and the cursor to record.';

------------------------------------------------------------------------------------------------------
-- The recurring work, defined once: the worker builds its crontab from this table.
------------------------------------------------------------------------------------------------------
alter table insights_core.recurring_tasks add column options text not null default '';
comment on column insights_core.recurring_tasks.options is
  'Graphile Worker crontab options, for example ?fill=1d (a run missed during downtime is made up once, up to a day late).';
update insights_core.recurring_tasks set options = '?fill=1d' where period = interval '1 day';
comment on table insights_core.recurring_tasks is
  'The recurring work, defined once: the worker''s Graphile Worker crontab is built from it (worker_crontab()), and task_run_status reads it.';

create function insights_core.worker_crontab() returns text language sql stable as $$
  select coalesce(string_agg(concat_ws(' ', t.schedule, t.task_name, nullif(t.options, '')), E'\n' order by t.task_name), '')
    from insights_core.recurring_tasks t
$$;
comment on function insights_core.worker_crontab() is 'The Graphile Worker crontab of recurring_tasks, one line per task (minute hour day month weekday task ?options).';

------------------------------------------------------------------------------------------------------
-- Dashboards, grants and views: one writer each. The CLI (as a DBA) calls these directly; the API
-- functions check the requester and then call them.
------------------------------------------------------------------------------------------------------
create function insights_core.required_title(title text) returns text language plpgsql immutable as $$
begin
  if title is null or btrim(title) = '' then
    raise exception 'title is required' using errcode = '22023';
  end if;
  return btrim(title);
end
$$;
comment on function insights_core.required_title(text) is 'A title trimmed, or an error when it is empty (every writer of dashboards and views uses it).';

create function insights_core.dashboard_for_change(dashboard_id integer) returns dashboard
language plpgsql set search_path = public, insights_core, pg_temp as $$
declare
  result dashboard;
begin
  select * into result from dashboard d where d.id = dashboard_for_change.dashboard_id and d.deleted_at is null for update;
  if not found then
    raise exception 'no dashboard %', dashboard_id using errcode = 'P0002';
  end if;
  return result;
end
$$;
comment on function insights_core.dashboard_for_change(integer) is 'Locks a dashboard that is not deleted for a change, or raises P0002.';

create function insights_core.dashboard_touch(dashboard_id integer) returns dashboard
language sql set search_path = public, insights_core, pg_temp as $$
  update dashboard d set last_updated_at = utc_now() where d.id = dashboard_touch.dashboard_id returning *
$$;
comment on function insights_core.dashboard_touch(integer) is
  'Bumps a dashboard''s last_updated_at (its etag for optimistic concurrency) after any change to it, its views or its grants.';

create function insights_core.dashboard_create(title text, owner_user_id integer) returns dashboard
language plpgsql set search_path = public, insights_core, pg_temp as $$
#variable_conflict use_column
declare
  result dashboard;
begin
  insert into dashboard (title, created_by_user_id) values (required_title(title), owner_user_id) returning * into result;
  if owner_user_id is not null then
    insert into dashboard_grants (dashboard_id, user_id) values (result.id, owner_user_id);
  else
    insert into dashboard_grants (dashboard_id, global) values (result.id, true);
  end if;
  return result;
end
$$;
comment on function insights_core.dashboard_create(text, integer) is 'Creates a dashboard owned by a user (who gets a user grant), or shared with everyone when the owner is null.';

create function insights_core.dashboard_rename(dashboard_id integer, title text, expected_last_updated_at timestamp)
returns dashboard language plpgsql set search_path = public, insights_core, pg_temp as $$
#variable_conflict use_column
declare
  current dashboard := dashboard_for_change(dashboard_id);
  new_title text := required_title(title);
begin
  if expected_last_updated_at is null then
    raise exception 'expectedLastUpdatedAt is required: pass the lastUpdatedAt you read' using errcode = '22023';
  end if;
  if current.last_updated_at is distinct from expected_last_updated_at then
    raise exception 'stale update: dashboard % was changed by someone else since you read it; reload and retry', dashboard_id
      using errcode = '40001';
  end if;
  update dashboard d set title = new_title where d.id = current.id;
  return dashboard_touch(current.id);
end
$$;
comment on function insights_core.dashboard_rename(integer, text, timestamp) is
  'Renames a dashboard if its last_updated_at is still the one the caller read (optimistic concurrency); a stale rename is rejected (40001).';

create function insights_core.dashboard_delete(dashboard_id integer) returns dashboard
language plpgsql set search_path = public, insights_core, pg_temp as $$
declare
  current dashboard := dashboard_for_change(dashboard_id);
begin
  update dashboard d set deleted_at = utc_now() where d.id = current.id;
  return dashboard_touch(current.id);
end
$$;
comment on function insights_core.dashboard_delete(integer) is 'Soft-deletes a dashboard; its views stay.';

create function insights_core.dashboard_add_view(dashboard_id integer, view_id integer) returns dashboard
language plpgsql set search_path = public, insights_core, pg_temp as $$
declare
  current dashboard := dashboard_for_change(dashboard_id);
begin
  if not exists (select 1 from insight_view v where v.id = view_id) then
    raise exception 'no insight view %', view_id using errcode = 'P0002';
  end if;
  insert into dashboard_insight_view (dashboard_id, insight_view_id) values (current.id, view_id) on conflict do nothing;
  return dashboard_touch(current.id);
end
$$;
comment on function insights_core.dashboard_add_view(integer, integer) is 'Puts a view on a dashboard (again is a no-op) and bumps the dashboard''s last_updated_at.';

create function insights_core.dashboard_remove_view(dashboard_id integer, view_id integer) returns dashboard
language plpgsql set search_path = public, insights_core, pg_temp as $$
declare
  current dashboard := dashboard_for_change(dashboard_id);
begin
  delete from dashboard_insight_view dv where dv.dashboard_id = current.id and dv.insight_view_id = view_id;
  if not found then
    raise exception 'view % is not on dashboard %', view_id, current.id using errcode = 'P0002';
  end if;
  return dashboard_touch(current.id);
end
$$;
comment on function insights_core.dashboard_remove_view(integer, integer) is 'Takes a view off a dashboard and bumps the dashboard''s last_updated_at.';

create function insights_core.check_one_grantee(user_id integer, org_id integer, is_global boolean) returns void
language plpgsql immutable as $$
begin
  if (user_id is not null)::int + (org_id is not null)::int + coalesce(is_global, false)::int <> 1 then
    raise exception 'a grant names exactly one of userId, orgId or isGlobal' using errcode = '22023';
  end if;
end
$$;
comment on function insights_core.check_one_grantee(integer, integer, boolean) is 'Raises unless exactly one of a user, an org or everyone is named.';

create function insights_core.dashboard_grant_add(dashboard_id integer, user_id integer, org_id integer, is_global boolean)
returns dashboard_grants language plpgsql set search_path = public, insights_core, pg_temp as $$
#variable_conflict use_column
declare
  current dashboard := dashboard_for_change(dashboard_id);
  result dashboard_grants;
begin
  perform check_one_grantee(user_id, org_id, is_global);
  select * into result from dashboard_grants g
   where g.dashboard_id = current.id and g.user_id is not distinct from dashboard_grant_add.user_id
     and g.org_id is not distinct from dashboard_grant_add.org_id and coalesce(g.global, false) = coalesce(is_global, false);
  if found then
    return result; -- granting twice changes nothing
  end if;
  insert into dashboard_grants (dashboard_id, user_id, org_id, global)
    values (current.id, dashboard_grant_add.user_id, dashboard_grant_add.org_id, case when is_global then true end)
    returning * into result;
  perform dashboard_touch(current.id);
  return result;
end
$$;
comment on function insights_core.dashboard_grant_add(integer, integer, integer, boolean) is
  'Shares a dashboard with one user, one org or everyone (granting twice changes nothing) and bumps its last_updated_at.';

create function insights_core.dashboard_grant_remove(grant_id integer) returns dashboard_grants
language plpgsql set search_path = public, insights_core, pg_temp as $$
declare
  result dashboard_grants;
begin
  delete from dashboard_grants g where g.id = grant_id returning * into result;
  if not found then
    raise exception 'no dashboard grant %', grant_id using errcode = 'P0002';
  end if;
  perform dashboard_touch(result.dashboard_id);
  return result;
end
$$;
comment on function insights_core.dashboard_grant_remove(integer) is 'Removes a grant from a dashboard and bumps the dashboard''s last_updated_at.';

create function insights_core.insight_view_grant_add(view_id integer, user_id integer, org_id integer, is_global boolean)
returns insight_view_grants language plpgsql set search_path = public, insights_core, pg_temp as $$
#variable_conflict use_column
declare
  result insight_view_grants;
begin
  if not exists (select 1 from insight_view v where v.id = view_id) then
    raise exception 'no insight view %', view_id using errcode = 'P0002';
  end if;
  perform check_one_grantee(user_id, org_id, is_global);
  select * into result from insight_view_grants g
   where g.insight_view_id = view_id and g.user_id is not distinct from insight_view_grant_add.user_id
     and g.org_id is not distinct from insight_view_grant_add.org_id and coalesce(g.global, false) = coalesce(is_global, false);
  if found then
    return result;
  end if;
  insert into insight_view_grants (insight_view_id, user_id, org_id, global)
    values (view_id, insight_view_grant_add.user_id, insight_view_grant_add.org_id, case when is_global then true end)
    returning * into result;
  return result;
end
$$;
comment on function insights_core.insight_view_grant_add(integer, integer, integer, boolean) is
  'Shares a view with one user, one org or everyone (granting twice changes nothing).';

create function insights_core.insight_view_grant_remove(grant_id integer) returns insight_view_grants
language plpgsql set search_path = public, insights_core, pg_temp as $$
declare
  result insight_view_grants;
begin
  delete from insight_view_grants g where g.id = grant_id returning * into result;
  if not found then
    raise exception 'no view grant %', grant_id using errcode = 'P0002';
  end if;
  return result;
end
$$;
comment on function insights_core.insight_view_grant_remove(integer) is 'Removes a grant from a view.';

create function insights_core.insight_view_lock_current(view_id integer, expected_etag text) returns insight_view
language plpgsql set search_path = public, insights_core, pg_temp as $$
declare
  result insight_view;
begin
  select * into result from insight_view v where v.id = view_id for update;
  if not found then
    raise exception 'no insight view %', view_id using errcode = 'P0002';
  end if;
  if expected_etag is not null and insight_view_etag(result) <> expected_etag then
    raise exception 'stale update: insight view % was changed by someone else since you read it; reload and retry', view_id
      using errcode = '40001';
  end if;
  return result;
end
$$;
comment on function insights_core.insight_view_lock_current(integer, text) is
  'Locks a view for a change; with an expected etag, raises 40001 (stale update) when the view changed since it was read.';

create or replace function insights_core.insight_view_for_update(view_id integer, expected_etag text) returns insight_view
language plpgsql set search_path = public, insights_core, pg_temp as $$
begin
  perform app_require_user();
  if not insight_view_is_editable(view_id) then
    raise exception 'no insight view % that you may edit', view_id using errcode = '42501';
  end if;
  if expected_etag is null or expected_etag = '' then
    raise exception 'expectedEtag is required: pass the etag you read' using errcode = '22023';
  end if;
  return insight_view_lock_current(view_id, expected_etag);
end
$$;

create function insights_core.insight_view_delete(view_id integer, expected_etag text default null) returns insight_view
language plpgsql set search_path = public, insights_core, pg_temp as $$
#variable_conflict use_column
declare
  view insight_view := insight_view_lock_current(view_id, expected_etag);
  used integer[];
begin
  select coalesce(array_agg(vs.insight_series_id), '{}') into used from insight_view_series vs where vs.insight_view_id = view.id;
  delete from insight_view v where v.id = view.id;
  perform retire_unused_series(used);
  return view;
end
$$;
comment on function insights_core.insight_view_delete(integer, text) is
  'Deletes a view if its etag is still expected_etag (when given); its series that no other view uses are retired (and pruned later).';

-- Line and pie insights: one creator each, for the API, the CLI, the demo and DBAs.
drop function insights_core.create_line_insight(text, jsonb, text[], text, time_unit, integer, timestamptz, integer);
create function insights_core.create_line_insight(title text, series jsonb, repositories text[] default null,
  repository_criteria text default null, interval_unit time_unit default 'MONTH', interval_value integer default 1,
  oldest_historical_at timestamptz default null, user_id integer default null, description text default null,
  include_repo_regex text default null, exclude_repo_regex text default null, sort_mode series_sort_mode_enum default null,
  sort_direction series_sort_direction_enum default null, series_limit integer default null, num_samples integer default null)
returns insight_view language plpgsql set search_path = public, insights_core, pg_temp as $$
#variable_conflict use_column
declare
  view insight_view;
begin
  perform required_title(title);
  perform check_line_series(series);
  insert into insight_view (title, unique_id, presentation_type) values ('-', gen_random_uuid()::text, 'LINE') returning * into view;
  if user_id is not null then
    insert into insight_view_grants (insight_view_id, user_id) values (view.id, user_id);
  else
    insert into insight_view_grants (insight_view_id, global) values (view.id, true);
  end if;
  view := set_insight_view_display(view.id, title, description, include_repo_regex, exclude_repo_regex, sort_mode, sort_direction,
                                   series_limit, num_samples);
  perform set_insight_view_series(view, series, repositories, repository_criteria, interval_unit, interval_value, oldest_historical_at);
  return view;
end
$$;
comment on function insights_core.create_line_insight(text, jsonb, text[], text, time_unit, integer, timestamptz, integer, text, text, text,
  series_sort_mode_enum, series_sort_direction_enum, integer, integer) is
  'Creates a line chart insight owned by user_id (a user grant), or shared with everyone when user_id is null, and queues its recordings and backfills.';

create function insights_core.pie_series(query text) returns jsonb language sql immutable as $$
  -- No query: the languages pie. A query: one slice per value of its first capture group.
  select jsonb_build_array(case when nullif(btrim(query), '') is null then jsonb_build_object('query', 'lang:*', 'label', 'Languages')
                                else jsonb_build_object('query', btrim(query), 'capture_groups', true) end)
$$;
comment on function insights_core.pie_series(text) is 'The one series of a pie chart: the languages (no query) or the values of a capture group.';

create function insights_core.create_pie_insight(title text, repositories text[] default null, repository_criteria text default null,
  query text default null, other_threshold double precision default 0.03, description text default null, user_id integer default null)
returns insight_view language plpgsql set search_path = public, insights_core, pg_temp as $$
#variable_conflict use_column
declare
  view insight_view;
begin
  perform required_title(title);
  insert into insight_view (title, unique_id, presentation_type) values ('-', gen_random_uuid()::text, 'PIE') returning * into view;
  if user_id is not null then
    insert into insight_view_grants (insight_view_id, user_id) values (view.id, user_id);
  else
    insert into insight_view_grants (insight_view_id, global) values (view.id, true);
  end if;
  view := set_insight_view_display(view.id, title, description, null, null, null, null, null, null, other_threshold);
  perform set_insight_view_series(view, pie_series(query), repositories, repository_criteria, 'DAY', 1, now() - interval '1 day',
                                  nullif(btrim(query), '') is null);
  return view;
end
$$;
comment on function insights_core.create_pie_insight(text, text[], text, text, double precision, text, integer) is
  'Creates a pie chart insight (languages, or the values of a query''s capture group) owned by user_id, or shared with everyone when null.';

------------------------------------------------------------------------------------------------------
-- The API's writers become thin: check the requester, call the core.
------------------------------------------------------------------------------------------------------
create or replace function public.create_dashboard(title text) returns dashboard
language plpgsql volatile security definer set search_path = public, insights_core, pg_temp as $$
begin
  return dashboard_create(title, app_require_user());
end
$$;

create function insights_core.require_editable_dashboard(dashboard_id integer) returns void
language plpgsql stable set search_path = public, insights_core, pg_temp as $$
begin
  perform app_require_user();
  if not dashboard_is_editable(dashboard_id) then
    raise exception 'no dashboard % that you may edit', dashboard_id using errcode = '42501';
  end if;
end
$$;
comment on function insights_core.require_editable_dashboard(integer) is 'Raises unless the requester is signed in and may edit the dashboard.';

create function insights_core.require_editable_view(view_id integer) returns void
language plpgsql stable set search_path = public, insights_core, pg_temp as $$
begin
  perform app_require_user();
  if not insight_view_is_editable(view_id) then
    raise exception 'no view % that you may edit', view_id using errcode = '42501';
  end if;
end
$$;
comment on function insights_core.require_editable_view(integer) is 'Raises unless the requester is signed in and may edit the view.';

create or replace function public.update_dashboard(dashboard_id integer, title text, expected_last_updated_at timestamp)
returns dashboard language plpgsql volatile security definer set search_path = public, insights_core, pg_temp as $$
begin
  perform require_editable_dashboard(dashboard_id);
  return dashboard_rename(dashboard_id, title, expected_last_updated_at);
end
$$;

create or replace function public.delete_dashboard(dashboard_id integer) returns dashboard
language plpgsql volatile security definer set search_path = public, insights_core, pg_temp as $$
begin
  perform require_editable_dashboard(dashboard_id);
  return dashboard_delete(dashboard_id);
end
$$;

create or replace function public.add_view_to_dashboard(dashboard_id integer, view_id integer) returns dashboard
language plpgsql volatile security definer set search_path = public, insights_core, pg_temp as $$
begin
  perform require_editable_dashboard(dashboard_id);
  if not insight_view_is_visible(view_id) then
    raise exception 'no view % that you may see', view_id using errcode = '42501';
  end if;
  return dashboard_add_view(dashboard_id, view_id);
end
$$;

create or replace function public.remove_view_from_dashboard(dashboard_id integer, view_id integer) returns dashboard
language plpgsql volatile security definer set search_path = public, insights_core, pg_temp as $$
begin
  perform require_editable_dashboard(dashboard_id);
  return dashboard_remove_view(dashboard_id, view_id);
end
$$;

create or replace function public.grant_dashboard(dashboard_id integer, user_id integer default null, org_id integer default null,
  is_global boolean default false)
returns dashboard_grants language plpgsql volatile security definer set search_path = public, insights_core, pg_temp as $$
begin
  perform require_editable_dashboard(dashboard_id);
  return dashboard_grant_add(dashboard_id, user_id, org_id, is_global);
end
$$;

create or replace function public.revoke_dashboard_grant(grant_id integer) returns dashboard_grants
language plpgsql volatile security definer set search_path = public, insights_core, pg_temp as $$
declare
  target integer := (select g.dashboard_id from dashboard_grants g where g.id = grant_id);
begin
  perform app_require_user();
  if target is null or not dashboard_is_editable(target) then
    raise exception 'no dashboard grant % that you may revoke', grant_id using errcode = '42501';
  end if;
  return dashboard_grant_remove(grant_id);
end
$$;

create or replace function public.grant_insight_view(view_id integer, user_id integer default null, org_id integer default null,
  is_global boolean default false)
returns insight_view_grants language plpgsql volatile security definer set search_path = public, insights_core, pg_temp as $$
begin
  perform require_editable_view(view_id);
  return insight_view_grant_add(view_id, user_id, org_id, is_global);
end
$$;

create or replace function public.revoke_insight_view_grant(grant_id integer) returns insight_view_grants
language plpgsql volatile security definer set search_path = public, insights_core, pg_temp as $$
declare
  target integer := (select g.insight_view_id from insight_view_grants g where g.id = grant_id);
begin
  perform app_require_user();
  if target is null or not insight_view_is_editable(target) then
    raise exception 'no view grant % that you may revoke', grant_id using errcode = '42501';
  end if;
  return insight_view_grant_remove(grant_id);
end
$$;

create or replace function public.delete_insight_view(view_id integer, expected_etag text) returns insight_view
language plpgsql volatile security definer set search_path = public, insights_core, pg_temp as $$
begin
  perform insight_view_for_update(view_id, expected_etag);
  return insight_view_delete(view_id, expected_etag);
end
$$;

create or replace function public.create_line_chart_insight(title text, series jsonb, repositories text[] default null,
  repository_criteria text default null, interval_unit time_unit default 'MONTH', interval_value integer default 1,
  oldest_historical_at timestamptz default null, description text default null, include_repo_regex text default null,
  exclude_repo_regex text default null, sort_mode series_sort_mode_enum default null,
  sort_direction series_sort_direction_enum default null, series_limit integer default null, num_samples integer default null)
returns insight_view language plpgsql volatile security definer set search_path = public, insights_core, pg_temp as $$
begin
  return create_line_insight(title, series, repositories, repository_criteria, interval_unit, interval_value, oldest_historical_at,
                             app_require_user(), description, include_repo_regex, exclude_repo_regex, sort_mode, sort_direction,
                             series_limit, num_samples);
end
$$;

create or replace function public.create_pie_chart_insight(title text, repositories text[] default null,
  repository_criteria text default null, query text default null, other_threshold double precision default 0.03,
  description text default null)
returns insight_view language plpgsql volatile security definer set search_path = public, insights_core, pg_temp as $$
begin
  return create_pie_insight(title, repositories, repository_criteria, query, other_threshold, description, app_require_user());
end
$$;

create or replace function public.update_pie_chart_insight(view_id integer, expected_etag text, title text, repositories text[] default null,
  repository_criteria text default null, query text default null, other_threshold double precision default 0.03,
  description text default null)
returns insight_view language plpgsql volatile security definer set search_path = public, insights_core, pg_temp as $$
#variable_conflict use_column
declare
  view insight_view := insight_view_for_update(view_id, expected_etag);
begin
  if view.presentation_type <> 'PIE' then
    raise exception 'insight view % is a % chart; use updateLineChartInsight', view_id, view.presentation_type using errcode = '22023';
  end if;
  view := set_insight_view_display(view.id, title, description, null, null, null, null, null, null, other_threshold);
  perform set_insight_view_series(view, pie_series(query), repositories, repository_criteria, 'DAY', 1, now() - interval '1 day',
                                  nullif(btrim(query), '') is null);
  return view;
end
$$;

------------------------------------------------------------------------------------------------------
-- The first-run demo, written by the same core creators as every other door.
------------------------------------------------------------------------------------------------------
create function insights_core.seed_demo(clone_url text, repository_name text) returns boolean
language plpgsql set search_path = public, insights_core, pg_temp as $$
declare
  line insight_view;
  pie insight_view;
  demo dashboard;
begin
  -- One process at a time, and only on an empty database.
  perform pg_advisory_xact_lock(hashtext('code-insights demo'));
  if exists (select 1 from repositories) or exists (select 1 from insight_view) then
    return false;
  end if;
  perform register_repository(clone_url, repository_name);
  line := create_line_insight('TODO and FIXME (demo)',
    '[{"query": "TODO", "label": "TODO", "stroke": "#2f6fde"}, {"query": "FIXME", "label": "FIXME", "stroke": "#e8590c"}]',
    array[repository_name], null, 'WEEK', 1, now() - interval '26 weeks');
  pie := create_pie_insight('Languages at HEAD (demo)', array[repository_name], other_threshold => 0.02);
  demo := dashboard_create('Demo', null);
  perform dashboard_add_view(demo.id, line.id);
  perform dashboard_add_view(demo.id, pie.id);
  return true;
end
$$;
comment on function insights_core.seed_demo(text, text) is
  'The first-run demo on an empty database: registers the repository, a TODO/FIXME line chart, a languages pie and a Demo dashboard, all shared with everyone. Returns false (and does nothing) when the database is not empty.';

------------------------------------------------------------------------------------------------------
-- Privileges: API roles never write through the core directly (the API's SECURITY DEFINER functions
-- call it as the owner). They may execute the core's read-only helpers their queries use (RLS
-- policies, the export, computed columns); nobody else but the owner may execute its writers.
-- A function added to insights_core later must follow the same rule: test/core-privileges.test.ts
-- fails until a new writer is revoked from PUBLIC and a new helper is granted to the API roles.
------------------------------------------------------------------------------------------------------
revoke execute on all functions in schema insights_core from public;
do $$
declare
  helper regprocedure;
begin
  for helper in select p.oid::regprocedure from pg_proc p
                 where p.pronamespace = 'insights_core'::regnamespace and p.provolatile <> 'v' loop
    execute format('grant execute on function %s to code_insights_anonymous, code_insights_user', helper);
  end loop;
end
$$;
