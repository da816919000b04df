--! Previous: sha1:ec3808573b07f1b85e9f0af4f6a2ca17406c8909
--! Hash: sha1:06f4f5f363b7ebeba52ada4391fc2f5fe7314807
--! Message: Repository permissions hold on every path; no owner can be lost; credentials never reach a name

------------------------------------------------------------------------------------------------------
-- Review of 000022 (issue 13). What a requester may not see no longer shows through:
-- - the repositories a series covers, for an API requester, leave out those hidden from them: the
--   backfill cost charged (and its budget refusal), seriesBackfillCost and the drill-down's
--   repositories no longer count them; an unknown and a hidden repository get the same refusal;
-- - backfill_status leaves its repository counts empty for a reader some of whose series'
--   repositories are hidden from them (the counts would include them);
-- - InsightSeries.repositories lists only names the reader may see;
-- - the hidden-repository filters are hashed (NOT IN a subquery), not a linear array scan per row.
------------------------------------------------------------------------------------------------------
create or replace function insights_core.series_scope_ids(series insight_series) returns integer[]
language sql stable set search_path = public, insights_core, pg_temp as $$
  select coalesce(array_agg(r.id order by r.id), '{}')
    from repositories r
   where r.deleted_at is null
     and case
       when series.repositories is not null and cardinality(series.repositories) > 0 then r.name = any (series.repositories::citext[])
       when series.repository_criteria is not null then insights_core.repository_criteria_matches(series.repository_criteria, r.name::text)
       else true
     end
$$;
comment on function insights_core.series_scope_ids(insight_series) is 'Ids of every repository a series covers now (its list, its criteria, or all), whoever asks: what workers record.';

create or replace function public.insight_series_repository_ids(series insight_series) returns integer[]
language sql stable security definer set search_path = public, insights_core, pg_temp as $$
  select coalesce(array_agg(id order by id), '{}') from unnest(series_scope_ids(series)) id
   where id not in (select unnest(app_hidden_repo_ids()))
$$;
comment on function public.insight_series_repository_ids(insight_series) is 'Ids of the repositories a series covers now (its list, its criteria, or every registered repository) that the requester may see.';

create or replace function insights_core.app_sees_whole_series(series insight_series) returns boolean
language sql stable security definer set search_path = public, insights_core, pg_temp as $$
  select cardinality(app_hidden_repo_ids()) = 0
      or not exists (select 1 from unnest(series_scope_ids(series)) id where id in (select unnest(app_hidden_repo_ids())))
$$;
comment on function insights_core.app_sees_whole_series(insight_series) is 'Whether the requester may see every repository the series covers (else its repository counts would tell about the others).';

create or replace function public.insight_series_repositories(s insight_series) returns text[]
language sql stable security definer set search_path = public, insights_core, pg_temp as $$
  select case when s.repositories is null then null else array(
    select name from unnest(s.repositories) with ordinality as l(name, position)
     where not exists (select 1 from repositories r where r.name = l.name::citext and r.id in (select unnest(app_hidden_repo_ids())))
     order by position) end
$$;
comment on function public.insight_series_repositories(insight_series) is 'The repositories the series was defined over, by name (null: all, or its criteria), leaving out those you may not see.';

-- A repository the requester may not see is as unknown as one that does not exist.
CREATE OR REPLACE FUNCTION insights_core.check_insight_scope(repositories text[], repository_criteria text)
 RETURNS void
 LANGUAGE plpgsql
 STABLE
 SET search_path TO 'public', 'insights_core', 'pg_temp'
AS $$
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
     where not exists (select 1 from repositories r where r.name = wanted::citext and r.deleted_at is null
                          and r.id not in (select unnest(app_hidden_repo_ids())));
    if missing is not null then
      raise exception 'unknown repositories: %', array_to_string(missing, ', ') using errcode = '22023';
    end if;
  end if;
end
$$;

