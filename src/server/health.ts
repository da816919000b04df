// What /healthz reports: can we reach the database, is this process's worker running, and has every
// recurring task succeeded on schedule (task_run_status; overdue tasks make the report unhealthy).
import type pg from 'pg';
import { sqlFile } from '../db/sql-file.ts';
import { errorMessage } from '../logger.ts';
import type { WorkerStatus } from '../worker/start-worker.ts';

export interface HealthReport {
  ok: boolean;
  database: { ok: boolean; latencyMs?: number; serverVersion?: string; error?: string };
  worker: (WorkerStatus & { ok: boolean }) | { ok: true; state: 'not-in-this-process' };
  queue?: { runnable: number; locked: number; scheduled: number; failed: number };
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
    const { rows } = await pool.query<{ version: string }>(`select current_setting('server_version') as version`);
    report.database = { ok: true, latencyMs: Math.round((performance.now() - started) * 10) / 10, serverVersion: rows[0]!.version };
    const queue = await pool.query<{ runnable: number; locked: number; scheduled: number; failed: number }>(sqlFile('queue_status'));
    report.queue = queue.rows[0];
    const overdue = await pool.query<{ task_name: string; last_success_at: Date | null }>(
      'select task_name, last_success_at from task_run_status where overdue order by task_name',
    );
    report.scheduler = {
      ok: overdue.rows.length === 0,
      overdue: overdue.rows.map((row) => ({ task: row.task_name, lastSuccessAt: row.last_success_at?.toISOString() ?? null })),
    };
  } catch (error) {
    report.database = { ok: false, error: errorMessage(error) };
  }
  report.ok = report.database.ok && report.worker.ok && (report.scheduler?.ok ?? false);
  return report;
}
