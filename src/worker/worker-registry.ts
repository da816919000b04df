// Registers this worker process in worker_processes and heartbeats, and sweeps: every process
// releases the work of processes whose heartbeat stopped (release_dead_workers in SQL), so a
// crashed or SIGKILLed worker's jobs resume elsewhere within about a minute, not after 4 hours.
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import type pg from 'pg';
import type { Logger } from '../logger.ts';
import { errorMessage } from '../logger.ts';

export interface WorkerRegistryOptions {
  pool: pg.Pool;
  logger: Logger;
  heartbeatMs?: number;
  sweepMs?: number;
  /** A process silent for this long is considered dead. */
  staleAfterSeconds?: number;
}

export interface WorkerRegistration {
  readonly id: string;
  /** Records a Graphile Worker pool id (its jobs' locked_by) as this process's. */
  addGraphileWorkerId(id: string): Promise<void>;
  stop(): Promise<void>;
}

export async function registerWorkerProcess(options: WorkerRegistryOptions): Promise<WorkerRegistration> {
  const { pool, logger } = options;
  const id = `${os.hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
  const graphileIds: string[] = [];
  const upsert = () =>
    pool.query(
      `insert into worker_processes (id, hostname, pid, graphile_worker_ids) values ($1, $2, $3, $4)
       on conflict (id) do update set last_heartbeat_at = now(), graphile_worker_ids = excluded.graphile_worker_ids`,
      [id, os.hostname(), process.pid, graphileIds],
    );
  await upsert();
  const heartbeat = setInterval(() => {
    // Re-inserts the row if a sweeper removed it while this process was stalled.
    upsert().catch((error) => logger.warn(`worker heartbeat failed: ${errorMessage(error)}`));
  }, options.heartbeatMs ?? 5000);
  const sweep = setInterval(() => {
    pool
      .query<{ released: number }>('select release_dead_workers(make_interval(secs => $1)) as released', [options.staleAfterSeconds ?? 30])
      .then(({ rows }) => {
        if (rows[0]!.released > 0) logger.warn(`released the work of ${rows[0]!.released} worker process(es) that stopped heartbeating`);
      })
      .catch((error) => logger.warn(`sweeping dead workers failed: ${errorMessage(error)}`));
  }, options.sweepMs ?? 15_000);
  heartbeat.unref();
  sweep.unref();
  return {
    id,
    async addGraphileWorkerId(graphileId) {
      graphileIds.push(graphileId);
      await upsert();
    },
    async stop() {
      clearInterval(heartbeat);
      clearInterval(sweep);
      await pool.query('delete from worker_processes where id = $1', [id]).catch(() => {});
    },
  };
}
