// Query.checkQuery: the query parser as a GraphQL field, so a form can validate a query as it is
// typed and show the parser's own message and position (the web dashboard does).
import { lambda } from 'postgraphile/grafast';
import { extendSchema, gql } from 'postgraphile/utils';
import { parseQuery, QuerySyntaxError } from '../search/query/parse-query.ts';

export interface QueryCheck {
  ok: boolean;
  message: string | null;
  code: string | null;
  position: number | null;
  hint: string | null;
  captureGroups: number;
}

export function checkQuery(query: string, criteria: boolean, capture = false): QueryCheck {
  try {
    const parsed = parseQuery(query.trim(), { criteriaOnly: criteria, capture });
    return { ok: true, message: null, code: null, position: null, hint: null, captureGroups: parsed.captureGroups };
  } catch (error) {
    if (!(error instanceof QuerySyntaxError)) throw error;
    return {
      ok: false,
      message: error.message,
      code: error.code,
      position: error.position,
      hint: error.hint ?? null,
      captureGroups: 0,
    };
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
      Why it is refused, as a stable code (docs/query-language.md#refusals); null when valid.
      """
      code: String
      """
      0-based character offset of the problem.
      """
      position: Int
      """
      How to write it instead, when the language can express it.
      """
      hint: String
      """
      Capturing groups of the pattern, when checked as a capture-group series (capture: true).
      """
      captureGroups: Int!
    }
    extend type Query {
      """
      Checks a series query (or, with repositoryCriteria: true, repository criteria; with capture: true, a
      capture-group series) without saving anything.
      """
      checkQuery(query: String!, repositoryCriteria: Boolean = false, capture: Boolean = false): QueryCheck!
    }
  `,
  objects: {
    Query: {
      plans: {
        checkQuery(_$root, fieldArgs) {
          return lambda(
            [fieldArgs.getRaw('query'), fieldArgs.getRaw('repositoryCriteria'), fieldArgs.getRaw('capture')],
            ([query, criteria, capture]) => checkQuery(String(query), criteria === true, capture === true),
          );
        },
      },
    },
  },
}));
