--! Previous: sha1:dd526f4e31c1809b733322730e158a23f7599aac
--! Hash: sha1:7f8cb6014809911af1e21b09fb3b73859396af14
--! Message: usage events and a daily backfill budget

-- Usage accounting and a per-user daily backfill budget (in the spirit of seeds/003 usage_events).
-- API users' insight creations and the backfills they queue are recorded as usage_events; when
-- usage_quotas holds a daily limit for backfill_cost, a creation that would pass it fails with a
-- clear error and nothing is written. No row in usage_quotas (the default): no limit.
drop trigger if exists charge_backfill_cost on insight_series_backfill;
drop trigger if exists record_insight_created on insight_view;
drop function if exists charge_backfill_cost();
drop function if exists record_insight_created();
drop function if exists charge_usage(integer, text, text, double precision, jsonb);
drop function if exists series_backfill_cost(insight_series);
drop function if exists set_daily_usage_limit(text, double precision);
drop table if exists usage_quotas;
drop table if exists usage_events;

create table usage_events (
  id bigserial primary key,
  user_id integer not null,
  event_type text not null check (event_type in ('insight_created', 'backfill_cost')),
  resource text not null,
  amount double precision not null check (amount >= 0),
  details jsonb,
  created_at timestamptz not null default now()
);
create index usage_events_quota_lookup on usage_events (user_id, event_type, created_at);
comment on table usage_events is 'What API users spent: an insight created (amount 1) or a backfill queued (amount = its estimated cost).';
comment on column usage_events.resource is 'What it was spent on, such as insight_view:7 or insight_series:12.';

create table usage_quotas (
  event_type text primary key check (event_type in ('insight_created', 'backfill_cost')),
  daily_limit double precision not null check (daily_limit > 0),
  updated_at timestamptz not null default now()
);
comment on table usage_quotas is 'Per-user limits per UTC day by event type; no row means no limit. Set by BACKFILL_DAILY_BUDGET_PER_USER or with set_daily_usage_limit.';

create function set_daily_usage_limit(event_type text, daily_limit double precision) returns void language sql volatile as $$
  delete from usage_quotas q where q.event_type = set_daily_usage_limit.event_type and set_daily_usage_limit.daily_limit is null;
  insert into usage_quotas (event_type, daily_limit)
    select set_daily_usage_limit.event_type, set_daily_usage_limit.daily_limit where set_daily_usage_limit.daily_limit is not null
  on conflict (event_type) do update set daily_limit = excluded.daily_limit, updated_at = now();
$$;
comment on function set_daily_usage_limit(text, double precision) is 'Sets the per-user daily limit of an event type; null removes it (no limit).';

create function series_backfill_cost(series insight_series) returns double precision language sql stable as $$
  -- The searches a backfill runs at most: repositories in scope x historical sample times.
  select cardinality(insight_series_repository_ids(series))::double precision
       * (select count(*) from insight_series_sample_times(series, 1000))
$$;
comment on function series_backfill_cost(insight_series) is 'Upper bound of a series'' backfill cost: repositories in scope times historical sample times (searches to run).';

create function charge_usage(user_id integer, event_type text, resource text, amount double precision, details jsonb default null)
returns usage_events language plpgsql volatile as $$
#variable_conflict use_column
declare
  daily_limit double precision;
  used double precision;
  result usage_events;
begin
  -- One charge at a time per user and type, so two requests cannot both slip under the limit.
  perform pg_advisory_xact_lock(hashtext('usage:' || charge_usage.event_type), charge_usage.user_id);
  select q.daily_limit into daily_limit from usage_quotas q where q.event_type = charge_usage.event_type;
  if daily_limit is not null then
    select coalesce(sum(e.amount), 0) into used from usage_events e
     where e.user_id = charge_usage.user_id and e.event_type = charge_usage.event_type
       and e.created_at >= date_trunc('day', now() at time zone 'utc') at time zone 'utc';
    if used + amount > daily_limit then
      raise exception 'daily % budget exceeded: this needs %, and % of your % for today (UTC) is used; narrow the repositories or the history, or try again tomorrow',
        replace(charge_usage.event_type, '_', ' '), round(amount::numeric, 1), round(used::numeric, 1), round(daily_limit::numeric, 1)
        using errcode = '54000';
    end if;
  end if;
  insert into usage_events (user_id, event_type, resource, amount, details)
    values (charge_usage.user_id, charge_usage.event_type, charge_usage.resource, charge_usage.amount, charge_usage.details)
  returning * into result;
  return result;
end
$$;
comment on function charge_usage(integer, text, text, double precision, jsonb) is 'Records a usage event, or fails (54000) when it would pass the user''s daily limit for its type.';

-- Charged for API users only (a token's user); DBAs and the CLI without --user are not metered.
create function charge_backfill_cost() returns trigger language plpgsql as $$
declare
  series insight_series;
begin
  if app_user_id() is not null then
    select * into series from insight_series s where s.id = new.series_id;
    perform charge_usage(app_user_id(), 'backfill_cost', 'insight_series:' || new.series_id, series_backfill_cost(series),
                         jsonb_build_object('backfill_id', new.id, 'query', series.query));
  end if;
  return null;
end
$$;

create function record_insight_created() returns trigger language plpgsql as $$
begin
  if app_user_id() is not null then
    perform charge_usage(app_user_id(), 'insight_created', 'insight_view:' || new.id, 1, jsonb_build_object('presentation_type', new.presentation_type));
  end if;
  return null;
end
$$;

create trigger charge_backfill_cost after insert on insight_series_backfill for each row execute function charge_backfill_cost();
create trigger record_insight_created after insert on insight_view for each row execute function record_insight_created();

-- Users see their own usage and the limits through the API.
alter table usage_events enable row level security;
create policy own on usage_events for select using (user_id = app_user_id() or app_is_admin());
alter table usage_quotas enable row level security;
create policy everyone on usage_quotas for select using (true);
grant select on usage_events, usage_quotas to code_insights_anonymous, code_insights_user;
revoke execute on function set_daily_usage_limit(text, double precision), charge_usage(integer, text, text, double precision, jsonb) from public;
