// prune_deleted_series (daily): deletes soft-deleted series that no view uses, with their points,
// snapshots, archived data, backfills and jobs (prune_deleted_series() in SQL), then the cached
// per-blob counts of their queries when no remaining series shares the query's fingerprint.
//   select graphile_worker.add_job('prune_deleted_series');
import type { JobHelpers } from 'graphile-worker';
import { z } from 'zod';
import { blobFingerprint } from '../src/search/query/fingerprint.ts';
import { parseQuery } from '../src/search/query/parse-query.ts';
import { deleteBlobCounts } from '../src/store/blob-counts.ts';
import { pruneDeletedSeries, recordedQueries } from '../src/store/retention.ts';
import { withTransaction } from '../src/store/transaction.ts';
import { cronMarker, parsePayload } from '../src/worker/payload.ts';
import type { TaskContext } from '../src/worker/task-context.ts';

export const identifier = 'prune_deleted_series';

const payloadSchema = z.object({ _cron: cronMarker }).strict();

/** The blob-count fingerprint of a stored query, or null for one the parser no longer accepts. */
function fingerprintOf(query: string): string | null {
  try {
    return blobFingerprint(parseQuery(query));
  } catch {
    return null;
  }
}

export function makeTask(context: TaskContext) {
  return async (payload: unknown, helpers: JobHelpers) => {
    parsePayload(identifier, payloadSchema, payload);
    return withTransaction(context.pool, async (client) => {
      const { pruned_series, queries } = await pruneDeletedSeries(client);
      const kept = new Set((await recordedQueries(client)).map(fingerprintOf));
      const unused = [...new Set((queries ?? []).map(fingerprintOf))].filter(
        (f): f is string => f !== null && !kept.has(f),
      );
      const dropped = await deleteBlobCounts(client, unused);
      helpers.logger.info(`pruned ${pruned_series} series and ${dropped} cached blob count(s)`);
      return { pruned_series, dropped_blob_counts: dropped };
    });
  };
}
