--! Previous: sha1:171189510974d8b147833439f516e2d3411b2571
--! Hash: sha1:c7aedc7f3efb1701216dda3efe179d8dca01bb87
--! Message: repositories, search cache, insights, recordings and backfills

-- Repositories, the per-blob search cache, creating insights, recordings and snapshots, the
-- zero-filled read of a series, and backfills (DESIGN.md §4): the state machine, worker
-- registration and heartbeats, and the admin operations.

drop view if exists backfill_status;
drop function if exists backfill_step_failed(integer, text);
drop function if exists backfill_yield(integer);
drop function if exists backfill_stop_canceled(integer);
drop function if exists backfill_fail(integer, text);
drop function if exists backfill_cancel(integer);
drop function if exists backfill_move_to_back(integer);
drop function if exists backfill_move_to_front(integer);
drop function if exists backfill_retry(integer);
drop function if exists backfill_queue_step(integer);
drop function if exists backfill_give_up_repository(integer, integer, text);
drop function if exists backfill_finish(integer);
drop function if exists backfill_record_page(integer, integer, jsonb, integer[], jsonb, bigint, text);
drop function if exists backfill_claim(integer, text);
drop function if exists backfill_plan(integer, double precision, integer);
drop function if exists backfill_priority(integer);
drop function if exists backfill_sample_times(integer);
drop function if exists insight_series_sample_times(insight_series, integer);
drop function if exists queue_series_backfill(integer);
drop function if exists release_dead_workers(interval);
drop table if exists worker_processes;
drop function if exists insight_series_points_filled(text);
drop function if exists store_series_recording(integer, timestamptz, boolean, jsonb, jsonb);
drop function if exists enqueue_due_series_recordings();
drop function if exists create_line_insight(text, jsonb, text[], text, time_unit, integer, timestamptz, integer);
drop function if exists insight_series_repository_ids(insight_series);
drop function if exists repository_criteria_matches(text, text);
drop function if exists enqueue_due_repo_syncs(interval);
drop function if exists rename_repository(integer, text);
drop function if exists register_repository(text, text, text);
drop function if exists repository_name_id(text);
drop function if exists time_unit_interval(time_unit, integer);
drop function if exists utc_now();
drop table if exists search_blob_counts;

------------------------------------------------------------------------------------------------------
-- Small helpers
------------------------------------------------------------------------------------------------------
create function utc_now() returns timestamp without time zone language sql stable as $$
  select timezone('utc', now())
$$;
comment on function utc_now() is 'The current time as UTC wall-clock time: the seed''s "timestamp without time zone" columns hold UTC.';

create function time_unit_interval(unit time_unit, value integer) returns interval language sql immutable strict as $$
  select case unit
    when 'HOUR' then make_interval(hours => value)
    when 'DAY' then make_interval(days => value)
    when 'WEEK' then make_interval(weeks => value)
    when 'MONTH' then make_interval(months => value)
    when 'YEAR' then make_interval(years => value)
  end
$$;
comment on function time_unit_interval(time_unit, integer) is 'A series'' sampling interval as a PostgreSQL interval (month arithmetic clamps month ends).';

------------------------------------------------------------------------------------------------------
-- Repositories
------------------------------------------------------------------------------------------------------
create function repository_name_id(name text) returns bigint language plpgsql volatile strict as $$
#variable_conflict use_column
declare
  found_id bigint;
begin
  select id into found_id from repo_names where repo_names.name = repository_name_id.name;
  if found_id is null then
    insert into repo_names (name) values (repository_name_id.name)
      on conflict (name) do nothing returning id into found_id;
    if found_id is null then
      select id into found_id from repo_names where repo_names.name = repository_name_id.name;
    end if;
  end if;
  return found_id;
end
$$;
comment on function repository_name_id(text) is 'The repo_names id of a repository name, added if new.';

create function register_repository(clone_url text, name text default null, default_branch text default null)
returns repositories language plpgsql volatile as $$
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
      when url ~ '^[a-z][a-z0-9+.-]*://' then regexp_replace(regexp_replace(url, '^[a-z][a-z0-9+.-]*://([^@/]*@)?', '', 'i'), '(\.git)?/*$', '')
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
comment on function register_repository(text, text, text) is 'Registers a git repository by local path or clone URL (optionally with a name and the branch to follow) and queues its first fetch.';

create function rename_repository(repo_id integer, new_name text) returns repositories language plpgsql volatile as $$
#variable_conflict use_column
declare
  result repositories;
  name_id bigint;
