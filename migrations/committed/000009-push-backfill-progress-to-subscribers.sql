--! Previous: sha1:9233dd603d72c1d0d4eff759118122dd54b0068f
--! Hash: sha1:814a2dc411428b1f1e1fe774741e7745e6625a7e
--! Message: push backfill progress to subscribers

-- Push for backfill progress: NOTIFY insight_view_progress:<view id> when a backfill of one of the
-- view's series starts, advances a page or ends. The API's backfillProgress subscription LISTENs on
-- it; the payload carries only the view id, and subscribers read the view itself (row-level
-- security applies) for the numbers.
drop trigger if exists notify_progress on repo_iterator;
drop trigger if exists notify_progress on insight_series_backfill;
drop function if exists notify_repo_iterator_progress();
drop function if exists notify_backfill_state();
drop function if exists notify_series_views(integer);

create function notify_series_views(series_id integer) returns void language sql volatile as $$
  select pg_notify('insight_view_progress:' || vs.insight_view_id, json_build_object('view_id', vs.insight_view_id)::text)
    from insight_view_series vs where vs.insight_series_id = notify_series_views.series_id
$$;
comment on function notify_series_views(integer) is 'Notifies insight_view_progress:<view id> for every view that uses the series.';

create function notify_repo_iterator_progress() returns trigger language plpgsql as $$
begin
  perform notify_series_views(b.series_id) from insight_series_backfill b where b.repo_iterator_id = new.id;
  return null;
end
$$;

create function notify_backfill_state() returns trigger language plpgsql as $$
begin
  perform notify_series_views(new.series_id);
  return null;
end
$$;

create trigger notify_progress after update of repo_cursor, percent_complete on repo_iterator
  for each row when (old.repo_cursor is distinct from new.repo_cursor or old.percent_complete is distinct from new.percent_complete)
  execute function notify_repo_iterator_progress();
create trigger notify_progress after insert or update of state on insight_series_backfill
  for each row execute function notify_backfill_state();
