-- Job counts of the Graphile Worker queue, as /healthz reports them. Runnable: waiting and due;
-- locked: being worked on; scheduled: due later; failed: out of attempts.
select count(*) filter (where locked_at is null and run_at <= now() and attempts < max_attempts)::int as runnable,
       count(*) filter (where locked_at is not null)::int as locked,
       count(*) filter (where locked_at is null and run_at > now() and attempts < max_attempts)::int as scheduled,
       count(*) filter (where attempts >= max_attempts)::int as failed
  from graphile_worker.jobs;
