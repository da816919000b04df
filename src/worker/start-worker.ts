// Starts a Graphile Worker runner with the project's tasks and crontab, and keeps a small status
// record for /healthz. Signals are handled by the service (stop order matters), not by the runner.
import os from 'node:os';
import path from 'node:path';
import { EventEmitter } from 'node:events';
import { Logger as WorkerLogger, run, type Runner, type WorkerEvents } from 'graphile-worker';
import type pg from 'pg';
import type { Logger } from '../logger.ts';
import { redactCredentials } from '../git/redact-credentials.ts';
import { TreeCache } from '../git/tree-cache.ts';
import { removeAbandonedClones } from '../git/mirror.ts';
import { BlobCountCache } from '../search/blob-count-cache.ts';
import { makeTaskList } from './task-list.ts';
import { workerCrontab } from '../store/worker-processes.ts';
import { registerWorkerProcess } from './worker-registry.ts';
import { jobDuration } from '../metrics/process-metrics.ts';

export type WorkerState = 'starting' | 'running' | 'stopping' | 'stopped' | 'failed';

export interface WorkerStatus {
  state: WorkerState;
  concurrency: number;
  hostname: string;
  startedAt?: string;
  jobsSucceeded: number;
  jobsFailed: number;
  lastJobAt?: string;
  lastError?: string;
}

export interface StartWorkerOptions {
  pgPool: pg.Pool;
  concurrency: number;
  logger: Logger;
  /** Where repository mirrors live (DATA_DIR). */
  dataDir: string;
  searchTimeoutMs: number;
  backfill: { budgetMs: number; pageSize: number; maxSamples: number };
  /** Heartbeat and dead-worker sweep intervals (tests shorten them). */
  registry?: { heartbeatMs?: number; sweepMs?: number; staleAfterSeconds?: number };
  /** Poll interval for future-scheduled jobs; new jobs arrive by LISTEN/NOTIFY at once. */
  pollIntervalMs?: number;
}

export interface WorkerHandle {
  readonly status: WorkerStatus;
  stop(): Promise<void>;
  /** Settles when the runner stops, rejecting if it failed. */
  readonly promise: Promise<void>;
}

/**
 * A failed job's message as the status keeps it: credentials replaced (a git error carries the clone
 * URL, which may hold an access token) and bounded, since /healthz shows it to admins.
 */
function lastErrorText(error: unknown): string {
  const text = redactCredentials(error instanceof Error ? error.message : String(error));
  return text.length > 1000 ? `${text.slice(0, 1000)}…` : text;
}

function toWorkerLogger(logger: Logger): WorkerLogger {
  return new WorkerLogger(() => (level, message) => {
    if (level === 'error') logger.error(message);
    else if (level === 'warning') logger.warn(message);
    else if (level === 'info') logger.info(message);
    else logger.debug(message);
  });
}

export async function startWorker(options: StartWorkerOptions): Promise<WorkerHandle> {
  const status: WorkerStatus = {
    state: 'starting',
    concurrency: options.concurrency,
    hostname: os.hostname(),
    jobsSucceeded: 0,
    jobsFailed: 0,
  };
  const registration = await registerWorkerProcess({
    pool: options.pgPool,
    logger: options.logger,
    ...options.registry,
  });
  // Clones and re-clones a killed process left half done would otherwise stay on disk forever.
  const abandoned = removeAbandonedClones(path.join(options.dataDir, 'mirrors'));
  if (abandoned.length) options.logger.info(`removed ${abandoned.length} abandoned clone(s): ${abandoned.join(', ')}`);
  const events: WorkerEvents = new EventEmitter();
  events.on('pool:create', ({ workerPool }) => {
    registration.addGraphileWorkerId(workerPool.id).catch(() => {});
  });
  const runner: Runner = await run({
    events,
    pgPool: options.pgPool,
    concurrency: options.concurrency,
    noHandleSignals: true,
    pollInterval: options.pollIntervalMs ?? 2000,
    // Running jobs are told to stop at once: a backfill step leaves its page (committed pages stay)
    // rather than search on while the grace period runs out.
    gracefulShutdownAbortTimeout: 0,
    taskList: makeTaskList({
      pool: options.pgPool,
      dataDir: options.dataDir,
      searchTimeoutMs: options.searchTimeoutMs,
      cache: new BlobCountCache({ pool: options.pgPool }),
      trees: new TreeCache(),
      workerId: registration.id,
      backfillBudgetMs: options.backfill.budgetMs,
      backfillPageSize: options.backfill.pageSize,
      maxSamples: options.backfill.maxSamples,
    }),
    // The recurring work is defined once, in insights_core.recurring_tasks.
    crontab: await workerCrontab(options.pgPool),
    logger: toWorkerLogger(options.logger),
  });
  status.state = 'running';
  status.startedAt = new Date().toISOString();
  // Run times for /metrics: a job's start is seen here, its end in one of the outcome events.
  const startedAt = new Map<string, number>();
  runner.events.on('job:start', ({ job }) => void startedAt.set(job.id, performance.now()));
  const observe = (job: { id: string; task_identifier: string }, outcome: 'success' | 'error' | 'failed') => {
    const began = startedAt.get(job.id);
    startedAt.delete(job.id);
    jobDuration.observe(
      { task: job.task_identifier, outcome },
      began === undefined ? 0 : (performance.now() - began) / 1000,
    );
  };
  runner.events.on('job:success', ({ job }) => observe(job, 'success'));
  runner.events.on('job:error', ({ job }) => observe(job, job.attempts >= job.max_attempts ? 'failed' : 'error'));
  runner.events.on('job:success', () => {
    status.jobsSucceeded++;
    status.lastJobAt = new Date().toISOString();
  });
  runner.events.on('job:error', ({ error }) => {
    status.jobsFailed++;
    status.lastJobAt = new Date().toISOString();
    status.lastError = lastErrorText(error);
  });
  const promise = runner.promise.then(
    () => {
      status.state = 'stopped';
    },
    (error: unknown) => {
      status.state = 'failed';
      status.lastError = lastErrorText(error);
      throw error;
    },
  );
  promise.catch(() => {}); // observed by the service through `promise`
  let stopping: Promise<void> | undefined;
  return {
    status,
    promise,
    stop() {
      stopping ??= (async () => {
        if (status.state === 'running' || status.state === 'starting') status.state = 'stopping';
        // Running jobs were told to stop (abortSignal): backfill steps leave their page at once.
        // Other jobs are waited for; if one outlasts SHUTDOWN_GRACE_SECONDS the process exits
        // anyway (src/cli/run-service.ts) with this process still registered, so the dead-worker
        // sweep releases its job to another worker once the heartbeat is stale.
        await runner.stop().catch(() => {});
        await registration.stop();
        status.state = 'stopped';
      })();
      return stopping;
    },
  };
}