-- Repository counts only for readers who may see all of the series' repositories.
CREATE OR REPLACE VIEW public.backfill_status WITH (security_invoker=true) AS
 SELECT b.id AS backfill_id,
    s.id AS insight_series_id,
    s.series_id,
    s.query,
    b.state,
    b.estimated_cost,
    width_bucket(b.estimated_cost, (0)::double precision, max((b.estimated_cost + (1)::double precision)) FILTER (WHERE (b.state = 'processing'::text)) OVER (), 4) AS cost_bucket,
    CASE WHEN insights_core.app_sees_whole_series(s.*) THEN i.total_count END AS repositories,
    CASE WHEN insights_core.app_sees_whole_series(s.*) THEN COALESCE(i.repo_cursor, 0) END AS repositories_done,
    CASE WHEN insights_core.app_sees_whole_series(s.*) THEN i.success_count END AS success_count,
    CASE WHEN insights_core.app_sees_whole_series(s.*) THEN (( SELECT count(*) AS count
           FROM repo_iterator_errors e
          WHERE (e.repo_iterator_id = i.id)))::integer END AS errors,
    round(((COALESCE(i.percent_complete, (0)::double precision) * (100)::double precision))::numeric, 1) AS percent_complete,
    j.state AS job_state,
    j.cancel,
    j.queued_at,
    j.started_at,
    j.finished_at,
    j.last_heartbeat_at,
    j.worker_hostname,
    j.num_resets,
    j.num_failures,
    j.failure_message
   FROM (((insight_series_backfill b
     JOIN insight_series s ON ((s.id = b.series_id)))
     LEFT JOIN repo_iterator i ON ((i.id = b.repo_iterator_id)))
     LEFT JOIN LATERAL ( SELECT j_1.id,
            j_1.state,
            j_1.failure_message,
            j_1.queued_at,
            j_1.started_at,
            j_1.finished_at,
            j_1.process_after,
            j_1.num_resets,
            j_1.num_failures,
            j_1.last_heartbeat_at,
            j_1.execution_logs,
            j_1.worker_hostname,
            j_1.cancel,
            j_1.backfill_id
           FROM insights_background_jobs j_1
          WHERE (j_1.backfill_id = b.id)
          ORDER BY j_1.id DESC
         LIMIT 1) j ON (true));

comment on view public.backfill_status is 'Every backfill with its progress (repositories done, errors, percent; the counts are null for a reader some of whose repositories are hidden from them), queue position (cost bucket) and job state.';
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
    raise exception 'clone_url must not contain whitespace' using errcode = '22023';
  end if;
  if default_branch is not null and (btrim(default_branch) = '' or default_branch ~ '[\s~^:?*\[\\]' or default_branch like '-%') then
    raise exception 'default_branch "%" is not a valid branch name', default_branch using errcode = '22023';
  end if;
  -- Name: given, or host/path of a URL (github.com/acme/api), or a local path's last component.
  -- Name: given, or host/path of a URL (github.com/acme/api), or a local path's last component.
  -- Never a credential: a URL's user info (up to the last "@" before the path), an scp-like
  -- address's user (up to the last "@" before the ":"), and query, fragment and ;parameters go.
  derived := coalesce(nullif(btrim(name), ''),
    case
      when url ~* '^[a-z][a-z0-9+.-]*://' then
        regexp_replace(regexp_replace(regexp_replace(url, '[?#;].*$', ''), '^[a-z][a-z0-9+.-]*://([^/]*@)?', '', 'i'), '(\.git)?/*$', '')
      when url ~ '^[^/:]*@[^/:]+:' then regexp_replace(regexp_replace(url, '^[^/:]*@', ''), '(\.git)?/*$', '')
      else regexp_replace(regexp_replace(regexp_replace(url, '[?#;].*$', ''), '(\.git)?/*$', ''), '^.*/', '')
    end);
  if (name is null or btrim(name) = '') and derived ~ '[@?#;]' then
    raise exception 'cannot derive a repository name without credentials from this clone URL; pass a name' using errcode = '22023';
  end if;
  derived := regexp_replace(derived, ':', '/');
  if derived = '' then
    raise exception 'cannot derive a repository name from "%"; pass a name', url using errcode = '22023';
  end if;

  select * into result from repositories r where r.name = derived;
  if found then
    if result.clone_url = url and result.deleted_at is null then
      return result; -- registering the same repository again changes nothing
    end if;
    raise exception 'a repository named "%" is already registered from another clone URL', derived using errcode = '23505';
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
-- Every dashboard and view keeps an owner, whichever door changes its grants (API or CLI): the
-- core's grant writers refuse to demote or remove the last owner grant, with the row of the
-- dashboard or view locked so two owners cannot take each other's grants at once.
------------------------------------------------------------------------------------------------------
create or replace function insights_core.require_another_owner(kind text, target integer, grant_id integer, other_owners integer)
returns void language plpgsql immutable as $$
begin
  if other_owners = 0 then
    raise exception 'grant % is the last owner of % %: make someone else its owner first, or delete it', grant_id, kind, target
      using errcode = '55000';
  end if;
