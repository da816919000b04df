// One parse per series: the plan every counting path uses (recordings, snapshots, backfills, cost
// estimates, cache pruning). The first path that needs a series' plan parses its query (after
// rewriting a query still in the first syntax) and stores the plan; later ones read it. A plan made
// from another query text, capture mode or parser version is made again.
import type { Queryable } from '../store/queryable.ts';
import { completeLegacyQuery, legacyQueries, readSeriesPlan, writeSeriesPlan } from '../store/series-query-plans.ts';
import { rewriteLegacyQuery } from './query/legacy-query.ts';
import { PARSER_VERSION, parseQuery, type SearchQuery } from './query/parse-query.ts';

export interface SeriesToPlan {
  /** insight_series.id */
  id: number;
  query: string;
  /** generated_from_capture_groups: a detect-and-track series. */
  capture: boolean;
}

/** Rewrites the series' query if it is still in the first syntax; returns the current query. */
export async function currentQuery(db: Queryable, series: SeriesToPlan): Promise<string> {
  const [legacy] = await legacyQueries(db, series.id);
  if (!legacy) return series.query;
  const rewritten = rewriteLegacyQuery(legacy.query);
  await completeLegacyQuery(db, legacy, rewritten);
  return legacy.query === series.query ? rewritten : series.query;
}

/** The series' plan; throws the parser's QuerySyntaxError when its query is not valid. */
export async function planForSeries(db: Queryable, series: SeriesToPlan): Promise<SearchQuery> {
  const query = await currentQuery(db, series);
  const stored = await readSeriesPlan(db, series.id);
  if (stored && stored.query === query && stored.capture === series.capture && stored.parser_version === PARSER_VERSION)
    return stored.plan as SearchQuery;
  const plan = parseQuery(query, { capture: series.capture });
  await writeSeriesPlan(db, series.id, { query, capture: series.capture, parser_version: PARSER_VERSION, plan });
  return plan;
}

/** Rewrites every query still in the first syntax (at start-up); returns how many changed. */
export async function rewriteLegacyQueries(db: Queryable): Promise<number> {
  let changed = 0;
  for (const legacy of await legacyQueries(db))
    if (await completeLegacyQuery(db, legacy, rewriteLegacyQuery(legacy.query))) changed++;
  return changed;
}
