// The HTTP server: PostGraphile's GraphQL endpoint and GraphiQL, /healthz, CSV exports
// (/export/views/<id>.csv) and the static web/ files.
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type net from 'node:net';
import path from 'node:path';
import { postgraphile } from 'postgraphile';
import { grafserv } from 'postgraphile/grafserv/node';
import type pg from 'pg';
import { projectRoot } from '../project-root.ts';
import type { Logger } from '../logger.ts';
import { errorMessage } from '../logger.ts';
import type { WorkerStatus } from '../worker/start-worker.ts';
import { AuthenticationError, identityFromHeader, issueToken } from '../auth/tokens.ts';
import { checkHealth, publicHealth } from './health.ts';
import { requestLogs } from './request-log.ts';
import { makeMetricsRegistry } from '../metrics/database-metrics.ts';
import { listen } from '../net/listen.ts';
import { EXPORT_PATH, serveViewExport } from './export-route.ts';
import { rememberIdentity } from './request-identity.ts';
import { makePreset, MAX_REQUEST_BYTES } from './postgraphile-preset.ts';
import { DEFAULT_REQUEST_LIMITS, type RequestLimits } from './request-limits.ts';

export interface HttpServerOptions {
  pool: pg.Pool;
  host: string;
  port: number;
  logger: Logger;
  /** Status of the worker running in this process, if any. */
  workerStatus?: () => WorkerStatus;
  jwtSecret: Uint8Array;
  /** Where the git mirrors are (language pie charts are computed from them when read). */
  dataDir: string;
  /**
   * GET /dev/token hands out an admin token for user 1, for the dashboard's dev sign-in. Only for a
   * local setup: the service turns it on with the embedded default database, and it answers
   * requests from this machine only.
   */
  devSignIn?: boolean;
  /** GraphQL request limits, websocket caps and the API roles' statement timeout (defaults otherwise). */
  limits?: Partial<RequestLimits>;
}

export interface HttpServer {
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

const WEB_DIR = path.join(projectRoot, 'web');
/** Files the dashboard loads from npm packages. */
const VENDOR_FILES: Record<string, string> = {
  '/vendor/chart.umd.js': path.join(projectRoot, 'node_modules', 'chart.js', 'dist', 'chart.umd.js'),
};
const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.json': 'application/json',
};

function serveStatic(req: http.IncomingMessage, res: http.ServerResponse): void {
  let urlPath: string;
  try {
    urlPath = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
  } catch {
    res.writeHead(400, { 'content-type': 'text/plain; charset=utf-8' });
    return void res.end('Bad request: malformed URL\n');
  }
  const file = VENDOR_FILES[urlPath] ?? path.join(WEB_DIR, urlPath === '/' ? 'index.html' : urlPath);
  const inside = file.startsWith(WEB_DIR + path.sep) || VENDOR_FILES[urlPath] !== undefined;
  if ((req.method === 'GET' || req.method === 'HEAD') && inside && fs.existsSync(file) && fs.statSync(file).isFile()) {
    res.writeHead(200, { 'content-type': CONTENT_TYPES[path.extname(file)] ?? 'application/octet-stream' });
    if (req.method === 'HEAD') return void res.end();
    fs.createReadStream(file).pipe(res);
    return;
  }
  res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' });
  res.end(`Not found: ${urlPath}\n`);
}

function sendJson(res: http.ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(`${JSON.stringify(body)}\n`);
}

/**
 * The dashboard (web/) loads its own script, style sheet and /vendor/chart.umd.js, and talks to
 * /graphql and /dev/token: nothing inline, nothing from elsewhere. It keeps a token in localStorage,
 * so no injected script may run and no other site may frame it.
 */
const DASHBOARD_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data: blob:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');
/**
 * Ruru (GraphiQL at /graphiql, and at /graphql for a browser) runs an inline configuration script and
 * inline module scripts, sets inline styles, and starts Monaco's web workers from /ruru-static/.
 */
