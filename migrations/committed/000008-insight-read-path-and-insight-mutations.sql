--! Previous: sha1:ecc7e27efd1070af9d1386f3206f2c5940f46948
--! Hash: sha1:9233dd603d72c1d0d4eff759118122dd54b0068f
--! Message: insight read path and insight mutations

-- The read path of insight views and the insight mutations of the API.
--
-- Reads: series_point_totals keeps, per (series, snapshot, time, capture), the sum over repositories,
-- maintained by statement triggers on the point tables, so a dashboard reads a few hundred rows
-- instead of every repository's points; a per-request repository filter reads the points themselves.
-- insight_view_data (computed column InsightView.data) zero-fills, expands capture groups, sorts,
-- limits and cuts to the newest samples; insight_view_series_status reports backfill progress,
-- pending jobs and incomplete points.
--
-- Writes: create/update/delete of line and pie chart insights for API users (SECURITY DEFINER: they
-- create series and queue jobs), with an etag precondition on updates. Queries are checked by the
-- TypeScript parser before these run (src/server/insight-query-validation.ts).

drop function if exists delete_insight_view(integer, text);
drop function if exists update_pie_chart_insight(integer, text, text, text[], text, text, double precision, text);
drop function if exists create_pie_chart_insight(text, text[], text, text, double precision, text);
drop function if exists update_line_chart_insight(integer, text, text, jsonb, text[], text, time_unit, integer, text, text, text, series_sort_mode_enum, series_sort_direction_enum, integer, integer);
drop function if exists create_line_chart_insight(text, jsonb, text[], text, time_unit, integer, timestamptz, text, text, text, series_sort_mode_enum, series_sort_direction_enum, integer, integer);
drop function if exists insight_view_for_update(integer, text);
drop function if exists set_insight_view_series(insight_view, jsonb, text[], text, time_unit, integer, timestamptz, boolean);
drop function if exists set_insight_view_display(integer, text, text, text, text, series_sort_mode_enum, series_sort_direction_enum, integer, integer, double precision);
drop function if exists retire_unused_series(integer[]);
drop function if exists series_for_insight(jsonb, integer, text[], text, time_unit, integer, timestamp without time zone, boolean);
drop function if exists check_insight_scope(text[], text);
drop function if exists check_line_series(jsonb);
drop function if exists insight_view_etag(insight_view);
drop function if exists insight_view_series_status(insight_view);
drop function if exists insight_series_pending_jobs(integer);
drop function if exists insight_view_loading(insight_view);
drop function if exists insight_view_data(insight_view, text, text, series_sort_mode_enum, series_sort_direction_enum, integer, integer);
drop function if exists check_repo_regex(text, text);
drop function if exists insight_view_pie(insight_view);
drop type if exists insight_pie_slice;
drop table if exists repository_language_stats;
drop type if exists insight_series_status;
drop type if exists insight_data_series;
drop trigger if exists totals_insert on series_points;
drop trigger if exists totals_update on series_points;
drop trigger if exists totals_delete on series_points;
drop trigger if exists totals_insert on series_points_snapshots;
drop trigger if exists totals_update on series_points_snapshots;
drop trigger if exists totals_delete on series_points_snapshots;
drop function if exists series_point_totals_insert();
drop function if exists series_point_totals_update();
drop function if exists series_point_totals_delete();
drop table if exists series_point_totals;

------------------------------------------------------------------------------------------------------
-- Totals over repositories, kept by triggers
------------------------------------------------------------------------------------------------------
create table series_point_totals (
  series_id text not null references insight_series (series_id) on delete cascade,
  snapshot boolean not null,
  time timestamptz not null,
  capture text,
  value double precision not null,
  points integer not null,
  constraint series_point_totals_key unique nulls not distinct (series_id, snapshot, time, capture)
);
comment on table series_point_totals is
  'Sum of a series'' points over its repositories per (snapshot, time, capture), kept by triggers on series_points and series_points_snapshots; the read path''s unfiltered source.';

-- TG_ARGV[0]: whether the table holds snapshots. Rows are applied in key order so that concurrent
-- writers of one series lock totals in the same order.
create function series_point_totals_insert() returns trigger language plpgsql as $$
begin
  insert into series_point_totals (series_id, snapshot, time, capture, value, points)
    select n.series_id, TG_ARGV[0]::boolean, n.time, n.capture, sum(n.value), count(*)
      from new_points n group by n.series_id, n.time, n.capture order by 1, 3, 4
  on conflict (series_id, snapshot, time, capture)
    do update set value = series_point_totals.value + excluded.value, points = series_point_totals.points + excluded.points;
  return null;
end
$$;

create function series_point_totals_update() returns trigger language plpgsql as $$
begin
  update series_point_totals t set value = t.value + d.delta
    from (select series_id, time, capture, sum(value) as delta
            from (select n.series_id, n.time, n.capture, n.value from new_points n
                  union all
                  select o.series_id, o.time, o.capture, -o.value from old_points o) c
           group by 1, 2, 3 order by 1, 2, 3) d
   where t.series_id = d.series_id and t.snapshot = TG_ARGV[0]::boolean and t.time = d.time
     and t.capture is not distinct from d.capture and d.delta <> 0;
  return null;
end
$$;

