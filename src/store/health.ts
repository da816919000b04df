// What /healthz asks the database besides the queue (src/store/metrics.ts).
import type { Queryable } from './queryable.ts';

export async function serverVersion(db: Queryable): Promise<string> {
  const { rows } = await db.query<{ version: string }>(`select current_setting('server_version') as version`);
  return rows[0]!.version;
}

export interface OverdueTask {
  task_name: string;
  last_success_at: Date | null;
}

/** Recurring tasks that have not succeeded on schedule (insights_core.task_run_status). */
export async function overdueTasks(db: Queryable): Promise<OverdueTask[]> {
  const { rows } = await db.query<OverdueTask>(
    'select task_name, last_success_at from insights_core.task_run_status where overdue order by task_name',
  );
  return rows;
}
