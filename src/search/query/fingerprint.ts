// The part of a query that decides a blob's result, as a stable hash: the key of the per-blob cache.
// Path, language and repository filters are left out on purpose (they choose which blobs are read,
// not what a blob counts), so queries that differ only in scope share cached results.
import { createHash } from 'node:crypto';
import type { SearchQuery } from './parse-query.ts';

/** Bump when counting semantics change, so old cache rows are no longer used. */
const ENGINE_VERSION = 1;

export function blobFingerprint(query: SearchQuery): string {
  const key = JSON.stringify([ENGINE_VERSION, query.patternType, query.caseSensitive, query.pattern]);
  return createHash('sha256').update(key).digest('hex').slice(0, 32);
}
