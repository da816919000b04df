// Registers this worker process in worker_processes and heartbeats, and sweeps: every process
// releases the work of processes whose heartbeat stopped (release_dead_workers in SQL), so a
// crashed or SIGKILLed worker's jobs resume elsewhere within about a minute, not after 4 hours.
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import type pg from 'pg';
import type { Logger } from '../logger.ts';
import { errorMessage } from '../logger.ts';
import { heartbeatWorkerProcess, releaseDeadWorkers, removeWorkerProcess } from '../store/worker-processes.ts';

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
    heartbeatWorkerProcess(pool, { id, hostname: os.hostname(), pid: process.pid, graphileWorkerIds: graphileIds });
  await upsert();
  const heartbeat = setInterval(() => {
    // Re-inserts the row if a sweeper removed it while this process was stalled.
    upsert().catch((error) => logger.warn(`worker heartbeat failed: ${errorMessage(error)}`));
  }, options.heartbeatMs ?? 5000);
  const sweep = setInterval(() => {
    releaseDeadWorkers(pool, options.staleAfterSeconds ?? 30)
      .then((released) => {
        if (released > 0) logger.warn(`released the work of ${released} worker process(es) that stopped heartbeating`);
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
      await removeWorkerProcess(pool, id).catch(() => {});
    },
  };
}
