--! Previous: sha1:0e2e2ca70a8980e9673ba911c1c9be39ded13b42
--! Hash: sha1:d1d10ec8ff50f646592d759a24e578fb2cd8fe1b
--! Message: dashboard and grant mutations

-- API mutations for dashboards and grants. Each is a SECURITY DEFINER function that checks, in
-- SQL, that the requester may make the change (the policies of 000003 are read-only), validates
-- its input and raises a clear error otherwise; nothing is written on error. Updates carry an
-- optimistic-concurrency precondition (last_updated_at). Idempotent while it is current.sql.

drop function if exists revoke_insight_view_grant(integer);
drop function if exists grant_insight_view(integer, integer, integer, boolean);
drop function if exists revoke_dashboard_grant(integer);
drop function if exists grant_dashboard(integer, integer, integer, boolean);
drop function if exists remove_view_from_dashboard(integer, integer);
drop function if exists add_view_to_dashboard(integer, integer);
drop function if exists delete_dashboard(integer);
drop function if exists update_dashboard(integer, text, timestamp without time zone);
drop function if exists create_dashboard(text);
drop function if exists insight_view_is_editable(integer);
drop function if exists dashboard_is_editable(integer);
drop function if exists app_require_user();

create function app_require_user() returns integer language plpgsql stable as $$
begin
  if app_user_id() is null then
    raise exception 'sign in first: this operation needs a user token' using errcode = '42501';
  end if;
  return app_user_id();
end
$$;
comment on function app_require_user() is 'The requester''s user id, or an error for anonymous requests.';

-- Editing needs a grant to the user or one of their orgs (a global grant lets everyone read, not
-- edit), or the admin claim.
create function dashboard_is_editable(dashboard_id integer) returns boolean
language sql stable security definer set search_path = public, pg_temp as $$
  select app_is_admin() and exists (select 1 from dashboard d where d.id = dashboard_is_editable.dashboard_id and d.deleted_at is null)
      or exists (
        select 1 from dashboard_grants g join dashboard d on d.id = g.dashboard_id
         where g.dashboard_id = dashboard_is_editable.dashboard_id and d.deleted_at is null
           and ((g.user_id is not null and g.user_id = app_user_id()) or (g.org_id is not null and g.org_id = any (app_org_ids()))))
$$;
comment on function dashboard_is_editable(integer) is 'Whether the requester may change a dashboard: a user or org grant on it, or the admin claim.';

create function insight_view_is_editable(view_id integer) returns boolean
language sql stable security definer set search_path = public, pg_temp as $$
  select app_is_admin() and exists (select 1 from insight_view v where v.id = insight_view_is_editable.view_id)
      or exists (
        select 1 from insight_view_grants g
         where g.insight_view_id = insight_view_is_editable.view_id
           and ((g.user_id is not null and g.user_id = app_user_id()) or (g.org_id is not null and g.org_id = any (app_org_ids()))))
$$;
comment on function insight_view_is_editable(integer) is 'Whether the requester may change a view or its grants: a user or org grant on it, or the admin claim.';

create function create_dashboard(title text) returns dashboard
language plpgsql volatile security definer set search_path = public, pg_temp as $$
#variable_conflict use_column
declare
  creator integer := app_require_user();
  result dashboard;
begin
  if title is null or btrim(title) = '' then
    raise exception 'title is required' using errcode = '22023';
  end if;
  insert into dashboard (title, created_by_user_id) values (btrim(title), creator) returning * into result;
  insert into dashboard_grants (dashboard_id, user_id) values (result.id, creator);
  return result;
end
$$;
comment on function create_dashboard(text) is 'Creates a dashboard owned by the requester (who gets a user grant).';

create function update_dashboard(dashboard_id integer, title text, expected_last_updated_at timestamp without time zone)
returns dashboard language plpgsql volatile security definer set search_path = public, pg_temp as $$
#variable_conflict use_column
declare
  result dashboard;
begin
  perform app_require_user();
  if not dashboard_is_editable(update_dashboard.dashboard_id) then
    raise exception 'no dashboard % that you may edit', update_dashboard.dashboard_id using errcode = '42501';
  end if;
  if title is null or btrim(title) = '' then
    raise exception 'title is required' using errcode = '22023';
  end if;
  if expected_last_updated_at is null then
    raise exception 'expectedLastUpdatedAt is required: pass the lastUpdatedAt you read' using errcode = '22023';
  end if;
  update dashboard d set title = btrim(update_dashboard.title), last_updated_at = utc_now()
   where d.id = update_dashboard.dashboard_id and d.last_updated_at = expected_last_updated_at
  returning * into result;
  if not found then
    raise exception 'stale update: dashboard % was changed by someone else since you read it; reload and retry', update_dashboard.dashboard_id
      using errcode = '40001';
  end if;
  return result;