create function series_point_totals_delete() returns trigger language plpgsql as $$
begin
  update series_point_totals t set value = t.value - d.value, points = t.points - d.points
    from (select o.series_id, o.time, o.capture, sum(o.value) as value, count(*) as points
            from old_points o group by 1, 2, 3 order by 1, 2, 3) d
   where t.series_id = d.series_id and t.snapshot = TG_ARGV[0]::boolean and t.time = d.time
     and t.capture is not distinct from d.capture;
  delete from series_point_totals t where t.points <= 0 and t.series_id in (select distinct o.series_id from old_points o);
  return null;
end
$$;

create trigger totals_insert after insert on series_points referencing new table as new_points
  for each statement execute function series_point_totals_insert(false);
create trigger totals_update after update on series_points referencing old table as old_points new table as new_points
  for each statement execute function series_point_totals_update(false);
create trigger totals_delete after delete on series_points referencing old table as old_points
  for each statement execute function series_point_totals_delete(false);
create trigger totals_insert after insert on series_points_snapshots referencing new table as new_points
  for each statement execute function series_point_totals_insert(true);
create trigger totals_update after update on series_points_snapshots referencing old table as old_points new table as new_points
  for each statement execute function series_point_totals_update(true);
create trigger totals_delete after delete on series_points_snapshots referencing old table as old_points
  for each statement execute function series_point_totals_delete(true);

insert into series_point_totals (series_id, snapshot, time, capture, value, points)
  select series_id, false, time, capture, sum(value), count(*) from series_points group by 1, 3, 4;
insert into series_point_totals (series_id, snapshot, time, capture, value, points)
  select series_id, true, time, capture, sum(value), count(*) from series_points_snapshots group by 1, 3, 4;

alter table series_point_totals enable row level security;
create policy visible on series_point_totals for select using (series_id = any ((select app_visible_series_ids())::text[]));
grant select on series_point_totals to code_insights_anonymous, code_insights_user;

------------------------------------------------------------------------------------------------------
-- Reading a view
------------------------------------------------------------------------------------------------------
create type insight_data_series as (
  series_id text,
  label text,
  stroke text,
  capture text,
  times timestamptz[],
  "values" double precision[]
);
comment on type insight_data_series is 'One line of a chart: a series, or one captured value of a capture-group series, with its zero-filled points (times[i] has values[i]).';
comment on column insight_data_series.series_id is 'The series (insight_series.series_id) the line comes from.';
comment on column insight_data_series.label is 'The series label, or the captured value for a capture-group series.';
comment on column insight_data_series.capture is 'The captured value; null unless the series is a capture-group series.';
comment on column insight_data_series.times is 'Sample times, oldest first.';
comment on column insight_data_series."values" is 'The value at each sample time, summed over the repositories in scope; 0 where nothing matched.';

create function check_repo_regex(regex text, what text) returns text language plpgsql immutable as $$
begin
  if regex is null or regex = '' then
    return null;
  end if;
  perform '' ~* regex;
  return regex;
exception when invalid_regular_expression then
  raise exception '% is not a valid regular expression: %', what, sqlerrm using errcode = '22023';
end
$$;
comment on function check_repo_regex(text, text) is 'The regexp, or null when empty; a clear 22023 error when it does not compile.';

create function insight_view_data(
  view insight_view,
  include_repo_regex text default null,
  exclude_repo_regex text default null,
  sort_mode series_sort_mode_enum default null,
  sort_direction series_sort_direction_enum default null,
  series_limit integer default null,
  num_samples integer default null
) returns setof insight_data_series language plpgsql stable as $$
#variable_conflict use_column
declare
  include_regex text := check_repo_regex(coalesce(include_repo_regex, view.default_filter_include_repo_regex), 'include_repo_regex');
  exclude_regex text := check_repo_regex(coalesce(exclude_repo_regex, view.default_filter_exclude_repo_regex), 'exclude_repo_regex');
  mode series_sort_mode_enum := coalesce(sort_mode, view.series_sort_mode);
  direction series_sort_direction_enum := coalesce(sort_direction, view.series_sort_direction,
    case when coalesce(sort_mode, view.series_sort_mode) = 'RESULT_COUNT' then 'DESC' else 'ASC' end::series_sort_direction_enum);
  max_series integer := coalesce(series_limit, view.series_limit);
  samples integer := coalesce(num_samples, view.series_num_samples);
