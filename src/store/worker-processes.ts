// The worker registry (insights_core.worker_processes) and the recurring work every worker schedules.
import type { Queryable } from './queryable.ts';

export interface WorkerProcessRow {
  id: string;
  hostname: string;
  pid: number;
  graphileWorkerIds: string[];
}

/** Registers or heartbeats a worker process (re-inserting it if a sweeper removed it meanwhile). */
export async function heartbeatWorkerProcess(db: Queryable, worker: WorkerProcessRow): Promise<void> {
  await db.query(
    `insert into insights_core.worker_processes (id, hostname, pid, graphile_worker_ids) values ($1, $2, $3, $4)
     on conflict (id) do update set last_heartbeat_at = now(), graphile_worker_ids = excluded.graphile_worker_ids`,
    [worker.id, worker.hostname, worker.pid, worker.graphileWorkerIds],
  );
}

export async function removeWorkerProcess(db: Queryable, id: string): Promise<void> {
  await db.query('delete from insights_core.worker_processes where id = $1', [id]);
}

/** Releases the jobs of processes silent for staleAfterSeconds; returns how many processes. */
export async function releaseDeadWorkers(db: Queryable, staleAfterSeconds: number): Promise<number> {
  const { rows } = await db.query<{ released: number }>(
    'select insights_core.release_dead_workers(make_interval(secs => $1)) as released',
    [staleAfterSeconds],
  );
  return rows[0]!.released;
}

/** The Graphile Worker crontab, built from insights_core.recurring_tasks (its one definition). */
export async function workerCrontab(db: Queryable): Promise<string> {
  const { rows } = await db.query<{ crontab: string }>('select insights_core.worker_crontab() as crontab');
  return rows[0]!.crontab;
}