end
$$;
comment on function insights_core.require_another_owner(text, integer, integer, integer) is 'Raises 55000 when a change would leave a dashboard or view without an owner.';

CREATE OR REPLACE FUNCTION insights_core.dashboard_grant_add(dashboard_id integer, user_id integer, org_id integer, is_global boolean, role grant_role DEFAULT 'viewer'::grant_role)
 RETURNS dashboard_grants
 LANGUAGE plpgsql
 SET search_path TO 'public', 'insights_core', 'pg_temp'
AS $$
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
     and g.org_id is not distinct from dashboard_grant_add.org_id and coalesce(g.global, false) = coalesce(is_global, false)
   order by g.id limit 1;
  if found and grant_row_role((select r.role from dashboard_grant_roles r where r.grant_id = result.id), result.global) = wanted then
    return result; -- granting twice changes nothing
  end if;
  if found and wanted <> 'owner' and exists (select 1 from dashboard_grant_roles r where r.grant_id = result.id and r.role = 'owner') then
    perform require_another_owner('dashboard', current.id, result.id,
      (select count(*)::integer from dashboard_grants g join dashboard_grant_roles r on r.grant_id = g.id
        where g.dashboard_id = current.id and g.id <> result.id and r.role = 'owner'));
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

CREATE OR REPLACE FUNCTION insights_core.insight_view_grant_add(view_id integer, user_id integer, org_id integer, is_global boolean, role grant_role DEFAULT 'viewer'::grant_role)
 RETURNS insight_view_grants
 LANGUAGE plpgsql
 SET search_path TO 'public', 'insights_core', 'pg_temp'
AS $$
#variable_conflict use_column
declare
  wanted grant_role := coalesce(insight_view_grant_add.role, 'viewer');
  result insight_view_grants;
begin
  perform 1 from insight_view v where v.id = view_id for update; -- one grant change of a view at a time
  if not found then
    raise exception 'no insight view %', view_id using errcode = 'P0002';
  end if;
  perform check_one_grantee(user_id, org_id, is_global);
  if coalesce(is_global, false) and wanted <> 'viewer' then
    raise exception 'a grant to everyone can only be viewer, not %', wanted using errcode = '22023';
  end if;
  select * into result from insight_view_grants g
   where g.insight_view_id = view_id and g.user_id is not distinct from insight_view_grant_add.user_id
     and g.org_id is not distinct from insight_view_grant_add.org_id and coalesce(g.global, false) = coalesce(is_global, false)
   order by g.id limit 1;
  if found and wanted <> 'owner' and exists (select 1 from insight_view_grant_roles r where r.grant_id = result.id and r.role = 'owner') then
    perform require_another_owner('view', view_id, result.id,
      (select count(*)::integer from insight_view_grants g join insight_view_grant_roles r on r.grant_id = g.id
        where g.insight_view_id = insight_view_grant_add.view_id and g.id <> result.id and r.role = 'owner'));
  end if;
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

CREATE OR REPLACE FUNCTION insights_core.dashboard_grant_remove(grant_id integer)
 RETURNS dashboard_grants
 LANGUAGE plpgsql
 SET search_path TO 'public', 'insights_core', 'pg_temp'
AS $$
declare
  result dashboard_grants;
begin
  select * into result from dashboard_grants g where g.id = grant_id;
  if found then
    perform 1 from dashboard t where t.id = result.dashboard_id for update;
    if exists (select 1 from dashboard_grant_roles r where r.grant_id = result.id and r.role = 'owner') then
      perform require_another_owner('dashboard', result.dashboard_id, result.id,
        (select count(*)::integer from dashboard_grants g join dashboard_grant_roles r on r.grant_id = g.id
          where g.dashboard_id = result.dashboard_id and g.id <> result.id and r.role = 'owner'));
    end if;
  end if;
  delete from dashboard_grants g where g.id = grant_id returning * into result;
  if not found then
    raise exception 'no dashboard grant %', grant_id using errcode = 'P0002';
  end if;
  perform dashboard_touch(result.dashboard_id);
  return result;
