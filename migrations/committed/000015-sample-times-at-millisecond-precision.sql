--! Previous: sha1:cdaf44d9b671f7cdd6ce3b49bb608d4c40e848ab
--! Hash: sha1:985812a367584dc2be4cf6a68d7e910c991dadfd
--! Message: sample times at millisecond precision

-- Sample times at millisecond precision. Workers pass times through JavaScript Dates (milliseconds),
-- so a backfill stored its points at a sample time cut to the millisecond while the recording time
-- kept PostgreSQL's microseconds, and reads, which match points to recording times, saw zeros.
-- Existing recording times and points are aligned too.
create or replace function insight_series_sample_times(series insight_series, max_samples integer default 104)
returns setof timestamptz language sql stable as $$
  -- One time per interval step back from creation (the live recording covers creation itself),
  -- not before oldest_historical_at, at most max_samples (hard limit 1000), in whole milliseconds.
  select date_trunc('milliseconds', timezone('utc', series.created_at - step * time_unit_interval(series.sample_interval_unit, series.sample_interval_value)))
    from generate_series(1, least(greatest(max_samples, 1), 1000)) step
   where series.created_at - step * time_unit_interval(series.sample_interval_unit, series.sample_interval_value) >= series.oldest_historical_at
   order by 1
$$;

update insight_series_recording_times t set recording_time = date_trunc('milliseconds', t.recording_time)
 where t.recording_time <> date_trunc('milliseconds', t.recording_time)
   and not exists (select 1 from insight_series_recording_times o
                    where o.insight_series_id = t.insight_series_id and o.recording_time = date_trunc('milliseconds', t.recording_time));
