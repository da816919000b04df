// For short-lived commands: a pool on the configured database (attaching to the embedded cluster of
// a running `serve`, or starting it for the duration of the command), closed afterwards.
import type pg from 'pg';
import type { Config } from '../config.ts';
import { createPool } from '../db/pool.ts';
import { resolveDatabase } from '../db/resolve-database.ts';
import type { Logger } from '../logger.ts';

export async function withDatabase<T>(config: Config, logger: Logger, work: (pool: pg.Pool) => Promise<T>): Promise<T> {
  const database = await resolveDatabase(config, logger, { attach: true });
  const pool = createPool({
    connectionString: database.connectionString,
    logger,
    max: 4,
    applicationName: 'code-insights-cli',
  });
  try {
    return await work(pool);
  } finally {
    await pool.end();
    await database.stop();
  }
}
