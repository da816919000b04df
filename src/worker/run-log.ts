// Records every run of a task in task_runs (name, started, duration, status, error), in the spirit
// of the job_state table of seeds/001, so an operator can see in SQL that the scheduler is alive.
import os from 'node:os';
import type { JobHelpers, Task } from 'graphile-worker';
import type pg from 'pg';
import { errorMessage } from '../logger.ts';
import { failTaskRun, finishTaskRun, startTaskRun } from '../store/task-runs.ts';
import { withFinalPayloadErrors } from './payload.ts';

/** A task body that may return a JSON summary to keep with its run. */
export type LoggedTask = (payload: unknown, helpers: JobHelpers) => Promise<Record<string, unknown> | void>;

export function withRunLog(name: string, body: LoggedTask, pool: pg.Pool): Task {
  return withFinalPayloadErrors(async (payload, helpers) => {
    const runId = await startTaskRun(pool, { task: name, jobId: helpers.job.id, hostname: os.hostname() });
    try {
      const details = await body(payload, helpers);
      await finishTaskRun(pool, runId, details ?? null);
    } catch (error) {
      await failTaskRun(pool, runId, errorMessage(error));
      throw error;
    }
  }, pool);
}
