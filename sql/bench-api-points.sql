-- bench:api points of one series ($1 = insight_series.id): one per repository and sample time.
insert into series_points (series_id, time, value, repo_id, repo_name_id, original_repo_name_id, capture)
  select s.series_id, t.recording_time, floor(random() * 10), r.id, n.id, n.id, null
    from insight_series s
    join insight_series_recording_times t on t.insight_series_id = s.id
    cross join repositories r
    join repo_names n on n.name = r.name
   where s.id = $1
