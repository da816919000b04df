// Records every run of a task in task_runs (name, started, duration, status, error), in the spirit
// of the job_state table of seeds/001, so an operator can see in SQL that the scheduler is alive.
import os from 'node:os';
import type { JobHelpers, Task } from 'graphile-worker';
import { errorMessage } from '../logger.ts';
import { withFinalPayloadErrors } from './payload.ts';

/** A task body that may return a JSON summary to keep with its run. */
export type LoggedTask = (payload: unknown, helpers: JobHelpers) => Promise<Record<string, unknown> | void>;

export function withRunLog(name: string, body: LoggedTask): Task {
  return withFinalPayloadErrors(async (payload, helpers) => {
    const { rows } = await helpers.withPgClient((client) =>
      client.query<{ id: string }>(
        `insert into task_runs (task_name, graphile_job_id, worker_hostname) values ($1, $2, $3) returning id`,
        [name, helpers.job.id, os.hostname()],
      ),
    );
    const runId = rows[0]!.id;
    try {
      const details = await body(payload, helpers);
      await helpers.withPgClient((client) =>
        client.query(`update task_runs set status = 'succeeded', finished_at = clock_timestamp(), details = $2 where id = $1`, [
          runId,
          details ? JSON.stringify(details) : null,
        ]),
      );
    } catch (error) {
      await helpers.withPgClient((client) =>
        client.query(`update task_runs set status = 'failed', finished_at = clock_timestamp(), error = $2 where id = $1`, [
          runId,
          errorMessage(error),
        ]),
      );
      throw error;
    }
  });
}