begin
  if max_series is not null and max_series < 1 then
    raise exception 'series_limit must be at least 1, got %', max_series using errcode = '22023';
  end if;
  if samples is not null and (samples < 1 or samples > 1000) then
    raise exception 'num_samples must be between 1 and 1000, got %', samples using errcode = '22023';
  end if;
  return query
  with series as (
    select s.id, s.series_id, s.created_at, s.generated_from_capture_groups, vs.label, vs.stroke
      from insight_view_series vs join insight_series s on s.id = vs.insight_series_id
     where vs.insight_view_id = view.id and not s.just_in_time
  ), recorded as (
    -- Permanent recording times, then the current snapshot when it is newer than all of them.
    select s.id, t.recording_time as time, false as snapshot
      from series s join insight_series_recording_times t on t.insight_series_id = s.id and not t.snapshot
    union all
    select s.id, t.recording_time, true
      from series s join insight_series_recording_times t on t.insight_series_id = s.id and t.snapshot
     where t.recording_time > (select coalesce(max(r.recording_time), '-infinity') from insight_series_recording_times r
                                where r.insight_series_id = s.id and not r.snapshot)
  ), times as (
    select r.id, r.time, r.snapshot from (
      select r.*, row_number() over (partition by r.id order by r.time desc) as newest
        from recorded r) r
     where samples is null or r.newest <= samples
  ), sums as (
    select s.id, tm.time, t.capture, t.value
      from series s join times tm on tm.id = s.id
      join series_point_totals t on t.series_id = s.series_id and t.snapshot = tm.snapshot and t.time = tm.time
     where include_regex is null and exclude_regex is null
    union all
    select s.id, tm.time, p.capture, sum(p.value)
      from series s join times tm on tm.id = s.id and not tm.snapshot
      join series_points p on p.series_id = s.series_id and p.time = tm.time
      join repo_names n on n.id = p.repo_name_id
     where (include_regex is not null or exclude_regex is not null)
       and (include_regex is null or n.name::text ~* include_regex)
       and (exclude_regex is null or n.name::text !~* exclude_regex)
     group by 1, 2, 3
    union all
    select s.id, tm.time, p.capture, sum(p.value)
      from series s join times tm on tm.id = s.id and tm.snapshot
      join series_points_snapshots p on p.series_id = s.series_id and p.time = tm.time
      join repo_names n on n.id = p.repo_name_id
     where (include_regex is not null or exclude_regex is not null)
       and (include_regex is null or n.name::text ~* include_regex)
       and (exclude_regex is null or n.name::text !~* exclude_regex)
     group by 1, 2, 3
  ), lines as (
    -- A plain series is one line; a capture-group series is a line per value seen in the window.
    select s.id, null::text as capture from series s where not s.generated_from_capture_groups
    union all
    select distinct s.id, u.capture from series s join sums u on u.id = s.id where s.generated_from_capture_groups
  ), filled as (
    select l.id, l.capture,
           array_agg(tm.time order by tm.time) as times,
           array_agg(coalesce(u.value, 0) order by tm.time) as "values",
           min(tm.time) filter (where u.value is not null) as first_seen
      from lines l join times tm on tm.id = l.id
      left join sums u on u.id = l.id and u.time = tm.time and u.capture is not distinct from l.capture
     group by l.id, l.capture
    union all
    -- A series with no sample time yet is still a line (empty until its first recording).
    select l.id, l.capture, '{}', '{}', null from lines l where not exists (select 1 from times tm where tm.id = l.id)
  ), ranked as (
    select s.series_id, coalesce(f.capture, s.label) as label, s.stroke, f.capture, f.times, f."values",
           row_number() over (order by
             case when mode = 'RESULT_COUNT' and direction = 'ASC' then f."values"[cardinality(f."values")] end asc nulls first,
             case when mode = 'RESULT_COUNT' and direction = 'DESC' then f."values"[cardinality(f."values")] end desc nulls last,
             case when mode = 'LEXICOGRAPHICAL' and direction = 'ASC' then coalesce(f.capture, s.label) end asc,
             case when mode = 'LEXICOGRAPHICAL' and direction = 'DESC' then coalesce(f.capture, s.label) end desc,
             case when mode = 'DATE_ADDED' and direction = 'ASC' then coalesce(f.first_seen, s.created_at::timestamptz) end asc,
             case when mode = 'DATE_ADDED' and direction = 'DESC' then coalesce(f.first_seen, s.created_at::timestamptz) end desc,
             s.id, f.capture) as position
      from filled f join series s on s.id = f.id
  )
  select r.series_id, r.label, r.stroke, r.capture, r.times, r."values"
    from ranked r
   where max_series is null or r.position <= max_series
   order by r.position;
