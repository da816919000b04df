// Acting as an API requester outside PostGraphile (the CSV export route, bench:api): the role and
// token claims of the session, so row-level security applies as it does in GraphQL.
import type { Queryable } from './queryable.ts';

/** Sets the settings (role, jwt.claims.*) for the rest of the caller's transaction. */
export async function applyRequestSettings(db: Queryable, settings: Record<string, string>): Promise<void> {
  await db.query('select set_config(name, value, true) from unnest($1::text[], $2::text[]) as s(name, value)', [
    Object.keys(settings),
    Object.values(settings),
  ]);
}
