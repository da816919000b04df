--! Previous: sha1:814a2dc411428b1f1e1fe774741e7745e6625a7e
--! Hash: sha1:5852ed831164a8597a9c4961ebe8c8c8144e80fc
--! Message: store each view's default lines

-- Dashboards read fast: each view's lines with its default settings are kept in insight_view_lines,
-- recomputed by the writers (triggers on totals, recording times, views and their series) rather
-- than on every read. insight_view_data returns them when called without overrides and computes
-- the rest live (insight_view_data_live). The read functions run as the owner after one check
-- that the requester may see the view, instead of row-level security on every table they touch.

drop trigger if exists refresh_lines on series_point_totals;
drop trigger if exists refresh_lines_update on series_point_totals;
drop trigger if exists refresh_lines_delete on series_point_totals;
drop trigger if exists refresh_lines on insight_series_recording_times;
drop trigger if exists refresh_lines_update on insight_series_recording_times;
drop trigger if exists refresh_lines_delete on insight_series_recording_times;
drop trigger if exists refresh_lines on insight_view_series;
drop trigger if exists refresh_lines_update on insight_view_series;
drop trigger if exists refresh_lines_delete on insight_view_series;
drop trigger if exists refresh_lines on insight_view;
drop function if exists refresh_lines_of_changed_totals();
drop function if exists refresh_lines_of_changed_times();
drop function if exists refresh_lines_of_changed_view_series();
drop function if exists refresh_lines_of_view();
drop function if exists refresh_insight_view_lines(integer[]);
drop table if exists insight_view_lines;
do $$
begin
  -- The live computation keeps the body of migration 000008's insight_view_data.
  if to_regprocedure('insight_view_data_live(insight_view, text, text, series_sort_mode_enum, series_sort_direction_enum, integer, integer)') is null then
    alter function insight_view_data(insight_view, text, text, series_sort_mode_enum, series_sort_direction_enum, integer, integer) rename to insight_view_data_live;
  else
    drop function if exists insight_view_data(insight_view, text, text, series_sort_mode_enum, series_sort_direction_enum, integer, integer);
  end if;
end
$$;

create or replace function app_may_read_view(view_id integer) returns boolean language sql stable as $$
  -- API requests run as one of its roles (set_config('role', ...), still visible inside SECURITY
  -- DEFINER functions); workers, the CLI and DBAs connect as themselves and see everything.
  select current_setting('role') not in ('code_insights_anonymous', 'code_insights_user', 'code_insights_admin')
      or insight_view_is_visible(view_id)
$$;
comment on function app_may_read_view(integer) is 'Whether the requester may read the view: always outside the API roles, else by its grants.';

create table insight_view_lines (
  view_id integer primary key references insight_view (id) on delete cascade,
  lines insight_data_series[],
  refreshed_at timestamptz not null default now()
);
comment on table insight_view_lines is
  'Each view''s lines with its default settings, recomputed when its data or settings change; null for views with default repository filters (read live).';

create function refresh_insight_view_lines(view_ids integer[]) returns void language plpgsql volatile as $$
begin
  if view_ids is null or cardinality(view_ids) = 0 then
    return;
  end if;
  insert into insight_view_lines (view_id)
    select v.id from insight_view v where v.id = any (view_ids) order by v.id
  on conflict do nothing;
  -- Lock first, compute in the next statement: its snapshot then includes every writer that
  -- refreshed these views before us, so the last refresh always sees all committed data.
  perform 1 from insight_view_lines c where c.view_id = any (view_ids) order by c.view_id for update;
  update insight_view_lines c
     set lines = case when v.default_filter_include_repo_regex is null and v.default_filter_exclude_repo_regex is null then
                   (select coalesce(array_agg(row(d.series_id, d.label, d.stroke, d.capture, d.times, d."values")::insight_data_series order by d.position), '{}')
                      from insight_view_data_live(v) with ordinality as d(series_id, label, stroke, capture, times, "values", position))
                 end,
         refreshed_at = now()
    from insight_view v
   where v.id = c.view_id and c.view_id = any (view_ids);
end
$$;
comment on function refresh_insight_view_lines(integer[]) is 'Recomputes the stored default lines of the views.';

create function refresh_lines_of_changed_totals() returns trigger language plpgsql as $$
begin
  perform refresh_insight_view_lines(array(
    select distinct vs.insight_view_id
      from (select distinct series_id from changed_rows) t
      join insight_series s on s.series_id = t.series_id
      join insight_view_series vs on vs.insight_series_id = s.id));
  return null;
end
$$;

create function refresh_lines_of_changed_times() returns trigger language plpgsql as $$
begin
  perform refresh_insight_view_lines(array(
    select distinct vs.insight_view_id
      from (select distinct insight_series_id from changed_rows) t
      join insight_view_series vs on vs.insight_series_id = t.insight_series_id));
  return null;
end
$$;

create function refresh_lines_of_changed_view_series() returns trigger language plpgsql as $$
begin
  perform refresh_insight_view_lines(array(select distinct insight_view_id from changed_rows));
  return null;
