// Connects to the configured database with a bounded wait, so an unreachable or misnamed database
// is a clear error within seconds rather than a hang.
import pg from 'pg';
import { errorMessage } from '../logger.ts';
import { serverVersionNumber } from '../store/maintenance.ts';

export interface WaitForDatabaseOptions {
  connectionString: string;
  timeoutMs?: number;
}

/** Returns the server's version number (for example 150020) once a connection succeeds. */
export async function waitForDatabase({
  connectionString,
  timeoutMs = 15_000,
}: WaitForDatabaseOptions): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    const client = new pg.Client({
      connectionString,
      connectionTimeoutMillis: Math.max(1000, Math.min(5000, deadline - Date.now())),
    });
    client.on('error', () => {});
    try {
      await client.connect();
      return await serverVersionNumber(client);
    } catch (error) {
      lastError = error;
      // Wrong credentials or a missing database will not fix themselves: fail at once.
      const code = (error as { code?: string }).code;
      if (code === '28P01' || code === '28000' || code === '3D000') break;
      await new Promise((resolve) => setTimeout(resolve, 500));
    } finally {
      await client.end().catch(() => {});
    }
  }
  throw new Error(`cannot connect to the database at ${redact(connectionString)}: ${errorMessage(lastError)}`);
}

/** Query parameters of a PostgreSQL URL that carry a secret (libpq's and pg's names). */
const SECRET_PARAMETERS = ['password', 'sslpassword'];

/** The connection string with its passwords replaced (user info and ?password=), for messages and logs. */
export function redact(connectionString: string): string {
  try {
    const url = new URL(connectionString);
    if (url.password) url.password = '***';
    for (const name of [...url.searchParams.keys()])
      if (SECRET_PARAMETERS.includes(name.toLowerCase())) url.searchParams.set(name, '***');
    return url.toString().replaceAll('%2A%2A%2A', '***');
  } catch {
    return '(unparseable connection string)';
  }
}
