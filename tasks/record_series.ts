// record_series: counts a series' query at the HEAD of every repository in its scope and stores the
// result as a recording (permanent points) or a snapshot (replacing the previous one), with an
// incomplete point per repository that failed or timed out. A DBA can run one by hand:
//   select graphile_worker.add_job('record_series', '{"series_id": 1, "mode": "snapshot"}');
import type { JobHelpers } from 'graphile-worker';
import { z } from 'zod';
import { errorMessage } from '../src/logger.ts';
import { ensureMirror } from '../src/repos/sync-repository.ts';
import { SearchTimeoutError } from '../src/search/count-blobs.ts';
import { QuerySyntaxError, type SearchQuery } from '../src/search/query/parse-query.ts';
import { repositoriesInScope } from '../src/search/repo-filter.ts';
import { planForSeries } from '../src/search/series-plan.ts';
import { searchTimeoutMs } from '../src/search/search-timeout.ts';
import { searchCommit } from '../src/search/search-commit.ts';
import {
  type IncompleteRepository,
  type RecordedPoint,
  seriesToRecord,
  storeSeriesRecording,
} from '../src/store/recordings.ts';
import { loadRepositories } from '../src/store/repositories.ts';
import { InvalidPayloadError, parsePayload } from '../src/worker/payload.ts';
import { databaseId, MAX_DATABASE_ID } from '../src/db/database-id.ts';
import type { TaskContext } from '../src/worker/task-context.ts';
import { preciseNow } from '../src/worker/precise-now.ts';

export const identifier = 'record_series';

const payloadSchema = z
  .object({
    series_id: z.union([databaseId('a series id'), z.string().min(1).max(200)], {
      error: `must be a series id (a number from 1 to ${MAX_DATABASE_ID}) or series_id (text)`,
    }),
    mode: z.enum(['record', 'snapshot'], { error: 'must be "record" or "snapshot"' }).default('record'),
    // A recording counts HEAD as it is now: a time far from now would put today's numbers there.
    time: z.iso
      .datetime({ offset: true, error: 'must be an ISO 8601 time such as 2024-05-01T00:00:00Z' })
      .refine((time) => Date.parse(time) >= Date.UTC(1970, 0, 1), 'must not be before 1970')
      .refine((time) => Date.parse(time) <= Date.now() + 3_600_000, 'must not be more than an hour in the future')
      .optional(),
  })
  .strict();

export function makeTask(context: TaskContext) {
  return async (payload: unknown, helpers: JobHelpers) => {
    const input = parsePayload(identifier, payloadSchema, payload);
    const series = await seriesToRecord(context.pool, input.series_id);
    if (!series) throw new InvalidPayloadError(`${identifier}: no series ${JSON.stringify(input.series_id)}`);
    if (series.deleted_at) {
      helpers.logger.info(`series ${series.series_id} is deleted; not recording`);
      return;
    }
    let query: SearchQuery;
    try {
      query = await planForSeries(context.pool, { ...series, capture: series.generated_from_capture_groups });
    } catch (error) {
      if (!(error instanceof QuerySyntaxError)) throw error;
      throw new InvalidPayloadError(
        `${identifier}: series ${series.series_id} has an invalid query: ${errorMessage(error)}`,
      );
    }

    // Full precision: a recording and a snapshot queued together must not share a recording time
    // (insight_series_recording_times is unique per series and time).
    const time = input.time ?? preciseNow();
    const candidates = await loadRepositories(context.pool, series.repo_ids);
    const points: RecordedPoint[] = [];
    const incomplete: IncompleteRepository[] = [];
    let repositories: typeof candidates = [];
    try {
      repositories = repositoriesInScope(candidates, query, Date.now() + searchTimeoutMs(context, query));
    } catch (error) {
      if (!(error instanceof SearchTimeoutError)) throw error;
      // Which repositories are in scope could not be decided in time: each gets a timeout point.
      for (const repository of candidates) incomplete.push({ repo_id: repository.id, reason: 'timeout' });
      helpers.logger.warn(`series ${series.series_id}: ${errorMessage(error)}`);
    }
    for (const repository of repositories) {
      try {
        const { gitDir, head } = await ensureMirror({ pool: context.pool, dataDir: context.dataDir, repository });
        if (!head) continue; // an empty repository has nothing to count
        const result = await searchCommit({
          gitDir,
          commit: head,
          query,
          cache: context.cache,
          trees: context.trees,
          deadline: Date.now() + searchTimeoutMs(context, query),
        });
        if (result.captures)
          for (const [capture, value] of result.captures) points.push({ repo_id: repository.id, value, capture });
        else if (result.value > 0) points.push({ repo_id: repository.id, value: result.value });
        // More distinct values than a point keeps (MAX_CAPTURE_VALUES): the point says it is partial.
        if (result.capturesOmitted) {
          incomplete.push({ repo_id: repository.id, reason: 'capture-limit' });
          helpers.logger.info(
            `series ${series.series_id}: ${repository.name} has ${result.captures!.size + result.capturesOmitted.values} distinct capture values; ` +
              `the ${result.captures!.size} most frequent are kept, ${result.capturesOmitted.values} left out`,
          );
        }
      } catch (error) {
        const reason = error instanceof SearchTimeoutError ? 'timeout' : 'generic';
        incomplete.push({ repo_id: repository.id, reason });
        helpers.logger.warn(
          `series ${series.series_id}: ${repository.name} is incomplete (${reason}): ${errorMessage(error)}`,
        );
      }
    }
    await storeSeriesRecording(context.pool, {
      seriesId: series.id,
      time,
      snapshot: input.mode === 'snapshot',
      points,
      incomplete,
    });
    helpers.logger.info(
      `series ${series.series_id}: ${input.mode} at ${time}: ${points.length} point(s) from ${repositories.length} repositories, ${incomplete.length} incomplete`,
    );
  };
}
