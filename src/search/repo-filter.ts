// The repo: and -repo: filters of a query, applied to repository names (case-insensitive). Every
// repo: filter must match (AND), as in repository criteria (repository_criteria_matches in SQL).
import type { SearchQuery } from './query/parse-query.ts';

export function repositoryMatches(query: Pick<SearchQuery, 'repoInclude' | 'repoExclude'>, name: string): boolean {
  return (
    query.repoInclude.every((source) => new RegExp(source, 'i').test(name)) &&
    !query.repoExclude.some((source) => new RegExp(source, 'i').test(name))
  );
}
