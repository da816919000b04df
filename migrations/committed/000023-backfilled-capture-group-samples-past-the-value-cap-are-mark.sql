--! Previous: sha1:18d0a459ce2193c2702d10580470547780860b07
--! Hash: sha1:ec3808573b07f1b85e9f0af4f6a2ca17406c8909
--! Message: Backfilled capture-group samples past the value cap are marked incomplete

-- A capture-group sample keeps its 500 most frequent values per repository (src/search/count-matches.ts);
-- the rest are dropped and the point is marked incomplete ('capture-limit'). Recordings did so
-- already; a backfill page now carries its markers too.
drop function if exists insights_core.backfill_record_page(integer, integer, jsonb, integer[], jsonb, bigint, text);
CREATE OR REPLACE FUNCTION insights_core.backfill_record_page(backfill_id integer, new_cursor integer, points jsonb, succeeded_repo_ids integer[], failures jsonb, runtime_ms bigint, log_message text DEFAULT NULL::text, incomplete jsonb DEFAULT '[]'::jsonb)
 RETURNS repo_iterator
 LANGUAGE plpgsql
 SET search_path TO 'public', 'insights_core', 'pg_temp'
AS $$
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
  perform lock_point_repositories(points);
  insert into series_points (series_id, time, value, repo_id, repo_name_id, original_repo_name_id, capture)
    select series.series_id, (p->>'time')::timestamptz, (p->>'value')::double precision, r.id, n.id, n.id, p->>'capture'
      from jsonb_array_elements(points) p
      join repositories r on r.id = (p->>'repo_id')::integer
      join repo_names n on n.name = r.name
     order by r.id, (p->>'time')::timestamptz, p->>'capture'
    on conflict (series_id, repo_id, time, capture) do update set value = excluded.value;
  -- Points recorded but not whole (a capture-group sample past its distinct-value cap).
  insert into insight_series_incomplete_points (series_id, reason, time, repo_id)
    select series.id, i->>'reason', timezone('utc', (i->>'time')::timestamptz), (i->>'repo_id')::integer
      from jsonb_array_elements(coalesce(incomplete, '[]')) i
    on conflict do nothing;
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
    -- The last allowed failure gives the repository up: incomplete points for every sample time.
    if failed_times = backfill_repository_attempts() then
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
comment on function insights_core.backfill_record_page(integer, integer, jsonb, integer[], jsonb, bigint, text, jsonb) is 'Commits one page of a backfill in one transaction: its points [{time, repo_id, value, capture}], incomplete points [{time, repo_id, reason}], the iterator''s progress, and per-repository failures [{repo_id, message, reason}]; a third failure gives the repository up.';
revoke execute on function insights_core.backfill_record_page(integer, integer, jsonb, integer[], jsonb, bigint, text, jsonb) from public;
