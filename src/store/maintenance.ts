// Server-level statements: the version, databases, and the lock that serializes migrations.
import type pg from 'pg';
import type { Queryable } from './queryable.ts';
import { queryOnce } from './query-once.ts';

/** Advisory lock key of "a Code Insights process is migrating this database". */
const MIGRATION_LOCK = 7263_0001;

/** The server's version number, for example 150020. */
export async function serverVersionNumber(db: Queryable): Promise<number> {
  const { rows } = await db.query<{ version: string }>(`select current_setting('server_version_num') as version`);
  return Number(rows[0]!.version);
}

/** Creates a database on the server of `db` (a connection to another database) unless it exists. */
export async function ensureDatabaseExists(db: pg.ClientBase, database: string): Promise<void> {
  const { rowCount } = await db.query('select 1 from pg_database where datname = $1', [database]);
  if (!rowCount) await db.query(`create database ${db.escapeIdentifier(database)}`);
}

/**
 * Waits (up to 10 minutes) for the session's migration lock: one process migrates at a time. The
 * lock is held until the session ends.
 */
export async function takeMigrationLock(db: pg.ClientBase): Promise<void> {
  await db.query(`set lock_timeout = '10min'`);
  await db.query('select pg_advisory_lock($1)', [MIGRATION_LOCK]).catch((error: { code?: string }) => {
    throw error.code === '55P03'
      ? new Error('migration failed: another process has been migrating this database for 10 minutes')
      : error;
  });
}

/** Creates a database, connecting to the server's maintenance database `adminUrl`. */
export async function createDatabase(adminUrl: string, database: string): Promise<void> {
  await queryOnce(adminUrl, `create database "${database.replace(/"/g, '""')}"`);
}

/** Names of the databases starting with `prefix` followed by an underscore. */
export async function databasesNamed(adminUrl: string, prefix: string): Promise<string[]> {
  const { rows } = await queryOnce<{ datname: string }>(
    adminUrl,
    `select datname from pg_database where starts_with(datname, $1)`,
    [`${prefix}_`],
  );
  return rows.map((row) => row.datname);
}

export async function dropDatabase(adminUrl: string, database: string): Promise<void> {
  await queryOnce(adminUrl, `drop database if exists "${database.replace(/"/g, '""')}" with (force)`);
}
