// Starts and stops the parts of a Code Insights process in order: database (embedded or external),
// migrations, worker, HTTP server; and stops them in reverse so no job or request loses its
// database mid-flight and no postgres process is left behind.
import type pg from 'pg';
import { resolveJwtSecret } from './auth/jwt-secret.ts';
import type { Config } from './config.ts';
import { migrateDatabase } from './db/migrate.ts';
import { applyUsageLimit } from './db/apply-usage-limit.ts';
import { createPool } from './db/pool.ts';
import { resolveDatabase, type ResolvedDatabase } from './db/resolve-database.ts';
import type { Logger } from './logger.ts';
import { errorMessage } from './logger.ts';
import { type HttpServer, startHttpServer } from './server/http-server.ts';
import { startWorker, type WorkerHandle } from './worker/start-worker.ts';
import { seedDemo } from './demo/seed-demo.ts';
import { rewriteLegacyQueries } from './search/series-plan.ts';
import { type MetricsServer, startMetricsServer } from './metrics/metrics-server.ts';

export interface ServiceOptions {
  config: Config;
  logger: Logger;
  /** Run background jobs in this process. */
  worker: boolean;
  /** Serve GraphQL, /healthz and the web UI. */
  http: boolean;
  /** Apply migrations before starting (serve and worker do; they are idempotent). */
  migrate: boolean;
  /** On an empty embedded database, register a demo repository and dashboard (serve, unless --no-demo). */
  demo?: boolean;
  /** Serve this process's /metrics on METRICS_PORT when it is set (worker, which has no API server). */
  metricsServer?: boolean;
}

export interface Service {
  readonly database: ResolvedDatabase;
  readonly http?: HttpServer;
  readonly worker?: WorkerHandle;
  readonly metrics?: MetricsServer;
  stop(): Promise<void>;
}

export async function startService(options: ServiceOptions): Promise<Service> {
  const { config, logger } = options;
  const database = await resolveDatabase(config, logger);
  let pool: pg.Pool | undefined;
  let workerPool: pg.Pool | undefined;
  let worker: WorkerHandle | undefined;
  let http: HttpServer | undefined;
  let metrics: MetricsServer | undefined;

  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= (async () => {
      const steps: Array<[string, (() => Promise<void>) | undefined]> = [
        ['HTTP server', http?.close],
        ['metrics server', metrics?.close],
        ['worker', worker?.stop],
        ['database pool', pool && (() => pool!.end())],
        ['worker database pool', workerPool && (() => workerPool!.end())],
        ['embedded PostgreSQL', database.stop],
      ];
      for (const [name, step] of steps) {
        if (!step) continue;
        try {
          await step();
        } catch (error) {
          logger.warn(`stopping ${name} failed: ${errorMessage(error)}`);
        }
      }
    })();
    return stopping;
  };

  try {
    // Before the worker, so a taken port fails start-up before any job is taken.
    if (options.metricsServer && config.METRICS_PORT !== undefined) {
      metrics = await startMetricsServer({
        host: config.HOST,
        port: config.METRICS_PORT,
        logger: logger.child('metrics'),
      });
    }
    if (options.migrate)
      await migrateDatabase({ connectionString: database.connectionString, logger: logger.child('migrate') });
    await applyUsageLimit(database.connectionString, config, logger);
    if (options.worker) {
      workerPool = createPool({
        connectionString: database.connectionString,
        logger,
        max: config.WORKER_CONCURRENCY + 2,
        applicationName: 'code-insights-worker',
      });
      // Queries stored in the first syntax get their rewrite before any is counted (the counting
      // paths would also do it, one series at a time).
      const rewritten = await rewriteLegacyQueries(workerPool);
      if (rewritten)
        logger.info(`rewrote ${rewritten} series quer${rewritten === 1 ? 'y' : 'ies'} into the current syntax`);
    }
    if (options.http) {
      pool = createPool({ connectionString: database.connectionString, logger, applicationName: 'code-insights-api' });
    }
    // Before the worker starts: the demo's one transaction adds sync_repo, backfill_new and
    // record_series jobs, an order that could deadlock with a starting worker registering those
    // task identifiers on a fresh database (src/worker/task-list.ts).
    const demoPool = pool ?? workerPool;
    if (options.demo && database.embedded && demoPool) await seedDemo(demoPool, config.DATA_DIR, logger.child('demo'));
    if (workerPool) {
      worker = await startWorker({
        pgPool: workerPool,
        concurrency: config.WORKER_CONCURRENCY,
        logger: logger.child('worker'),
        dataDir: config.DATA_DIR,
        searchTimeoutMs: config.SEARCH_TIMEOUT_SECONDS * 1000,
        backfill: {
          budgetMs: config.BACKFILL_TIME_BUDGET_SECONDS * 1000,
          pageSize: config.BACKFILL_PAGE_SIZE,
          maxSamples: config.MAX_SAMPLES_PER_SERIES,
        },
      });
      worker.promise.catch((error) => logger.error(`worker stopped with an error: ${errorMessage(error)}`));
    }
    if (pool) {
      const status = worker?.status;
      http = await startHttpServer({
        pool,
        host: config.HOST,
        port: config.PORT,
        logger: logger.child('http'),
        workerStatus: status ? () => status : undefined,
        jwtSecret: resolveJwtSecret(config),
        dataDir: config.DATA_DIR,
        // A local setup (the embedded default database) gets the dashboard's dev sign-in.
        devSignIn: database.embedded,
        limits: {
          maxDepth: config.GRAPHQL_MAX_DEPTH,
          maxAliases: config.GRAPHQL_MAX_ALIASES,
          maxFields: config.GRAPHQL_MAX_FIELDS,
          maxQueryLength: config.GRAPHQL_MAX_QUERY_LENGTH,
          maxSubscriptionsPerConnection: config.GRAPHQL_MAX_SUBSCRIPTIONS_PER_CONNECTION,
          maxSubscriptions: config.GRAPHQL_MAX_SUBSCRIPTIONS,
          maxWebsockets: config.GRAPHQL_MAX_WEBSOCKETS,
          statementTimeoutMs: config.API_STATEMENT_TIMEOUT_SECONDS * 1000,
        },
      });
    }
  } catch (error) {
    await stop();
    throw error;
  }
  return { database, http, worker, metrics, stop };
}
