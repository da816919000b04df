-- bench:api data: $1 repositories, a dashboard (granted to user 1) of $2 views x $3 series over every
-- repository, $4 weekly samples per series with a point per repository and sample. Backfills are
-- marked done and their jobs removed: the bench reads a settled dashboard.
-- Run as one script by seedApiBench (src/store/bench.ts), which puts the integers in for $1..$5.
select insights_core.register_repository('/nonexistent/bench/' || i || '.git', 'bench/repo-' || i) from generate_series(1, $1::int) i;

select insights_core.create_line_insight('View ' || v,
         (select jsonb_agg(jsonb_build_object('query', 'pattern_' || v || '_' || s, 'label', 'series ' || s, 'stroke', '#' || lpad(to_hex(s * 2000000), 6, '0')))
            from generate_series(1, $3::int) s),
         null, null, 'WEEK', 1, now() - ($4::int * interval '1 week'), 1)
  from generate_series(1, $2::int) v;

insert into insight_series_recording_times (insight_series_id, recording_time, snapshot)
  select s.id, date_trunc('week', now()) - n * interval '1 week', false
    from insight_series s cross join generate_series(0, $4::int - 1) n
  on conflict do nothing;

update insight_series_backfill set state = 'completed';

select graphile_worker.remove_job(key) from graphile_worker.jobs where key is not null;

insert into dashboard (title) values ('Bench dashboard');

insert into dashboard_grants (dashboard_id, user_id) select max(id), 1 from dashboard;

insert into dashboard_insight_view (dashboard_id, insight_view_id) select (select max(id) from dashboard), v.id from insight_view v order by v.id;

-- Other users' insights, as a larger installation has: $5 views x $3 series granted to user 2, each
-- series with a finished backfill and its job row. The dashboard's reads must not grow with them.
insert into insight_view (title, unique_id, presentation_type)
  select 'Other view ' || i, gen_random_uuid()::text, 'LINE' from generate_series(1, $5::int) i;

insert into insight_view_grants (insight_view_id, user_id) select v.id, 2 from insight_view v where v.title like 'Other view %';

insert into insight_series (series_id, query, oldest_historical_at, sample_interval_unit, sample_interval_value, generation_method,
                            next_recording_after, next_snapshot_after, backfill_completed_at)
  select 'other-' || v.id || '-' || s, 'other_' || v.id || '_' || s, now() - interval '1 year', 'WEEK', 1, 'search',
         now() + interval '1 day', now() + interval '1 day', now()
    from insight_view v cross join generate_series(1, $3::int) s where v.title like 'Other view %';

insert into insight_view_series (insight_view_id, insight_series_id, label)
  select split_part(s.series_id, '-', 2)::int, s.id, s.query from insight_series s where s.series_id like 'other-%';

insert into insight_series_backfill (series_id, state) select s.id, 'completed' from insight_series s where s.series_id like 'other-%';

insert into insights_background_jobs (backfill_id, state, finished_at)
  select b.id, 'completed', now() from insight_series_backfill b join insight_series s on s.id = b.series_id where s.series_id like 'other-%';
