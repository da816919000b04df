// ensure_partitions (daily): for every table range-partitioned by month on its time column (the
// partitioning plan of docs/storage.md), creates the monthly partitions up to months_ahead months
// ahead, and warns about rows in a default partition: they mean a month was missed. Today no table is
// partitioned, so it finds nothing; it starts working the day the plan is adopted.
//   select graphile_worker.add_job('ensure_partitions', '{"months_ahead": 6}');
import type { JobHelpers } from 'graphile-worker';
import { z } from 'zod';
import { ensurePartitionsAhead } from '../src/store/retention.ts';
import { cronMarker, parsePayload } from '../src/worker/payload.ts';
import type { TaskContext } from '../src/worker/task-context.ts';

export const identifier = 'ensure_partitions';

const payloadSchema = z
  .object({
    months_ahead: z
      .number({ error: 'must be a number of months' })
      .int('must be a whole number of months')
      .min(0, 'must be at least 0')
      .max(120, 'must be at most 120')
      .default(3),
    _cron: cronMarker,
  })
  .strict();

export function makeTask(context: TaskContext) {
  return async (payload: unknown, helpers: JobHelpers) => {
    const { months_ahead } = parsePayload(identifier, payloadSchema, payload);
    const report = await ensurePartitionsAhead(context.pool, months_ahead);
    for (const { table, created, default_rows } of report.tables) {
      helpers.logger.info(`${table}: ${created} partition(s) created, months ahead: ${months_ahead}`);
      if (default_rows > 0)
        helpers.logger.warn(
          `${table}_default holds ${default_rows} row(s): a month had no partition; see docs/storage.md`,
        );
    }
    if (!report.tables.length) helpers.logger.info('no range-partitioned time table: nothing to do');
    return report;
  };
}
