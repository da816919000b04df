// Recordings and snapshots: which series are due, what a recording needs, and storing its points.
import type { Queryable } from './queryable.ts';

export interface SeriesToRecord {
  id: number;
  series_id: string;
  query: string;
  deleted_at: Date | null;
  generated_from_capture_groups: boolean;
  repo_ids: number[];
}

export interface RecordedPoint {
  repo_id: number;
  value: number;
  capture?: string;
}

export interface IncompleteRepository {
  repo_id: number;
  /** capture-limit: the point was recorded with only the most frequent capture values. */
  reason: 'timeout' | 'generic' | 'capture-limit';
}

/** Queues record_series for every due recording and snapshot; returns how many jobs. */
export async function enqueueDueRecordings(db: Queryable): Promise<number> {
  const { rows } = await db.query<{ queued: number }>('select insights_core.enqueue_due_series_recordings() as queued');
  return rows[0]!.queued;
}

/** A series by its number (insight_series.id) or its series_id, with the repositories in its scope. */
export async function seriesToRecord(db: Queryable, series: number | string): Promise<SeriesToRecord | undefined> {
  const { rows } = await db.query<SeriesToRecord>(
    `select s.id, s.series_id, s.query, s.deleted_at, s.generated_from_capture_groups, insight_series_repository_ids(s) as repo_ids
       from insight_series s where ${typeof series === 'number' ? 's.id = $1' : 's.series_id = $1'}`,
    [series],
  );
  return rows[0];
}

/** Stores a recording (permanent points) or a snapshot (replacing the previous one) in one transaction. */
export async function storeSeriesRecording(
  db: Queryable,
  recording: {
    seriesId: number;
    /** ISO 8601 text (microseconds kept) or a Date. */
    time: string | Date;
    snapshot: boolean;
    points: RecordedPoint[];
    incomplete: IncompleteRepository[];
  },
): Promise<void> {
  await db.query('select insights_core.store_series_recording($1, $2, $3, $4, $5)', [
    recording.seriesId,
    recording.time,
    recording.snapshot,
    JSON.stringify(recording.points),
    JSON.stringify(recording.incomplete),
  ]);
}
