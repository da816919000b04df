// What `insight create --wait` polls: the newest backfill of each series and its progress.
import type { Queryable } from './queryable.ts';

export interface SeriesBackfillProgress {
  state: string;
  repositories: number | null;
  repositories_done: number;
  errors: number;
}

/** One row per series that has a backfill: its newest one. */
export async function latestBackfillProgress(db: Queryable, seriesIds: number[]): Promise<SeriesBackfillProgress[]> {
  const { rows } = await db.query<SeriesBackfillProgress>(
    `select distinct on (insight_series_id) state, repositories, repositories_done, errors
       from backfill_status
      where insight_series_id = any($1::int[])
      order by insight_series_id, backfill_id desc`,
    [seriesIds],
  );
  return rows;
}
