// The deadline of one repository's search: the server's SEARCH_TIMEOUT_SECONDS, or a query's own
// shorter timeout: (Sourcegraph's filter; it can shorten the limit, never lengthen it).
import type { SearchQuery } from './query/parse-query.ts';

export function searchTimeoutMs(
  limits: { searchTimeoutMs: number },
  query: Pick<SearchQuery, 'timeoutSeconds'>,
): number {
  if (query.timeoutSeconds === undefined) return limits.searchTimeoutMs;
  return Math.min(limits.searchTimeoutMs, Math.max(1, query.timeoutSeconds * 1000));
}
