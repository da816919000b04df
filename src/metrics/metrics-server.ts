// A /metrics-only HTTP endpoint for a `worker` process, which has no API server: it exposes this
// process's counters (jobs by task and outcome, blobs read, cache hits, bytes searched). Queue and
// backfill gauges are database-wide, so they stay on the API's /metrics and are not repeated here.
import http from 'node:http';
import type { Logger } from '../logger.ts';
import { errorMessage } from '../logger.ts';
import { listen } from '../net/listen.ts';
import { processRegistry } from './process-metrics.ts';

export interface MetricsServerOptions {
  host: string;
  port: number;
  logger: Logger;
}

export interface MetricsServer {
  readonly url: string;
  close(): Promise<void>;
}

export async function startMetricsServer(options: MetricsServerOptions): Promise<MetricsServer> {
  const server = http.createServer((req, res) => {
    const pathname = new URL(req.url ?? '/', 'http://localhost').pathname;
    if (pathname !== '/metrics' || (req.method !== 'GET' && req.method !== 'HEAD')) {
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' });
      res.end('not found: this port serves GET /metrics only\n');
      return;
    }
    processRegistry.metrics().then(
      (text) => {
        res.writeHead(200, { 'content-type': processRegistry.contentType });
        res.end(req.method === 'HEAD' ? undefined : text);
      },
      (error) => {
        options.logger.error(`metrics failed: ${errorMessage(error)}`);
        res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' });
        res.end('metrics failed\n');
      },
    );
  });
  // Scrapes are short; a keep-alive connection must not hold shutdown open.
  server.keepAliveTimeout = 1000;
  const { url } = await listen(server, { port: options.port, host: options.host, portSetting: 'METRICS_PORT' });
  return {
    url: `${url}/metrics`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
