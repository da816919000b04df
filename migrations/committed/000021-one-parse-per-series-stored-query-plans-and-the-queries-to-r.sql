--! Previous: sha1:f4bcd6fe7121329e1c091d578dcb8316291124a2
--! Hash: sha1:4df234b89a10790298898cba22f42a209e459ac2
--! Message: One parse per series: stored query plans, and the queries to rewrite into Sourcegraph's syntax

-- One parse per series: the plan the query parser (src/search/query/parse-query.ts) made of a
-- series' query, stored with the series so recordings, snapshots, backfills and cost estimates all
-- count with the same meaning. Written by the first path that needs it (the parser is TypeScript);
-- a changed query or a new parser version is parsed again.
create table insights_core.series_query_plans (
  insight_series_id integer primary key references public.insight_series (id) on delete cascade,
  query text not null,
  capture boolean not null,
  parser_version integer not null,
  plan jsonb not null,
  parsed_at timestamptz not null default now()
);
comment on table insights_core.series_query_plans is
  'The parsed query of each series (src/store/series-query-plans.ts): what every counting path uses.';
comment on column insights_core.series_query_plans.query is 'The query text the plan was made from; a different insight_series.query means parse again.';
comment on column insights_core.series_query_plans.capture is 'Whether it was parsed as a capture-group series (generated_from_capture_groups).';
comment on column insights_core.series_query_plans.parser_version is 'PARSER_VERSION of the parser that made the plan; older plans are parsed again.';
comment on column insights_core.series_query_plans.plan is 'The SearchQuery plan as JSON: scope, filters, pattern tree, select, case.';
revoke all on insights_core.series_query_plans from public;

-- Queries stored before the query language followed Sourcegraph's meaning (quotes delimited a
-- literal, lower-case and/or/not were words, regexps were JavaScript's and matched within a line).
-- The rewrite to the new syntax needs the parser, so it runs in TypeScript at start-up
-- (src/search/query/legacy-query.ts via src/store/legacy-queries.ts) and removes each row it handles.
create table insights_core.legacy_series_queries (
  insight_series_id integer primary key references public.insight_series (id) on delete cascade,
  query text not null
);
comment on table insights_core.legacy_series_queries is
  'Series whose query was written in the first query syntax and has not been rewritten into the current one yet.';
revoke all on insights_core.legacy_series_queries from public;
insert into insights_core.legacy_series_queries (insight_series_id, query)
  select id, query from public.insight_series;
