// The first run: on an empty embedded database, `serve` registers a demo repository and a demo
// dashboard (TODO and FIXME over time, and the languages at HEAD), shared with everyone, so the
// dashboard has a chart as soon as the backfill is done. `serve --no-demo` skips it.
import type pg from 'pg';
import { seedDemoData } from '../store/demo.ts';
import type { Logger } from '../logger.ts';
import { demoRepositoryPath } from './demo-repository.ts';

export const DEMO_REPOSITORY = 'code-insights/demo';

/** Seeds the demo when the database has no repositories and no views; returns whether it did. */
export async function seedDemo(pool: pg.Pool, dataDir: string, logger: Logger): Promise<boolean> {
  const clonePath = demoRepositoryPath(dataDir);
  if (!(await seedDemoData(pool, clonePath, DEMO_REPOSITORY))) return false;
  logger.info(
    `first run: registered ${clonePath} as ${DEMO_REPOSITORY} with a demo dashboard (serve --no-demo skips this)`,
  );
  return true;
}
