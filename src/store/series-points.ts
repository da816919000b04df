// The points of one series as operators read them: recordings and snapshots, zero-filled per
// repository (and captured value) at every recording time.
import type { Queryable } from './queryable.ts';

export interface SeriesPoint {
  recording_time: Date;
  snapshot: boolean;
  repo_id: number;
  repo_name: string;
  capture: string | null;
  value: number;
}

/** Whether a series with this series id (its text id, not the row id) exists. */
export async function seriesExists(db: Queryable, seriesId: string): Promise<boolean> {
  const { rowCount } = await db.query('select 1 from insight_series where series_id = $1', [seriesId]);
  return (rowCount ?? 0) > 0;
}

/** Every point of a series by time, with 0 where a repository had no match. */
export async function seriesPointsFilled(db: Queryable, seriesId: string): Promise<SeriesPoint[]> {
  const { rows } = await db.query<SeriesPoint>('select * from insight_series_points_filled($1)', [seriesId]);
  return rows;
}
