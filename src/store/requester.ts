// Acting as an API requester outside PostGraphile (the CSV export route, bench:api): the role and
// token claims of the session, so row-level security applies as it does in GraphQL.
import type pg from 'pg';

/**
 * Sets the settings (role, jwt.claims.*) for the rest of the caller's transaction: on a client in a
 * transaction, never the pool (the settings would land on a connection that is then handed back).
 */
export async function applyRequestSettings(db: pg.ClientBase, settings: Record<string, string>): Promise<void> {
  await db.query('select set_config(name, value, true) from unnest($1::text[], $2::text[]) as s(name, value)', [
    Object.keys(settings),
    Object.values(settings),
  ]);
}
