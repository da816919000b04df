-- The dashboards the CLI lists (every one that is not deleted: it acts as a DBA), each with its
-- views and grants. last_updated_at is text in PostGraphile's format, to the microsecond, so it can
-- be passed back as a rename's precondition (a JS Date would drop the microseconds).
select d.id, d.title, d.created_by_user_id,
       to_char(d.last_updated_at, 'YYYY-MM-DD"T"HH24:MI:SS.US') as last_updated_at,
       coalesce((select json_agg(json_build_object('id', v.id, 'title', v.title) order by v.id)
                   from dashboard_insight_view dv
                   join insight_view v on v.id = dv.insight_view_id
                  where dv.dashboard_id = d.id), '[]') as views,
       coalesce((select json_agg(json_build_object('id', g.id, 'user_id', g.user_id, 'org_id', g.org_id,
                                                   'global', g.global) order by g.id)
                   from dashboard_grants g
                  where g.dashboard_id = d.id), '[]') as grants
  from dashboard d
 where d.deleted_at is null
 order by d.id
