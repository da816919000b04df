// The first-run demo (insights_core.seed_demo): one call, written by the core creators.
import type { Queryable } from './queryable.ts';

/** Seeds the demo on an empty database; false when the database already holds something. */
export async function seedDemoData(db: Queryable, cloneUrl: string, repositoryName: string): Promise<boolean> {
  const { rows } = await db.query<{ seeded: boolean }>('select insights_core.seed_demo($1, $2) as seeded', [
    cloneUrl,
    repositoryName,
  ]);
  return rows[0]!.seeded;
}
