// Dashboards and the views on them, for the CLI (a DBA: every dashboard). Every write calls a core
// writer (insights_core.dashboard_*), the same one the API's mutations call, so both doors trim,
// validate and bump last_updated_at alike.
import { sqlFile } from '../db/sql-file.ts';
import type { Queryable } from './queryable.ts';

export interface Dashboard {
  id: number;
  title: string;
  created_by_user_id: number | null;
  /** UTC wall-clock time, to the microsecond, as the API shows it (2025-01-31T12:00:00.123456). */
  last_updated_at: string;
}

export interface DashboardGrantSummary {
  id: number;
  user_id: number | null;
  org_id: number | null;
  global: boolean | null;
}

export interface DashboardListing extends Dashboard {
  views: Array<{ id: number; title: string }>;
  grants: DashboardGrantSummary[];
}

// Text, not a Date: a JS Date keeps milliseconds, and a rename's precondition must compare equal to
// the stored microseconds. The format is PostGraphile's for `timestamp`, so values pass between the
// CLI and the API.
const DASHBOARD_COLUMNS = `id, title, created_by_user_id,
  to_char(last_updated_at, 'YYYY-MM-DD"T"HH24:MI:SS.US') as last_updated_at`;

/** The dashboards that are not deleted, with their views and grants, by id. */
export async function listDashboards(db: Queryable): Promise<DashboardListing[]> {
  const { rows } = await db.query<DashboardListing>(sqlFile('dashboard-list'));
  return rows;
}

/** A dashboard that is not deleted, or undefined. */
export async function findDashboard(db: Queryable, dashboardId: number): Promise<Dashboard | undefined> {
  const { rows } = await db.query<Dashboard>(
    `select ${DASHBOARD_COLUMNS} from dashboard where id = $1 and deleted_at is null`,
    [dashboardId],
  );
  return rows[0];
}

/** A dashboard owned by a user (who gets a user grant), or shared with everyone when the owner is null. */
export async function createDashboard(db: Queryable, title: string, ownerUserId: number | null): Promise<Dashboard> {
  const { rows } = await db.query<Dashboard>(
    `select ${DASHBOARD_COLUMNS} from insights_core.dashboard_create($1, $2)`,
    [title, ownerUserId],
  );
  return rows[0]!;
}

/** Renames if last_updated_at is still `expectedLastUpdatedAt` (else 40001, stale). */
export async function renameDashboard(
  db: Queryable,
  dashboardId: number,
  title: string,
  expectedLastUpdatedAt: string,
): Promise<Dashboard> {
  const { rows } = await db.query<Dashboard>(
    `select ${DASHBOARD_COLUMNS} from insights_core.dashboard_rename($1, $2, $3::timestamp)`,
    [dashboardId, title, expectedLastUpdatedAt],
  );
  return rows[0]!;
}

/** Soft-deletes a dashboard; its views stay. */
export async function deleteDashboard(db: Queryable, dashboardId: number): Promise<Dashboard> {
  const { rows } = await db.query<Dashboard>(`select ${DASHBOARD_COLUMNS} from insights_core.dashboard_delete($1)`, [
    dashboardId,
  ]);
  return rows[0]!;
}

/** Puts a view on a dashboard (again is a no-op). */
export async function addViewToDashboard(db: Queryable, dashboardId: number, viewId: number): Promise<Dashboard> {
  const { rows } = await db.query<Dashboard>(
    `select ${DASHBOARD_COLUMNS} from insights_core.dashboard_add_view($1, $2)`,
    [dashboardId, viewId],
  );
  return rows[0]!;
}

/** Takes a view off a dashboard (P0002 when it is not on it). */
export async function removeViewFromDashboard(db: Queryable, dashboardId: number, viewId: number): Promise<Dashboard> {
  const { rows } = await db.query<Dashboard>(
    `select ${DASHBOARD_COLUMNS} from insights_core.dashboard_remove_view($1, $2)`,
    [dashboardId, viewId],
  );
  return rows[0]!;
}
