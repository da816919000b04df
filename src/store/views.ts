// Insight views for the CLI (a DBA: every view): finding, listing and reading them, and deleting
// one through the core writer the API's deleteInsightView calls.
import type { Queryable } from './queryable.ts';

export interface View {
  id: number;
  title: string;
  presentation_type: string;
  /** The view's version tag (public.insight_view_etag), as the API shows it. */
  etag: string;
}

export interface ViewListing {
  id: number;
  unique_id: string;
  title: string;
  type: string;
  series: number;
  loading: boolean;
  etag: string;
}

export interface ViewLine {
  label: string;
  capture: string | null;
  times: Date[];
  values: number[];
}

export interface ViewSeriesStatus {
  label: string;
  backfill_state: string | null;
  percent_complete: number | null;
  pending_jobs: number;
  incomplete_points: number;
}

/** A view by id or unique id, or undefined. */
export async function findView(db: Queryable, wanted: string): Promise<View | undefined> {
  // The regexp comes first: a false AND stops before the cast, so a unique id is never cast.
  const { rows } = await db.query<View>(
    `select v.id, v.title, v.presentation_type, public.insight_view_etag(v) as etag
       from insight_view v where v.unique_id = $1 or ($1 ~ '^[0-9]{1,9}$' and v.id = $1::integer)`,
    [wanted],
  );
  return rows[0];
}

/** Every view with its number of series and whether it is still backfilling, by id. */
export async function listViews(db: Queryable): Promise<ViewListing[]> {
  const { rows } = await db.query<ViewListing>(
    `select v.id, v.unique_id, v.title, v.presentation_type as type, count(vs.insight_series_id)::int as series,
            insight_view_loading(v) as loading, public.insight_view_etag(v) as etag
       from insight_view v left join insight_view_series vs on vs.insight_view_id = v.id
      group by v.id order by v.id`,
  );
  return rows;
}

/** A view's lines, zero-filled at every sample time; the newest `samples` times when given. */
export async function viewLines(db: Queryable, viewId: number, samples: number | null): Promise<ViewLine[]> {
  const { rows } = await db.query<ViewLine>(
    `select label, capture, times, "values"
       from insight_view_data((select v from insight_view v where v.id = $1), num_samples => $2)`,
    [viewId, samples],
  );
  return rows;
}

/** Where each series of a view stands: its backfill, pending jobs and incomplete points. */
export async function viewSeriesStatus(db: Queryable, viewId: number): Promise<ViewSeriesStatus[]> {
  const { rows } = await db.query<ViewSeriesStatus>(
    `select label, backfill_state, percent_complete, pending_jobs, incomplete_points
       from insight_view_series_status((select v from insight_view v where v.id = $1))`,
    [viewId],
  );
  return rows;
}

/**
 * Deletes a view (P0002 when there is none); with an expected etag, only if the view has not changed
 * since it was read (40001, the API's stale-update error, otherwise). Its series no other view uses
 * are retired.
 */
export async function deleteView(
  db: Queryable,
  viewId: number,
  expectedEtag?: string,
): Promise<{ id: number; title: string }> {
  const { rows } = await db.query<{ id: number; title: string }>(
    'select id, title from insights_core.insight_view_delete($1, $2)',
    [viewId, expectedEtag ?? null],
  );
  return rows[0]!;
}
