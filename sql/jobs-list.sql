-- The Graphile Worker queue as `code-insights jobs list` shows it, through graphile_worker.jobs (its
-- public view, not its private tables). $1: only the jobs that have used up their attempts.
select id, task_identifier as task, key, run_at, attempts, max_attempts, locked_by, last_error,
       case when locked_at is not null then 'running'
            when attempts >= max_attempts then 'failed'
            when run_at > now() then 'scheduled'
            else 'waiting' end as state
  from graphile_worker.jobs
 where not $1 or attempts >= max_attempts
 order by run_at, id
