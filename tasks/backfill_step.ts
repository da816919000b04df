// backfill_step: works on one processing backfill page by page. The database decides each move
// (insights_core.backfill_next_move: the next page or retry page, or cancel, finish, fail, yield);
// this task asks, searches the page's repositories, and records the page (points and progress in
// one transaction). A session advisory lock keeps two workers off the same backfill.
//   select graphile_worker.add_job('backfill_step', '{"backfill_id": 7}');
import type { JobHelpers } from 'graphile-worker';
import { backfillRepository } from '../src/backfill/backfill-repository.ts';
import { errorMessage } from '../src/logger.ts';
import { SearchTimeoutError } from '../src/search/count-blobs.ts';
import { QuerySyntaxError, type SearchQuery } from '../src/search/query/parse-query.ts';
import { repositoriesInScope } from '../src/search/repo-filter.ts';
import { planForSeries } from '../src/search/series-plan.ts';
import { searchTimeoutMs } from '../src/search/search-timeout.ts';
import {
  type BackfillFailure,
  type BackfillPoint,
  beginBackfillStep,
  failBackfill,
  nextBackfillMove,
  recordBackfillPage,
  type BackfillIncompletePoint,
  recordBackfillStepFailure,
  tryLockBackfill,
  unlockBackfill,
  yieldBackfill,
} from '../src/store/backfill-steps.ts';
import { loadRepositories } from '../src/store/repositories.ts';
import { InvalidPayloadError, parsePayload } from '../src/worker/payload.ts';
import type { TaskContext } from '../src/worker/task-context.ts';
import { backfillPayloadSchema } from './backfill_new.ts';

export const identifier = 'backfill_step';

export function makeTask(context: TaskContext) {
  return async (payload: unknown, helpers: JobHelpers) => {
    const { backfill_id } = parsePayload(identifier, backfillPayloadSchema, payload);
    const { pool } = context;
    const lockClient = await pool.connect();
    let outcome: StepOutcome;
    try {
      if (!(await tryLockBackfill(lockClient, backfill_id))) {
        // The holder has not queued its next step yet (it does so only after unlocking, below),
        // so it carries the backfill on: this job has nothing to do.
        helpers.logger.debug(`backfill ${backfill_id} is being worked on by another worker`);
        return;
      }
      try {
        outcome = await runStep(context, backfill_id, helpers);
      } catch (error) {
        await recordBackfillStepFailure(pool, backfill_id, errorMessage(error)).catch(() => {});
        throw error;
      } finally {
        await unlockBackfill(lockClient, backfill_id);
      }
    } finally {
      lockClient.release();
    }
    // Queued after the unlock: a worker that takes the next step at once must find the lock free,
    // or it would drop the step as someone else's and the backfill would stall.
    if (outcome === 'yield') await yieldBackfill(pool, backfill_id);
  };
}

const ABORTED = Symbol('aborted');

/**
 * `work`, or ABORTED as soon as the signal aborts (the signal is the worker pool's, for the process's
 * life: the listener is removed again, however the race ends).
 */
async function unlessAborted<T>(work: Promise<T>, signal: AbortSignal): Promise<T | typeof ABORTED> {
  if (signal.aborted) return ABORTED;
  let onAbort!: () => void;
  const aborted = new Promise<typeof ABORTED>((resolve) => (onAbort = () => resolve(ABORTED)));
  signal.addEventListener('abort', onAbort, { once: true });
  try {
    return await Promise.race([work, aborted]);
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
}

/** How a step ended: 'yield' when the backfill goes back into the queue for its next step. */
type StepOutcome = 'yield' | 'stopped';

async function runStep(context: TaskContext, backfillId: number, helpers: JobHelpers): Promise<StepOutcome> {
  const { pool } = context;
  const step = await beginBackfillStep(pool, backfillId, context.workerId);
  if (step.state === 'missing') throw new InvalidPayloadError(`${identifier}: no backfill with id ${backfillId}`);
  if (step.state !== 'claimed') return 'stopped'; // not planned yet, finished, or canceled meanwhile

  let query: SearchQuery;
  try {
    query = await planForSeries(pool, {
      id: step.series_id!,
      query: step.query!,
      capture: step.capture_groups === true,
    });
  } catch (error) {
    if (!(error instanceof QuerySyntaxError)) throw error;
    await failBackfill(pool, backfillId, `the series query is invalid: ${errorMessage(error)}`);
    return 'stopped';
  }
  const times = step.sample_times ?? [];
  // The time budget is measured here, on this process's clock; the database decides what it means.
  const budgetEnds = Date.now() + context.backfillBudgetMs;

  for (let pagesDone = 0; ; pagesDone++) {
    // Shutting down: the pages done are committed; the next step resumes from the cursor.
    if (helpers.abortSignal.aborted) return 'yield';
    const budgetSpent = Date.now() >= budgetEnds;
    const move = await nextBackfillMove(pool, {
      backfillId,
      pageSize: context.backfillPageSize,
      budgetSpent,
      pagesDone,
    });
    if (move.move === 'yield') {
      helpers.logger.debug(`backfill ${backfillId} yields: ${move.detail}`);
      return 'yield';
    }
    if (move.move !== 'page' && move.move !== 'retry') {
      helpers.logger.info(`backfill ${backfillId} ${move.move}: ${move.detail}`);
      return 'stopped';
    }
    const started = Date.now();
    const points: BackfillPoint[] = [];
    const failures: BackfillFailure[] = [];
    const incomplete: BackfillIncompletePoint[] = [];
    // The query's own repo: filters narrow the series' scope exactly as for recordings; repositories
    // outside them, or deleted since planning, have nothing to count.
    // A page holds a few repositories: their names are matched well within one search's time.
    const repositories = repositoriesInScope(
      await loadRepositories(pool, move.repo_ids),
      query,
      Date.now() + searchTimeoutMs(context, query),
    );
    const succeeded = move.repo_ids.filter((id) => !repositories.some((r) => r.id === id));
    let blobsRead = 0;
    for (const repository of repositories) {
      try {
        const searched = backfillRepository({
          pool,
          dataDir: context.dataDir,
          repository,
          query,
          times,
          cache: context.cache,
          trees: context.trees,
          deadline: Date.now() + searchTimeoutMs(context, query),
        });
        // A shutdown abandons the page (nothing of it is written; it is done again on resume) rather
        // than waiting out a search that may take up to SEARCH_TIMEOUT_SECONDS.
        const result = await unlessAborted(searched, helpers.abortSignal);
        if (result === ABORTED) {
          searched.catch(() => {}); // it runs out in the background; its outcome is not wanted
          helpers.logger.info(`backfill ${backfillId}: shutting down, the page in progress is left for the next step`);
          return 'yield';
        }
        points.push(...result.points);
        incomplete.push(...result.capped);
        succeeded.push(repository.id);
        blobsRead += result.blobsRead;
      } catch (error) {
        const reason = error instanceof SearchTimeoutError ? 'timeout' : 'generic';
        failures.push({ repo_id: repository.id, message: errorMessage(error), reason });
      }
    }
    await recordBackfillPage(pool, {
      backfillId,
      newCursor: move.new_cursor,
      points,
      succeeded,
      failures,
      incomplete,
      runtimeMs: Date.now() - started,
      log:
        `${move.move === 'retry' ? 'retry ' : ''}page of ${move.repo_ids.length} repositories by worker ${context.workerId}: ${points.length} points, ` +
        `${failures.length} failures, ${blobsRead} blobs read`,
    });
  }
}
