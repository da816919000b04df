// Per-test-file databases, cloned from the migrated template that test/run.ts prepares.
import { randomBytes } from 'node:crypto';
import type { ExecutionContext } from 'ava';
import pg from 'pg';
import { queryOnce, withDatabaseName } from './sql.ts';

export interface TestDatabase {
  name: string;
  connectionString: string;
  pool: pg.Pool;
}

function env(name: string): string {
  const value = process.env[name];
  if (!value)
    throw new Error(`${name} is not set: run the tests with \`npm test\` (test/run.ts prepares the database)`);
  return value;
}

export const adminUrl = () => env('TEST_ADMIN_URL');

export const urlForDatabase = (database: string) => withDatabaseName(adminUrl(), database);

export const adminQuery = (sql: string, values?: unknown[]) => queryOnce(adminUrl(), sql, values);

/** A fresh database with the full schema; `template: false` gives an empty one. */
export async function createTestDatabase(
  options: { template?: boolean } = {},
): Promise<{ name: string; connectionString: string }> {
  const name = `${env('TEST_RUN_ID')}_${randomBytes(4).toString('hex')}`;
  const template = options.template === false ? 'template0' : env('TEST_TEMPLATE_DB');
  for (let attempt = 0; ; attempt++) {
    try {
      await adminQuery(`create database ${name} template ${template}`);
      break;
    } catch (error) {
      // 55006: another session is copying the same template at this moment.
      if ((error as { code?: string }).code !== '55006' || attempt > 50) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100 + Math.random() * 200));
    }
  }
  return { name, connectionString: urlForDatabase(name) };
}

export async function dropTestDatabase(name: string): Promise<void> {
  await adminQuery(`drop database if exists ${name} with (force)`);
}

/** A database for one test, with a pool; both are cleaned up when the test ends. */
export async function useTestDatabase(
  t: ExecutionContext,
  options: { template?: boolean } = {},
): Promise<TestDatabase> {
  const db = await createTestDatabase(options);
  const pool = new pg.Pool({ connectionString: db.connectionString, max: 4 });
  pool.on('error', () => {});
  t.teardown(async () => {
    await pool.end();
    await dropTestDatabase(db.name);
  });
  return { ...db, pool };
}