end
$$;

CREATE OR REPLACE FUNCTION insights_core.insight_view_grant_remove(grant_id integer)
 RETURNS insight_view_grants
 LANGUAGE plpgsql
 SET search_path TO 'public', 'insights_core', 'pg_temp'
AS $$
declare
  result insight_view_grants;
begin
  select * into result from insight_view_grants g where g.id = grant_id;
  if found then
    perform 1 from insight_view t where t.id = result.insight_view_id for update;
    if exists (select 1 from insight_view_grant_roles r where r.grant_id = result.id and r.role = 'owner') then
      perform require_another_owner('view', result.insight_view_id, result.id,
        (select count(*)::integer from insight_view_grants g join insight_view_grant_roles r on r.grant_id = g.id
          where g.insight_view_id = result.insight_view_id and g.id <> result.id and r.role = 'owner'));
    end if;
  end if;
  delete from insight_view_grants g where g.id = grant_id returning * into result;
  if not found then
    raise exception 'no view grant %', grant_id using errcode = 'P0002';
  end if;
  return result;
end
$$;

CREATE OR REPLACE FUNCTION public.grant_dashboard(dashboard_id integer, user_id integer DEFAULT NULL::integer, org_id integer DEFAULT NULL::integer, is_global boolean DEFAULT false, role grant_role DEFAULT 'viewer'::grant_role)
 RETURNS dashboard_grants
 LANGUAGE plpgsql
 SECURITY DEFINER
 SET search_path TO 'public', 'insights_core', 'pg_temp'
AS $$
#variable_conflict use_column
declare
  have grant_role := dashboard_role(dashboard_id);
  wanted grant_role := coalesce(grant_dashboard.role, 'viewer');
  existing grant_role := (select grant_row_role(r.role, g.global) from dashboard_grants g
                            left join dashboard_grant_roles r on r.grant_id = g.id
                           where g.dashboard_id = grant_dashboard.dashboard_id
                             and g.user_id is not distinct from grant_dashboard.user_id
                             and g.org_id is not distinct from grant_dashboard.org_id
                             and coalesce(g.global, false) = coalesce(grant_dashboard.is_global, false)
                           order by g.id limit 1);
begin
  -- Editors share as viewer or editor; giving owner, or changing an existing grant's role, is the owner's.
  perform require_role('dashboard', dashboard_id, have, 'editor', 'share');
  if wanted = 'owner' or (existing is not null and existing <> wanted) then
    perform require_role('dashboard', dashboard_id, have, 'owner', case when wanted = 'owner' then 'make others its owners' else 'change a grant''s role' end);
  end if;
  return dashboard_grant_add(dashboard_id, user_id, org_id, is_global, wanted);
end
$$;

CREATE OR REPLACE FUNCTION public.grant_insight_view(view_id integer, user_id integer DEFAULT NULL::integer, org_id integer DEFAULT NULL::integer, is_global boolean DEFAULT false, role grant_role DEFAULT 'viewer'::grant_role)
 RETURNS insight_view_grants
 LANGUAGE plpgsql
 SECURITY DEFINER
 SET search_path TO 'public', 'insights_core', 'pg_temp'
AS $$
#variable_conflict use_column
declare
  have grant_role := insight_view_role(view_id);
  wanted grant_role := coalesce(grant_insight_view.role, 'viewer');
  existing grant_role := (select grant_row_role(r.role, g.global) from insight_view_grants g
                            left join insight_view_grant_roles r on r.grant_id = g.id
                           where g.insight_view_id = grant_insight_view.view_id
                             and g.user_id is not distinct from grant_insight_view.user_id
                             and g.org_id is not distinct from grant_insight_view.org_id
                             and coalesce(g.global, false) = coalesce(grant_insight_view.is_global, false)
                           order by g.id limit 1);
begin
  perform require_role('view', view_id, have, 'editor', 'share');
  if wanted = 'owner' or (existing is not null and existing <> wanted) then
    perform require_role('view', view_id, have, 'owner', case when wanted = 'owner' then 'make others its owners' else 'change a grant''s role' end);
  end if;
  return insight_view_grant_add(view_id, user_id, org_id, is_global, wanted);
end
$$;

