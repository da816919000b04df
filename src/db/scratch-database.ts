// A throw-away PostgreSQL for tests and benchmarks: the server of DATABASE_URL when set, otherwise an
// embedded cluster in a temporary directory; databases created on it are migrated and dropped at the end.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Logger } from '../logger.ts';
import { startEmbeddedPostgres } from './embedded-postgres.ts';
import { migrateDatabase } from './migrate.ts';
import { createDatabase, databasesNamed, dropDatabase } from '../store/maintenance.ts';

export interface ScratchServer {
  /** Connection string of the server's maintenance database (for CREATE/DROP DATABASE). */
  adminUrl: string;
  description: string;
  /** Creates (and, by default, migrates) a database named <prefix>_<name>; returns its URL. */
  createDatabase(name: string, options?: { migrate?: boolean }): Promise<string>;
  /** Drops every database this server object created, and stops an embedded cluster. */
  close(): Promise<void>;
}

export function withDatabaseName(connectionString: string, database: string): string {
  const url = new URL(connectionString);
  url.pathname = `/${database}`;
  return url.toString();
}

export async function startScratchServer(options: {
  logger: Logger;
  prefix?: string;
  databaseUrl?: string;
}): Promise<ScratchServer> {
  const prefix = options.prefix ?? `scratch_${randomBytes(4).toString('hex')}`;
  let adminUrl: string;
  let stop = async () => {};
  let description: string;
  if (options.databaseUrl) {
    adminUrl = options.databaseUrl;
    description = `the PostgreSQL server of DATABASE_URL (databases ${prefix}_*)`;
  } else {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'code-insights-scratch-'));
    fs.chmodSync(dir, 0o755); // the postgres OS user (when running as root) must reach it
    const embedded = await startEmbeddedPostgres({
      dataDir: path.join(dir, 'postgres'),
      port: 0,
      database: 'postgres',
      logger: options.logger,
    });
    adminUrl = embedded.connectionString;
    description = `an embedded PostgreSQL on port ${embedded.port}`;
    stop = async () => {
      await embedded.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    };
  }
  return {
    adminUrl,
    description,
    async createDatabase(name, { migrate = true } = {}) {
      const database = `${prefix}_${name}`;
      await createDatabase(adminUrl, database);
      const url = withDatabaseName(adminUrl, database);
      if (migrate) await migrateDatabase({ connectionString: url, logger: options.logger });
      return url;
    },
    async close() {
      try {
        for (const datname of await databasesNamed(adminUrl, prefix)) await dropDatabase(adminUrl, datname);
      } finally {
        await stop();
      }
    },
  };
}