begin
  if new_name is null or btrim(new_name) = '' then
    raise exception 'new_name is required' using errcode = '22023';
  end if;
  update repositories set name = btrim(new_name) where id = rename_repository.repo_id returning * into result;
  if not found then
    raise exception 'no repository with id %', rename_repository.repo_id using errcode = 'P0002';
  end if;
  name_id := repository_name_id(result.name);
  -- Points keep the name they were recorded under (original_repo_name_id) and follow the new one.
  update series_points p set repo_name_id = name_id where p.repo_id = rename_repository.repo_id;
  update series_points_snapshots p set repo_name_id = name_id where p.repo_id = rename_repository.repo_id;
  update archived_series_points p set repo_name_id = name_id where p.repo_id = rename_repository.repo_id;
  return result;
end
$$;
comment on function rename_repository(integer, text) is 'Renames a repository; its points keep their original name and point to the new one.';

create function enqueue_due_repo_syncs(cooldown interval default '15 minutes') returns integer language plpgsql volatile as $$
#variable_conflict use_column
declare
  queued integer := 0;
  repo record;
begin
  for repo in
    select id from repositories
     where deleted_at is null and (last_fetch_attempt_at is null or last_fetch_attempt_at < now() - cooldown)
  loop
    perform graphile_worker.add_job('sync_repo', json_build_object('repo_id', repo.id),
      job_key := 'sync_repo:' || repo.id, job_key_mode := 'preserve_run_at', max_attempts := 3);
    queued := queued + 1;
  end loop;
  return queued;
end
$$;
comment on function enqueue_due_repo_syncs(interval) is 'Queues a fetch of every repository not fetched within the cooldown; a repository already queued is not queued twice.';

------------------------------------------------------------------------------------------------------
-- Repository scope of a series
------------------------------------------------------------------------------------------------------
create function repository_criteria_matches(criteria text, repo_name text) returns boolean
language plpgsql immutable strict as $$
#variable_conflict use_column
declare
  term text[];
  negated boolean;
  pattern text;
begin
  -- Terms are repo:/r: filters, optionally negated and quoted; every term must hold (AND).
  for term in select regexp_matches(criteria, '(-?)(?:repo|r):("(?:[^"\\]|\\.)*"|''(?:[^''\\]|\\.)*''|\S+)', 'gi') loop
    negated := term[1] = '-';
    pattern := term[2];
    if pattern ~ '^["''].*["'']$' then
      pattern := regexp_replace(substr(pattern, 2, length(pattern) - 2), '\\(.)', '\1', 'g');
    end if;
    if (repo_name ~* pattern) = negated then
      return false;
    end if;
  end loop;
  return true;
end
$$;
comment on function repository_criteria_matches(text, text) is 'Whether a repository name satisfies repository criteria such as "repo:^acme/ -repo:archive".';

create function insight_series_repository_ids(series insight_series) returns integer[] language sql stable as $$
  select coalesce(array_agg(r.id order by r.id), '{}')
    from repositories r
   where r.deleted_at is null
     and case
       when series.repositories is not null and cardinality(series.repositories) > 0 then r.name = any (series.repositories::citext[])
       when series.repository_criteria is not null then repository_criteria_matches(series.repository_criteria, r.name::text)
       else true
     end
$$;
comment on function insight_series_repository_ids(insight_series) is 'Ids of the repositories a series covers now: its list, its criteria, or every registered repository.';

------------------------------------------------------------------------------------------------------
-- The per-blob search cache
------------------------------------------------------------------------------------------------------
create table search_blob_counts (
  fingerprint text not null,
  blob_oid text not null,
  match_count integer not null check (match_count >= 0),
  captures jsonb,
  created_at timestamptz not null default now(),
  primary key (fingerprint, blob_oid)
);
comment on table search_blob_counts is 'Cached match counts per (query fingerprint, blob id): a blob''s count never changes, so history and re-runs read each distinct blob once.';
comment on column search_blob_counts.fingerprint is 'Hash of what decides a blob''s result: pattern, pattern type, case mode and engine version (src/search/query/fingerprint.ts).';
comment on column search_blob_counts.blob_oid is 'Git blob id.';
comment on column search_blob_counts.match_count is 'Matches in the blob (0 for binary or oversized blobs).';
comment on column search_blob_counts.captures is 'For capture-group queries: {"value": count} per distinct first-group value.';