end
$$;
comment on function insight_view_data(insight_view, text, text, series_sort_mode_enum, series_sort_direction_enum, integer, integer) is
  E'The lines of a line chart, zero-filled at every sample time. Each argument overrides the view''s default when given; an empty include/exclude regexp ('''') clears the default filter.\nRepository regexps match current repository names, case-insensitively. sort_mode: RESULT_COUNT (latest value; DESC by default), LEXICOGRAPHICAL (label), DATE_ADDED (when the series or captured value first appeared). series_limit keeps the first N lines after sorting; num_samples the newest N sample times.';

------------------------------------------------------------------------------------------------------
-- Status of a view's series
------------------------------------------------------------------------------------------------------
create type insight_series_status as (
  series_id text,
  label text,
  backfill_state text,
  percent_complete double precision,
  pending_jobs integer,
  is_loading boolean,
  incomplete_points integer,
  incomplete_reasons text[]
);
comment on type insight_series_status is 'Where a series of a view stands: its history backfill, the jobs queued for it, and the points it could not compute.';
comment on column insight_series_status.backfill_state is 'State of the newest history backfill: new, processing, completed, failed; null when the series needs none (computed at read time).';
comment on column insight_series_status.percent_complete is 'Share of repositories the newest backfill has searched, 0 to 100.';
comment on column insight_series_status.pending_jobs is 'Recording, snapshot and backfill jobs queued or running for the series.';
comment on column insight_series_status.is_loading is 'True while the history is still being filled in: the chart is not final yet.';
comment on column insight_series_status.incomplete_points is 'Sample times x repositories that could not be computed (timeouts, failing repositories).';
comment on column insight_series_status.incomplete_reasons is 'The distinct reasons of those incomplete points (timeout, generic, exceeds-error-limit).';

-- SECURITY DEFINER: API roles cannot read Graphile Worker's tables. It reveals a count only.
create function insight_series_pending_jobs(series_id integer) returns integer
language sql stable security definer set search_path = public, pg_temp as $$
  -- Jobs that failed for good (attempts used up) are not pending.
  select count(*)::integer from graphile_worker.jobs j
   where j.attempts < j.max_attempts
     and (j.key in ('record_series:' || series_id || ':record', 'record_series:' || series_id || ':snapshot')
          or j.key in (select 'backfill:' || b.id from insight_series_backfill b where b.series_id = insight_series_pending_jobs.series_id))
$$;
comment on function insight_series_pending_jobs(integer) is 'Recording, snapshot and backfill jobs queued, running or due for a retry for a series.';

-- Security invoker: row-level security limits it to series of views the requester can see.
create function insight_view_series_status(view insight_view) returns setof insight_series_status
language sql stable as $$
  select s.series_id, vs.label, b.state::text,
         case when s.just_in_time or b.state = 'completed' then 100
              else round((coalesce(i.percent_complete, 0) * 100)::numeric, 1)::double precision end,
         insight_series_pending_jobs(s.id),
         not s.just_in_time and (b.state is null or b.state in ('new', 'processing')),
         coalesce(ip.points, 0),
         coalesce(ip.reasons, '{}')
    from insight_view_series vs
    join insight_series s on s.id = vs.insight_series_id
    left join lateral (select * from insight_series_backfill b where b.series_id = s.id order by b.id desc limit 1) b on true
    left join repo_iterator i on i.id = b.repo_iterator_id
    left join lateral (
      select count(*)::integer as points, array_agg(distinct p.reason order by p.reason) as reasons
        from insight_series_incomplete_points p where p.series_id = s.id) ip on true
   where vs.insight_view_id = view.id
   order by s.id
$$;
comment on function insight_view_series_status(insight_view) is 'Backfill progress, pending jobs, loading flag and incomplete points of each series of the view.';

create function insight_view_loading(view insight_view) returns boolean language sql stable as $$
  select coalesce(bool_or(st.is_loading), false) from insight_view_series_status(view) st
$$;
comment on function insight_view_loading(insight_view) is 'True while any series of the view is still backfilling its history.';

create function insight_view_etag(view insight_view) returns text language sql stable as $$
  select md5(row_to_json(view)::text || coalesce((
    select string_agg(concat_ws(E'\x1f', vs.insight_series_id, vs.label, vs.stroke), E'\x1e' order by vs.insight_series_id)
      from insight_view_series vs where vs.insight_view_id = view.id), ''))
$$;
comment on function insight_view_etag(insight_view) is 'Version tag of the view and its series: pass it back to update or delete the view; a stale one is rejected.';

------------------------------------------------------------------------------------------------------
-- Creating and changing insights
------------------------------------------------------------------------------------------------------
create function check_line_series(series jsonb) returns void language plpgsql immutable as $$
declare
  element jsonb;
  position integer := 0;
begin
  if series is null or jsonb_typeof(series) <> 'array' or jsonb_array_length(series) = 0 then
    raise exception 'series must be a non-empty array of {"query", "label", "stroke", "capture_groups"}' using errcode = '22023';
  end if;
  if jsonb_array_length(series) > 20 then
    raise exception 'at most 20 series per insight, got %', jsonb_array_length(series) using errcode = '22023';
  end if;
  for element in select value from jsonb_array_elements(series) loop
    position := position + 1;
    if jsonb_typeof(element) <> 'object' or coalesce(btrim(element->>'query'), '') = '' then
      raise exception 'series %: a non-empty "query" is required', position using errcode = '22023';
    end if;
    if exists (select 1 from jsonb_object_keys(element) k where k not in ('query', 'label', 'stroke', 'capture_groups')) then
      raise exception 'series %: unknown field(s) %; expected query, label, stroke, capture_groups', position,
        (select string_agg(k, ', ') from jsonb_object_keys(element) k where k not in ('query', 'label', 'stroke', 'capture_groups'))
        using errcode = '22023';
    end if;
    if element ? 'capture_groups' and jsonb_typeof(element->'capture_groups') not in ('boolean', 'null') then
      raise exception 'series %: capture_groups must be true or false', position using errcode = '22023';
    end if;
  end loop;
end
$$;
comment on function check_line_series(jsonb) is 'Checks the shape of a series list [{query, label, stroke, capture_groups}] (the query language itself is checked by the parser).';

create function check_insight_scope(repositories text[], repository_criteria text) returns void language plpgsql stable as $$
declare
  missing text[];
begin
  if repositories is not null and cardinality(repositories) > 0 and repository_criteria is not null then
    raise exception 'give either repositories or repository_criteria, not both' using errcode = '22023';
  end if;
  if repository_criteria is not null and btrim(repository_criteria) !~ '^-?(repo|r):' then
    raise exception 'repository_criteria must consist of repo: filters, got "%"', repository_criteria using errcode = '22023';
  end if;
  if repositories is not null then
    select array_agg(wanted) into missing from unnest(repositories) wanted
     where not exists (select 1 from repositories r where r.name = wanted::citext and r.deleted_at is null);
    if missing is not null then
      raise exception 'unknown repositories: %', array_to_string(missing, ', ') using errcode = '22023';
    end if;
  end if;
end
$$;
comment on function check_insight_scope(text[], text) is 'Checks a repository scope: a list of registered repositories or repo: criteria, not both.';

-- Finds or creates the series for one element of a series list. Identical global series are
-- shared (same query, interval and capture flag); a scoped series is reused only from the same
-- view (reuse_from), so editing a view's labels does not start its history again.
create function series_for_insight(
  element jsonb,
  reuse_from integer,
  repositories text[],
  repository_criteria text,
  interval_unit time_unit,
  interval_value integer,
  history_start timestamp without time zone,
  just_in_time boolean default false
) returns insight_series language plpgsql volatile as $$
#variable_conflict use_column
declare
  wanted_query text := btrim(element->>'query');
  captures boolean := coalesce((element->>'capture_groups')::boolean, false);
  scoped boolean := (series_for_insight.repositories is not null and cardinality(series_for_insight.repositories) > 0)
                    or series_for_insight.repository_criteria is not null;
  shared_id text;
  result insight_series;
begin
  select s.* into result from insight_view_series vs join insight_series s on s.id = vs.insight_series_id
   where vs.insight_view_id = reuse_from and s.query = wanted_query and s.generated_from_capture_groups = captures
     and s.just_in_time = series_for_insight.just_in_time
     and s.sample_interval_unit = interval_unit and s.sample_interval_value = interval_value
     and s.repositories is not distinct from (case when scoped and cardinality(series_for_insight.repositories) > 0 then series_for_insight.repositories end)
     and s.repository_criteria is not distinct from (case when scoped then btrim(series_for_insight.repository_criteria) end)
   limit 1;
  if found then
    return result;
  end if;
  if not scoped then
    shared_id := 'global-' || md5(concat_ws(E'\x1f', wanted_query, interval_unit::text, interval_value::text, captures::text,
                                            case when just_in_time then 'just-in-time' end));
    update insight_series s set deleted_at = null where s.series_id = shared_id and s.deleted_at is not null;
    select * into result from insight_series s where s.series_id = shared_id;
    if found then
      return result;
    end if;
  end if;
  insert into insight_series (series_id, query, oldest_historical_at, repositories, repository_criteria,
                              sample_interval_unit, sample_interval_value, generated_from_capture_groups,
                              generation_method, just_in_time, next_recording_after, next_snapshot_after)
    values (coalesce(shared_id, gen_random_uuid()::text), wanted_query, history_start,
            case when scoped and cardinality(series_for_insight.repositories) > 0 then series_for_insight.repositories end,
            case when scoped then btrim(series_for_insight.repository_criteria) end,
            interval_unit, interval_value, captures,
            case when just_in_time then 'language-stats' when captures then 'search-compute' else 'search' end,
            series_for_insight.just_in_time, utc_now(), utc_now())
    returning * into result;
  if not result.just_in_time then
    perform queue_series_backfill(result.id);
  end if;
  return result;
end
$$;
comment on function series_for_insight(jsonb, integer, text[], text, time_unit, integer, timestamp without time zone, boolean) is
  'The series for one {query, capture_groups} of an insight: reused from the view, shared when global, or created with its backfill queued.';

create function retire_unused_series(series_ids integer[]) returns void language sql volatile as $$
  -- Soft delete: recordings stop; pruning (with the data) is retention's job.
  update insight_series s set deleted_at = utc_now()
   where s.id = any (series_ids) and s.deleted_at is null
     and not exists (select 1 from insight_view_series vs where vs.insight_series_id = s.id)
$$;
comment on function retire_unused_series(integer[]) is 'Soft-deletes those of the series that no view uses any more.';

-- Replaces a view's series with the given list (label and stroke per element).
create function set_insight_view_series(
  view insight_view,
  series jsonb,
  repositories text[],
  repository_criteria text,
  interval_unit time_unit,
  interval_value integer,
  oldest_historical_at timestamptz,
  just_in_time boolean default false
) returns void language plpgsql volatile as $$
#variable_conflict use_column
declare
  element jsonb;
  chosen insight_series;
  kept integer[] := '{}';
  previous integer[];
  history_start timestamp without time zone := coalesce(timezone('utc', oldest_historical_at), utc_now() - interval '1 year');
begin
  if interval_value is null or interval_value < 1 or interval_value > 1000 then
    raise exception 'interval_value must be between 1 and 1000, got %', interval_value using errcode = '22023';
  end if;
  if history_start > utc_now() then
    raise exception 'oldest_historical_at must be in the past' using errcode = '22023';
  end if;
  perform check_insight_scope(repositories, repository_criteria);
  select coalesce(array_agg(vs.insight_series_id), '{}') into previous from insight_view_series vs where vs.insight_view_id = view.id;
  for element in select value from jsonb_array_elements(series) loop
    chosen := series_for_insight(element, view.id, repositories, repository_criteria, interval_unit, interval_value, history_start, just_in_time);
    kept := kept || chosen.id;
    insert into insight_view_series (insight_view_id, insight_series_id, label, stroke)
      values (view.id, chosen.id, coalesce(nullif(btrim(element->>'label'), ''), btrim(element->>'query')), nullif(btrim(element->>'stroke'), ''))
      on conflict (insight_view_id, insight_series_id) do update set label = excluded.label, stroke = excluded.stroke;
  end loop;
  delete from insight_view_series vs where vs.insight_view_id = view.id and vs.insight_series_id <> all (kept);
  perform retire_unused_series(previous);
  -- New series' first recording and snapshot are due now: queue them rather than wait for cron.
  perform enqueue_due_series_recordings();
end
$$;
comment on function set_insight_view_series(insight_view, jsonb, text[], text, time_unit, integer, timestamptz, boolean) is
  'Replaces the series of a view, keeping series whose definition did not change and retiring those no view uses.';

create function set_insight_view_display(
  view_id integer,
  title text,
  description text,
  include_repo_regex text,
  exclude_repo_regex text,
  sort_mode series_sort_mode_enum,
  sort_direction series_sort_direction_enum,
  series_limit integer,
  num_samples integer,
  other_threshold double precision default null
) returns insight_view language plpgsql volatile as $$
#variable_conflict use_column
declare
  result insight_view;
begin
  if title is null or btrim(title) = '' then
    raise exception 'title is required' using errcode = '22023';
  end if;
  if series_limit is not null and (series_limit < 1 or series_limit > 1000) then
    raise exception 'series_limit must be between 1 and 1000, got %', series_limit using errcode = '22023';
  end if;
  if num_samples is not null and (num_samples < 1 or num_samples > 1000) then
    raise exception 'num_samples must be between 1 and 1000, got %', num_samples using errcode = '22023';
  end if;
  if other_threshold is not null and (other_threshold < 0 or other_threshold >= 1) then
    raise exception 'other_threshold must be a share from 0 up to (not including) 1, got %', other_threshold using errcode = '22023';
  end if;
  update insight_view v
     set title = btrim(set_insight_view_display.title), description = nullif(btrim(set_insight_view_display.description), ''),
         default_filter_include_repo_regex = check_repo_regex(include_repo_regex, 'include_repo_regex'),
         default_filter_exclude_repo_regex = check_repo_regex(exclude_repo_regex, 'exclude_repo_regex'),
         series_sort_mode = sort_mode, series_sort_direction = sort_direction,
         series_limit = set_insight_view_display.series_limit, series_num_samples = num_samples,
         other_threshold = set_insight_view_display.other_threshold
   where v.id = view_id
  returning * into result;
  return result;
end
$$;
comment on function set_insight_view_display(integer, text, text, text, text, series_sort_mode_enum, series_sort_direction_enum, integer, integer, double precision) is
  'Sets a view''s title, description and read defaults (repository filters, sort, limits), checking each.';

-- The view an API user may change, locked, with its etag checked.
create function insight_view_for_update(view_id integer, expected_etag text) returns insight_view
language plpgsql volatile as $$
declare
  result insight_view;
begin
  perform app_require_user();
  if not insight_view_is_editable(view_id) then
    raise exception 'no insight view % that you may edit', view_id using errcode = '42501';
  end if;
  if expected_etag is null or expected_etag = '' then
    raise exception 'expectedEtag is required: pass the etag you read' using errcode = '22023';
  end if;
  select * into result from insight_view v where v.id = view_id for update;
  if insight_view_etag(result) <> expected_etag then
    raise exception 'stale update: insight view % was changed by someone else since you read it; reload and retry', view_id
      using errcode = '40001';
  end if;
  return result;
end
$$;
comment on function insight_view_for_update(integer, text) is 'Locks a view the requester may edit and checks its etag (40001 when stale).';

create function create_line_chart_insight(
  title text,
  series jsonb,
  repositories text[] default null,
  repository_criteria text default null,
  interval_unit time_unit default 'MONTH',
  interval_value integer default 1,
  oldest_historical_at timestamptz default null,
  description text default null,
  include_repo_regex text default null,
  exclude_repo_regex text default null,
  sort_mode series_sort_mode_enum default null,
  sort_direction series_sort_direction_enum default null,
  series_limit integer default null,
  num_samples integer default null
) returns insight_view language plpgsql volatile security definer set search_path = public, pg_temp as $$
#variable_conflict use_column
declare
  view insight_view;
begin
  perform app_require_user();
  perform check_line_series(series);
  insert into insight_view (title, unique_id, presentation_type) values ('-', gen_random_uuid()::text, 'LINE') returning * into view;
  insert into insight_view_grants (insight_view_id, user_id) values (view.id, app_user_id());
  view := set_insight_view_display(view.id, title, description, include_repo_regex, exclude_repo_regex, sort_mode, sort_direction, series_limit, num_samples);
  perform set_insight_view_series(view, series, repositories, repository_criteria, interval_unit, interval_value, oldest_historical_at);
  return view;
end
$$;
comment on function create_line_chart_insight(text, jsonb, text[], text, time_unit, integer, timestamptz, text, text, text, series_sort_mode_enum, series_sort_direction_enum, integer, integer) is
  E'Creates a line chart: series [{query, label, stroke, capture_groups}] over a repository list, repo: criteria, or every repository, sampled every interval_value interval_unit; its history is backfilled. You get a user grant on it.';

create function update_line_chart_insight(
  view_id integer,
  expected_etag text,
  title text,
  series jsonb,
  repositories text[] default null,
  repository_criteria text default null,
  interval_unit time_unit default 'MONTH',
  interval_value integer default 1,
  description text default null,
  include_repo_regex text default null,
  exclude_repo_regex text default null,
  sort_mode series_sort_mode_enum default null,
  sort_direction series_sort_direction_enum default null,
  series_limit integer default null,
  num_samples integer default null
) returns insight_view language plpgsql volatile security definer set search_path = public, pg_temp as $$
#variable_conflict use_column
declare
  view insight_view := insight_view_for_update(view_id, expected_etag);
begin
  if view.presentation_type <> 'LINE' then
    raise exception 'insight view % is a % chart; use updatePieChartInsight', view_id, view.presentation_type using errcode = '22023';
  end if;
  perform check_line_series(series);
  view := set_insight_view_display(view.id, title, description, include_repo_regex, exclude_repo_regex, sort_mode, sort_direction, series_limit, num_samples);
  perform set_insight_view_series(view, series, repositories, repository_criteria, interval_unit, interval_value, null);
  return view;
end
$$;
comment on function update_line_chart_insight(integer, text, text, jsonb, text[], text, time_unit, integer, text, text, text, series_sort_mode_enum, series_sort_direction_enum, integer, integer) is
  'Replaces a line chart''s definition if its etag is still expectedEtag. Series whose query, scope and interval are unchanged keep their data; changed ones get a new series and backfill.';

create function create_pie_chart_insight(
  title text,
  repositories text[] default null,
  repository_criteria text default null,
  query text default null,
  other_threshold double precision default 0.03,
  description text default null
) returns insight_view language plpgsql volatile security definer set search_path = public, pg_temp as $$
#variable_conflict use_column
declare
  view insight_view;
begin
  perform app_require_user();
  insert into insight_view (title, unique_id, presentation_type) values ('-', gen_random_uuid()::text, 'PIE') returning * into view;
  insert into insight_view_grants (insight_view_id, user_id) values (view.id, app_user_id());
  view := set_insight_view_display(view.id, title, description, null, null, null, null, null, null, other_threshold);
  perform set_insight_view_series(view,
    jsonb_build_array(case when nullif(btrim(query), '') is null then jsonb_build_object('query', 'lang:*', 'label', 'Languages')
                           else jsonb_build_object('query', btrim(query), 'capture_groups', true) end),
    repositories, repository_criteria, 'DAY', 1, now() - interval '1 day', nullif(btrim(query), '') is null);
  return view;
end
$$;
comment on function create_pie_chart_insight(text, text[], text, text, double precision, text) is
  E'Creates a pie chart over a repository list, repo: criteria or every repository: without a query, the share of each language in the files at HEAD (computed when read); with a capture-group regexp query, the share of each captured value at the newest sample. Slices under other_threshold are merged into "Other".';

create function update_pie_chart_insight(
  view_id integer,
  expected_etag text,
  title text,
  repositories text[] default null,
  repository_criteria text default null,
  query text default null,
  other_threshold double precision default 0.03,
  description text default null
) returns insight_view language plpgsql volatile security definer set search_path = public, pg_temp as $$
#variable_conflict use_column
declare
  view insight_view := insight_view_for_update(view_id, expected_etag);
begin
  if view.presentation_type <> 'PIE' then
    raise exception 'insight view % is a % chart; use updateLineChartInsight', view_id, view.presentation_type using errcode = '22023';
  end if;
  view := set_insight_view_display(view.id, title, description, null, null, null, null, null, null, other_threshold);
  perform set_insight_view_series(view,
    jsonb_build_array(case when nullif(btrim(query), '') is null then jsonb_build_object('query', 'lang:*', 'label', 'Languages')
                           else jsonb_build_object('query', btrim(query), 'capture_groups', true) end),
    repositories, repository_criteria, 'DAY', 1, now() - interval '1 day', nullif(btrim(query), '') is null);
  return view;
end
$$;
comment on function update_pie_chart_insight(integer, text, text, text[], text, text, double precision, text) is
  'Replaces a pie chart''s definition if its etag is still expectedEtag.';

create function delete_insight_view(view_id integer, expected_etag text) returns insight_view
language plpgsql volatile security definer set search_path = public, pg_temp as $$
#variable_conflict use_column
declare
  view insight_view := insight_view_for_update(view_id, expected_etag);
  used integer[];
begin
  select coalesce(array_agg(vs.insight_series_id), '{}') into used from insight_view_series vs where vs.insight_view_id = view.id;
  delete from insight_view v where v.id = view.id;
  perform retire_unused_series(used);
  return view;
end
$$;
comment on function delete_insight_view(integer, text) is
  'Deletes a view (with its grants and dashboard places) if its etag is still expectedEtag; series no other view uses are retired.';

revoke execute on function create_line_chart_insight(text, jsonb, text[], text, time_unit, integer, timestamptz, text, text, text, series_sort_mode_enum, series_sort_direction_enum, integer, integer),
  update_line_chart_insight(integer, text, text, jsonb, text[], text, time_unit, integer, text, text, text, series_sort_mode_enum, series_sort_direction_enum, integer, integer),
  create_pie_chart_insight(text, text[], text, text, double precision, text),
  update_pie_chart_insight(integer, text, text, text[], text, text, double precision, text),
  delete_insight_view(integer, text),
  series_for_insight(jsonb, integer, text[], text, time_unit, integer, timestamp without time zone, boolean),
  set_insight_view_series(insight_view, jsonb, text[], text, time_unit, integer, timestamptz, boolean),
  set_insight_view_display(integer, text, text, text, text, series_sort_mode_enum, series_sort_direction_enum, integer, integer, double precision),
  insight_view_for_update(integer, text), retire_unused_series(integer[]) from public;
grant execute on function create_line_chart_insight(text, jsonb, text[], text, time_unit, integer, timestamptz, text, text, text, series_sort_mode_enum, series_sort_direction_enum, integer, integer),
  update_line_chart_insight(integer, text, text, jsonb, text[], text, time_unit, integer, text, text, text, series_sort_mode_enum, series_sort_direction_enum, integer, integer),
  create_pie_chart_insight(text, text[], text, text, double precision, text),
  update_pie_chart_insight(integer, text, text, text[], text, text, double precision, text),
  delete_insight_view(integer, text) to code_insights_anonymous, code_insights_user;

-- The SQL/CLI entry point, now built from the same parts as the API's.
create or replace function create_line_insight(
  title text,
  series jsonb,
  repositories text[] default null,
  repository_criteria text default null,
  interval_unit time_unit default 'MONTH',
  interval_value integer default 1,
  oldest_historical_at timestamptz default null,
  user_id integer default null
) returns insight_view language plpgsql volatile as $$
#variable_conflict use_column
declare
  view insight_view;
begin
  if title is null or btrim(title) = '' then
    raise exception 'title is required' using errcode = '22023';
  end if;
  perform check_line_series(series);
  insert into insight_view (title, unique_id, presentation_type)
    values (btrim(title), gen_random_uuid()::text, 'LINE') returning * into view;
  perform set_insight_view_series(view, series, repositories, repository_criteria, interval_unit, interval_value, oldest_historical_at);
  if user_id is not null then
    insert into insight_view_grants (insight_view_id, user_id) values (view.id, user_id);
  else
    insert into insight_view_grants (insight_view_id, global) values (view.id, true);
  end if;
  return view;
end
$$;

------------------------------------------------------------------------------------------------------
-- Pie charts
------------------------------------------------------------------------------------------------------
create table repository_language_stats (
  repo_id integer not null references repositories (id) on delete cascade,
  commit_oid text not null,
  language text not null,
  bytes bigint not null,
  files integer not null,
  computed_at timestamptz not null default now(),
  primary key (repo_id, language)
);
comment on table repository_language_stats is
  'Bytes and files per language in a repository''s default branch at commit_oid, computed when a language pie chart is read (src/server/language-stats.ts) and kept until the branch moves.';

alter table repository_language_stats enable row level security;
create policy everyone on repository_language_stats for select using (true);
grant select on repository_language_stats to code_insights_anonymous, code_insights_user;

create type insight_pie_slice as (
  label text,
  value double precision,
  share double precision
);
comment on type insight_pie_slice is 'One slice of a pie chart: a language or a captured value (or "Other"), its value and its share of the whole (0 to 1).';

create function insight_view_pie(view insight_view) returns setof insight_pie_slice language sql stable as $$
  with series as (
    select s.* from insight_view_series vs join insight_series s on s.id = vs.insight_series_id where vs.insight_view_id = view.id
  ), newest as (
    select s.series_id, t.snapshot, t.time from series s
      cross join lateral (select t.snapshot, t.time from series_point_totals t where t.series_id = s.series_id
                           order by t.time desc, t.snapshot desc limit 1) t
     where not s.just_in_time
  ), raw as (
    select l.language as label, sum(l.bytes)::double precision as value
      from series s cross join lateral unnest(insight_series_repository_ids(s)) r(id)
      join repository_language_stats l on l.repo_id = r.id
     where s.just_in_time
     group by 1
    union all
    select t.capture, sum(t.value)
      from newest n join series_point_totals t on t.series_id = n.series_id and t.snapshot = n.snapshot and t.time = n.time
     where t.capture is not null
     group by 1
  ), shares as (
    select r.label, r.value, r.value / nullif(sum(r.value) over (), 0) as share from raw r where r.value > 0
  ), grouped as (
    select case when sh.share < coalesce(view.other_threshold, 0) then 'Other' else sh.label end as label,
           sum(sh.value) as value, sum(sh.share) as share,
           bool_and(sh.share < coalesce(view.other_threshold, 0)) as other
      from shares sh group by 1, sh.share < coalesce(view.other_threshold, 0)
  )
  select g.label, g.value, g.share from grouped g order by g.other, g.value desc, g.label
$$;
comment on function insight_view_pie(insight_view) is
  'The slices of a pie chart, largest first: language shares (bytes of files at HEAD) or captured values at the newest sample; slices under other_threshold are merged into "Other".';
