// The repo: and -repo: filters of a query, applied to repository names with RE2 (case-insensitive
// unless case:yes, as in Sourcegraph). Every repo: filter must match (AND) and no -repo: may.
import { compileRe2, type Re2 } from './regexp/re2.ts';
import type { SearchQuery } from './query/parse-query.ts';

type RepoScope = Pick<SearchQuery, 'repoInclude' | 'repoExclude'> & Partial<Pick<SearchQuery, 'caseSensitive'>>;

/** A query's repository-name rule, compiled once for many names. */
export function repositoryMatcher(query: RepoScope): (name: string) => boolean {
  const options = { caseInsensitive: query.caseSensitive !== true };
  const include: Re2[] = query.repoInclude.map((source) => compileRe2(source, options));
  const exclude: Re2[] = query.repoExclude.map((source) => compileRe2(source, options));
  return (name) => include.every((re) => re.test(name)) && !exclude.some((re) => re.test(name));
}

export function repositoryMatches(query: RepoScope, name: string): boolean {
  return repositoryMatcher(query)(name);
}
