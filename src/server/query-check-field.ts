// Query.checkQuery: the query parser as a GraphQL field, so a form can validate a query as it is
// typed and show the parser's own message and position (the web dashboard does).
import { lambda } from 'postgraphile/grafast';
import { extendSchema, gql } from 'postgraphile/utils';
import { parseQuery, QuerySyntaxError } from '../search/query/parse-query.ts';

export interface QueryCheck {
  ok: boolean;
  message: string | null;
  position: number | null;
  captureGroups: number;
}

export function checkQuery(query: string, criteria: boolean): QueryCheck {
  try {
    const parsed = parseQuery(query.trim(), { criteriaOnly: criteria });
    return { ok: true, message: null, position: null, captureGroups: parsed.captureGroups };
  } catch (error) {
    if (!(error instanceof QuerySyntaxError)) throw error;
    return { ok: false, message: error.message, position: error.position, captureGroups: 0 };
  }
}

export const QueryCheckPlugin = extendSchema(() => ({
  typeDefs: gql`
    """
    The parser's verdict on a query (docs/query-language.md).
    """
    type QueryCheck {
      ok: Boolean!
      """
      What is wrong, with the position; null when the query is valid.
      """
      message: String
      """
      0-based character offset of the problem.
      """
      position: Int
      """
      Capturing groups of a regexp pattern: more than 0 makes a capture-group series possible.
      """
      captureGroups: Int!
    }
    extend type Query {
      """
      Checks a series query (or, with repositoryCriteria: true, repository criteria) without saving anything.
      """
      checkQuery(query: String!, repositoryCriteria: Boolean = false): QueryCheck!
    }
  `,
  objects: {
    Query: {
      plans: {
        checkQuery(_$root, fieldArgs) {
          return lambda([fieldArgs.getRaw('query'), fieldArgs.getRaw('repositoryCriteria')], ([query, criteria]) =>
            checkQuery(String(query), criteria === true),
          );
        },
      },
    },
  },
}));
