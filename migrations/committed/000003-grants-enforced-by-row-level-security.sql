--! Previous: sha1:c7aedc7f3efb1701216dda3efe179d8dca01bb87
--! Hash: sha1:0e2e2ca70a8980e9673ba911c1c9be39ded13b42
--! Message: grants enforced by row-level security

-- Grants enforced by PostgreSQL (DESIGN.md §4): API roles, the claims of the verified JWT, the
-- visibility rules (user, org, global, inherited through a visible dashboard) as functions, and
-- row-level security on every table the API exposes. Idempotent while it is current.sql.

drop policy if exists visible on insight_view;
drop policy if exists visible on insight_view_grants;
drop policy if exists visible on insight_view_series;
drop policy if exists visible on insight_series;
drop policy if exists visible on series_points;
drop policy if exists visible on series_points_snapshots;
drop policy if exists visible on insight_series_recording_times;
drop policy if exists visible on insight_series_incomplete_points;
drop policy if exists visible on insight_series_backfill;
drop policy if exists visible on repo_iterator;
drop policy if exists visible on repo_iterator_errors;
drop policy if exists visible on insights_background_jobs;
drop policy if exists visible on dashboard;
drop policy if exists visible on dashboard_grants;
drop policy if exists visible on dashboard_insight_view;
drop policy if exists everyone on repositories;
drop policy if exists everyone on repo_names;
drop policy if exists admins on task_runs;
drop function if exists app_visible_series_ids();
drop function if exists insight_view_is_visible(integer);
drop function if exists dashboard_is_visible(integer);
drop function if exists grant_applies(integer, integer, boolean);
drop function if exists app_is_admin();
drop function if exists app_org_ids();
drop function if exists app_user_id();

------------------------------------------------------------------------------------------------------
-- Roles: the API switches to one of these per request (pgSettings.role), never to the owner.
------------------------------------------------------------------------------------------------------
do $$
declare
  role_name text;
begin
  foreach role_name in array array['code_insights_anonymous', 'code_insights_user', 'code_insights_admin'] loop
    if not exists (select 1 from pg_roles where rolname = role_name) then
      execute format('create role %I nologin', role_name);
    end if;
    -- The role that owns the schema (and runs the server) may switch to them.
    execute format('grant %I to %I', role_name, current_user);
  end loop;
  grant code_insights_user to code_insights_admin;
end
$$;

grant usage on schema public to code_insights_anonymous, code_insights_user;

------------------------------------------------------------------------------------------------------
-- Claims of the verified token (set by the server as jwt.claims.*)
------------------------------------------------------------------------------------------------------
create function app_user_id() returns integer language sql stable as $$
  select nullif(current_setting('jwt.claims.user_id', true), '')::integer
$$;
comment on function app_user_id() is 'The user id of the request''s verified token (its sub claim); null for anonymous requests.';

create function app_org_ids() returns integer[] language sql stable as $$
  select coalesce(string_to_array(nullif(current_setting('jwt.claims.org_ids', true), ''), ',')::integer[], '{}')
$$;
comment on function app_org_ids() is 'The org ids of the request''s verified token (its org_ids claim).';

create function app_is_admin() returns boolean language sql stable as $$
  select coalesce(current_setting('jwt.claims.admin', true), '') = 'true'
$$;
comment on function app_is_admin() is 'Whether the request''s verified token carries the admin claim.';

create function grant_applies(user_id integer, org_id integer, is_global boolean) returns boolean language sql stable as $$
  select coalesce(is_global, false)
      or (user_id is not null and user_id = app_user_id())
      or (org_id is not null and org_id = any (app_org_ids()))
$$;
comment on function grant_applies(integer, integer, boolean) is 'Whether a grant row (user, org or global) applies to the requester.';

-- SECURITY DEFINER: they read the grant tables themselves, whose policies call them in turn.
create function dashboard_is_visible(dashboard_id integer) returns boolean
language sql stable security definer set search_path = public, pg_temp as $$
  select exists (
    select 1 from dashboard_grants g join dashboard d on d.id = g.dashboard_id
     where g.dashboard_id = dashboard_is_visible.dashboard_id and d.deleted_at is null
       and grant_applies(g.user_id, g.org_id, g.global))
$$;
comment on function dashboard_is_visible(integer) is 'A dashboard is visible with a grant naming the user, one of the user''s orgs, or everyone.';

