--! Previous: sha1:a1b5d0465d339451a54822a4e3e04067ec010e2f
--! Hash: sha1:dd526f4e31c1809b733322730e158a23f7599aac
--! Message: export a view as csv

-- Export of a view: every point of its series, live, archived and snapshot, with the view's
-- repository filters applied, for the requester's grants (SECURITY DEFINER after one check, like
-- the read path). Used by GET /export/views/<id>.csv and `code-insights insight export`.
drop function if exists insight_view_export(integer);

create function insight_view_export(view_id integer)
returns table (title text, series_label text, query text, "time" timestamptz, repository text, value double precision, capture text, kind text)
language sql stable security definer set search_path = public, pg_temp as $$
  with view as (
    select v.* from insight_view v where v.id = insight_view_export.view_id and app_may_read_view(v.id)
  ), series as (
    select v.title, v.default_filter_include_repo_regex as include_regex, v.default_filter_exclude_repo_regex as exclude_regex,
           vs.label, s.series_id, s.query
      from view v join insight_view_series vs on vs.insight_view_id = v.id join insight_series s on s.id = vs.insight_series_id
  ), points as (
    select p.series_id, p.time, p.repo_name_id, p.value, p.capture, 'live' as kind from series_points p where p.series_id in (select series_id from series)
    union all
    select p.series_id, p.time, p.repo_name_id, p.value, p.capture, 'archived' from archived_series_points p where p.series_id in (select series_id from series)
    union all
    select p.series_id, p.time, p.repo_name_id, p.value, p.capture, 'snapshot' from series_points_snapshots p where p.series_id in (select series_id from series)
  )
  select s.title, s.label, s.query, p.time, n.name::text, p.value, p.capture, p.kind
    from series s join points p on p.series_id = s.series_id
    left join repo_names n on n.id = p.repo_name_id
   where (s.include_regex is null or n.name::text ~* s.include_regex)
     and (s.exclude_regex is null or n.name::text !~* s.exclude_regex)
   order by s.label, p.time, n.name, p.capture
$$;
comment on function insight_view_export(integer) is
  'Every point of a view''s series (live, archived and the snapshot: kind), with repository names, under the view''s repository filters; empty for a view you may not see.';
