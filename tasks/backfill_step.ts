// backfill_step: works on one processing backfill page by page from its repo_cursor until the time
// budget runs out or cheaper backfill work is waiting (backfill_should_yield), committing points and
// progress after every page (one transaction each), then re-queues itself at the priority of its
// cost bucket. After the main pass, failed repositories are retried; a third failure gives a
// repository up (incomplete points). The cancel flag is honoured between pages. A session advisory
// lock keeps two workers off the same backfill.
//   select graphile_worker.add_job('backfill_step', '{"backfill_id": 7}');
import type { JobHelpers } from 'graphile-worker';
import { backfillRepository, type BackfillPoint } from '../src/backfill/backfill-repository.ts';
import { errorMessage } from '../src/logger.ts';
import { loadRepositories } from '../src/repos/repository.ts';
import { SearchTimeoutError } from '../src/search/count-blobs.ts';
import { parseQuery, type SearchQuery } from '../src/search/query/parse-query.ts';
import { InvalidPayloadError, parsePayload } from '../src/worker/payload.ts';
import type { TaskContext } from '../src/worker/task-context.ts';
import { backfillPayloadSchema } from './backfill_new.ts';

export const identifier = 'backfill_step';

/** First key of the advisory locks that guard backfills (the second is the backfill id). */
const LOCK_NAMESPACE = 7263;

interface BackfillRow {
  state: string;
  series_id: number;
  query: string;
  generated_from_capture_groups: boolean;
  repos: number[];
  total_count: number;
}

export function makeTask(context: TaskContext) {
  return async (payload: unknown, helpers: JobHelpers) => {
    const { backfill_id } = parsePayload(identifier, backfillPayloadSchema, payload);
    const { pool } = context;
    const lockClient = await pool.connect();
    let outcome: StepOutcome;
    try {
      const { rows: locked } = await lockClient.query<{ ok: boolean }>('select pg_try_advisory_lock($1, $2) as ok', [LOCK_NAMESPACE, backfill_id]);
      if (!locked[0]!.ok) {
        // The holder has not queued its next step yet (it does so only after unlocking, below),
        // so it carries the backfill on: this job has nothing to do.
        helpers.logger.debug(`backfill ${backfill_id} is being worked on by another worker`);
        return;
      }
      try {
        outcome = await runStep(context, backfill_id, helpers);
      } catch (error) {
        await pool.query('select backfill_step_failed($1, $2)', [backfill_id, errorMessage(error)]).catch(() => {});
        throw error;
      } finally {
        await lockClient.query('select pg_advisory_unlock($1, $2)', [LOCK_NAMESPACE, backfill_id]);
      }
    } finally {
      lockClient.release();
    }
    // Queued after the unlock: a worker that takes the next step at once must find the lock free,
    // or it would drop the step as someone else's and the backfill would stall.
    if (outcome === 'yield') await pool.query('select backfill_yield($1)', [backfill_id]);
  };
}

/** How a step ended: 'yield' when the backfill goes back into the queue for its next step. */
type StepOutcome = 'yield' | 'stopped';

