// backfill_new: plans a new backfill (insights_core.backfill_plan: the repositories in scope, the
// sample times, the repo iterator and the estimated cost); then the first backfill_step is queued.
//   select graphile_worker.add_job('backfill_new', '{"backfill_id": 7}');
import type { JobHelpers } from 'graphile-worker';
import { z } from 'zod';
import { queryComplexity } from '../src/backfill/query-complexity.ts';
import { errorMessage } from '../src/logger.ts';
import { QuerySyntaxError } from '../src/search/query/parse-query.ts';
import { planForSeries } from '../src/search/series-plan.ts';
import { backfillToPlan, failBackfill, planBackfill } from '../src/store/backfill-steps.ts';
import { InvalidPayloadError, parsePayload } from '../src/worker/payload.ts';
import { databaseId } from '../src/db/database-id.ts';
import type { TaskContext } from '../src/worker/task-context.ts';

export const identifier = 'backfill_new';

export const backfillPayloadSchema = z
  .object({
    backfill_id: databaseId('a backfill id'),
  })
  .strict();

export function makeTask(context: TaskContext) {
  return async (payload: unknown, helpers: JobHelpers) => {
    const { backfill_id } = parsePayload(identifier, backfillPayloadSchema, payload);
    const backfill = await backfillToPlan(context.pool, backfill_id);
    if (!backfill) throw new InvalidPayloadError(`${identifier}: no backfill with id ${backfill_id}`);
    if (backfill.state !== 'new') return; // planned already
    let complexity: number;
    try {
      const plan = await planForSeries(context.pool, {
        id: backfill.series_id,
        query: backfill.query,
        capture: backfill.generated_from_capture_groups,
      });
      complexity = queryComplexity(plan);
    } catch (error) {
      if (!(error instanceof QuerySyntaxError)) throw error;
      await failBackfill(context.pool, backfill_id, `the series query is invalid: ${errorMessage(error)}`);
      return;
    }
    const cost = await planBackfill(context.pool, backfill_id, complexity, context.maxSamples);
    helpers.logger.info(`backfill ${backfill_id} planned, estimated cost ${cost}`);
  };
}
