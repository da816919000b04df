// The first run: on an empty embedded database, `serve` registers a demo repository and a demo
// dashboard (TODO and FIXME over time, and the languages at HEAD), shared with everyone, so the
// dashboard has a chart as soon as the backfill is done. `serve --no-demo` skips it.
import type pg from 'pg';
import { withTransaction } from '../db/with-transaction.ts';
import type { Logger } from '../logger.ts';
import { demoRepositoryPath } from './demo-repository.ts';

export const DEMO_REPOSITORY = 'code-insights/demo';

/** Seeds the demo when the database has no repositories and no views; returns whether it did. */
export async function seedDemo(pool: pg.Pool, dataDir: string, logger: Logger): Promise<boolean> {
  const seeded = await withTransaction(pool, async (client) => {
    // One process at a time, and only on an empty database.
    await client.query(`select pg_advisory_xact_lock(hashtext('code-insights demo'))`);
    const { rows } = await client.query<{ empty: boolean }>(
      'select not exists (select 1 from repositories) and not exists (select 1 from insight_view) as empty',
    );
    if (!rows[0]!.empty) return null;
    const clonePath = demoRepositoryPath(dataDir);
    await client.query('select register_repository($1, $2)', [clonePath, DEMO_REPOSITORY]);
    const line = await client.query<{ id: number }>(
      `select id from create_line_insight('TODO and FIXME (demo)',
         '[{"query": "TODO", "label": "TODO", "stroke": "#2f6fde"}, {"query": "FIXME", "label": "FIXME", "stroke": "#e8590c"}]',
         array[$1], null, 'WEEK', 1, now() - interval '26 weeks')`,
      [DEMO_REPOSITORY],
    );
    const pie = await client.query<{ id: number }>(
      `insert into insight_view (title, unique_id, presentation_type, other_threshold)
         values ('Languages at HEAD (demo)', gen_random_uuid()::text, 'PIE', 0.02) returning id`,
    );
    await client.query(
      `select set_insight_view_series(v, '[{"query": "lang:*", "label": "Languages"}]', array[$2], null, 'DAY', 1, now() - interval '1 day', true)
         from insight_view v where v.id = $1`,
      [pie.rows[0]!.id, DEMO_REPOSITORY],
    );
    await client.query(`insert into insight_view_grants (insight_view_id, global) values ($1, true)`, [pie.rows[0]!.id]);
    const dashboard = await client.query<{ id: number }>(`insert into dashboard (title) values ('Demo') returning id`);
    await client.query(`insert into dashboard_grants (dashboard_id, global) values ($1, true)`, [dashboard.rows[0]!.id]);
    await client.query(
      `insert into dashboard_insight_view (dashboard_id, insight_view_id) values ($1, $2), ($1, $3)`,
      [dashboard.rows[0]!.id, line.rows[0]!.id, pie.rows[0]!.id],
    );
    return clonePath;
  });
  if (seeded === null) return false;
  logger.info(`first run: registered ${seeded} as ${DEMO_REPOSITORY} with a demo dashboard (serve --no-demo skips this)`);
  return true;
}
