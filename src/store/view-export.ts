// A view's CSV export: the visibility check and the cursor over insights_core.insight_view_export
// (every point of the view's series, live, archived and snapshot).
import type pg from 'pg';
import type { Queryable } from './queryable.ts';

/** Whether the session may see the view (row-level security filters insight_view). */
export async function viewIsVisible(db: Queryable, viewId: number): Promise<boolean> {
  const { rowCount } = await db.query('select 1 from insight_view where id = $1', [viewId]);
  return (rowCount ?? 0) > 0;
}

export interface ExportRow {
  title: string | null;
  series_label: string | null;
  query: string;
  time: Date;
  repository: string | null;
  value: number;
  capture: string | null;
  kind: string;
}

/** Opens the export cursor `view_export`, inside a transaction the caller holds. */
export async function openViewExportCursor(db: pg.ClientBase, viewId: number): Promise<void> {
  await db.query('declare view_export no scroll cursor for select * from insights_core.insight_view_export($1)', [
    viewId,
  ]);
}

/** The next rows of the export cursor; none when it is done. */
export async function fetchViewExportRows(db: pg.ClientBase, count: number): Promise<ExportRow[]> {
  const { rows } = await db.query<ExportRow>(`fetch ${Math.trunc(count)} from view_export`);
  return rows;
}

export async function closeViewExportCursor(db: pg.ClientBase): Promise<void> {
  await db.query('close view_export');
}
