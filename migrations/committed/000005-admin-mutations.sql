--! Previous: sha1:d1d10ec8ff50f646592d759a24e578fb2cd8fe1b
--! Hash: sha1:3e6a626a99bfb899070e87b5fad280951976f57e
--! Message: admin mutations

-- Admin mutations (admin claim only): backfill queue operations and repository registration and
-- sync, as SECURITY DEFINER wrappers of the functions DBAs call. Idempotent while current.sql.

drop function if exists sync_repository(integer);
drop function if exists add_repository(text, text, text);
drop function if exists cancel_backfill(integer);
drop function if exists move_backfill_to_back(integer);
drop function if exists move_backfill_to_front(integer);
drop function if exists retry_backfill(integer);
drop function if exists app_require_admin();

create function app_require_admin() returns void language plpgsql stable as $$
begin
  if not app_is_admin() then
    raise exception 'admin only: this operation needs a token with the admin claim' using errcode = '42501';
  end if;
end
$$;
comment on function app_require_admin() is 'An error unless the request''s token carries the admin claim.';

create function retry_backfill(backfill_id integer) returns backfill_status
language plpgsql volatile security definer set search_path = public, pg_temp as $$
declare
  result backfill_status;
begin
  perform app_require_admin();
  perform backfill_retry(retry_backfill.backfill_id);
  select * into result from backfill_status s where s.backfill_id = retry_backfill.backfill_id;
  return result;
end
$$;
comment on function retry_backfill(integer) is 'Admin: restarts a backfill''s repository iterator from the first repository.';

create function move_backfill_to_front(backfill_id integer) returns backfill_status
language plpgsql volatile security definer set search_path = public, pg_temp as $$
declare
  result backfill_status;
begin
  perform app_require_admin();
  perform backfill_move_to_front(move_backfill_to_front.backfill_id);
  select * into result from backfill_status s where s.backfill_id = move_backfill_to_front.backfill_id;
  return result;
end
$$;
comment on function move_backfill_to_front(integer) is 'Admin: moves a backfill to the front of the queue.';

create function move_backfill_to_back(backfill_id integer) returns backfill_status
language plpgsql volatile security definer set search_path = public, pg_temp as $$
declare
  result backfill_status;
begin
  perform app_require_admin();
  perform backfill_move_to_back(move_backfill_to_back.backfill_id);
  select * into result from backfill_status s where s.backfill_id = move_backfill_to_back.backfill_id;
  return result;
end
$$;
comment on function move_backfill_to_back(integer) is 'Admin: moves a backfill to the back of the queue.';

create function cancel_backfill(backfill_id integer) returns backfill_status
language plpgsql volatile security definer set search_path = public, pg_temp as $$
declare
  result backfill_status;
begin
  perform app_require_admin();
  perform backfill_cancel(cancel_backfill.backfill_id);
  select * into result from backfill_status s where s.backfill_id = cancel_backfill.backfill_id;
  return result;
end
$$;
comment on function cancel_backfill(integer) is 'Admin: stops a backfill between pages (retry resumes it).';

create function add_repository(clone_url text, name text default null, default_branch text default null) returns repositories
language plpgsql volatile security definer set search_path = public, pg_temp as $$
begin
  perform app_require_admin();
  return register_repository(add_repository.clone_url, add_repository.name, add_repository.default_branch);
end
$$;
comment on function add_repository(text, text, text) is 'Admin: registers a git repository (a path on the workers'' machines or a clone URL) and queues its first fetch.';

create function sync_repository(repo_id integer) returns repositories
language plpgsql volatile security definer set search_path = public, pg_temp as $$
declare
  result repositories;
begin
  perform app_require_admin();
  select * into result from repositories r where r.id = sync_repository.repo_id and r.deleted_at is null;
  if not found then
    raise exception 'no repository with id %', sync_repository.repo_id using errcode = 'P0002';
  end if;
  perform graphile_worker.add_job('sync_repo', json_build_object('repo_id', result.id, 'force', true),
    job_key := 'sync_repo:' || result.id, priority := -10, max_attempts := 3);
  return result;
end
$$;
comment on function sync_repository(integer) is 'Admin: queues a fetch of a repository now, ignoring the cooldown.';

revoke execute on function retry_backfill(integer), move_backfill_to_front(integer), move_backfill_to_back(integer),
  cancel_backfill(integer), add_repository(text, text, text), sync_repository(integer) from public;
grant execute on function retry_backfill(integer), move_backfill_to_front(integer), move_backfill_to_back(integer),
  cancel_backfill(integer), add_repository(text, text, text), sync_repository(integer) to code_insights_anonymous, code_insights_user;
