// Decides which PostgreSQL the process uses: DATABASE_URL when set, otherwise the embedded cluster
// in DATA_DIR/postgres. Either way the server is checked to be reachable and recent enough.
import path from 'node:path';
import { type Config, DEFAULT_EMBEDDED_PG_PORT } from '../config.ts';
import type { Logger } from '../logger.ts';
import { embeddedConnectionString, findRunningCluster, startEmbeddedPostgres } from './embedded-postgres.ts';
import { redact, waitForDatabase } from './wait-for-database.ts';

/** PostgreSQL 15 is the oldest supported server (unique indexes use NULLS NOT DISTINCT). */
export const MIN_SERVER_VERSION = 150000;

export interface ResolvedDatabase {
  connectionString: string;
  /** For messages: the connection string without its password, and where it lives. */
  description: string;
  embedded: boolean;
  /** Stops the embedded cluster; a no-op for an external database. */
  stop(): Promise<void>;
}

export interface ResolveDatabaseOptions {
  /**
   * Use the embedded cluster of DATA_DIR if another process (a running `serve`) has it up, instead
   * of refusing. Short-lived commands (repos, insight, migrate) attach; `serve` owns its cluster.
   */
  attach?: boolean;
}

export async function resolveDatabase(
  config: Config,
  logger: Logger,
  options: ResolveDatabaseOptions = {},
): Promise<ResolvedDatabase> {
  if (config.DATABASE_URL) {
    const version = await waitForDatabase({ connectionString: config.DATABASE_URL });
    checkVersion(version);
    return {
      connectionString: config.DATABASE_URL,
      description: redact(config.DATABASE_URL),
      embedded: false,
      stop: async () => {},
    };
  }
  const dataDir = path.join(config.DATA_DIR, 'postgres');
  const running = options.attach ? findRunningCluster(dataDir) : undefined;
  if (running) {
    const connectionString = embeddedConnectionString(dataDir, running.port, 'code_insights');
    await waitForDatabase({ connectionString });
    return {
      connectionString,
      description: `${redact(connectionString)} (embedded, run by process ${running.pid}; data in ${dataDir})`,
      embedded: true,
      stop: async () => {},
    };
  }
  const embedded = await startEmbeddedPostgres({
    dataDir,
    port: config.EMBEDDED_PG_PORT,
    preferredPort: DEFAULT_EMBEDDED_PG_PORT,
    database: 'code_insights',
    logger: logger.child('postgres'),
  });
  try {
    checkVersion(await waitForDatabase({ connectionString: embedded.connectionString }));
  } catch (error) {
    await embedded.stop();
    throw error;
  }
  return {
    connectionString: embedded.connectionString,
    description: `${redact(embedded.connectionString)} (embedded; data in ${dataDir}, password in ${path.join(config.DATA_DIR, 'postgres.password')})`,
    embedded: true,
    stop: embedded.stop,
  };
}

function checkVersion(version: number): void {
  if (version < MIN_SERVER_VERSION) {
    throw new Error(`PostgreSQL ${Math.floor(version / 10000)} is too old: Code Insights needs PostgreSQL 15 or newer`);
  }
}
