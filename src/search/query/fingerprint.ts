// The part of a query that decides a blob's result (pattern tree, case, capture and count modes),
// as a stable hash: the key of the per-blob cache.
// Path, language and repository filters are left out on purpose (they choose which blobs are read,
// not what a blob counts), so queries that differ only in scope share cached results.
import { createHash } from 'node:crypto';
import type { MatcherQuery } from '../count-matches.ts';

/** Bump when counting semantics change, so old cache rows are no longer used. */
const ENGINE_VERSION = 2;

export function blobFingerprint(query: MatcherQuery): string {
  const key = JSON.stringify([
    ENGINE_VERSION,
    query.pattern,
    query.caseSensitive,
    query.captureGroups > 0,
    query.countDocuments === true,
  ]);
  return createHash('sha256').update(key).digest('hex').slice(0, 32);
}