drop function if exists insights_core.require_revocable(text, integer, public.grant_role, integer, integer, boolean, integer);
create or replace function insights_core.require_revocable(kind text, target integer, have public.grant_role, grant_id integer,
                                                           grantee integer) returns void
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
end
$$;
comment on function insights_core.require_revocable(text, integer, public.grant_role, integer, integer) is 'Raises unless the requester may revoke the grant: an owner, or its grantee leaving (the core keeps the last owner).';

create or replace function public.revoke_dashboard_grant(grant_id integer) returns dashboard_grants
language plpgsql security definer set search_path = public, insights_core, pg_temp as $$
declare
  target dashboard_grants := (select g from dashboard_grants g where g.id = grant_id);
begin
  perform require_revocable('dashboard', target.dashboard_id, dashboard_role(target.dashboard_id), grant_id, target.user_id);
  return dashboard_grant_remove(grant_id);
end
$$;
create or replace function public.revoke_insight_view_grant(grant_id integer) returns insight_view_grants
language plpgsql security definer set search_path = public, insights_core, pg_temp as $$
declare
  target insight_view_grants := (select g from insight_view_grants g where g.id = grant_id);
begin
  perform require_revocable('view', target.insight_view_id, insight_view_role(target.insight_view_id), grant_id, target.user_id);
  return insight_view_grant_remove(grant_id);
end
$$;