async function runStep(context: TaskContext, backfillId: number, helpers: JobHelpers): Promise<StepOutcome> {
  const { pool } = context;
  const { rows } = await pool.query<BackfillRow>(
    `select b.state, s.id as series_id, s.query, s.generated_from_capture_groups, i.repos, i.total_count
       from insight_series_backfill b join insight_series s on s.id = b.series_id left join repo_iterator i on i.id = b.repo_iterator_id
      where b.id = $1`,
    [backfillId],
  );
  const backfill = rows[0];
  if (!backfill) throw new InvalidPayloadError(`${identifier}: no backfill with id ${backfillId}`);
  if (backfill.state !== 'processing') return 'stopped'; // not planned yet, or finished
  const claimed = await pool.query('select id from backfill_claim($1, $2) where id is not null', [backfillId, context.workerId]);
  if (!claimed.rowCount) return 'stopped'; // canceled or finished meanwhile

  let query: SearchQuery;
  try {
    query = parseQuery(backfill.query);
  } catch (error) {
    await pool.query('select backfill_fail($1, $2)', [backfillId, `the series query is invalid: ${errorMessage(error)}`]);
    return 'stopped';
  }
  if (!backfill.generated_from_capture_groups) query = { ...query, captureGroups: 0 };
  const times = (
    await pool.query<{ time: Date }>('select backfill_sample_times($1) as time', [backfill.series_id])
  ).rows.map((row) => row.time);
  const repos = backfill.repos ?? [];
  const budgetEnds = Date.now() + context.backfillBudgetMs;

  for (;;) {
    const state = await pool.query<{ cancel: boolean; cursor: number; errors: number }>(
      `select j.cancel, coalesce(i.repo_cursor, 0) as cursor,
              (select count(*) from repo_iterator_errors e where e.repo_iterator_id = i.id)::int as errors
         from insight_series_backfill b join repo_iterator i on i.id = b.repo_iterator_id
         join insights_background_jobs j on j.backfill_id = b.id where b.id = $1 order by j.id desc limit 1`,
      [backfillId],
    );
    const { cancel, cursor, errors } = state.rows[0]!;
    if (cancel) {
      await pool.query('select backfill_stop_canceled($1)', [backfillId]);
      helpers.logger.info(`backfill ${backfillId} canceled at repository ${cursor} of ${backfill.total_count}`);
      return 'stopped';
    }
    if (errors > Math.max(50, Math.ceil(0.05 * backfill.total_count))) {
      await pool.query('select backfill_finish($1)', [backfillId]);
      return 'stopped';
    }
    let pageIds: number[];
    let newCursor = cursor;
    if (cursor < repos.length) {
      pageIds = repos.slice(cursor, cursor + context.backfillPageSize);
      newCursor = cursor + pageIds.length;
    } else {
      // After the main pass: repositories that failed fewer than three times get another try.
      const retry = await pool.query<{ repo_id: number }>(
        `select e.repo_id from repo_iterator_errors e join insight_series_backfill b on b.repo_iterator_id = e.repo_iterator_id
          where b.id = $1 and coalesce(e.failure_count, 1) < 3 order by e.repo_id limit $2`,
        [backfillId, context.backfillPageSize],
      );
      pageIds = retry.rows.map((row) => row.repo_id);
      if (!pageIds.length) {
        const finished = await pool.query<{ state: string }>('select state from backfill_finish($1)', [backfillId]);
        helpers.logger.info(`backfill ${backfillId} ${finished.rows[0]!.state}`);
        return 'stopped';
      }
    }

    const started = Date.now();
    const points: BackfillPoint[] = [];
    const succeeded: number[] = [];
    const failures: Array<{ repo_id: number; message: string; reason: 'timeout' | 'generic' }> = [];
    const repositories = await loadRepositories(pool, pageIds);
    // Repositories deleted since planning have nothing to backfill.
    for (const id of pageIds) if (!repositories.some((r) => r.id === id)) succeeded.push(id);
    let blobsRead = 0;
    for (const repository of repositories) {
      try {
        const result = await backfillRepository({
          pool,
          dataDir: context.dataDir,
          repository,
          query,
          times,
          cache: context.cache,
          trees: context.trees,
          deadline: Date.now() + context.searchTimeoutMs,
        });
        points.push(...result.points);
        succeeded.push(repository.id);
        blobsRead += result.blobsRead;
      } catch (error) {
        failures.push({ repo_id: repository.id, message: errorMessage(error), reason: error instanceof SearchTimeoutError ? 'timeout' : 'generic' });
      }
    }
    await pool.query('select backfill_record_page($1, $2, $3, $4, $5, $6, $7)', [
      backfillId,
      newCursor,
      JSON.stringify(points),
      succeeded,
      JSON.stringify(failures),
      Date.now() - started,
      `page of ${pageIds.length} repositories by worker ${context.workerId}: ${points.length} points, ${failures.length} failures, ${blobsRead} blobs read`,
    ]);
    // Give way at the end of the time budget, or as soon as cheaper backfill work is waiting.
    const outOfTime = Date.now() >= budgetEnds;
    if (outOfTime || (await pool.query<{ yield: boolean }>('select backfill_should_yield($1) as yield', [backfillId])).rows[0]!.yield) {
      helpers.logger.debug(`backfill ${backfillId} yields: ${outOfTime ? 'its time budget ran out' : 'cheaper backfill work is waiting'}`);
      return 'yield';
    }
  }
}
