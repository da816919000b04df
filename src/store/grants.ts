// Grants on views and dashboards, for the CLI (a DBA). Writes call the core writers the API's grant
// mutations call: one grantee checked, granting twice changes nothing (again with another role sets
// the role), a dashboard's change bumps its last_updated_at.
import type { Queryable } from './queryable.ts';

/** Exactly one of them names the grantee (the core refuses anything else with 22023). */
export interface Grantee {
  userId: number | null;
  orgId: number | null;
  isGlobal: boolean;
}

/** What a grant lets its grantee do (migration 000022): read, also change and share, also delete and revoke. */
export const GRANT_ROLES = ['viewer', 'editor', 'owner'] as const;
export type GrantRole = (typeof GRANT_ROLES)[number];

interface GrantColumns {
  id: number;
  user_id: number | null;
  org_id: number | null;
  /** true for everyone, else null. */
  global: boolean | null;
  role: GrantRole;
}

export interface ViewGrant extends GrantColumns {
  insight_view_id: number;
}

export interface DashboardGrant extends GrantColumns {
  dashboard_id: number;
}

/** A removed grant: its role went with it. */
export type RemovedGrant<G extends GrantColumns> = Omit<G, 'role'>;

/** The grants of a view, by id. */
export async function listViewGrants(db: Queryable, viewId: number): Promise<ViewGrant[]> {
  const { rows } = await db.query<ViewGrant>(
    `select id, insight_view_id, user_id, org_id, global, insight_view_grants_role(g) as role
       from insight_view_grants g where insight_view_id = $1 order by id`,
    [viewId],
  );
  return rows;
}

/** The grants of a dashboard, by id. */
export async function listDashboardGrants(db: Queryable, dashboardId: number): Promise<DashboardGrant[]> {
  const { rows } = await db.query<DashboardGrant>(
    `select id, dashboard_id, user_id, org_id, global, dashboard_grants_role(g) as role
       from dashboard_grants g where dashboard_id = $1 order by id`,
    [dashboardId],
  );
  return rows;
}

/** Shares a view in a role; returns the new grant, or the existing one (with the role set). */
export async function addViewGrant(db: Queryable, viewId: number, to: Grantee, role: GrantRole): Promise<ViewGrant> {
  const { rows } = await db.query<ViewGrant>(
    // The role is the one asked for (the writer sets it; a stable function here would not see it yet).
    `select id, insight_view_id, user_id, org_id, global, $5::text as role
       from insights_core.insight_view_grant_add($1, $2, $3, $4, $5)`,
    [viewId, to.userId, to.orgId, to.isGlobal, role],
  );
  return rows[0]!;
}

/** Shares a dashboard in a role; returns the new grant, or the existing one (with the role set). */
export async function addDashboardGrant(
  db: Queryable,
  dashboardId: number,
  to: Grantee,
  role: GrantRole,
): Promise<DashboardGrant> {
  const { rows } = await db.query<DashboardGrant>(
    `select id, dashboard_id, user_id, org_id, global, $5::text as role
       from insights_core.dashboard_grant_add($1, $2, $3, $4, $5)`,
    [dashboardId, to.userId, to.orgId, to.isGlobal, role],
  );
  return rows[0]!;
}

/** Removes a view grant and returns it (P0002 when there is none). */
export async function removeViewGrant(db: Queryable, grantId: number): Promise<RemovedGrant<ViewGrant>> {
  const { rows } = await db.query<RemovedGrant<ViewGrant>>(
    'select id, insight_view_id, user_id, org_id, global from insights_core.insight_view_grant_remove($1)',
    [grantId],
  );
  return rows[0]!;
}

/** Removes a dashboard grant and returns it (P0002 when there is none). */
export async function removeDashboardGrant(db: Queryable, grantId: number): Promise<RemovedGrant<DashboardGrant>> {
  const { rows } = await db.query<RemovedGrant<DashboardGrant>>(
    'select id, dashboard_id, user_id, org_id, global from insights_core.dashboard_grant_remove($1)',
    [grantId],
  );
  return rows[0]!;
}