end
$$;
comment on function update_dashboard(integer, text, timestamp without time zone) is 'Renames a dashboard if it has not changed since expectedLastUpdatedAt (optimistic concurrency); a stale update is rejected.';

create function delete_dashboard(dashboard_id integer) returns dashboard
language plpgsql volatile security definer set search_path = public, pg_temp as $$
#variable_conflict use_column
declare
  result dashboard;
begin
  perform app_require_user();
  if not dashboard_is_editable(delete_dashboard.dashboard_id) then
    raise exception 'no dashboard % that you may edit', delete_dashboard.dashboard_id using errcode = '42501';
  end if;
  update dashboard d set deleted_at = utc_now(), last_updated_at = utc_now() where d.id = delete_dashboard.dashboard_id returning * into result;
  return result;
end
$$;
comment on function delete_dashboard(integer) is 'Deletes (soft-deletes) a dashboard; its views stay.';

create function add_view_to_dashboard(dashboard_id integer, view_id integer) returns dashboard
language plpgsql volatile security definer set search_path = public, pg_temp as $$
#variable_conflict use_column
declare
  result dashboard;
begin
  perform app_require_user();
  if not dashboard_is_editable(add_view_to_dashboard.dashboard_id) then
    raise exception 'no dashboard % that you may edit', add_view_to_dashboard.dashboard_id using errcode = '42501';
  end if;
  if not insight_view_is_visible(add_view_to_dashboard.view_id) then
    raise exception 'no view % that you may see', add_view_to_dashboard.view_id using errcode = '42501';
  end if;
  insert into dashboard_insight_view (dashboard_id, insight_view_id) values (add_view_to_dashboard.dashboard_id, add_view_to_dashboard.view_id)
    on conflict do nothing;
  update dashboard d set last_updated_at = utc_now() where d.id = add_view_to_dashboard.dashboard_id returning * into result;
  return result;
end
$$;
comment on function add_view_to_dashboard(integer, integer) is 'Puts a view you can see on a dashboard you may edit (everyone who sees the dashboard then sees the view).';

create function remove_view_from_dashboard(dashboard_id integer, view_id integer) returns dashboard
language plpgsql volatile security definer set search_path = public, pg_temp as $$
#variable_conflict use_column
declare
  result dashboard;
begin
  perform app_require_user();
  if not dashboard_is_editable(remove_view_from_dashboard.dashboard_id) then
    raise exception 'no dashboard % that you may edit', remove_view_from_dashboard.dashboard_id using errcode = '42501';
  end if;
  delete from dashboard_insight_view dv
   where dv.dashboard_id = remove_view_from_dashboard.dashboard_id and dv.insight_view_id = remove_view_from_dashboard.view_id;
  if not found then
    raise exception 'view % is not on dashboard %', remove_view_from_dashboard.view_id, remove_view_from_dashboard.dashboard_id using errcode = 'P0002';
  end if;
  update dashboard d set last_updated_at = utc_now() where d.id = remove_view_from_dashboard.dashboard_id returning * into result;
  return result;
end
$$;
comment on function remove_view_from_dashboard(integer, integer) is 'Takes a view off a dashboard you may edit.';

create function grant_dashboard(dashboard_id integer, user_id integer default null, org_id integer default null, is_global boolean default false)
returns dashboard_grants language plpgsql volatile security definer set search_path = public, pg_temp as $$
#variable_conflict use_column
declare
  result dashboard_grants;
begin
  perform app_require_user();
  if not dashboard_is_editable(grant_dashboard.dashboard_id) then
    raise exception 'no dashboard % that you may edit', grant_dashboard.dashboard_id using errcode = '42501';
  end if;
  if (grant_dashboard.user_id is not null)::int + (grant_dashboard.org_id is not null)::int + coalesce(is_global, false)::int <> 1 then
    raise exception 'a grant names exactly one of userId, orgId or isGlobal' using errcode = '22023';
  end if;
  select * into result from dashboard_grants g
   where g.dashboard_id = grant_dashboard.dashboard_id and g.user_id is not distinct from grant_dashboard.user_id
     and g.org_id is not distinct from grant_dashboard.org_id and coalesce(g.global, false) = coalesce(is_global, false);
  if found then
    return result; -- granting twice changes nothing
  end if;
  insert into dashboard_grants (dashboard_id, user_id, org_id, global)
    values (grant_dashboard.dashboard_id, grant_dashboard.user_id, grant_dashboard.org_id, case when is_global then true end)
    returning * into result;
  return result;
