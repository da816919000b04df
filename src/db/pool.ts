// The service's pg.Pool. Errors on idle clients (for example the server restarting) are logged
// rather than crashing the process; queries in flight still reject normally.
import pg from 'pg';
import type { Logger } from '../logger.ts';
import { errorMessage } from '../logger.ts';

export interface PoolOptions {
  connectionString: string;
  logger: Logger;
  max?: number;
  applicationName?: string;
}

export function createPool({
  connectionString,
  logger,
  max = 10,
  applicationName = 'code-insights',
}: PoolOptions): pg.Pool {
  const pool = new pg.Pool({
    connectionString,
    max,
    application_name: applicationName,
    connectionTimeoutMillis: 10_000,
  });
  pool.on('error', (error) => {
    // 57P01: the server is shutting down (expected when the embedded database stops last).
    const level = (error as { code?: string }).code === '57P01' ? 'debug' : 'warn';
    logger[level](`idle database connection failed: ${errorMessage(error)}`);
  });
  pool.on('connect', (client) =>
    client.on('error', (error) => logger.debug(`database connection error: ${errorMessage(error)}`)),
  );
  return pool;
}
