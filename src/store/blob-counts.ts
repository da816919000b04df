// The per-blob match counts (insights_core.search_blob_counts), keyed by query fingerprint and blob
// id: shared by every worker and kept across restarts.
import type { Queryable } from './queryable.ts';

export interface BlobCountRow {
  blob_oid: string;
  match_count: number;
  captures: Record<string, number> | null;
}

export async function readBlobCounts(db: Queryable, fingerprint: string, oids: string[]): Promise<BlobCountRow[]> {
  const { rows } = await db.query<BlobCountRow>(
    `select blob_oid, match_count, captures from insights_core.search_blob_counts
      where fingerprint = $1 and blob_oid = any($2::text[])`,
    [fingerprint, oids],
  );
  return rows;
}

/** Stores counts; a count already there (another worker's) is kept, as it is the same. */
export async function writeBlobCounts(
  db: Queryable,
  fingerprint: string,
  rows: { oids: string[]; counts: number[]; captures: Array<string | null> },
): Promise<void> {
  await db.query(
    `insert into insights_core.search_blob_counts (fingerprint, blob_oid, match_count, captures)
     select $1, oid, count, captures::jsonb from unnest($2::text[], $3::int[], $4::text[]) as t(oid, count, captures)
     on conflict do nothing`,
    [fingerprint, rows.oids, rows.counts, rows.captures],
  );
}

/** Drops the counts of fingerprints no series uses any more; returns how many rows went. */
export async function deleteBlobCounts(db: Queryable, fingerprints: string[]): Promise<number> {
  if (!fingerprints.length) return 0;
  const { rowCount } = await db.query(
    'delete from insights_core.search_blob_counts where fingerprint = any($1::text[])',
    [fingerprints],
  );
  return rowCount ?? 0;
}
