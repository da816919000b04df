// What /healthz reports: can we reach the database, is this process's worker running, and has every
// recurring task succeeded on schedule (task_run_status; overdue tasks make the report unhealthy).
// Anyone gets the states (publicHealth); the detail (latency, server version, queue, the worker's
// last error, overdue tasks) is for a request with an admin token, and even then error text goes
// through redactCredentials: a git error once carried a clone URL's access token.
import type pg from 'pg';
import { redactCredentials } from '../git/redact-credentials.ts';
import { errorMessage } from '../logger.ts';
import { overdueTasks, serverVersion } from '../store/health.ts';
import { queueJobCounts, type QueueJobCounts } from '../store/metrics.ts';
import type { WorkerState, WorkerStatus } from '../worker/start-worker.ts';

export interface HealthReport {
  ok: boolean;
  database: { ok: boolean; latencyMs?: number; serverVersion?: string; error?: string };
  worker: (WorkerStatus & { ok: boolean }) | { ok: true; state: 'not-in-this-process' };
  queue?: QueueJobCounts;
  scheduler?: { ok: boolean; overdue: Array<{ task: string; lastSuccessAt: string | null }> };
}

/** What an unauthenticated caller sees: states and booleans only. */
export interface PublicHealthReport {
  ok: boolean;
  database: { ok: boolean };
  worker: { ok: boolean; state: WorkerState | 'not-in-this-process' };
  scheduler: { ok: boolean };
  /** How to get the rest. */
  detail: string;
}

/** Error text as /healthz may show it to an admin: credentials replaced, bounded in length. */
export function safeErrorText(text: string): string {
  const redacted = redactCredentials(text);
  return redacted.length > 1000 ? `${redacted.slice(0, 1000)}…` : redacted;
}

type DatabaseHealth = Pick<HealthReport, 'database' | 'queue' | 'scheduler'>;

/** The database's part of a report, as last read. */
async function readDatabaseHealth(pool: pg.Pool): Promise<DatabaseHealth> {
  const started = performance.now();
  try {
    const version = await serverVersion(pool);
    const latencyMs = Math.round((performance.now() - started) * 10) / 10;
    const queue = await queueJobCounts(pool);
    const overdue = await overdueTasks(pool);
    return {
      database: { ok: true, latencyMs, serverVersion: version },
      queue,
      scheduler: {
        ok: overdue.length === 0,
        overdue: overdue.map((row) => ({
          task: row.task_name,
          lastSuccessAt: row.last_success_at?.toISOString() ?? null,
        })),
      },
    };
  } catch (error) {
    return { database: { ok: false, error: safeErrorText(errorMessage(error)) } };
  }
}

/** The check in progress, per pool: concurrent requests share it, so a flood of probes is one query at a time. */
const inFlight = new WeakMap<pg.Pool, Promise<DatabaseHealth>>();

function databaseHealth(pool: pg.Pool): Promise<DatabaseHealth> {
  let check = inFlight.get(pool);
  if (!check) {
    check = readDatabaseHealth(pool).finally(() => inFlight.delete(pool));
    inFlight.set(pool, check);
  }
  return check;
}

export async function checkHealth(pool: pg.Pool, worker: WorkerStatus | undefined): Promise<HealthReport> {
  const report: HealthReport = {
    ok: false,
    database: { ok: false },
    worker: worker
      ? {
          ...worker,
          ok: worker.state === 'running',
          ...(worker.lastError === undefined ? {} : { lastError: safeErrorText(worker.lastError) }),
        }
      : { ok: true, state: 'not-in-this-process' },
  };
  Object.assign(report, await databaseHealth(pool));
  report.ok = report.database.ok && report.worker.ok && (report.scheduler?.ok ?? false);
  return report;
}

/** The report without its detail, for callers without an admin token. */
export function publicHealth(report: HealthReport): PublicHealthReport {
  return {
    ok: report.ok,
    database: { ok: report.database.ok },
    worker: { ok: report.worker.ok, state: report.worker.state },
    scheduler: { ok: report.scheduler?.ok ?? false },
    detail: 'send an admin token (Authorization: Bearer <token>) for latency, queue, errors and overdue tasks',
  };
}
