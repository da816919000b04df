// prune_deleted_series (daily): deletes soft-deleted series that no view uses, with their points,
// snapshots, archived data, backfills and jobs (prune_deleted_series() in SQL), then the cached
// per-blob counts of their queries when no remaining series shares the query's fingerprint.
//   select graphile_worker.add_job('prune_deleted_series');
import type { JobHelpers } from 'graphile-worker';
import { z } from 'zod';
import { blobFingerprint } from '../src/search/query/fingerprint.ts';
import { parseQuery } from '../src/search/query/parse-query.ts';
import { planMatcherQueries } from '../src/search/search-commit.ts';
import { deleteBlobCounts } from '../src/store/blob-counts.ts';
import { pruneDeletedSeries, recordedQueries } from '../src/store/retention.ts';
import { withTransaction } from '../src/store/transaction.ts';
import { cronMarker, parsePayload } from '../src/worker/payload.ts';
import type { TaskContext } from '../src/worker/task-context.ts';

export const identifier = 'prune_deleted_series';

const payloadSchema = z.object({ _cron: cronMarker }).strict();

/** The blob-count fingerprints a stored query may use, read as a plain or a capture-group series. */
function fingerprintsOf(query: string): string[] {
  return [false, true].flatMap((capture) => {
    try {
      return planMatcherQueries(parseQuery(query, { capture })).map(blobFingerprint);
    } catch {
      return []; // not valid in this mode: it counted nothing in it
    }
  });
}

export function makeTask(context: TaskContext) {
  return async (payload: unknown, helpers: JobHelpers) => {
    parsePayload(identifier, payloadSchema, payload);
    return withTransaction(context.pool, async (client) => {
      const { pruned_series, queries } = await pruneDeletedSeries(client);
      const kept = new Set((await recordedQueries(client)).flatMap(fingerprintsOf));
      const unused = [...new Set((queries ?? []).flatMap(fingerprintsOf))].filter((f) => !kept.has(f));
      const dropped = await deleteBlobCounts(client, unused);
      helpers.logger.info(`pruned ${pruned_series} series and ${dropped} cached blob count(s)`);
      return { pruned_series, dropped_blob_counts: dropped };
    });
  };
}
