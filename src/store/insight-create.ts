// Creating a line chart insight outside the API (the CLI, benches): through the same core creator
// the API's createLineChartInsight calls, so every door gets the same checks, grants and backfills.
import type { Queryable } from './queryable.ts';

export interface LineSeriesInput {
  query: string;
  label?: string;
  stroke?: string;
  capture_groups?: boolean;
}

export interface LineInsightInput {
  title: string;
  series: LineSeriesInput[];
  /** By name; null: repositoryCriteria, or every repository. */
  repositories?: string[] | null;
  repositoryCriteria?: string | null;
  intervalUnit: string;
  intervalValue: number;
  /** How far back history goes; null: the core's default. */
  oldestHistoricalAt?: string | Date | null;
  /** The owner (gets a user grant); null: shared with everyone. */
  userId?: number | string | null;
}

export interface CreatedView {
  id: number;
  unique_id: string;
  title: string;
}

export async function createLineInsight(db: Queryable, input: LineInsightInput): Promise<CreatedView> {
  const { rows } = await db.query<CreatedView>(
    `select id, unique_id, title
       from insights_core.create_line_insight($1, $2::jsonb, $3, $4, $5::time_unit, $6, $7::timestamptz, $8)`,
    [
      input.title,
      JSON.stringify(input.series),
      input.repositories ?? null,
      input.repositoryCriteria ?? null,
      input.intervalUnit,
      input.intervalValue,
      input.oldestHistoricalAt ?? null,
      input.userId ?? null,
    ],
  );
  return rows[0]!;
}

export interface ViewSeriesRow {
  id: number;
  series_id: string;
  label: string;
  query: string;
  stroke: string;
}

/**
 * The series of a view with their labels, in creation order. A statement of its own after the
 * creator: rows a function wrote are not visible to the statement that called it.
 */
export async function viewSeries(db: Queryable, viewId: number): Promise<ViewSeriesRow[]> {
  const { rows } = await db.query<ViewSeriesRow>(
    `select s.id, s.series_id, vs.label, s.query, vs.stroke
       from insight_view_series vs join insight_series s on s.id = vs.insight_series_id
      where vs.insight_view_id = $1 order by s.id`,
    [viewId],
  );
  return rows;
}
