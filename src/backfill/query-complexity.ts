// How expensive a query is to backfill, relative to a literal search: the factor of
// estimated_cost = complexity x repositories x samples (docs/backfill.md). Cheap to compute, and
// only the ratio between backfills matters (the queue sorts them into four cost buckets).
import type { SearchQuery } from '../search/query/parse-query.ts';

export function queryComplexity(query: SearchQuery, captureGroups: boolean): number {
  if (query.target === 'path') return 0.25; // paths only: no blob is read
  let complexity = query.patternType === 'regexp' ? 2 : 1;
  if (captureGroups) complexity += 1;
  // Filters that narrow the files searched make a backfill cheaper.
  if (query.fileInclude.length || query.langInclude.length) complexity *= 0.5;
  return complexity;
}