create function insight_view_is_visible(view_id integer) returns boolean
language sql stable security definer set search_path = public, pg_temp as $$
  select exists (select 1 from insight_view_grants g
                  where g.insight_view_id = insight_view_is_visible.view_id and grant_applies(g.user_id, g.org_id, g.global))
      or exists (select 1 from dashboard_insight_view dv
                  where dv.insight_view_id = insight_view_is_visible.view_id and dashboard_is_visible(dv.dashboard_id))
$$;
comment on function insight_view_is_visible(integer) is 'A view is visible with a grant of its own, or when it is on a visible dashboard.';

create function app_visible_series_ids() returns text[]
language sql stable security definer set search_path = public, pg_temp as $$
  select coalesce(array_agg(distinct s.series_id), '{}')
    from insight_series s join insight_view_series vs on vs.insight_series_id = s.id
   where insight_view_is_visible(vs.insight_view_id)
$$;
comment on function app_visible_series_ids() is 'series_id of every series used by a view the requester can see (evaluated once per query by the point policies).';

------------------------------------------------------------------------------------------------------
-- Row-level security. The owner (workers, migrations, the CLI) is not subject to it.
------------------------------------------------------------------------------------------------------
alter table insight_view enable row level security;
create policy visible on insight_view for select using (insight_view_is_visible(id));
alter table insight_view_grants enable row level security;
create policy visible on insight_view_grants for select using (insight_view_is_visible(insight_view_id));
alter table insight_view_series enable row level security;
create policy visible on insight_view_series for select using (insight_view_is_visible(insight_view_id));

alter table insight_series enable row level security;
create policy visible on insight_series for select using (series_id = any ((select app_visible_series_ids())::text[]));
alter table series_points enable row level security;
create policy visible on series_points for select using (series_id = any ((select app_visible_series_ids())::text[]));
alter table series_points_snapshots enable row level security;
create policy visible on series_points_snapshots for select using (series_id = any ((select app_visible_series_ids())::text[]));
alter table insight_series_recording_times enable row level security;
create policy visible on insight_series_recording_times for select using (
  insight_series_id in (select id from insight_series where series_id = any ((select app_visible_series_ids())::text[])));
alter table insight_series_incomplete_points enable row level security;
create policy visible on insight_series_incomplete_points for select using (
  series_id in (select id from insight_series where series_id = any ((select app_visible_series_ids())::text[])));
alter table insight_series_backfill enable row level security;
create policy visible on insight_series_backfill for select using (
  series_id in (select id from insight_series where series_id = any ((select app_visible_series_ids())::text[])));
alter table repo_iterator enable row level security;
create policy visible on repo_iterator for select using (id in (select repo_iterator_id from insight_series_backfill));
alter table repo_iterator_errors enable row level security;
create policy visible on repo_iterator_errors for select using (repo_iterator_id in (select repo_iterator_id from insight_series_backfill));
alter table insights_background_jobs enable row level security;
create policy visible on insights_background_jobs for select using (backfill_id in (select id from insight_series_backfill));

alter table dashboard enable row level security;
create policy visible on dashboard for select using (deleted_at is null and dashboard_is_visible(id));
alter table dashboard_grants enable row level security;
create policy visible on dashboard_grants for select using (dashboard_is_visible(dashboard_id));
alter table dashboard_insight_view enable row level security;
create policy visible on dashboard_insight_view for select using (dashboard_is_visible(dashboard_id));

-- Repository names are not secret: anyone may list them (an insight's repositories are chosen from them).
alter table repositories enable row level security;
create policy everyone on repositories for select using (deleted_at is null);
alter table repo_names enable row level security;
create policy everyone on repo_names for select using (true);
alter table task_runs enable row level security;
create policy admins on task_runs for select using (app_is_admin());

-- Reads only, for now: writes go through functions (mutations) that check their input.
grant select on insight_view, insight_view_grants, insight_view_series, insight_series, series_points,
  series_points_snapshots, insight_series_recording_times, insight_series_incomplete_points,
  insight_series_backfill, repo_iterator, repo_iterator_errors, insights_background_jobs,
  dashboard, dashboard_grants, dashboard_insight_view, repositories, repo_names, task_runs
  to code_insights_anonymous, code_insights_user;

-- backfill_status reports with the requester's rights, not its owner's.
alter view backfill_status set (security_invoker = true);
grant select on backfill_status to code_insights_anonymous, code_insights_user;