end
$$;
comment on function grant_dashboard(integer, integer, integer, boolean) is 'Shares a dashboard you may edit with a user, an org or everyone.';

create function revoke_dashboard_grant(grant_id integer) returns dashboard_grants
language plpgsql volatile security definer set search_path = public, pg_temp as $$
#variable_conflict use_column
declare
  result dashboard_grants;
begin
  perform app_require_user();
  select * into result from dashboard_grants g where g.id = revoke_dashboard_grant.grant_id;
  if not found or not dashboard_is_editable(result.dashboard_id) then
    raise exception 'no dashboard grant % that you may revoke', revoke_dashboard_grant.grant_id using errcode = '42501';
  end if;
  delete from dashboard_grants g where g.id = result.id;
  return result;
end
$$;
comment on function revoke_dashboard_grant(integer) is 'Removes a grant from a dashboard you may edit.';

create function grant_insight_view(view_id integer, user_id integer default null, org_id integer default null, is_global boolean default false)
returns insight_view_grants language plpgsql volatile security definer set search_path = public, pg_temp as $$
#variable_conflict use_column
declare
  result insight_view_grants;
begin
  perform app_require_user();
  if not insight_view_is_editable(grant_insight_view.view_id) then
    raise exception 'no view % that you may edit', grant_insight_view.view_id using errcode = '42501';
  end if;
  if (grant_insight_view.user_id is not null)::int + (grant_insight_view.org_id is not null)::int + coalesce(is_global, false)::int <> 1 then
    raise exception 'a grant names exactly one of userId, orgId or isGlobal' using errcode = '22023';
  end if;
  select * into result from insight_view_grants g
   where g.insight_view_id = grant_insight_view.view_id and g.user_id is not distinct from grant_insight_view.user_id
     and g.org_id is not distinct from grant_insight_view.org_id and coalesce(g.global, false) = coalesce(is_global, false);
  if found then
    return result;
  end if;
  insert into insight_view_grants (insight_view_id, user_id, org_id, global)
    values (grant_insight_view.view_id, grant_insight_view.user_id, grant_insight_view.org_id, case when is_global then true end)
    returning * into result;
  return result;
end
$$;
comment on function grant_insight_view(integer, integer, integer, boolean) is 'Shares a view you may edit with a user, an org or everyone.';

create function revoke_insight_view_grant(grant_id integer) returns insight_view_grants
language plpgsql volatile security definer set search_path = public, pg_temp as $$
#variable_conflict use_column
declare
  result insight_view_grants;
begin
  perform app_require_user();
  select * into result from insight_view_grants g where g.id = revoke_insight_view_grant.grant_id;
  if not found or not insight_view_is_editable(result.insight_view_id) then
    raise exception 'no view grant % that you may revoke', revoke_insight_view_grant.grant_id using errcode = '42501';
  end if;
  delete from insight_view_grants g where g.id = result.id;
  return result;
end
$$;
comment on function revoke_insight_view_grant(integer) is 'Removes a grant from a view you may edit.';

-- Each checks its own permission (anonymous requests get "sign in first"); nobody outside the API roles may call them.
revoke execute on function create_dashboard(text), update_dashboard(integer, text, timestamp without time zone),
  delete_dashboard(integer), add_view_to_dashboard(integer, integer), remove_view_from_dashboard(integer, integer),
  grant_dashboard(integer, integer, integer, boolean), revoke_dashboard_grant(integer),
  grant_insight_view(integer, integer, integer, boolean), revoke_insight_view_grant(integer) from public;
grant execute on function create_dashboard(text), update_dashboard(integer, text, timestamp without time zone),
  delete_dashboard(integer), add_view_to_dashboard(integer, integer), remove_view_from_dashboard(integer, integer),
  grant_dashboard(integer, integer, integer, boolean), revoke_dashboard_grant(integer),
  grant_insight_view(integer, integer, integer, boolean), revoke_insight_view_grant(integer) to code_insights_anonymous, code_insights_user;
