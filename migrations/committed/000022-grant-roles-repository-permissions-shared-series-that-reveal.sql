--! Previous: sha1:4df234b89a10790298898cba22f42a209e459ac2
--! Hash: sha1:18d0a459ce2193c2702d10580470547780860b07
--! Message: Grant roles, repository permissions, shared series that reveal nothing, per-user backfill queues

------------------------------------------------------------------------------------------------------
-- Grant roles. A grant (the seed's dashboard_grants and insight_view_grants, unchanged) now carries
-- a role beside it: viewer (read), editor (change the content; share as viewer or editor), owner
-- (also delete, give or take any role, revoke others). The creator's grant is the owner's; a grant
-- to everyone is only ever viewer; a grant without a role row is a viewer's (hostile by default).
-- Reading a view through a dashboard makes you its viewer, whatever your role on the dashboard.
------------------------------------------------------------------------------------------------------
do $$ begin
  create type public.grant_role as enum ('viewer', 'editor', 'owner');
exception when duplicate_object then null;
end $$;
comment on type public.grant_role is 'What a grant lets its grantee do: viewer reads, editor also changes the content and shares as viewer or editor, owner also deletes, gives or takes any role and revokes others.';

create table if not exists insights_core.dashboard_grant_roles (
  grant_id integer primary key references public.dashboard_grants (id) on delete cascade,
  role public.grant_role not null
);
comment on table insights_core.dashboard_grant_roles is 'The role of each dashboard grant (none: viewer).';
create table if not exists insights_core.insight_view_grant_roles (
  grant_id integer primary key references public.insight_view_grants (id) on delete cascade,
  role public.grant_role not null
);
comment on table insights_core.insight_view_grant_roles is 'The role of each view grant (none: viewer).';
revoke all on insights_core.dashboard_grant_roles, insights_core.insight_view_grant_roles from public;

-- Until now any user or org grant let its grantee edit and share: those become editors, the
-- creator's grant (a dashboard's created_by_user_id; a view's first user grant) the owner's.
insert into insights_core.dashboard_grant_roles (grant_id, role)
select g.id, case when g.global then 'viewer' when g.user_id = d.created_by_user_id then 'owner' else 'editor' end::public.grant_role
  from public.dashboard_grants g join public.dashboard d on d.id = g.dashboard_id
on conflict do nothing;
insert into insights_core.insight_view_grant_roles (grant_id, role)
select g.id, case when g.global then 'viewer'
                  when g.id = (select min(o.id) from public.insight_view_grants o
                                where o.insight_view_id = g.insight_view_id and o.user_id is not null) then 'owner'
                  else 'editor' end::public.grant_role
  from public.insight_view_grants g
on conflict do nothing;

create or replace function insights_core.app_is_api_request() returns boolean language sql stable as $$
  -- API requests run as one of its roles (set_config('role', ...), still visible inside SECURITY
  -- DEFINER functions); workers, the CLI and DBAs connect as themselves.
  select current_setting('role') in ('code_insights_anonymous', 'code_insights_user', 'code_insights_admin')
$$;
comment on function insights_core.app_is_api_request() is 'Whether the statement runs for an API request (as one of the API roles) rather than a worker, the CLI or a DBA.';

create or replace function insights_core.app_may_read_view(view_id integer) returns boolean language sql stable as $$
  select not insights_core.app_is_api_request() or insights_core.insight_view_is_visible(view_id)
$$;

create or replace function insights_core.grant_row_role(role public.grant_role, is_global boolean) returns public.grant_role
language sql immutable as $$
  select case when coalesce(is_global, false) then 'viewer'::public.grant_role else coalesce(role, 'viewer') end
$$;
comment on function insights_core.grant_row_role(public.grant_role, boolean) is 'The role a grant row gives: its role row''s, viewer without one, and always viewer for a grant to everyone.';

create or replace function insights_core.dashboard_role(dashboard_id integer) returns public.grant_role
language sql stable security definer set search_path = public, insights_core, pg_temp as $$
  select case
    when not exists (select 1 from dashboard d where d.id = dashboard_role.dashboard_id and d.deleted_at is null) then null
    when not app_is_api_request() or app_is_admin() then 'owner'::grant_role
    else (select max(grant_row_role(r.role, g.global))
            from dashboard_grants g left join dashboard_grant_roles r on r.grant_id = g.id
           where g.dashboard_id = dashboard_role.dashboard_id and grant_applies(g.user_id, g.org_id, g.global))
  end
$$;
comment on function insights_core.dashboard_role(integer) is 'The requester''s role on a dashboard (the highest of the grants that apply; owner for admins and outside the API), or null when they may not see it.';

create or replace function insights_core.insight_view_role(view_id integer) returns public.grant_role
language sql stable security definer set search_path = public, insights_core, pg_temp as $$
  select case
    when not exists (select 1 from insight_view v where v.id = insight_view_role.view_id) then null
    when not app_is_api_request() or app_is_admin() then 'owner'::grant_role
    else coalesce(
      (select max(grant_row_role(r.role, g.global))
         from insight_view_grants g left join insight_view_grant_roles r on r.grant_id = g.id
        where g.insight_view_id = insight_view_role.view_id and grant_applies(g.user_id, g.org_id, g.global)),
      case when exists (select 1 from dashboard_insight_view dv
                         where dv.insight_view_id = insight_view_role.view_id and dashboard_is_visible(dv.dashboard_id))
           then 'viewer'::grant_role end)
  end
$$;
comment on function insights_core.insight_view_role(integer) is 'The requester''s role on a view: the highest of its own grants that apply, viewer when it is only seen through a dashboard, owner for admins and outside the API; null when they may not see it.';

create or replace function insights_core.dashboard_is_editable(dashboard_id integer) returns boolean
language sql stable as $$
  select coalesce(insights_core.dashboard_role(dashboard_id) >= 'editor', false)
$$;
comment on function insights_core.dashboard_is_editable(integer) is 'Whether the requester may change a dashboard: the editor or owner role on it (admins own everything).';

create or replace function insights_core.insight_view_is_editable(view_id integer) returns boolean
language sql stable as $$
  select coalesce(insights_core.insight_view_role(view_id) >= 'editor', false)
$$;
comment on function insights_core.insight_view_is_editable(integer) is 'Whether the requester may change a view: the editor or owner role from one of its own grants (admins own everything).';

create or replace function insights_core.require_role(kind text, id integer, have public.grant_role, needed public.grant_role,
                                                      action text) returns void
language plpgsql stable as $$
begin
  perform insights_core.app_require_user();
  if have is null then
    raise exception 'no % % that you may %', kind, id, action using errcode = '42501';
  end if;
  if have < needed then
    raise exception '% %: you are its %; to % it you need the % role%', kind, id, have, action, needed,
      case when needed = 'editor' then ' (or owner)' else '' end using errcode = '42501';
  end if;
end
$$;
comment on function insights_core.require_role(text, integer, public.grant_role, public.grant_role, text) is 'Raises 42501 unless the requester is signed in and their role (have) is at least the needed one, saying which role they have and which the action needs.';

create or replace function insights_core.require_editable_dashboard(dashboard_id integer) returns void
language plpgsql stable set search_path = public, insights_core, pg_temp as $$
begin
  perform require_role('dashboard', dashboard_id, dashboard_role(dashboard_id), 'editor', 'edit');
end
$$;

create or replace function insights_core.insight_view_for_update(view_id integer, expected_etag text) returns insight_view
language plpgsql set search_path = public, insights_core, pg_temp as $$
begin
  perform require_role('insight view', view_id, insight_view_role(view_id), 'editor', 'edit');
  if expected_etag is null or expected_etag = '' then
    raise exception 'expectedEtag is required: pass the etag you read' using errcode = '22023';
  end if;
  return insight_view_lock_current(view_id, expected_etag);
end
$$;

create or replace function insights_core.require_editable_view(view_id integer) returns void
language plpgsql stable set search_path = public, insights_core, pg_temp as $$
begin
  perform require_role('view', view_id, insight_view_role(view_id), 'editor', 'edit');
end
$$;

-- Computed columns: each grant's role, and the requester's own role on a dashboard or view.
create or replace function public.dashboard_grants_role(g dashboard_grants) returns public.grant_role
language sql stable security definer set search_path = public, insights_core, pg_temp as $$
  select grant_row_role((select r.role from dashboard_grant_roles r where r.grant_id = g.id), g.global)
$$;
comment on function public.dashboard_grants_role(dashboard_grants) is 'What the grant lets its grantee do: viewer, editor or owner.';
create or replace function public.insight_view_grants_role(g insight_view_grants) returns public.grant_role
language sql stable security definer set search_path = public, insights_core, pg_temp as $$
  select grant_row_role((select r.role from insight_view_grant_roles r where r.grant_id = g.id), g.global)
$$;
comment on function public.insight_view_grants_role(insight_view_grants) is 'What the grant lets its grantee do: viewer, editor or owner.';
create or replace function public.dashboard_my_role(d dashboard) returns public.grant_role language sql stable as $$
  select insights_core.dashboard_role(d.id)
$$;
comment on function public.dashboard_my_role(dashboard) is 'Your role on the dashboard: viewer, editor or owner.';
create or replace function public.insight_view_my_role(v insight_view) returns public.grant_role language sql stable as $$
  select insights_core.insight_view_role(v.id)
$$;
comment on function public.insight_view_my_role(insight_view) is 'Your role on the view: viewer (also when you see it only through a dashboard), editor or owner.';

-- The core's grant writers take the role. Granting an existing grantee again sets the role.
drop function if exists insights_core.dashboard_grant_add(integer, integer, integer, boolean);
create or replace function insights_core.dashboard_grant_add(dashboard_id integer, user_id integer, org_id integer, is_global boolean,
                                                  role public.grant_role default 'viewer') returns dashboard_grants
language plpgsql set search_path = public, insights_core, pg_temp as $$
#variable_conflict use_column
declare
  current dashboard := dashboard_for_change(dashboard_id);
  wanted grant_role := coalesce(dashboard_grant_add.role, 'viewer');
  result dashboard_grants;
begin
  perform check_one_grantee(user_id, org_id, is_global);
  if coalesce(is_global, false) and wanted <> 'viewer' then
    raise exception 'a grant to everyone can only be viewer, not %', wanted using errcode = '22023';
  end if;
  select * into result from dashboard_grants g
   where g.dashboard_id = current.id and g.user_id is not distinct from dashboard_grant_add.user_id
     and g.org_id is not distinct from dashboard_grant_add.org_id and coalesce(g.global, false) = coalesce(is_global, false);
  if found and grant_row_role((select r.role from dashboard_grant_roles r where r.grant_id = result.id), result.global) = wanted then
    return result; -- granting twice changes nothing
  end if;
  if not found then
    insert into dashboard_grants (dashboard_id, user_id, org_id, global)
      values (current.id, dashboard_grant_add.user_id, dashboard_grant_add.org_id, case when is_global then true end)
      returning * into result;
  end if;
  insert into dashboard_grant_roles (grant_id, role) values (result.id, wanted)
    on conflict (grant_id) do update set role = excluded.role;
  perform dashboard_touch(current.id);
  return result;
end
$$;
comment on function insights_core.dashboard_grant_add(integer, integer, integer, boolean, public.grant_role) is 'Shares a dashboard with one user, one org or everyone (viewer only) in a role; granting an existing grantee again sets the role. Bumps the dashboard''s last_updated_at.';

drop function if exists insights_core.insight_view_grant_add(integer, integer, integer, boolean);
create or replace function insights_core.insight_view_grant_add(view_id integer, user_id integer, org_id integer, is_global boolean,
                                                     role public.grant_role default 'viewer') returns insight_view_grants
language plpgsql set search_path = public, insights_core, pg_temp as $$
#variable_conflict use_column
declare
  wanted grant_role := coalesce(insight_view_grant_add.role, 'viewer');
  result insight_view_grants;
begin
  if not exists (select 1 from insight_view v where v.id = view_id) then
    raise exception 'no insight view %', view_id using errcode = 'P0002';
  end if;
  perform check_one_grantee(user_id, org_id, is_global);
  if coalesce(is_global, false) and wanted <> 'viewer' then
    raise exception 'a grant to everyone can only be viewer, not %', wanted using errcode = '22023';
  end if;
  select * into result from insight_view_grants g
   where g.insight_view_id = view_id and g.user_id is not distinct from insight_view_grant_add.user_id
     and g.org_id is not distinct from insight_view_grant_add.org_id and coalesce(g.global, false) = coalesce(is_global, false);
  if not found then
    insert into insight_view_grants (insight_view_id, user_id, org_id, global)
      values (view_id, insight_view_grant_add.user_id, insight_view_grant_add.org_id, case when is_global then true end)
      returning * into result;
  end if;
  insert into insight_view_grant_roles (grant_id, role) values (result.id, wanted)
    on conflict (grant_id) do update set role = excluded.role;
  return result;
end
$$;
comment on function insights_core.insight_view_grant_add(integer, integer, integer, boolean, public.grant_role) is 'Shares a view with one user, one org or everyone (viewer only) in a role; granting an existing grantee again sets the role.';

-- Creating makes the creator the owner (a user grant in the owner role); without a user, the
-- dashboard or view is shared with everyone (as viewers).
create or replace function insights_core.grant_new_view(view_id integer, owner_user_id integer) returns void
language plpgsql set search_path = public, insights_core, pg_temp as $$
begin
  if owner_user_id is not null then
    perform insight_view_grant_add(view_id, owner_user_id, null, false, 'owner');
  else
    perform insight_view_grant_add(view_id, null, null, true, 'viewer');
  end if;
end
$$;
comment on function insights_core.grant_new_view(integer, integer) is 'The first grant of a new view: its creator as owner, or everyone as viewers when there is no creator.';

create or replace function insights_core.dashboard_create(title text, owner_user_id integer) returns dashboard
language plpgsql set search_path = public, insights_core, pg_temp as $$
#variable_conflict use_column
declare
  result dashboard;
begin
  insert into dashboard (title, created_by_user_id) values (required_title(title), owner_user_id) returning * into result;
  if owner_user_id is not null then
    perform dashboard_grant_add(result.id, owner_user_id, null, false, 'owner');
  else
    perform dashboard_grant_add(result.id, null, null, true, 'viewer');
  end if;
  select * into result from dashboard d where d.id = result.id; -- granting bumped last_updated_at
  return result;
end
$$;
comment on function insights_core.dashboard_create(text, integer) is 'Creates a dashboard owned by a user (a user grant in the owner role), or shared with everyone as viewers when the owner is null.';
CREATE OR REPLACE FUNCTION insights_core.create_line_insight(title text, series jsonb, repositories text[] DEFAULT NULL::text[], repository_criteria text DEFAULT NULL::text, interval_unit time_unit DEFAULT 'MONTH'::time_unit, interval_value integer DEFAULT 1, oldest_historical_at timestamp with time zone DEFAULT NULL::timestamp with time zone, user_id integer DEFAULT NULL::integer, description text DEFAULT NULL::text, include_repo_regex text DEFAULT NULL::text, exclude_repo_regex text DEFAULT NULL::text, sort_mode series_sort_mode_enum DEFAULT NULL::series_sort_mode_enum, sort_direction series_sort_direction_enum DEFAULT NULL::series_sort_direction_enum, series_limit integer DEFAULT NULL::integer, num_samples integer DEFAULT NULL::integer)
 RETURNS insight_view
 LANGUAGE plpgsql
 SET search_path TO 'public', 'insights_core', 'pg_temp'
AS $$
#variable_conflict use_column
declare
  view insight_view;
begin
  perform required_title(title);
  perform check_line_series(series);
  insert into insight_view (title, unique_id, presentation_type) values ('-', gen_random_uuid()::text, 'LINE') returning * into view;
  perform grant_new_view(view.id, user_id);
  view := set_insight_view_display(view.id, title, description, include_repo_regex, exclude_repo_regex, sort_mode, sort_direction,
                                   series_limit, num_samples);
  perform set_insight_view_series(view, series, repositories, repository_criteria, interval_unit, interval_value, oldest_historical_at);
  return view;
end
$$;

CREATE OR REPLACE FUNCTION insights_core.create_pie_insight(title text, repositories text[] DEFAULT NULL::text[], repository_criteria text DEFAULT NULL::text, query text DEFAULT NULL::text, other_threshold double precision DEFAULT 0.03, description text DEFAULT NULL::text, user_id integer DEFAULT NULL::integer)
 RETURNS insight_view
 LANGUAGE plpgsql
 SET search_path TO 'public', 'insights_core', 'pg_temp'
AS $$
#variable_conflict use_column
declare
  view insight_view;
begin
  perform required_title(title);
  insert into insight_view (title, unique_id, presentation_type) values ('-', gen_random_uuid()::text, 'PIE') returning * into view;
  perform grant_new_view(view.id, user_id);
  view := set_insight_view_display(view.id, title, description, null, null, null, null, null, null, other_threshold);
  perform set_insight_view_series(view, pie_series(query), repositories, repository_criteria, 'DAY', 1, now() - interval '1 day',
                                  nullif(btrim(query), '') is null);
  return view;
end
$$;

-- The API's sharing functions check the role each action needs.
drop function if exists public.grant_dashboard(integer, integer, integer, boolean);
create or replace function public.grant_dashboard(dashboard_id integer, user_id integer default null, org_id integer default null,
                                       is_global boolean default false, role public.grant_role default 'viewer')
returns dashboard_grants language plpgsql security definer set search_path = public, insights_core, pg_temp as $$
#variable_conflict use_column
declare
  have grant_role := dashboard_role(dashboard_id);
  wanted grant_role := coalesce(grant_dashboard.role, 'viewer');
  existing grant_role := (select grant_row_role(r.role, g.global) from dashboard_grants g
                            left join dashboard_grant_roles r on r.grant_id = g.id
                           where g.dashboard_id = grant_dashboard.dashboard_id
                             and g.user_id is not distinct from grant_dashboard.user_id
                             and g.org_id is not distinct from grant_dashboard.org_id
                             and coalesce(g.global, false) = coalesce(grant_dashboard.is_global, false));
begin
  -- Editors share as viewer or editor; giving owner, or changing an existing grant's role, is the owner's.
  perform require_role('dashboard', dashboard_id, have, 'editor', 'share');
  if wanted = 'owner' or (existing is not null and existing <> wanted) then
    perform require_role('dashboard', dashboard_id, have, 'owner', case when wanted = 'owner' then 'make others its owners' else 'change a grant''s role' end);
  end if;
  return dashboard_grant_add(dashboard_id, user_id, org_id, is_global, wanted);
end
$$;
comment on function public.grant_dashboard(integer, integer, integer, boolean, public.grant_role) is 'Shares a dashboard with a user, an org or everyone (viewer only), in a role (viewer by default). Editors share as viewer or editor; only owners give owner or change an existing grant''s role.';

drop function if exists public.grant_insight_view(integer, integer, integer, boolean);
create or replace function public.grant_insight_view(view_id integer, user_id integer default null, org_id integer default null,
                                          is_global boolean default false, role public.grant_role default 'viewer')
returns insight_view_grants language plpgsql security definer set search_path = public, insights_core, pg_temp as $$
#variable_conflict use_column
declare
  have grant_role := insight_view_role(view_id);
  wanted grant_role := coalesce(grant_insight_view.role, 'viewer');
  existing grant_role := (select grant_row_role(r.role, g.global) from insight_view_grants g
                            left join insight_view_grant_roles r on r.grant_id = g.id
                           where g.insight_view_id = grant_insight_view.view_id
                             and g.user_id is not distinct from grant_insight_view.user_id
                             and g.org_id is not distinct from grant_insight_view.org_id
                             and coalesce(g.global, false) = coalesce(grant_insight_view.is_global, false));
begin
  perform require_role('view', view_id, have, 'editor', 'share');
  if wanted = 'owner' or (existing is not null and existing <> wanted) then
    perform require_role('view', view_id, have, 'owner', case when wanted = 'owner' then 'make others its owners' else 'change a grant''s role' end);
  end if;
  return insight_view_grant_add(view_id, user_id, org_id, is_global, wanted);
end
$$;
comment on function public.grant_insight_view(integer, integer, integer, boolean, public.grant_role) is 'Shares a view with a user, an org or everyone (viewer only), in a role (viewer by default). Editors share as viewer or editor; only owners give owner or change an existing grant''s role.';

-- Revoking: owners revoke any grant, anyone their own user grant (leaving); never the last owner's.
create or replace function insights_core.require_revocable(kind text, target integer, have public.grant_role,
                                                           grant_id integer, grantee integer, is_owner boolean,
                                                           other_owners integer) returns void
language plpgsql stable set search_path = public, insights_core, pg_temp as $$
begin
  perform app_require_user();
  if target is null or have is null then
    raise exception 'no % grant % that you may revoke', kind, grant_id using errcode = '42501';
  end if;
  if have < 'owner' and grantee is distinct from app_user_id() then
    raise exception '% %: you are its %; to revoke others'' grants you need the owner role', kind, target, have
      using errcode = '42501';
  end if;
  if is_owner and other_owners = 0 then
    raise exception 'grant % is the last owner of % %: make someone else its owner first, or delete it', grant_id, kind, target
      using errcode = '55000';
  end if;
end
$$;
comment on function insights_core.require_revocable(text, integer, public.grant_role, integer, integer, boolean, integer) is 'Raises unless the requester may revoke the grant: an owner, or its grantee leaving; never the last owner''s grant.';

create or replace function public.revoke_dashboard_grant(grant_id integer) returns dashboard_grants
language plpgsql security definer set search_path = public, insights_core, pg_temp as $$
declare
  target dashboard_grants := (select g from dashboard_grants g where g.id = grant_id);
  role grant_role := grant_row_role((select r.role from dashboard_grant_roles r where r.grant_id = revoke_dashboard_grant.grant_id), target.global);
begin
  perform require_revocable('dashboard', target.dashboard_id, dashboard_role(target.dashboard_id), grant_id, target.user_id,
    role = 'owner',
    (select count(*)::integer from dashboard_grants g join dashboard_grant_roles r on r.grant_id = g.id
      where g.dashboard_id = target.dashboard_id and g.id <> target.id and r.role = 'owner' and not coalesce(g.global, false)));
  return dashboard_grant_remove(grant_id);
end
$$;
comment on function public.revoke_dashboard_grant(integer) is 'Removes a grant from a dashboard: owners remove any, anyone their own user grant; the last owner''s grant stays.';

create or replace function public.revoke_insight_view_grant(grant_id integer) returns insight_view_grants
language plpgsql security definer set search_path = public, insights_core, pg_temp as $$
declare
  target insight_view_grants := (select g from insight_view_grants g where g.id = grant_id);
  role grant_role := grant_row_role((select r.role from insight_view_grant_roles r where r.grant_id = revoke_insight_view_grant.grant_id), target.global);
begin
  perform require_revocable('view', target.insight_view_id, insight_view_role(target.insight_view_id), grant_id, target.user_id,
    role = 'owner',
    (select count(*)::integer from insight_view_grants g join insight_view_grant_roles r on r.grant_id = g.id
      where g.insight_view_id = target.insight_view_id and g.id <> target.id and r.role = 'owner' and not coalesce(g.global, false)));
  return insight_view_grant_remove(grant_id);
end
$$;
comment on function public.revoke_insight_view_grant(integer) is 'Removes a grant from a view: owners remove any, anyone their own user grant; the last owner''s grant stays.';

create or replace function public.delete_dashboard(dashboard_id integer) returns dashboard
language plpgsql security definer set search_path = public, insights_core, pg_temp as $$
begin
  perform require_role('dashboard', dashboard_id, dashboard_role(dashboard_id), 'owner', 'delete');
  return dashboard_delete(dashboard_id);
end
$$;
comment on function public.delete_dashboard(integer) is 'Deletes (soft-deletes) a dashboard you own; its views stay.';

create or replace function public.delete_insight_view(view_id integer, expected_etag text) returns insight_view
language plpgsql security definer set search_path = public, insights_core, pg_temp as $$
begin
  perform require_role('view', view_id, insight_view_role(view_id), 'owner', 'delete');
  perform insight_view_for_update(view_id, expected_etag);
  return insight_view_delete(view_id, expected_etag);
end
$$;
comment on function public.delete_insight_view(integer, text) is 'Deletes a view you own (with its grants and dashboard places) if its etag is still expectedEtag; series no other view uses are retired.';

-- Putting a view on a dashboard shares it with everyone who sees the dashboard: that needs the
-- right to share the view (editor or owner), unless everyone may see it already.
create or replace function public.add_view_to_dashboard(dashboard_id integer, view_id integer) returns dashboard
language plpgsql security definer set search_path = public, insights_core, pg_temp as $$
declare
  have grant_role := insight_view_role(view_id);
begin
  perform require_editable_dashboard(dashboard_id);
  if have is null then
    raise exception 'no view % that you may see', view_id using errcode = '42501';
  end if;
  if have < 'editor' and not exists (select 1 from insight_view_grants g where g.insight_view_id = add_view_to_dashboard.view_id and g.global) then
    raise exception 'view %: you are its %; putting it on a dashboard shares it with everyone who sees the dashboard, which needs the editor role (or owner)',
      view_id, have using errcode = '42501';
  end if;
  return dashboard_add_view(dashboard_id, view_id);
end
$$;
comment on function public.add_view_to_dashboard(integer, integer) is 'Puts a view on a dashboard you may edit. Everyone who sees the dashboard then sees the view, so it needs the editor or owner role on the view, unless the view is shared with everyone already.';

------------------------------------------------------------------------------------------------------
-- Repository permissions, as private code hosts have them: a repository with permission rows is
-- restricted to the users and orgs they name (and admins); one without is visible to all. What a
-- requester may not see is left out of every count, sum, pie, drill-down and export, here in
-- PostgreSQL: by the row-level security of the tables, and explicitly in the SECURITY DEFINER read
-- functions (which bypass it). Workers record every repository; the filter applies when reading.
------------------------------------------------------------------------------------------------------
create table if not exists insights_core.repository_permissions (
  repo_id integer not null references public.repositories (id) on delete cascade,
  user_id integer,
  org_id integer,
  constraint repository_permissions_one_grantee check ((user_id is null) <> (org_id is null)),
  constraint repository_permissions_key unique nulls not distinct (repo_id, user_id, org_id)
);
comment on table insights_core.repository_permissions is 'Who may see a restricted repository (a user or an org per row); a repository without rows is visible to everyone.';
revoke all on insights_core.repository_permissions from public;

create or replace function insights_core.app_hidden_repo_ids() returns integer[]
language sql stable security definer set search_path = public, insights_core, pg_temp as $$
  select case when not app_is_api_request() or app_is_admin() then '{}'::integer[]
    else coalesce((select array_agg(distinct p.repo_id order by p.repo_id) from repository_permissions p
                    where not exists (select 1 from repository_permissions q
                                       where q.repo_id = p.repo_id
                                         and ((q.user_id is not null and q.user_id = app_user_id())
                                              or (q.org_id is not null and q.org_id = any (app_org_ids()))))),
                  '{}') end
$$;
comment on function insights_core.app_hidden_repo_ids() is 'Ids of the restricted repositories the requester may not see (none for admins and outside the API); every read path leaves them out.';

create or replace function insights_core.app_hidden_repo_name_ids() returns integer[]
language plpgsql stable security definer set search_path = public, insights_core, pg_temp as $$
declare
  hidden integer[] := app_hidden_repo_ids();
begin
  if cardinality(hidden) = 0 then
    return '{}';
  end if;
  -- Current names, and the names (then and now) their points were recorded under.
  return array(
    select n.id from repo_names n join repositories r on r.name = n.name where r.id = any (hidden)
    union select p.repo_name_id from series_points p where p.repo_id = any (hidden)
    union select p.original_repo_name_id from series_points p where p.repo_id = any (hidden)
    union select p.repo_name_id from series_points_snapshots p where p.repo_id = any (hidden));
end
$$;
comment on function insights_core.app_hidden_repo_name_ids() is 'Ids of the names (repo_names) of the repositories the requester may not see.';

create or replace function insights_core.set_repository_permissions(repo_id integer, user_ids integer[], org_ids integer[])
returns repositories language plpgsql set search_path = public, insights_core, pg_temp as $$
#variable_conflict use_column
declare
  result repositories;
begin
  select * into result from repositories r where r.id = set_repository_permissions.repo_id and r.deleted_at is null for update;
  if not found then
    raise exception 'no repository %', repo_id using errcode = 'P0002';
  end if;
  if exists (select 1 from unnest(coalesce(user_ids, '{}') || coalesce(org_ids, '{}')) i where i is null or i < 1) then
    raise exception 'user and org ids must be positive integers' using errcode = '22023';
  end if;
  delete from repository_permissions p where p.repo_id = result.id;
  insert into repository_permissions (repo_id, user_id)
    select distinct result.id, u from unnest(coalesce(user_ids, '{}')) u;
  insert into repository_permissions (repo_id, org_id)
    select distinct result.id, o from unnest(coalesce(org_ids, '{}')) o;
  -- Stored lines are the unfiltered sums; the filter is applied when reading, so nothing to refresh.
  return result;
end
$$;
comment on function insights_core.set_repository_permissions(integer, integer[], integer[]) is 'Restricts a repository to the given users and orgs (and admins), replacing its permissions; both empty makes it visible to everyone again.';

create or replace function public.restrict_repository(repo_id integer, user_ids integer[] default '{}', org_ids integer[] default '{}')
returns repositories language plpgsql security definer set search_path = public, insights_core, pg_temp as $$
begin
  perform app_require_admin();
  return set_repository_permissions(repo_id, user_ids, org_ids);
end
$$;
comment on function public.restrict_repository(integer, integer[], integer[]) is 'Admin only: restricts a repository to the given users and orgs (as a private code host would); with both lists empty it is visible to everyone again. Counts, pies, drill-downs and exports leave out what the reader may not see.';
revoke execute on function public.restrict_repository(integer, integer[], integer[]) from public;
grant execute on function public.restrict_repository(integer, integer[], integer[]) to code_insights_user;

-- Row-level security: restricted repositories, their names, stats and points only for who may see them.
alter policy everyone on public.repositories
  using (deleted_at is null and id <> all ((select insights_core.app_hidden_repo_ids())::integer[]));
alter policy everyone on public.repo_names
  using (id <> all ((select insights_core.app_hidden_repo_name_ids())::integer[]));
alter policy everyone on public.repository_language_stats
  using (repo_id <> all ((select insights_core.app_hidden_repo_ids())::integer[]));
alter policy visible on public.series_points
  using (series_id = any ((select insights_core.app_visible_series_ids())::text[])
         and (repo_id is null or repo_id <> all ((select insights_core.app_hidden_repo_ids())::integer[])));
alter policy visible on public.series_points_snapshots
  using (series_id = any ((select insights_core.app_visible_series_ids())::text[])
         and (repo_id is null or repo_id <> all ((select insights_core.app_hidden_repo_ids())::integer[])));
alter policy visible on public.insight_series_incomplete_points
  using (series_id in (select s.id from public.insight_series s
                        where s.series_id = any ((select insights_core.app_visible_series_ids())::text[]))
         and (repo_id is null or repo_id <> all ((select insights_core.app_hidden_repo_ids())::integer[])));
alter policy visible on public.repo_iterator_errors
  using (repo_iterator_id in (select b.repo_iterator_id from public.insight_series_backfill b)
         and repo_id <> all ((select insights_core.app_hidden_repo_ids())::integer[]));

-- The hidden repositories that have points in a view's series (most views have none: stored lines).
create or replace function insights_core.view_hidden_repo_ids(view_id integer, hidden integer[]) returns integer[]
language sql stable set search_path = public, insights_core, pg_temp as $$
  select coalesce(array_agg(h order by h), '{}') from unnest(hidden) h
   where exists (select 1 from insight_view_series vs join insight_series s on s.id = vs.insight_series_id
                  where vs.insight_view_id = view_hidden_repo_ids.view_id
                    and (exists (select 1 from series_points p where p.series_id = s.series_id and p.repo_id = h)
                         or exists (select 1 from series_points_snapshots p where p.series_id = s.series_id and p.repo_id = h)))
$$;
comment on function insights_core.view_hidden_repo_ids(integer, integer[]) is 'Of the given hidden repositories, those with points in one of the view''s series.';
CREATE OR REPLACE FUNCTION public.insight_view_data(view insight_view, include_repo_regex text DEFAULT NULL::text, exclude_repo_regex text DEFAULT NULL::text, sort_mode series_sort_mode_enum DEFAULT NULL::series_sort_mode_enum, sort_direction series_sort_direction_enum DEFAULT NULL::series_sort_direction_enum, series_limit integer DEFAULT NULL::integer, num_samples integer DEFAULT NULL::integer)
 RETURNS SETOF insight_data_series
 LANGUAGE plpgsql
 STABLE SECURITY DEFINER
 SET search_path TO 'public', 'insights_core', 'pg_temp'
AS $$
declare
  stored insight_data_series[];
  hidden integer[] := app_hidden_repo_ids();
begin
  if not app_may_read_view(view.id) then
    return;
  end if;
  if cardinality(hidden) > 0 then
    hidden := view_hidden_repo_ids(view.id, hidden);
  end if;
  -- The stored lines sum every repository: only for a reader who may see all of the view's.
  if cardinality(hidden) = 0 and include_repo_regex is null and exclude_repo_regex is null and sort_mode is null and sort_direction is null
     and series_limit is null and num_samples is null then
    select c.lines into stored from insight_view_lines c where c.view_id = view.id;
    if stored is not null then
      return query select * from unnest(stored);
      return;
    end if;
  end if;
  return query select * from insight_view_data_live(view, include_repo_regex, exclude_repo_regex, sort_mode, sort_direction, series_limit, num_samples,
                                                     hidden);
end
$$;

drop function if exists insights_core.insight_view_data_live(insight_view, text, text, series_sort_mode_enum, series_sort_direction_enum, integer, integer);
CREATE OR REPLACE FUNCTION insights_core.insight_view_data_live(view insight_view, include_repo_regex text DEFAULT NULL::text, exclude_repo_regex text DEFAULT NULL::text, sort_mode series_sort_mode_enum DEFAULT NULL::series_sort_mode_enum, sort_direction series_sort_direction_enum DEFAULT NULL::series_sort_direction_enum, series_limit integer DEFAULT NULL::integer, num_samples integer DEFAULT NULL::integer, hidden_repo_ids integer[] DEFAULT '{}'::integer[])
 RETURNS SETOF insight_data_series
 LANGUAGE plpgsql
 STABLE
 SET search_path TO 'public', 'insights_core', 'pg_temp'
AS $$
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
     where include_regex is null and exclude_regex is null and cardinality(hidden_repo_ids) = 0
    union all
    select s.id, tm.time, p.capture, sum(p.value)
      from series s join times tm on tm.id = s.id and not tm.snapshot
      join series_points p on p.series_id = s.series_id and p.time = tm.time
      left join repo_names n on n.id = p.repo_name_id
     where (include_regex is not null or exclude_regex is not null or cardinality(hidden_repo_ids) > 0)
       and (p.repo_id is null or p.repo_id <> all (hidden_repo_ids))
       and (include_regex is null or n.name::text ~* include_regex)
       and (exclude_regex is null or n.name::text !~* exclude_regex)
     group by 1, 2, 3
    union all
    select s.id, tm.time, p.capture, sum(p.value)
      from series s join times tm on tm.id = s.id and tm.snapshot
      join series_points_snapshots p on p.series_id = s.series_id and p.time = tm.time
      left join repo_names n on n.id = p.repo_name_id
     where (include_regex is not null or exclude_regex is not null or cardinality(hidden_repo_ids) > 0)
       and (p.repo_id is null or p.repo_id <> all (hidden_repo_ids))
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
CREATE OR REPLACE FUNCTION public.insight_view_pie(view insight_view)
 RETURNS SETOF insight_pie_slice
 LANGUAGE sql
 STABLE SECURITY DEFINER
 SET search_path TO 'public', 'insights_core', 'pg_temp'
AS $$
  with hidden as (
    select app_hidden_repo_ids() as ids
  ), series as (
    select s.* from insight_view_series vs join insight_series s on s.id = vs.insight_series_id
     where vs.insight_view_id = view.id and app_may_read_view(view.id)
  ), newest as (
    select s.series_id, t.snapshot, t.time from series s
      cross join lateral (select t.snapshot, t.time from series_point_totals t where t.series_id = s.series_id
                           order by t.time desc, t.snapshot desc limit 1) t
     where not s.just_in_time
  ), parts as (
    select l.language as label, l.bytes::double precision as value
      from series s cross join lateral unnest(insight_series_repository_ids(s)) r(id)
      join repository_language_stats l on l.repo_id = r.id
     where s.just_in_time and r.id <> all ((select ids from hidden)::integer[])
    union all
    -- The stored totals when the reader may see every repository, else the points they may see.
    select t.capture, t.value
      from newest n join series_point_totals t on t.series_id = n.series_id and t.snapshot = n.snapshot and t.time = n.time
     where t.capture is not null and cardinality((select ids from hidden)) = 0
    union all
    select p.capture, p.value
      from newest n join series_points p on p.series_id = n.series_id and not n.snapshot and p.time = n.time
     where p.capture is not null and cardinality((select ids from hidden)) > 0
       and (p.repo_id is null or p.repo_id <> all ((select ids from hidden)::integer[]))
    union all
    select p.capture, p.value
      from newest n join series_points_snapshots p on p.series_id = n.series_id and n.snapshot and p.time = n.time
     where p.capture is not null and cardinality((select ids from hidden)) > 0
       and (p.repo_id is null or p.repo_id <> all ((select ids from hidden)::integer[]))
  ), raw as (
    select p.label, sum(p.value) as value from parts p group by 1
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

CREATE OR REPLACE FUNCTION insights_core.insight_view_export(view_id integer)
 RETURNS TABLE(title text, series_label text, query text, "time" timestamp with time zone, repository text, value double precision, capture text, kind text)
 LANGUAGE sql
 STABLE SECURITY DEFINER
 SET search_path TO 'public', 'insights_core', 'pg_temp'
AS $$
  with hidden as (
    select app_hidden_repo_ids() as ids
  ), view as (
    select v.* from insight_view v where v.id = insight_view_export.view_id and app_may_read_view(v.id)
  ), series as (
    select v.title, v.default_filter_include_repo_regex as include_regex, v.default_filter_exclude_repo_regex as exclude_regex,
           vs.label, s.series_id, s.query
      from view v join insight_view_series vs on vs.insight_view_id = v.id join insight_series s on s.id = vs.insight_series_id
  ), points as (
    select p.series_id, p.time, p.repo_id, p.repo_name_id, p.value, p.capture, 'live' as kind from series_points p where p.series_id in (select series_id from series)
    union all
    select p.series_id, p.time, p.repo_id, p.repo_name_id, p.value, p.capture, 'archived' from archived_series_points p where p.series_id in (select series_id from series)
    union all
    select p.series_id, p.time, p.repo_id, p.repo_name_id, p.value, p.capture, 'snapshot' from series_points_snapshots p where p.series_id in (select series_id from series)
  )
  select s.title, s.label, s.query, p.time, n.name::text, p.value, p.capture, p.kind
    from series s join points p on p.series_id = s.series_id
    left join repo_names n on n.id = p.repo_name_id
   where (p.repo_id is null or p.repo_id <> all ((select ids from hidden)::integer[]))
     and (s.include_regex is null or n.name::text ~* s.include_regex)
     and (s.exclude_regex is null or n.name::text !~* s.exclude_regex)
   order by s.label, p.time, n.name, p.capture
$$;

CREATE OR REPLACE FUNCTION public.insight_view_series_status(view insight_view)
 RETURNS SETOF insight_series_status
 LANGUAGE sql
 STABLE SECURITY DEFINER
 SET search_path TO 'public', 'insights_core', 'pg_temp'
AS $$
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
        from insight_series_incomplete_points p where p.series_id = s.id
         and (p.repo_id is null or p.repo_id <> all (app_hidden_repo_ids()))) ip on true
   where vs.insight_view_id = view.id and app_may_read_view(view.id)
   order by s.id
$$;

------------------------------------------------------------------------------------------------------
-- Shared series reveal nothing: a series is reused across views only when the requester may
-- already see it (else its history and existence would answer "did anyone query this?"), and new
-- series get random ids (unscoped ones used to be md5(query || interval ...), recoverable offline).
------------------------------------------------------------------------------------------------------
CREATE OR REPLACE FUNCTION insights_core.series_for_insight(element jsonb, reuse_from integer, repositories text[], repository_criteria text, interval_unit time_unit, interval_value integer, history_start timestamp without time zone, just_in_time boolean DEFAULT false)
 RETURNS insight_series
 LANGUAGE plpgsql
 SET search_path TO 'public', 'insights_core', 'pg_temp'
AS $$
#variable_conflict use_column
declare
  wanted_query text := btrim(element->>'query');
  captures boolean := coalesce((element->>'capture_groups')::boolean, false);
  scoped boolean := (series_for_insight.repositories is not null and cardinality(series_for_insight.repositories) > 0)
                    or series_for_insight.repository_criteria is not null;
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
    select * into result from insight_series s
     where s.query = wanted_query and s.generated_from_capture_groups = captures
       and s.just_in_time = series_for_insight.just_in_time
       and s.sample_interval_unit = interval_unit and s.sample_interval_value = interval_value
       and s.repositories is null and s.repository_criteria is null
       and (not app_is_api_request() or s.series_id = any (app_visible_series_ids()))
     order by s.deleted_at is not null, s.id
     limit 1;
    if found then
      if result.deleted_at is not null then
        update insight_series s set deleted_at = null where s.id = result.id returning * into result;
      end if;
      return result;
    end if;
  end if;
  insert into insight_series (series_id, query, oldest_historical_at, repositories, repository_criteria,
                              sample_interval_unit, sample_interval_value, generated_from_capture_groups,
                              generation_method, just_in_time, next_recording_after, next_snapshot_after)
    values (gen_random_uuid()::text, wanted_query, history_start,
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

comment on function insights_core.series_for_insight(jsonb, integer, text[], text, time_unit, integer, timestamp without time zone, boolean) is 'The series for one {query, capture_groups} of an insight: reused from the view, shared when unscoped and already visible to the requester, or created (with a random id) with its backfill queued.';


------------------------------------------------------------------------------------------------------
-- A clone URL's credentials never become the repository's name: the whole userinfo (up to the last
-- "@" before the path: user:p@ss@host) and any query string or fragment are left out.
------------------------------------------------------------------------------------------------------
CREATE OR REPLACE FUNCTION insights_core.register_repository(clone_url text, name text DEFAULT NULL::text, default_branch text DEFAULT NULL::text)
 RETURNS repositories
 LANGUAGE plpgsql
 SET search_path TO 'public', 'insights_core', 'pg_temp'
AS $$
#variable_conflict use_column
declare
  url text := btrim(clone_url);
  derived text;
  result repositories;
begin
  if url is null or url = '' then
    raise exception 'clone_url is required: a local path or a URL git can clone' using errcode = '22023';
  end if;
  if url ~ '[\s]' then
    raise exception 'clone_url must not contain whitespace: %', url using errcode = '22023';
  end if;
  if default_branch is not null and (btrim(default_branch) = '' or default_branch ~ '[\s~^:?*\[\\]' or default_branch like '-%') then
    raise exception 'default_branch "%" is not a valid branch name', default_branch using errcode = '22023';
  end if;
  -- Name: given, or host/path of a URL (github.com/acme/api), or a local path's last component.
  derived := coalesce(nullif(btrim(name), ''),
    case
      when url ~ '^[a-z][a-z0-9+.-]*://' then
        regexp_replace(regexp_replace(regexp_replace(url, '[?#].*$', ''), '^[a-z][a-z0-9+.-]*://([^/]*@)?', '', 'i'), '(\.git)?/*$', '')
      when url ~ '^[^/]+@[^:]+:' then regexp_replace(regexp_replace(url, '^[^@]+@', ''), '(\.git)?/*$', '')
      else regexp_replace(regexp_replace(url, '(\.git)?/*$', ''), '^.*/', '')
    end);
  derived := regexp_replace(derived, ':', '/');
  if derived = '' then
    raise exception 'cannot derive a repository name from "%"; pass a name', url using errcode = '22023';
  end if;

  select * into result from repositories r where r.name = derived;
  if found then
    if result.clone_url = url and result.deleted_at is null then
      return result; -- registering the same repository again changes nothing
    end if;
    raise exception 'a repository named "%" is already registered (from %)', derived, result.clone_url using errcode = '23505';
  end if;

  insert into repositories (name, clone_url, default_branch) values (derived, url, nullif(btrim(default_branch), ''))
    returning * into result;
  update repositories set mirror_path = 'mirrors/' || result.id || '.git' where id = result.id returning * into result;
  perform repository_name_id(derived);
  -- Few attempts: a failing fetch is retried by the next scheduled sync anyway.
  perform graphile_worker.add_job('sync_repo', json_build_object('repo_id', result.id, 'force', true),
    job_key := 'sync_repo:' || result.id, priority := -10, max_attempts := 3);
  return result;
end
$$;


------------------------------------------------------------------------------------------------------
-- Fairness: the steps of backfills a user owns run one at a time (a Graphile Worker named queue per
-- user), so one user's expensive series cannot take every worker slot; shared series (no owner) are
-- not queued by user. A step yields only to cheaper work that could run now (not to a job whose
-- user queue is busy).
------------------------------------------------------------------------------------------------------
create or replace function insights_core.series_owner_user_id(series_id integer) returns integer
language sql stable set search_path = public, insights_core, pg_temp as $$
  select g.user_id from insight_view_series vs
    join insight_view_grants g on g.insight_view_id = vs.insight_view_id and g.user_id is not null
    join insight_view_grant_roles r on r.grant_id = g.id and r.role = 'owner'
   where vs.insight_series_id = series_owner_user_id.series_id
   order by g.id limit 1
$$;
comment on function insights_core.series_owner_user_id(integer) is 'The user who owns the oldest view of a series (whose backfill queue it runs in), or null for a series no user owns.';

create or replace function insights_core.backfill_queue_name(backfill_id integer) returns text
language sql stable set search_path = public, insights_core, pg_temp as $$
  select 'backfill-user-' || series_owner_user_id(b.series_id) from insight_series_backfill b where b.id = backfill_queue_name.backfill_id
$$;
comment on function insights_core.backfill_queue_name(integer) is 'The Graphile Worker queue of a backfill''s steps: one per owning user (steps in a queue run one at a time), null when no user owns the series.';

CREATE OR REPLACE FUNCTION insights_core.backfill_queue_step(backfill_id integer)
 RETURNS void
 LANGUAGE plpgsql
 SET search_path TO 'public', 'insights_core', 'pg_temp'
AS $$
#variable_conflict use_column
declare
  queued timestamptz;
begin
  -- run_at is the backfill's queue time, so within a bucket the oldest backfill goes first.
  select j.queued_at into queued from insights_background_jobs j where j.backfill_id = backfill_queue_step.backfill_id order by j.id limit 1;
  perform graphile_worker.add_job('backfill_step', json_build_object('backfill_id', backfill_queue_step.backfill_id),
    job_key := 'backfill:' || backfill_queue_step.backfill_id, priority := backfill_priority(backfill_queue_step.backfill_id),
    run_at := least(coalesce(queued, now()), now()), max_attempts := 10,
    queue_name := backfill_queue_name(backfill_queue_step.backfill_id));
end
$$;

comment on function insights_core.backfill_queue_step(integer) is 'Queues the next step of a processing backfill with the priority of its cost bucket, in its owner''s queue (one step per user at a time).';

create or replace function insights_core.backfill_should_yield(backfill_id integer) returns boolean language sql stable as $$
  select exists (
    select 1
      from graphile_worker.jobs j
     where j.task_identifier in ('backfill_new', 'backfill_step')
       and j.locked_at is null
       and j.run_at <= now()
       and j.attempts < j.max_attempts
       and j.priority < insights_core.backfill_priority(backfill_should_yield.backfill_id)
       -- A job whose queue another step holds cannot run now; one in this step's own queue can, once it yields.
       and (j.queue_name is null
            or j.queue_name is not distinct from insights_core.backfill_queue_name(backfill_should_yield.backfill_id)
            or not exists (select 1 from graphile_worker._private_job_queues q
                            where q.queue_name = j.queue_name and q.locked_at is not null))
  )
$$;

------------------------------------------------------------------------------------------------------
-- A sane default daily budget: 1,000,000 backfill cost (repositories x historical samples) per
-- user per day, e.g. 104 weekly samples over 9,600 repositories. BACKFILL_DAILY_BUDGET_PER_USER
-- (or set_daily_usage_limit) changes it; "off" removes it.
------------------------------------------------------------------------------------------------------
insert into public.usage_quotas (event_type, daily_limit) values ('backfill_cost', 1000000) on conflict (event_type) do nothing;

------------------------------------------------------------------------------------------------------
-- A series' query, label and stroke must be JSON strings: ["TODO"] used to pass as the text
-- '["TODO"]' and fail in the worker forever.
------------------------------------------------------------------------------------------------------
CREATE OR REPLACE FUNCTION insights_core.check_line_series(series jsonb)
 RETURNS void
 LANGUAGE plpgsql
 IMMUTABLE
AS $$
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
    -- ->> would turn ["TODO"] or {"a": 1} into text that no parser ever sees as meant.
    if jsonb_typeof(element->'query') <> 'string' then
      raise exception 'series %: "query" must be a string, not %', position,
        case jsonb_typeof(element->'query') when 'array' then 'an array' when 'object' then 'an object' else 'a ' || jsonb_typeof(element->'query') end
        using errcode = '22023';
    end if;
    if exists (select 1 from unnest(array['label', 'stroke']) k where element ? k and jsonb_typeof(element->k) not in ('string', 'null')) then
      raise exception 'series %: "label" and "stroke" must be strings', position using errcode = '22023';
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

comment on function insights_core.insight_view_data_live(insight_view, text, text, series_sort_mode_enum, series_sort_direction_enum, integer, integer, integer[]) is 'insight_view_data computed from the points now (insight_view_data reads stored lines when it can), leaving out the points of hidden_repo_ids.';

-- The API's new and recreated functions: only the API roles may call them (each checks permission).
revoke execute on function public.grant_dashboard(integer, integer, integer, boolean, public.grant_role),
  public.grant_insight_view(integer, integer, integer, boolean, public.grant_role) from public;
grant execute on function public.grant_dashboard(integer, integer, integer, boolean, public.grant_role),
  public.grant_insight_view(integer, integer, integer, boolean, public.grant_role),
  public.restrict_repository(integer, integer[], integer[]) to code_insights_anonymous, code_insights_user;

-- The core's rule (migration 000020): writers for the owner only, read-only helpers for the API roles.
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
