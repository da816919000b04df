// One query on its own connection (no pool): for maintenance statements such as CREATE DATABASE.
import pg from 'pg';

export async function queryOnce<R extends pg.QueryResultRow = any>(
  connectionString: string,
  text: string,
  values?: unknown[],
) {
  const client = new pg.Client({ connectionString });
  await client.connect();
  try {
    return await client.query<R>(text, values);
  } finally {
    await client.end();
  }
}
