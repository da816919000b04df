--! Previous: sha1:c3b821d07bcab9a2e4daa2141b7250627432896d
--! Hash: sha1:a0088ff15c8ff90cf44d8c5b09bcdab0c20288c4
--! Message: index the foreign keys the read path, workers and pruning look up by

-- Index the foreign keys that the read path, the workers and pruning look up by. The seed has none
-- on these columns, so each lookup scanned the whole table and a dashboard read grew with the
-- number of backfills and series in the whole installation (bench:api --other-views):
-- - a series' newest backfill: insight_view_loading and insight_view_series_status (per series of
--   every view read), backfill_status, and deleting a series (cascade);
-- - a backfill's job row: backfill_step (every page), backfill_status, deleting a backfill;
-- - the views using a series: the stored lines refreshed when its points change, shared global
--   series, pruning.
drop index if exists insight_series_backfill_series_id_idx;
create index insight_series_backfill_series_id_idx on insight_series_backfill using btree (series_id, id);

drop index if exists insights_background_jobs_backfill_id_idx;
create index insights_background_jobs_backfill_id_idx on insights_background_jobs using btree (backfill_id);

drop index if exists insight_view_series_insight_series_id_idx;
create index insight_view_series_insight_series_id_idx on insight_view_series using btree (insight_series_id);