------------------------------------------------------------------------------------------------------
-- Fairness by the user who asked: a backfill queued for an API request runs in the requester's
-- queue (kept beside the seed's backfill table), whoever owns the view later.
------------------------------------------------------------------------------------------------------
create table if not exists insights_core.backfill_requesters (
  backfill_id integer primary key references public.insight_series_backfill (id) on delete cascade,
  user_id integer not null
);
comment on table insights_core.backfill_requesters is 'The API user whose request queued a backfill: its steps run in that user''s queue.';
revoke all on insights_core.backfill_requesters from public;

CREATE OR REPLACE FUNCTION insights_core.queue_series_backfill(series_id integer)
 RETURNS insight_series_backfill
 LANGUAGE plpgsql
 SET search_path TO 'public', 'insights_core', 'pg_temp'
AS $$
#variable_conflict use_column
declare
  backfill insight_series_backfill;
  job_id integer;
begin
  insert into insight_series_backfill (series_id, state) values (queue_series_backfill.series_id, 'new') returning * into backfill;
  insert into insights_background_jobs (backfill_id, state) values (backfill.id, 'queued') returning id into job_id;
  if app_user_id() is not null then
    insert into backfill_requesters (backfill_id, user_id) values (backfill.id, app_user_id());
  end if;
  update insight_series set backfill_queued_at = utc_now() where id = queue_series_backfill.series_id;
  perform graphile_worker.add_job('backfill_new', json_build_object('backfill_id', backfill.id),
    job_key := 'backfill:' || backfill.id, priority := 0);
  return backfill;
end
$$;

create or replace function insights_core.backfill_queue_name(backfill_id integer) returns text
language sql stable set search_path = public, insights_core, pg_temp as $$
  select 'backfill-user-' || coalesce((select q.user_id from backfill_requesters q where q.backfill_id = b.id), series_owner_user_id(b.series_id))
    from insight_series_backfill b where b.id = backfill_queue_name.backfill_id
$$;
comment on function insights_core.backfill_queue_name(integer) is 'The Graphile Worker queue of a backfill''s steps: its requester''s (else the owner of the series'' oldest view), one step at a time; null when no user asked for or owns it.';

------------------------------------------------------------------------------------------------------
-- Hidden repositories filtered with a hashed NOT IN (a linear scan of the array per row, as
-- <> all(...) does, took seconds over many points and restricted repositories).
------------------------------------------------------------------------------------------------------
alter policy everyone on public.repositories
  using (deleted_at is null and id not in (select unnest(insights_core.app_hidden_repo_ids())));
alter policy everyone on public.repository_language_stats
  using (repo_id not in (select unnest(insights_core.app_hidden_repo_ids())));
alter policy visible on public.series_points
  using (series_id = any ((select insights_core.app_visible_series_ids())::text[])
         and (repo_id is null or repo_id not in (select unnest(insights_core.app_hidden_repo_ids()))));
alter policy visible on public.series_points_snapshots
  using (series_id = any ((select insights_core.app_visible_series_ids())::text[])
         and (repo_id is null or repo_id not in (select unnest(insights_core.app_hidden_repo_ids()))));
alter policy visible on public.insight_series_incomplete_points
  using (series_id in (select s.id from public.insight_series s
                        where s.series_id = any ((select insights_core.app_visible_series_ids())::text[]))
         and (repo_id is null or repo_id not in (select unnest(insights_core.app_hidden_repo_ids()))));
alter policy visible on public.repo_iterator_errors
  using (repo_iterator_id in (select b.repo_iterator_id from public.insight_series_backfill b)
         and repo_id not in (select unnest(insights_core.app_hidden_repo_ids())));

-- Names: the current names of hidden repositories (their points, under any name, are hidden with
-- them). Reading every point of a hidden repository per statement cost too much.
create or replace function insights_core.app_hidden_repo_name_ids() returns integer[]
language sql stable security definer set search_path = public, insights_core, pg_temp as $$
  select case when cardinality(app_hidden_repo_ids()) = 0 then '{}'::integer[] else array(
    select n.id from repo_names n join repositories r on r.name = n.name where r.id in (select unnest(app_hidden_repo_ids()))) end
$$;
alter policy everyone on public.repo_names
  using (id not in (select unnest(insights_core.app_hidden_repo_name_ids())));

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
       and (p.repo_id is null or p.repo_id not in (select unnest(hidden_repo_ids)))
       and (include_regex is null or n.name::text ~* include_regex)
       and (exclude_regex is null or n.name::text !~* exclude_regex)
     group by 1, 2, 3
    union all
    select s.id, tm.time, p.capture, sum(p.value)
      from series s join times tm on tm.id = s.id and tm.snapshot
      join series_points_snapshots p on p.series_id = s.series_id and p.time = tm.time
      left join repo_names n on n.id = p.repo_name_id
     where (include_regex is not null or exclude_regex is not null or cardinality(hidden_repo_ids) > 0)
       and (p.repo_id is null or p.repo_id not in (select unnest(hidden_repo_ids)))
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
     where s.just_in_time and r.id not in (select unnest(ids) from hidden)
    union all
    -- The stored totals when the reader may see every repository, else the points they may see.
    select t.capture, t.value
      from newest n join series_point_totals t on t.series_id = n.series_id and t.snapshot = n.snapshot and t.time = n.time
     where t.capture is not null and cardinality((select ids from hidden)) = 0
    union all
    select p.capture, p.value
      from newest n join series_points p on p.series_id = n.series_id and not n.snapshot and p.time = n.time
     where p.capture is not null and cardinality((select ids from hidden)) > 0
       and (p.repo_id is null or p.repo_id not in (select unnest(ids) from hidden))
    union all
    select p.capture, p.value
      from newest n join series_points_snapshots p on p.series_id = n.series_id and n.snapshot and p.time = n.time
     where p.capture is not null and cardinality((select ids from hidden)) > 0
       and (p.repo_id is null or p.repo_id not in (select unnest(ids) from hidden))
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
   where (p.repo_id is null or p.repo_id not in (select unnest(ids) from hidden))
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
         and (p.repo_id is null or p.repo_id not in (select unnest(app_hidden_repo_ids())))) ip on true
   where vs.insight_view_id = view.id and app_may_read_view(view.id)
   order by s.id
$$;


------------------------------------------------------------------------------------------------------
-- Fetch errors stored before 000022's redaction may quote a clone URL's credentials.
------------------------------------------------------------------------------------------------------
update public.repositories
   set last_fetch_error = regexp_replace(regexp_replace(last_fetch_error,
         '([a-z][a-z0-9+.-]*://)[^\s/?#@]*(@[^\s/?#@]*)*@', '\1***@', 'gi'),
         '([?&#;](access_token|token|private_token|private-token|auth|authorization|password|passwd|pwd|secret|client_secret|api_key|apikey|key|sig|signature|x-amz-signature|sslpassword)=)[^&#\s''"]*', '\1***', 'gi')
 where last_fetch_error ~* '://[^\s/]*@|[?&#;](access_token|token|private_token|private-token|auth|authorization|password|passwd|pwd|secret|client_secret|api_key|apikey|key|sig|signature|x-amz-signature|sslpassword)=';

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
