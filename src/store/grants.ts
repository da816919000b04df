// Grants on views and dashboards, for the CLI (a DBA). Writes call the core writers the API's grant
// mutations call: one grantee checked, granting twice changes nothing, a dashboard's change bumps
// its last_updated_at.
import type { Queryable } from './queryable.ts';

/** Exactly one of them names the grantee (the core refuses anything else with 22023). */
export interface Grantee {
  userId: number | null;
  orgId: number | null;
  isGlobal: boolean;
}

interface GrantColumns {
  id: number;
  user_id: number | null;
  org_id: number | null;
  /** true for everyone, else null. */
  global: boolean | null;
}

export interface ViewGrant extends GrantColumns {
  insight_view_id: number;
}

export interface DashboardGrant extends GrantColumns {
  dashboard_id: number;
}

/** The grants of a view, by id. */
export async function listViewGrants(db: Queryable, viewId: number): Promise<ViewGrant[]> {
  const { rows } = await db.query<ViewGrant>(
    `select id, insight_view_id, user_id, org_id, global
       from insight_view_grants where insight_view_id = $1 order by id`,
    [viewId],
  );
  return rows;
}

/** The grants of a dashboard, by id. */
export async function listDashboardGrants(db: Queryable, dashboardId: number): Promise<DashboardGrant[]> {
  const { rows } = await db.query<DashboardGrant>(
    'select id, dashboard_id, user_id, org_id, global from dashboard_grants where dashboard_id = $1 order by id',
    [dashboardId],
  );
  return rows;
}

/** Shares a view; returns the new grant, or the existing one that says the same. */
export async function addViewGrant(db: Queryable, viewId: number, to: Grantee): Promise<ViewGrant> {
  const { rows } = await db.query<ViewGrant>(
    `select id, insight_view_id, user_id, org_id, global from insights_core.insight_view_grant_add($1, $2, $3, $4)`,
    [viewId, to.userId, to.orgId, to.isGlobal],
  );
  return rows[0]!;
}

/** Shares a dashboard; returns the new grant, or the existing one that says the same. */
export async function addDashboardGrant(db: Queryable, dashboardId: number, to: Grantee): Promise<DashboardGrant> {
  const { rows } = await db.query<DashboardGrant>(
    `select id, dashboard_id, user_id, org_id, global from insights_core.dashboard_grant_add($1, $2, $3, $4)`,
    [dashboardId, to.userId, to.orgId, to.isGlobal],
  );
  return rows[0]!;
}

/** Removes a view grant and returns it (P0002 when there is none). */
export async function removeViewGrant(db: Queryable, grantId: number): Promise<ViewGrant> {
  const { rows } = await db.query<ViewGrant>(
    'select id, insight_view_id, user_id, org_id, global from insights_core.insight_view_grant_remove($1)',
    [grantId],
  );
  return rows[0]!;
}

/** Removes a dashboard grant and returns it (P0002 when there is none). */
export async function removeDashboardGrant(db: Queryable, grantId: number): Promise<DashboardGrant> {
  const { rows } = await db.query<DashboardGrant>(
    'select id, dashboard_id, user_id, org_id, global from insights_core.dashboard_grant_remove($1)',
    [grantId],
  );
  return rows[0]!;
}
