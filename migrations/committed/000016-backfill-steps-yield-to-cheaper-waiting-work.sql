--! Previous: sha1:985812a367584dc2be4cf6a68d7e910c991dadfd
--! Hash: sha1:669868ade1f6445dec269c5639d93060c5103b8a
--! Message: backfill steps yield to cheaper waiting work

-- A running backfill step gives way between pages when cheaper backfill work is waiting, instead of
-- only when its time budget runs out: a cheap backfill queued while expensive ones hold every worker
-- starts within a page, not within BACKFILL_TIME_BUDGET_SECONDS.
drop function if exists backfill_should_yield(integer);

create function backfill_should_yield(backfill_id integer) returns boolean language sql stable as $$
  select exists (
    select 1
      from graphile_worker.jobs j
     where j.task_identifier in ('backfill_new', 'backfill_step')
       and j.locked_at is null
       and j.run_at <= now()
       and j.attempts < j.max_attempts
       and j.priority < backfill_priority(backfill_should_yield.backfill_id)
  )
$$;
comment on function backfill_should_yield(integer) is 'True when backfill work of a cheaper cost bucket (or a backfill waiting to be planned) is queued and due: the running step of this backfill ends after its page and yields to it.';