------------------------------------------------------------------------------------------------------
-- Creating insights
------------------------------------------------------------------------------------------------------
create function create_line_insight(
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
  element jsonb;
  position integer := 0;
  scoped boolean := (repositories is not null and cardinality(repositories) > 0) or repository_criteria is not null;
  missing text[];
  query text;
  captures boolean;
  shared_id text;
  series_row insight_series;
  history_start timestamp without time zone := coalesce(timezone('utc', oldest_historical_at), utc_now() - interval '1 year');
begin
  if title is null or btrim(title) = '' then
    raise exception 'title is required' using errcode = '22023';
  end if;
  if series is null or jsonb_typeof(series) <> 'array' or jsonb_array_length(series) = 0 then
    raise exception 'series must be a non-empty array of {"query", "label", "stroke"}' using errcode = '22023';
  end if;
  if jsonb_array_length(series) > 20 then
    raise exception 'at most 20 series per insight, got %', jsonb_array_length(series) using errcode = '22023';
  end if;
  if interval_value is null or interval_value < 1 or interval_value > 1000 then
    raise exception 'interval_value must be between 1 and 1000, got %', interval_value using errcode = '22023';
  end if;
  if repositories is not null and cardinality(repositories) > 0 and repository_criteria is not null then
    raise exception 'give either repositories or repository_criteria, not both' using errcode = '22023';
  end if;
  if repository_criteria is not null and btrim(repository_criteria) !~ '^-?(repo|r):' then
    raise exception 'repository_criteria must consist of repo: filters, got "%"', repository_criteria using errcode = '22023';
  end if;
  if history_start > utc_now() then
    raise exception 'oldest_historical_at must be in the past' using errcode = '22023';
  end if;
  if repositories is not null then
    select array_agg(wanted) into missing from unnest(repositories) wanted
     where not exists (select 1 from repositories r where r.name = wanted::citext and r.deleted_at is null);
    if missing is not null then
      raise exception 'unknown repositories: %', array_to_string(missing, ', ') using errcode = '22023';
    end if;
  end if;

  insert into insight_view (title, unique_id, presentation_type)
    values (btrim(title), gen_random_uuid()::text, 'LINE') returning * into view;

  for element in select value from jsonb_array_elements(series) loop
    position := position + 1;
    query := btrim(element->>'query');
    if jsonb_typeof(element) <> 'object' or query is null or query = '' then
      raise exception 'series %: a non-empty "query" is required', position using errcode = '22023';
    end if;
    captures := coalesce((element->>'capture_groups')::boolean, false);
    series_row := null;
    if not scoped then
      -- Identical global series are shared: same query, interval and capture flag.
      shared_id := 'global-' || md5(concat_ws(E'\x1f', query, interval_unit::text, interval_value::text, captures::text));
      select * into series_row from insight_series s where s.series_id = shared_id and s.deleted_at is null;
    end if;
    if series_row.id is null then
      insert into insight_series (series_id, query, oldest_historical_at, repositories, repository_criteria,
                                  sample_interval_unit, sample_interval_value, generated_from_capture_groups,
                                  generation_method, next_recording_after, next_snapshot_after)
        values (coalesce(shared_id, gen_random_uuid()::text), query, history_start,
                case when scoped then repositories end, case when scoped then btrim(repository_criteria) end,
                interval_unit, interval_value, captures,
                case when captures then 'search-compute' else 'search' end, utc_now(), utc_now())
        returning * into series_row;
      perform queue_series_backfill(series_row.id);
    end if;
    insert into insight_view_series (insight_view_id, insight_series_id, label, stroke)
      values (view.id, series_row.id, coalesce(nullif(btrim(element->>'label'), ''), query), nullif(btrim(element->>'stroke'), ''))
      on conflict do nothing;
    shared_id := null;
  end loop;

  if user_id is not null then
    insert into insight_view_grants (insight_view_id, user_id) values (view.id, user_id);
  else
    insert into insight_view_grants (insight_view_id, global) values (view.id, true);
  end if;
  -- The first recording and snapshot of new series are due now: queue them rather than wait for cron.
  perform enqueue_due_series_recordings();
  return view;
end
$$;
comment on function create_line_insight(text, jsonb, text[], text, time_unit, integer, timestamptz, integer) is
  'Creates a line-chart insight: a view, its series (shared when global and identical), labels and colours, and a grant for the creator (global when no user is given).';

------------------------------------------------------------------------------------------------------
-- Recordings and snapshots
------------------------------------------------------------------------------------------------------
create function enqueue_due_series_recordings() returns integer language plpgsql volatile as $$
#variable_conflict use_column
declare
  queued integer := 0;
  due record;
begin
  for due in
    select s.id, 'record' as mode from insight_series s
     where s.deleted_at is null and not s.just_in_time and s.next_recording_after <= utc_now()
    union all
    select s.id, 'snapshot' from insight_series s
     where s.deleted_at is null and not s.just_in_time and s.next_snapshot_after <= utc_now()
  loop
    perform graphile_worker.add_job('record_series', json_build_object('series_id', due.id, 'mode', due.mode),
      job_key := 'record_series:' || due.id || ':' || due.mode, job_key_mode := 'preserve_run_at');
    queued := queued + 1;
  end loop;
  return queued;
end
$$;
comment on function enqueue_due_series_recordings() is 'Queues a record_series job for every series whose recording or snapshot is due (one job key per series and mode, so repeats collapse).';

create function store_series_recording(
  series_id integer,
  recording_time timestamptz,
  snapshot boolean,
  points jsonb,
  incomplete jsonb default '[]'
) returns integer language plpgsql volatile as $$
#variable_conflict use_column
declare
  series insight_series;
  stored integer;
begin
  select * into series from insight_series s where s.id = store_series_recording.series_id for update;
  if not found then
    raise exception 'no series with id %', store_series_recording.series_id using errcode = 'P0002';
  end if;
  if snapshot then
    -- A snapshot replaces the previous one as a whole.
    delete from series_points_snapshots p where p.series_id = series.series_id;
    delete from insight_series_recording_times t where t.insight_series_id = series.id and t.snapshot;
    insert into series_points_snapshots (series_id, time, value, repo_id, repo_name_id, original_repo_name_id, capture)
      select series.series_id, recording_time, (p->>'value')::double precision, r.id, n.id, n.id, p->>'capture'
        from jsonb_array_elements(points) p
        join repositories r on r.id = (p->>'repo_id')::integer
        join repo_names n on n.name = r.name;
    get diagnostics stored = row_count;
    insert into insight_series_recording_times (insight_series_id, recording_time, snapshot)
      values (series.id, recording_time, true) on conflict do nothing;
    update insight_series set last_snapshot_at = utc_now(),
                              next_snapshot_after = date_trunc('day', utc_now()) + interval '1 day'
     where id = series.id;
  else
    insert into series_points (series_id, time, value, repo_id, repo_name_id, original_repo_name_id, capture)
      select series.series_id, recording_time, (p->>'value')::double precision, r.id, n.id, n.id, p->>'capture'
        from jsonb_array_elements(points) p
        join repositories r on r.id = (p->>'repo_id')::integer
        join repo_names n on n.name = r.name
      on conflict (series_id, repo_id, time, capture) do update set value = excluded.value;
    get diagnostics stored = row_count;
    insert into insight_series_recording_times (insight_series_id, recording_time, snapshot)
      values (series.id, recording_time, false)
      on conflict (insight_series_id, recording_time) do update set snapshot = false;
    update insight_series set last_recorded_at = utc_now(),
                              next_recording_after = utc_now() + time_unit_interval(sample_interval_unit, sample_interval_value)
     where id = series.id;
  end if;
  insert into insight_series_incomplete_points (series_id, reason, time, repo_id)
    select series.id, i->>'reason', timezone('utc', recording_time), (i->>'repo_id')::integer
      from jsonb_array_elements(incomplete) i
    on conflict do nothing;
  return stored;
end
$$;
comment on function store_series_recording(integer, timestamptz, boolean, jsonb, jsonb) is
  'Stores one recording (or snapshot) of a series in one transaction: points [{repo_id, value, capture}], incomplete points [{repo_id, reason}], the recording time and the next due time.';

------------------------------------------------------------------------------------------------------
-- Reading a series
------------------------------------------------------------------------------------------------------
create function insight_series_points_filled(series_id text)
returns table (recording_time timestamptz, snapshot boolean, repo_id integer, repo_name text, capture text, value double precision)
language sql stable as $$
  with series as (
    select * from insight_series s where s.series_id = insight_series_points_filled.series_id
  ), points as (
    select p.time, false as snapshot, p.repo_id, p.capture, p.value from series_points p, series s where p.series_id = s.series_id
    union all
    select p.time, true, p.repo_id, p.capture, p.value from series_points_snapshots p, series s where p.series_id = s.series_id
  ), times as (
    select t.recording_time, coalesce(t.snapshot, false) as snapshot
      from insight_series_recording_times t, series s where t.insight_series_id = s.id
  ), repos as (
    select unnest(insight_series_repository_ids(s)) as repo_id from series s
    union
    select distinct p.repo_id from points p where p.repo_id is not null
  ), captures as (
    select distinct p.capture from points p where p.capture is not null
    union all
    select null where not exists (select 1 from points p where p.capture is not null)
  )
  select t.recording_time, t.snapshot, r.repo_id, coalesce(repo.name::text, n.name::text), c.capture, coalesce(p.value, 0)
    from times t
   cross join repos r
   cross join captures c
    left join points p on p.time = t.recording_time and p.snapshot = t.snapshot and p.repo_id = r.repo_id
                      and p.capture is not distinct from c.capture
    left join repositories repo on repo.id = r.repo_id
    left join lateral (select rn.name from series_points sp join repo_names rn on rn.id = sp.repo_name_id
                        where sp.repo_id = r.repo_id limit 1) n on repo.id is null
   order by t.recording_time, t.snapshot, 4, c.capture
$$;
comment on function insight_series_points_filled(text) is
  'Every point of a series, recordings and snapshot, with 0 for each repository (and capture value) that has no point at a recording time.';

------------------------------------------------------------------------------------------------------
-- Worker registry
------------------------------------------------------------------------------------------------------
create table worker_processes (
  id text primary key,
  hostname text not null,
  pid integer not null,
  graphile_worker_ids text[] not null default '{}',
  started_at timestamptz not null default now(),
  last_heartbeat_at timestamptz not null default now()
);
comment on table worker_processes is 'Worker processes that are alive, with their Graphile Worker ids; each heartbeats every few seconds.';
comment on column worker_processes.graphile_worker_ids is 'locked_by values of this process'' Graphile Worker workers, released by release_dead_workers when the process stops heartbeating.';

create function release_dead_workers(stale_after interval default '30 seconds') returns integer
language plpgsql volatile as $$
declare
  dead worker_processes;
  released integer := 0;
begin
  for dead in delete from worker_processes where last_heartbeat_at < now() - stale_after returning * loop
    -- Jobs the dead process held run again at once instead of after Graphile Worker's 4 hours.
    if cardinality(dead.graphile_worker_ids) > 0 then
      perform graphile_worker.force_unlock_workers(dead.graphile_worker_ids);
    end if;
    update insights_background_jobs
       set state = 'queued', num_resets = num_resets + 1, worker_hostname = '',
           execution_logs = coalesce(execution_logs, '{}') || json_build_object('time', now(), 'message',
             format('worker %s on %s stopped heartbeating; released', dead.id, dead.hostname))
     where state = 'processing' and worker_hostname = dead.id;
    released := released + 1;
  end loop;
  return released;
end
$$;
comment on function release_dead_workers(interval) is 'Forgets worker processes whose heartbeat stopped and releases the jobs they held, so another worker resumes them from their last committed page.';

------------------------------------------------------------------------------------------------------
-- Sample times and planning
------------------------------------------------------------------------------------------------------
create function insight_series_sample_times(series insight_series, max_samples integer default 104)
returns setof timestamptz language sql stable as $$
  -- One time per interval step back from creation (the live recording covers creation itself),
  -- not before oldest_historical_at, at most max_samples (hard limit 1000).
  select timezone('utc', series.created_at - step * time_unit_interval(series.sample_interval_unit, series.sample_interval_value))
    from generate_series(1, least(greatest(max_samples, 1), 1000)) step
   where series.created_at - step * time_unit_interval(series.sample_interval_unit, series.sample_interval_value) >= series.oldest_historical_at
   order by 1
$$;
comment on function insight_series_sample_times(insight_series, integer) is 'The historical sample times of a series, oldest first, computed with interval arithmetic (month ends clamp).';

create function backfill_sample_times(series_id integer) returns setof timestamptz language sql stable as $$
  -- The planned sample times: recording times before the series was created (live recordings and
  -- snapshots come after).
  select t.recording_time from insight_series_recording_times t join insight_series s on s.id = t.insight_series_id
   where s.id = backfill_sample_times.series_id and not coalesce(t.snapshot, false) and t.recording_time < timezone('utc', s.created_at)
   order by 1
$$;
comment on function backfill_sample_times(integer) is 'The historical sample times a backfill computes for a series (recording times before its creation), oldest first.';

create function queue_series_backfill(series_id integer) returns insight_series_backfill
language plpgsql volatile as $$
#variable_conflict use_column
declare
  backfill insight_series_backfill;
  job_id integer;
begin
  insert into insight_series_backfill (series_id, state) values (queue_series_backfill.series_id, 'new') returning * into backfill;
  insert into insights_background_jobs (backfill_id, state) values (backfill.id, 'queued') returning id into job_id;
  update insight_series set backfill_queued_at = utc_now() where id = queue_series_backfill.series_id;
  perform graphile_worker.add_job('backfill_new', json_build_object('backfill_id', backfill.id),
    job_key := 'backfill:' || backfill.id, priority := 0);
  return backfill;
end
$$;
comment on function queue_series_backfill(integer) is 'Queues the backfill of a series: a backfill in state new, its job row, and the backfill_new task.';

create function backfill_priority(backfill_id integer) returns integer language sql stable as $$
  -- Graphile Worker runs lower priorities first: the cost bucket (1 cheapest .. 4) of the view.
  select coalesce((select cost_bucket from insights_jobs_backfill_in_progress where backfill_id = backfill_priority.backfill_id limit 1), 1)
$$;
comment on function backfill_priority(integer) is 'The Graphile Worker priority of a backfill''s next step: its cost bucket in insights_jobs_backfill_in_progress.';

create function backfill_queue_step(backfill_id integer) returns void language plpgsql volatile as $$
#variable_conflict use_column
declare
  queued timestamptz;
begin
  -- run_at is the backfill's queue time, so within a bucket the oldest backfill goes first.
  select j.queued_at into queued from insights_background_jobs j where j.backfill_id = backfill_queue_step.backfill_id order by j.id limit 1;
  perform graphile_worker.add_job('backfill_step', json_build_object('backfill_id', backfill_queue_step.backfill_id),
    job_key := 'backfill:' || backfill_queue_step.backfill_id, priority := backfill_priority(backfill_queue_step.backfill_id),
    run_at := least(coalesce(queued, now()), now()), max_attempts := 10);
end
$$;
comment on function backfill_queue_step(integer) is 'Queues the next step of a processing backfill with the priority of its cost bucket.';

create function backfill_plan(backfill_id integer, query_complexity double precision, max_samples integer default 104)
returns insight_series_backfill language plpgsql volatile as $$
#variable_conflict use_column
declare
  backfill insight_series_backfill;
  series insight_series;
  repo_ids integer[];
  sample_count integer;
  iterator_id integer;
begin
  select * into backfill from insight_series_backfill b where b.id = backfill_plan.backfill_id for update;
  if not found then
    raise exception 'no backfill with id %', backfill_plan.backfill_id using errcode = 'P0002';
  end if;
  if backfill.state <> 'new' then
    return backfill; -- planned already (a retried job): nothing to do
  end if;
  select * into series from insight_series s where s.id = backfill.series_id;
  repo_ids := insight_series_repository_ids(series);
  insert into insight_series_recording_times (insight_series_id, recording_time, snapshot)
    select series.id, t, false from insight_series_sample_times(series, max_samples) t
    on conflict do nothing;
  select count(*) into sample_count from insight_series_sample_times(series, max_samples);
  insert into repo_iterator (repos, total_count, started_at) values (repo_ids, cardinality(repo_ids), utc_now()) returning id into iterator_id;
  -- Cost: query complexity x repositories x samples (docs/backfill.md).
  update insight_series_backfill
     set repo_iterator_id = iterator_id, state = 'processing',
         estimated_cost = query_complexity * greatest(cardinality(repo_ids), 1) * greatest(sample_count, 1)
   where id = backfill.id returning * into backfill;
  update insights_background_jobs set execution_logs = coalesce(execution_logs, '{}') || json_build_object('time', now(), 'message',
      format('planned: %s repositories x %s samples, estimated cost %s', cardinality(repo_ids), sample_count, backfill.estimated_cost))
   where backfill_id = backfill.id;
  perform backfill_queue_step(backfill.id);
  return backfill;
end
$$;
comment on function backfill_plan(integer, double precision, integer) is 'Plans a new backfill: repositories in scope, sample times, the repo iterator and the estimated cost; moves it to processing and queues its first step.';

------------------------------------------------------------------------------------------------------
-- Steps
------------------------------------------------------------------------------------------------------
create function backfill_claim(backfill_id integer, worker_id text) returns insights_background_jobs
language plpgsql volatile as $$
#variable_conflict use_column
declare
  job insights_background_jobs;
begin
  update insights_background_jobs j
     set state = 'processing', started_at = coalesce(started_at, now()), last_heartbeat_at = now(), worker_hostname = worker_id
   where j.backfill_id = backfill_claim.backfill_id and j.state in ('queued', 'processing', 'errored')
  returning * into job;
  return job;
end
$$;
comment on function backfill_claim(integer, text) is 'Marks a backfill''s job row as processing by a worker (heartbeat, host) and returns it; null when it is not runnable (canceled, finished).';

create function backfill_record_page(
  backfill_id integer,
  new_cursor integer,
  points jsonb,
  succeeded_repo_ids integer[],
  failures jsonb,
  runtime_ms bigint,
  log_message text default null
) returns repo_iterator language plpgsql volatile as $$
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
  insert into series_points (series_id, time, value, repo_id, repo_name_id, original_repo_name_id, capture)
    select series.series_id, (p->>'time')::timestamptz, (p->>'value')::double precision, r.id, n.id, n.id, p->>'capture'
      from jsonb_array_elements(points) p
      join repositories r on r.id = (p->>'repo_id')::integer
      join repo_names n on n.name = r.name
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
    -- The third failure gives the repository up: incomplete points for every sample time.
    if failed_times = 3 then
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
comment on function backfill_record_page(integer, integer, jsonb, integer[], jsonb, bigint, text) is
  'Commits one page of a backfill in one transaction: its points [{time, repo_id, value, capture}], the iterator''s progress, and per-repository failures [{repo_id, message, reason}]; a third failure gives the repository up.';

create function backfill_give_up_repository(backfill_id integer, repo_id integer, reason text) returns void
language plpgsql volatile as $$
#variable_conflict use_column
declare
  backfill insight_series_backfill;
begin
  select * into backfill from insight_series_backfill b where b.id = backfill_give_up_repository.backfill_id;
  insert into insight_series_incomplete_points (series_id, reason, time, repo_id)
    select backfill.series_id, reason, timezone('utc', t), backfill_give_up_repository.repo_id
      from backfill_sample_times(backfill.series_id) t
    on conflict do nothing;
end
$$;
comment on function backfill_give_up_repository(integer, integer, text) is 'Records incomplete points (reason timeout or generic) for a repository given up after three failures.';

create function backfill_finish(backfill_id integer) returns insight_series_backfill
language plpgsql volatile as $$
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
  error_limit := greatest(50, ceil(0.05 * iterator.total_count)::integer);
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
comment on function backfill_finish(integer) is 'Ends a backfill whose repositories are all done or given up: completed, or failed with incomplete points (exceeds-error-limit) when errors exceed max(50, 5 %).';

create function backfill_fail(backfill_id integer, message text) returns void language plpgsql volatile as $$
#variable_conflict use_column
begin
  update insight_series_backfill set state = 'failed' where id = backfill_fail.backfill_id;
  update insights_background_jobs set state = 'failed', finished_at = now(), failure_message = message
   where backfill_id = backfill_fail.backfill_id;
end
$$;
comment on function backfill_fail(integer, text) is 'Fails a backfill that cannot run at all (for example its series'' query no longer parses).';

create function backfill_stop_canceled(backfill_id integer) returns void language plpgsql volatile as $$
#variable_conflict use_column
begin
  update insight_series_backfill set state = 'failed' where id = backfill_stop_canceled.backfill_id;
  update insights_background_jobs set state = 'canceled', finished_at = now(),
         execution_logs = coalesce(execution_logs, '{}') || json_build_object('time', now(), 'message', 'canceled between pages')
   where backfill_id = backfill_stop_canceled.backfill_id;
end
$$;
comment on function backfill_stop_canceled(integer) is 'Ends a backfill whose cancel flag was seen between pages.';

create function backfill_yield(backfill_id integer) returns void language plpgsql volatile as $$
#variable_conflict use_column
begin
  update insights_background_jobs set state = 'queued' where backfill_id = backfill_yield.backfill_id and state = 'processing';
  perform backfill_queue_step(backfill_yield.backfill_id);
end
$$;
comment on function backfill_yield(integer) is 'Ends a step whose time budget ran out: the backfill goes back into the queue at the priority of its cost bucket.';

create function backfill_step_failed(backfill_id integer, message text) returns void language plpgsql volatile as $$
#variable_conflict use_column
begin
  update insights_background_jobs
     set state = 'errored', num_failures = num_failures + 1, failure_message = message,
         execution_logs = coalesce(execution_logs, '{}') || json_build_object('time', now(), 'message', 'step failed: ' || message)
   where backfill_id = backfill_step_failed.backfill_id and state = 'processing';
end
$$;
comment on function backfill_step_failed(integer, text) is 'Records a failed step (Graphile Worker retries it; the next attempt resumes from the last committed page).';

------------------------------------------------------------------------------------------------------
-- Admin operations
------------------------------------------------------------------------------------------------------
create function backfill_retry(backfill_id integer) returns insight_series_backfill
language plpgsql volatile as $$
#variable_conflict use_column
declare
  backfill insight_series_backfill;
begin
  select * into backfill from insight_series_backfill b where b.id = backfill_retry.backfill_id for update;
  if not found then
    raise exception 'no backfill with id %', backfill_retry.backfill_id using errcode = 'P0002';
  end if;
  if backfill.state = 'new' then
    return backfill; -- not planned yet: its backfill_new job is still queued
  end if;
  delete from repo_iterator_errors where repo_iterator_id = backfill.repo_iterator_id;
  update repo_iterator set repo_cursor = 0, success_count = 0, percent_complete = 0, runtime_duration = 0,
                           completed_at = null, started_at = utc_now(), last_updated_at = utc_now()
   where id = backfill.repo_iterator_id;
  delete from insight_series_incomplete_points p
   where p.series_id = backfill.series_id and p.reason in ('timeout', 'generic', 'exceeds-error-limit')
     and p.time in (select timezone('utc', t) from backfill_sample_times(backfill.series_id) t);
  update insight_series_backfill set state = 'processing' where id = backfill.id returning * into backfill;
  update insights_background_jobs
     set state = 'queued', cancel = false, finished_at = null, failure_message = null, num_resets = num_resets + 1,
         queued_at = now(),
         execution_logs = coalesce(execution_logs, '{}') || json_build_object('time', now(), 'message', 'retried: iterator restarted')
   where backfill_id = backfill.id;
  perform backfill_queue_step(backfill.id);
  return backfill;
end
$$;
comment on function backfill_retry(integer) is 'Restarts a backfill''s repository iterator from the first repository (points are upserted, so nothing doubles).';

create function backfill_move_to_front(backfill_id integer) returns insight_series_backfill
language plpgsql volatile as $$
#variable_conflict use_column
declare
  backfill insight_series_backfill;
begin
  update insight_series_backfill set estimated_cost = 0 where id = backfill_move_to_front.backfill_id returning * into backfill;
  if not found then
    raise exception 'no backfill with id %', backfill_move_to_front.backfill_id using errcode = 'P0002';
  end if;
  if backfill.state = 'processing' then
    perform backfill_queue_step(backfill.id); -- re-prioritizes a waiting step (job key replace)
  end if;
  return backfill;
end
$$;
comment on function backfill_move_to_front(integer) is 'Moves a backfill to the front of the queue (estimated cost 0, the cheapest bucket).';

create function backfill_move_to_back(backfill_id integer) returns insight_series_backfill
language plpgsql volatile as $$
#variable_conflict use_column
declare
  backfill insight_series_backfill;
begin
  -- 4 x (the most expensive other) + 4 puts every other queued backfill below a quarter of it:
  -- this one alone in the last cost bucket.
  update insight_series_backfill
     set estimated_cost = 4 * coalesce((select max(estimated_cost) from insight_series_backfill o
                                         where o.id <> backfill_move_to_back.backfill_id and o.state in ('new', 'processing')), 0) + 4
   where id = backfill_move_to_back.backfill_id returning * into backfill;
  if not found then
    raise exception 'no backfill with id %', backfill_move_to_back.backfill_id using errcode = 'P0002';
  end if;
  if backfill.state = 'processing' then
    perform backfill_queue_step(backfill.id);
  end if;
  return backfill;
end
$$;
comment on function backfill_move_to_back(integer) is 'Moves a backfill to the back of the queue: an estimated cost above every other queued backfill (alone in the last bucket).';

create function backfill_cancel(backfill_id integer) returns insights_background_jobs
language plpgsql volatile as $$
#variable_conflict use_column
declare
  job insights_background_jobs;
begin
  update insights_background_jobs j set cancel = true,
         execution_logs = coalesce(execution_logs, '{}') || json_build_object('time', now(), 'message', 'cancel requested')
   where j.backfill_id = backfill_cancel.backfill_id and j.state not in ('completed', 'failed', 'canceled')
  returning * into job;
  if not found then
    raise exception 'backfill % is not running or queued', backfill_cancel.backfill_id using errcode = '55000';
  end if;
  return job;
end
$$;
comment on function backfill_cancel(integer) is 'Asks a backfill to stop; its worker stops between pages (the job becomes canceled, the backfill failed). Retry resumes it.';

create view backfill_status as
  select b.id as backfill_id, s.id as insight_series_id, s.series_id, s.query, b.state, b.estimated_cost,
         width_bucket(b.estimated_cost, 0::double precision, max(b.estimated_cost + 1::double precision) filter (where b.state = 'processing') over (), 4) as cost_bucket,
         i.total_count as repositories, coalesce(i.repo_cursor, 0) as repositories_done, i.success_count,
         (select count(*) from repo_iterator_errors e where e.repo_iterator_id = i.id)::integer as errors,
         round((coalesce(i.percent_complete, 0) * 100)::numeric, 1) as percent_complete,
         j.state as job_state, j.cancel, j.queued_at, j.started_at, j.finished_at, j.last_heartbeat_at, j.worker_hostname,
         j.num_resets, j.num_failures, j.failure_message
    from insight_series_backfill b
    join insight_series s on s.id = b.series_id
    left join repo_iterator i on i.id = b.repo_iterator_id
    left join lateral (select * from insights_background_jobs j where j.backfill_id = b.id order by j.id desc limit 1) j on true;
comment on view backfill_status is 'Every backfill with its progress (repositories done, errors, percent), queue position (cost bucket) and job state.';
