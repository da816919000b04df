// Runs work in one transaction on a client of the pool: committed when it returns, rolled back when
// it throws (the error is rethrown), and the client released either way.
import type pg from 'pg';

export interface TransactionOptions {
  readOnly?: boolean;
}

export async function withTransaction<T>(
  pool: pg.Pool,
  work: (client: pg.PoolClient) => Promise<T>,
  options: TransactionOptions = {},
): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query(options.readOnly ? 'begin read only' : 'begin');
    const result = await work(client);
    await client.query('commit');
    return result;
  } catch (error) {
    await client.query('rollback').catch(() => {});
    throw error;
  } finally {
    client.release();
  }
}
