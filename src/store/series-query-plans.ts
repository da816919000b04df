// The stored parse of each series' query (insights_core.series_query_plans) and the queries still in
// the first syntax (insights_core.legacy_series_queries). See src/search/series-plan.ts.
import type { Queryable } from './queryable.ts';

export interface StoredPlan {
  query: string;
  capture: boolean;
  parser_version: number;
  plan: unknown;
}

export async function readSeriesPlan(db: Queryable, seriesId: number): Promise<StoredPlan | undefined> {
  const { rows } = await db.query<StoredPlan>(
    `select query, capture, parser_version, plan from insights_core.series_query_plans where insight_series_id = $1`,
    [seriesId],
  );
  return rows[0];
}

export async function writeSeriesPlan(db: Queryable, seriesId: number, plan: StoredPlan): Promise<void> {
  await db.query(
    `insert into insights_core.series_query_plans (insight_series_id, query, capture, parser_version, plan)
     values ($1, $2, $3, $4, $5::jsonb)
     on conflict (insight_series_id) do update
       set query = excluded.query, capture = excluded.capture, parser_version = excluded.parser_version,
           plan = excluded.plan, parsed_at = now()`,
    [seriesId, plan.query, plan.capture, plan.parser_version, JSON.stringify(plan.plan)],
  );
}

export interface LegacyQuery {
  insight_series_id: number;
  query: string;
}

/** Series whose query is still in the first syntax (all of them, or one). */
export async function legacyQueries(db: Queryable, seriesId?: number): Promise<LegacyQuery[]> {
  const { rows } = await db.query<LegacyQuery>(
    `select insight_series_id, query from insights_core.legacy_series_queries
      where $1::int is null or insight_series_id = $1 order by insight_series_id`,
    [seriesId ?? null],
  );
  return rows;
}

/**
 * Replaces a legacy query by its rewrite, only if the series still has the query the rewrite was
 * made from, and marks it done. Returns whether the series' query changed.
 */
export async function completeLegacyQuery(db: Queryable, legacy: LegacyQuery, rewritten: string): Promise<boolean> {
  const { rows } = await db.query<{ changed: boolean }>(
    `with done as (
       delete from insights_core.legacy_series_queries where insight_series_id = $1 and query = $2 returning insight_series_id
     ), updated as (
       update public.insight_series set query = $3
        where id in (select insight_series_id from done) and query = $2 and $3 <> $2
        returning id
     )
     select exists (select 1 from updated) as changed`,
    [legacy.insight_series_id, legacy.query, rewritten],
  );
  return rows[0]?.changed ?? false;
}
