--! Previous: sha1:a0088ff15c8ff90cf44d8c5b09bcdab0c20288c4
--! Hash: sha1:9ebbb30939c93872a356968d49612c7e88c42754
--! Message: row-level security that does not grow with the installation

-- Row-level security that does not grow with the installation (bench:api --other-views).
--
-- The policies of views, dashboards and their links test one row at a time with
-- insight_view_is_visible / dashboard_is_visible. At the default cost the planner would rather
-- test every view in the installation than look up the few a query joins to (a dashboard read
-- checked all 2,010 views of the bench). A high cost makes it test only the rows it must.
alter function insight_view_is_visible(integer) cost 10000;
alter function dashboard_is_visible(integer) cost 10000;

-- The policies of series, points, recording times and statuses use the set of visible series,
-- computed once per query. It tested every (view, series) pair of the installation with
-- insight_view_is_visible; now the visible views are found from the grants that apply, once.
-- Same rule: a view is visible with a grant of its own, or on a visible (not deleted) dashboard.
create or replace function app_visible_series_ids() returns text[]
language sql stable security definer set search_path = public, pg_temp as $$
  with visible_dashboards as (
    select g.dashboard_id as id from dashboard_grants g join dashboard d on d.id = g.dashboard_id
     where d.deleted_at is null and grant_applies(g.user_id, g.org_id, g.global)
  ), visible_views as (
    select g.insight_view_id as id from insight_view_grants g where grant_applies(g.user_id, g.org_id, g.global)
    union
    select dv.insight_view_id from dashboard_insight_view dv where dv.dashboard_id in (select id from visible_dashboards)
  )
  select coalesce(array_agg(distinct s.series_id), '{}')
    from visible_views v
    join insight_view_series vs on vs.insight_view_id = v.id
    join insight_series s on s.id = vs.insight_series_id
$$;
