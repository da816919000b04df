// prune_deleted_series (daily): deletes soft-deleted series that no view uses, with their points,
// snapshots, archived data, backfills and jobs (prune_deleted_series() in SQL), then the cached
// per-blob counts of their queries when no remaining series shares the query's fingerprint.
//   select graphile_worker.add_job('prune_deleted_series');
import type { JobHelpers } from 'graphile-worker';
import { z } from 'zod';
import { blobFingerprint } from '../src/search/query/fingerprint.ts';
import { parseQuery } from '../src/search/query/parse-query.ts';
import { cronMarker, parsePayload } from '../src/worker/payload.ts';

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

export default async function pruneDeletedSeries(payload: unknown, helpers: JobHelpers) {
  parsePayload(identifier, payloadSchema, payload);
  return helpers.withPgClient(async (client) => {
    await client.query('begin');
    try {
      const { rows } = await client.query<{ summary: { pruned_series: number; queries: string[] | null } }>('select prune_deleted_series() as summary');
      const { pruned_series, queries } = rows[0]!.summary;
      const remaining = await client.query<{ query: string }>('select distinct query from insight_series where not just_in_time');
      const kept = new Set(remaining.rows.map((row) => fingerprintOf(row.query)));
      const unused = [...new Set((queries ?? []).map(fingerprintOf))].filter((f): f is string => f !== null && !kept.has(f));
      const dropped = unused.length
        ? (await client.query('delete from search_blob_counts where fingerprint = any($1::text[])', [unused])).rowCount ?? 0
        : 0;
      await client.query('commit');
      helpers.logger.info(`pruned ${pruned_series} series and ${dropped} cached blob count(s)`);
      return { pruned_series, dropped_blob_counts: dropped };
    } catch (error) {
      await client.query('rollback');
      throw error;
    }
  });
}