end
$$;

create function refresh_lines_of_view() returns trigger language plpgsql as $$
begin
  perform refresh_insight_view_lines(array[new.id]);
  return null;
end
$$;

create trigger refresh_lines after insert on series_point_totals referencing new table as changed_rows
  for each statement execute function refresh_lines_of_changed_totals();
create trigger refresh_lines_update after update on series_point_totals referencing new table as changed_rows
  for each statement execute function refresh_lines_of_changed_totals();
create trigger refresh_lines_delete after delete on series_point_totals referencing old table as changed_rows
  for each statement execute function refresh_lines_of_changed_totals();
create trigger refresh_lines after insert on insight_series_recording_times referencing new table as changed_rows
  for each statement execute function refresh_lines_of_changed_times();
create trigger refresh_lines_update after update on insight_series_recording_times referencing new table as changed_rows
  for each statement execute function refresh_lines_of_changed_times();
create trigger refresh_lines_delete after delete on insight_series_recording_times referencing old table as changed_rows
  for each statement execute function refresh_lines_of_changed_times();
create trigger refresh_lines after insert on insight_view_series referencing new table as changed_rows
  for each statement execute function refresh_lines_of_changed_view_series();
create trigger refresh_lines_update after update on insight_view_series referencing new table as changed_rows
  for each statement execute function refresh_lines_of_changed_view_series();
create trigger refresh_lines_delete after delete on insight_view_series referencing old table as changed_rows
  for each statement execute function refresh_lines_of_changed_view_series();
create trigger refresh_lines after update on insight_view for each row
  when (old.default_filter_include_repo_regex is distinct from new.default_filter_include_repo_regex
     or old.default_filter_exclude_repo_regex is distinct from new.default_filter_exclude_repo_regex
     or old.series_sort_mode is distinct from new.series_sort_mode
     or old.series_sort_direction is distinct from new.series_sort_direction
     or old.series_limit is distinct from new.series_limit
     or old.series_num_samples is distinct from new.series_num_samples)
  execute function refresh_lines_of_view();

select refresh_insight_view_lines(array(select id from insight_view));

create function insight_view_data(
  view insight_view,
  include_repo_regex text default null,
  exclude_repo_regex text default null,
  sort_mode series_sort_mode_enum default null,
  sort_direction series_sort_direction_enum default null,
  series_limit integer default null,
  num_samples integer default null
) returns setof insight_data_series language plpgsql stable security definer set search_path = public, pg_temp as $$
declare
  stored insight_data_series[];
begin
  if not app_may_read_view(view.id) then
    return;
  end if;
  if include_repo_regex is null and exclude_repo_regex is null and sort_mode is null and sort_direction is null
     and series_limit is null and num_samples is null then
    select c.lines into stored from insight_view_lines c where c.view_id = view.id;
    if stored is not null then
      return query select * from unnest(stored);
      return;
    end if;
  end if;
  return query select * from insight_view_data_live(view, include_repo_regex, exclude_repo_regex, sort_mode, sort_direction, series_limit, num_samples);
end
$$;
comment on function insight_view_data(insight_view, text, text, series_sort_mode_enum, series_sort_direction_enum, integer, integer) is
  E'The lines of a line chart, zero-filled at every sample time. Each argument overrides the view''s default when given; an empty include/exclude regexp ('''') clears the default filter.\nRepository regexps match current repository names, case-insensitively. sort_mode: RESULT_COUNT (latest value; DESC by default), LEXICOGRAPHICAL (label), DATE_ADDED (when the series or captured value first appeared). series_limit keeps the first N lines after sorting; num_samples the newest N sample times.';
comment on function insight_view_data_live(insight_view, text, text, series_sort_mode_enum, series_sort_direction_enum, integer, integer) is
  'insight_view_data computed from the points now (insight_view_data reads stored lines when it can).';

-- Run as the owner after one check that the requester may see the view (see app_may_read_view).
create or replace function insight_view_series_status(view insight_view) returns setof insight_series_status
language sql stable security definer set search_path = public, pg_temp as $$
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
   where vs.insight_view_id = view.id and app_may_read_view(view.id)
   order by s.id
$$;

create or replace function insight_view_pie(view insight_view) returns setof insight_pie_slice
language sql stable security definer set search_path = public, pg_temp as $$
  with series as (
    select s.* from insight_view_series vs join insight_series s on s.id = vs.insight_series_id
     where vs.insight_view_id = view.id and app_may_read_view(view.id)
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

-- The loading flag on its own (a dashboard asks it of every view): no job counting.
create or replace function insight_view_loading(view insight_view) returns boolean
language sql stable security definer set search_path = public, pg_temp as $$
  select app_may_read_view(view.id) and exists (
    select 1 from insight_view_series vs join insight_series s on s.id = vs.insight_series_id
     where vs.insight_view_id = view.id and not s.just_in_time
       and coalesce((select b.state from insight_series_backfill b where b.series_id = s.id order by b.id desc limit 1), 'new')
           in ('new', 'processing'))
$$;