const GRAPHIQL_CSP = [
  "default-src 'self'",
  "script-src 'self' 'unsafe-inline'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob:",
  "font-src 'self' data:",
  "worker-src 'self' blob:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/** Headers of every response: a content security policy, no sniffing, no framing, no referrer. */
function setSecurityHeaders(res: http.ServerResponse, pathname: string): void {
  const graphiql = pathname === '/graphiql' || pathname === '/graphql' || pathname.startsWith('/ruru-static/');
  res.setHeader('content-security-policy', graphiql ? GRAPHIQL_CSP : DASHBOARD_CSP);
  res.setHeader('x-content-type-options', 'nosniff');
  res.setHeader('x-frame-options', 'DENY');
  res.setHeader('referrer-policy', 'no-referrer');
}

const LOOPBACK_ADDRESSES = ['127.0.0.1', '::1', '::ffff:127.0.0.1'];
const LOOPBACK_NAMES = ['localhost', '127.0.0.1', '[::1]'];

/**
 * Why a dev sign-in request is refused, or undefined when it is a browser on this machine asking for
 * this server by a loopback name. Besides the peer address, the Host must be a loopback name with
 * this server's port (a DNS-rebinding page reaches loopback under its own host name), and an Origin
 * or Sec-Fetch-Site header, when present, must say the request comes from this server's own pages
 * (another site, or another local server's page, may not take the token).
 */
function devSignInRefusal(req: http.IncomingMessage, port: number): string | undefined {
  if (!LOOPBACK_ADDRESSES.includes(req.socket.remoteAddress ?? ''))
    return 'dev sign-in is only offered to this machine';
  const host = (req.headers.host ?? '').toLowerCase();
  const hosts = LOOPBACK_NAMES.flatMap((name) => [`${name}:${port}`, ...(port === 80 ? [name] : [])]);
  if (!hosts.includes(host))
    return `dev sign-in answers only requests for this server by a loopback name (Host ${hosts.join(', ')}), not Host ${JSON.stringify(req.headers.host ?? '')}`;
  const origin = req.headers.origin;
  if (origin !== undefined && origin.toLowerCase() !== `http://${host}`)
    return `dev sign-in answers only this server's own pages (Origin http://${host}), not Origin ${JSON.stringify(origin)}`;
  const site = req.headers['sec-fetch-site'];
  if (site !== undefined && site !== 'same-origin' && site !== 'none')
    return `dev sign-in answers only this server's own pages, not a ${JSON.stringify(site)} request (Sec-Fetch-Site)`;
  return undefined;
}

export async function startHttpServer(options: HttpServerOptions): Promise<HttpServer> {
  const { pool, logger } = options;
  const preset = makePreset({ pool, dataDir: options.dataDir, jwtSecret: options.jwtSecret, limits: options.limits });
  const pgl = postgraphile(preset);
  const serv = pgl.createServ(grafserv);
  // Build the schema now, so a schema error stops start-up instead of failing the first request.
  await pgl.getSchema();
  const graphqlHandler = serv.createHandler();

  const metrics = makeMetricsRegistry(pool);
  /** The port listened on (options.port may be 0): dev sign-in checks the Host header against it. */
  let listeningPort = options.port;
  const handle = (req: http.IncomingMessage, res: http.ServerResponse, requestLog: Logger) => {
    const pathname = new URL(req.url ?? '/', 'http://x').pathname;
    const began = performance.now();
    // Probes (health checks, metric scrapes) only at debug level, so they do not drown the log.
    const probe = pathname === '/healthz' || pathname === '/metrics';
    res.once('finish', () =>
      requestLog[probe ? 'debug' : 'info'](
        `${req.method} ${pathname} ${res.statusCode} ${(performance.now() - began).toFixed(1)} ms`,
      ),
    );
    if (pathname === '/metrics') {
      metrics
        .metrics()
        .then((text) => {
          res.writeHead(200, { 'content-type': metrics.contentType });
          res.end(text);
        })
        .catch((error) => {
          requestLog.error(`metrics failed: ${errorMessage(error)}`);
          res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' });
          res.end('metrics failed\n');
        });
      return;
    }
    if (pathname === '/dev/token') {
      if (!options.devSignIn)
        return void sendJson(res, 404, {
          error: 'dev sign-in is off: the server does not run on the embedded default database',
        });
      // Even then, only for a browser on this machine (HOST may be 0.0.0.0) on this server's pages.
      const refusal = devSignInRefusal(req, listeningPort);
      if (refusal) return void sendJson(res, 403, { error: refusal });
      issueToken({ userId: 1, orgIds: [], admin: true, ttl: '12h' }, options.jwtSecret).then(
        (token) => sendJson(res, 200, { token, userId: 1, admin: true }),
        (error) => sendJson(res, 500, { error: errorMessage(error) }),
      );
      return;
    }
    if (pathname === '/healthz') {
      // States for anyone (load balancers, probes); the detail only for an admin token.
      // A probe sending an expired or foreign token still gets the states.
      Promise.all([
        identityFromHeader(req.headers.authorization, options.jwtSecret).catch((error) => {
          if (error instanceof AuthenticationError) return undefined;
          throw error;
        }),
        checkHealth(pool, options.workerStatus?.()),
      ]).then(
        ([identity, report]) => sendJson(res, report.ok ? 200 : 503, identity?.admin ? report : publicHealth(report)),
        (error) => {
          requestLog.error(`health check failed: ${errorMessage(error)}`);
          sendJson(res, 500, { ok: false });
        },
      );
      return;
    }
    const failed = (error: unknown) => {
      requestLog.error(`${req.method} ${req.url} failed: ${errorMessage(error)}`);
      res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' });
      res.end('Internal server error\n');
    };
    const toGraphql = () => graphqlHandler(req, res, (error) => (error ? failed(error) : serveStatic(req, res)));
    const exportMatch = pathname.match(EXPORT_PATH);
    if (exportMatch)
      return void serveViewExport(req, res, Number(exportMatch[1]), {
        pool,
        jwtSecret: options.jwtSecret,
        statementTimeoutMs: options.limits?.statementTimeoutMs ?? DEFAULT_REQUEST_LIMITS.statementTimeoutMs,
      }).catch(failed);
    if (pathname !== '/graphql') return void toGraphql();
    // An oversized body is refused before it is read, with the limit (grafserv would say "Too much data").
    const length = Number(req.headers['content-length'] ?? 0);
    if (length > MAX_REQUEST_BYTES) {
      res.writeHead(413, { 'content-type': 'application/json', connection: 'close' });
      res.end(
        `${JSON.stringify({
          errors: [
            {
              message: `the request body is ${length} bytes; the limit is ${MAX_REQUEST_BYTES} bytes (a query may be up to 4,096 characters)`,
              extensions: { code: 'REQUEST_TOO_LARGE', limit: MAX_REQUEST_BYTES },
            },
          ],
        })}\n`,
      );
      req.resume();
      return;
    }
    // Authenticate before GraphQL: a bad token is a 401 with one clear message and no data.
    identityFromHeader(req.headers.authorization, options.jwtSecret).then(
      (identity) => {
        rememberIdentity(req, identity);
        toGraphql();
      },
      (error) => {
        if (!(error instanceof AuthenticationError)) return failed(error);
        res.writeHead(401, { 'content-type': 'application/json', 'www-authenticate': 'Bearer' });
        res.end(`${JSON.stringify({ errors: [{ message: error.message }] })}\n`);
      },
    );
  };
  const server = http.createServer((req, res) => {
    // Every request gets an id (the caller's X-Request-Id when it is sane), returned in the response
    // and put on each log line about it.
    const given = req.headers['x-request-id'];
    const requestId = typeof given === 'string' && /^[\w.:-]{1,128}$/.test(given) ? given : randomUUID();
    res.setHeader('x-request-id', requestId);
    const requestLog = logger.child('request', { request_id: requestId });
    setSecurityHeaders(res, new URL(req.url ?? '/', 'http://x').pathname);
    // The request's logger follows its async work (GraphQL error masking logs through it).
    requestLogs.run(requestLog, () => handle(req, res, requestLog));
  });

  // Subscriptions: graphql-transport-ws on /graphql (the token goes in the connection params).
  const upgradeHandler = await serv.getUpgradeHandler();
  // At most GRAPHQL_MAX_WEBSOCKETS open at once: past it the handshake gets a 503 that says so.
  const maxWebsockets = options.limits?.maxWebsockets ?? DEFAULT_REQUEST_LIMITS.maxWebsockets;
  let websockets = 0;
  server.on('upgrade', (req, socket, head) => {
    if (!upgradeHandler || !serv.shouldHandleUpgrade(req, socket, head)) return void socket.destroy();
    if (websockets >= maxWebsockets) {
      const body = `${JSON.stringify({
        errors: [
          {
            message: `the server already has ${websockets} websocket connections open; the limit is ${maxWebsockets} (setting GRAPHQL_MAX_WEBSOCKETS): try again later`,
            extensions: { code: 'TOO_MANY_WEBSOCKETS', limit: maxWebsockets, setting: 'GRAPHQL_MAX_WEBSOCKETS' },
          },
        ],
      })}\n`;
      socket.end(
        `HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nretry-after: 5\r\nconnection: close\r\n\r\n${body}`,
      );
      return;
    }
    websockets++;
    socket.once('close', () => websockets--);
    upgradeHandler(req, socket, head);
  });
  const sockets = new Set<net.Socket>();
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });

  const { url, port } = await listen(server, { port: options.port, host: options.host, portSetting: 'PORT' });
  listeningPort = port;

  let closing: Promise<void> | undefined;
  return {
    url,
    port,
    close() {
      closing ??= (async () => {
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeIdleConnections();
          // Requests still running after a grace period are cut off so shutdown never hangs.
          setTimeout(() => {
            for (const socket of sockets) socket.destroy();
          }, 2000).unref();
        });
        await serv.release(); // also releases the PostGraphile instance
        // ...but not the pg service, whose LISTEN client (subscriptions) would keep the pool busy.
        for (const service of preset.pgServices ?? []) await service.release?.();
      })();
      return closing;
    },
  };
}
