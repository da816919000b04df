// What /healthz reports: can we reach the database, is this process's worker running, and has every
// recurring task succeeded on schedule (task_run_status; overdue tasks make the report unhealthy).
import type pg from 'pg';
import { errorMessage } from '../logger.ts';
import { overdueTasks, serverVersion } from '../store/health.ts';
import { queueJobCounts, type QueueJobCounts } from '../store/metrics.ts';
import type { WorkerStatus } from '../worker/start-worker.ts';

export interface HealthReport {
  ok: boolean;
  database: { ok: boolean; latencyMs?: number; serverVersion?: string; error?: string };
  worker: (WorkerStatus & { ok: boolean }) | { ok: true; state: 'not-in-this-process' };
  queue?: QueueJobCounts;
  scheduler?: { ok: boolean; overdue: Array<{ task: string; lastSuccessAt: string | null }> };
}

export async function checkHealth(pool: pg.Pool, worker: WorkerStatus | undefined): Promise<HealthReport> {
  const report: HealthReport = {
    ok: false,
    database: { ok: false },
    worker: worker ? { ...worker, ok: worker.state === 'running' } : { ok: true, state: 'not-in-this-process' },
  };
  const started = performance.now();
  try {
    const version = await serverVersion(pool);
    const latencyMs = Math.round((performance.now() - started) * 10) / 10;
    report.database = { ok: true, latencyMs, serverVersion: version };
    report.queue = await queueJobCounts(pool);
    const overdue = await overdueTasks(pool);
    report.scheduler = {
      ok: overdue.length === 0,
      overdue: overdue.map((row) => ({
        task: row.task_name,
        lastSuccessAt: row.last_success_at?.toISOString() ?? null,
      })),
    };
  } catch (error) {
    report.database = { ok: false, error: errorMessage(error) };
  }
  report.ok = report.database.ok && report.worker.ok && (report.scheduler?.ok ?? false);
  return report;
}
