// The real HTTP server on a free port against a test database, closed when the test ends, and a
// GraphQL request helper that sends a token when given one.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ExecutionContext } from 'ava';
import { createPool } from '../../src/db/pool.ts';
import { createLogger } from '../../src/logger.ts';
import { type HttpServer, startHttpServer } from '../../src/server/http-server.ts';
import type { WorkerStatus } from '../../src/worker/start-worker.ts';

export interface TestServerOptions {
  jwtSecret: Uint8Array;
  workerStatus?: () => WorkerStatus;
  /** The mirrors' directory (a test worker's dataDir); an empty temporary one by default. */
  dataDir?: string;
  /** Offer GET /dev/token (as `serve` does on the embedded database). */
  devSignIn?: boolean;
}

export async function startTestServer(
  t: ExecutionContext,
  connectionString: string,
  options: TestServerOptions,
): Promise<HttpServer> {
  const logger = createLogger({ level: 'error', write: () => {} });
  const pool = createPool({ connectionString, logger, max: 4 });
  const dataDir = options.dataDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'ci-server-'));
  if (!options.dataDir) t.teardown(() => fs.rmSync(dataDir, { recursive: true, force: true }));
  const server = await startHttpServer({ pool, host: '127.0.0.1', port: 0, logger, ...options, dataDir });
  t.teardown(async () => {
    await server.close();
    await pool.end();
  });
  return server;
}

export interface GraphqlResponse {
  status: number;
  body: { data?: any; errors?: Array<{ message: string; extensions?: { code?: string; [key: string]: unknown } }> };
}

export async function postGraphql(
  serverUrl: string,
  query: string,
  token?: string,
  variables?: Record<string, unknown>,
): Promise<GraphqlResponse> {
  const response = await fetch(`${serverUrl}/graphql`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/json',
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: JSON.stringify({ query, variables }),
  });
  return { status: response.status, body: (await response.json()) as GraphqlResponse['body'] };
}
