// GET /export/views/<id>.csv: a view's CSV (src/export/view-csv.ts) for the bearer of the token,
// under the same rules as GraphQL: no token is anonymous, a bad one is a 401, and the query runs as
// the API role with the token's claims, so a view you may not see is a 404 that reveals nothing.
import type http from 'node:http';
import type pg from 'pg';
import { AuthenticationError, identityFromHeader, pgSettingsFor } from '../auth/tokens.ts';
import { writeViewCsv } from '../export/view-csv.ts';
import { withTransaction } from '../store/transaction.ts';
import { applyRequestSettings } from '../store/requester.ts';
import { viewIsVisible } from '../store/view-export.ts';

export const EXPORT_PATH = /^\/export\/views\/(\d{1,9})\.csv$/;

export interface ExportRouteOptions {
  pool: pg.Pool;
  jwtSecret: Uint8Array;
  /** A GraphQL request's statement_timeout (API_STATEMENT_TIMEOUT_SECONDS); an export's get four times it. */
  statementTimeoutMs?: number;
}

function sendText(res: http.ServerResponse, status: number, message: string, headers: http.OutgoingHttpHeaders = {}) {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', ...headers });
  res.end(`${message}\n`);
}

export async function serveViewExport(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  viewId: number,
  options: ExportRouteOptions,
): Promise<void> {
  if (req.method !== 'GET' && req.method !== 'HEAD') return sendText(res, 405, 'use GET', { allow: 'GET, HEAD' });
  let settings: Record<string, string>;
  try {
    // An export sorts all of a view's points in its first fetch: four times a request's statement limit.
    settings = pgSettingsFor(await identityFromHeader(req.headers.authorization, options.jwtSecret), {
      statementTimeoutMs: options.statementTimeoutMs ? options.statementTimeoutMs * 4 : undefined,
    });
  } catch (error) {
    if (error instanceof AuthenticationError)
      return sendText(res, 401, error.message, { 'www-authenticate': 'Bearer' });
    throw error;
  }
  try {
    const found = await withTransaction(
      options.pool,
      async (client) => {
        await applyRequestSettings(client, settings);
        if (!(await viewIsVisible(client, viewId))) return false;
        res.writeHead(200, {
          'content-type': 'text/csv; charset=utf-8',
          'content-disposition': `attachment; filename="insight-view-${viewId}.csv"`,
        });
        if (req.method === 'GET') {
          await writeViewCsv(client, viewId, (chunk) =>
            res.write(chunk) ? undefined : new Promise((resolve) => res.once('drain', resolve)),
          );
        }
        return true;
      },
      { readOnly: true },
    );
    // Ended only after the commit: a failed commit must cut the CSV off, too.
    if (!found) return sendText(res, 404, `no insight view ${viewId} that you may see`);
    res.end();
  } catch (error) {
    if (!res.headersSent) {
      if ((error as { code?: string }).code === '57014')
        return sendText(
          res,
          503,
          'the export ran longer than the statement limit (setting API_STATEMENT_TIMEOUT_SECONDS)',
        );
      return sendText(res, 500, 'export failed');
    }
    res.destroy(error as Error); // a cut-off CSV must not look complete
  }
}
