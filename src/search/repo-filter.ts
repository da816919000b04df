// The repo: and -repo: filters of a query, applied to repository names with RE2 (case-insensitive
// unless case:yes, as in Sourcegraph). Every repo: filter must match (AND) and no -repo: may.
import { SearchTimeoutError } from './read-and-count.ts';
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

/** Names matched between deadline checks. */
const NAMES_PER_CHECK = 256;

/**
 * The repositories whose names a query's repo: filters admit, within a deadline: each name is
 * matched in linear time, but a series may cover many repositories. Past the deadline it throws
 * SearchTimeoutError.
 */
export function repositoriesInScope<T extends { name: string }>(
  repositories: T[],
  query: RepoScope,
  deadline: number,
): T[] {
  const inScope = repositoryMatcher(query);
  return repositories.filter((repository, k) => {
    if (k % NAMES_PER_CHECK === NAMES_PER_CHECK - 1 && Date.now() > deadline)
      throw new SearchTimeoutError('matching repository names took longer than the search timeout');
    return inScope(repository.name);
  });
}
