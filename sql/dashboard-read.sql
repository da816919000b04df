-- What a dashboard page asks for, as plain SQL: each view on dashboard $1 with its loading flag and
-- its lines. bench:api times it directly (as the API role, with the same claims) against the same
-- request through GraphQL.
select v.id, v.title, insight_view_loading(v) as loading,
       (select json_agg(json_build_object('series_id', d.series_id, 'label', d.label, 'stroke', d.stroke, 'times', d.times, 'values', d."values"))
          from insight_view_data(v) d) as data
  from dashboard_insight_view dv
  join insight_view v on v.id = dv.insight_view_id
 where dv.dashboard_id = $1
 order by dv.id
