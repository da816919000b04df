// How expensive a query is to backfill, relative to a literal search: the factor of
// estimated_cost = complexity x repositories x samples (docs/backfill.md). Cheap to compute, and
// only the ratio between backfills matters (the queue sorts them into four cost buckets).
import type { PatternNode, SearchQuery } from '../search/query/parse-query.ts';

/** Terms of a pattern: literal ones cost 1 (a scan), regexps 2. */
function patternCost(node: PatternNode): number {
  if (node.kind === 'term') return node.literal !== undefined ? 1 : 2;
  if (node.kind === 'not') return patternCost(node.child);
  return node.children.reduce((sum, child) => sum + patternCost(child), 0);
}

export function queryComplexity(query: SearchQuery): number {
  // Each content predicate reads the files it tests, like one more regexp term.
  const predicates =
    2 * (query.repoPredicates.filter((p) => p.content !== undefined).length + query.fileContentInclude.length) +
    2 * query.fileContentExclude.length;
  if (query.target === 'path' && !predicates) return 0.25; // paths only: no blob is read
  let complexity = (query.pattern ? patternCost(query.pattern) : 0) + predicates;
  if (query.captureGroups > 0) complexity += 1;
  // Filters that narrow the files searched make a backfill cheaper.
  if (query.fileInclude.length || query.langInclude.length) complexity *= 0.5;
  return Math.max(complexity, 0.25);
}
