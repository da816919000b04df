// One-off queries on a connection string, and database URLs derived from another.
export { queryOnce } from '../../src/store/query-once.ts';
export { withDatabaseName } from '../../src/db/scratch-database.ts';
