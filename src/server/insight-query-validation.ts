// The insight mutations are SQL functions, but the query language is parsed in TypeScript
// (src/search/query). This plugin parses each query of a create/update mutation before the SQL runs:
// a malformed query fails the mutation with the parser's position and message, and nothing is
// written (steps planned after a side effect do not run when it throws).
import { sideEffect } from 'postgraphile/grafast';
import { wrapPlans, type PlanWrapperFn } from 'postgraphile/utils';
import { parseQuery, QuerySyntaxError, type ParseOptions } from '../search/query/parse-query.ts';

/** A bad query in a mutation's input; the server shows its message and extensions to the client. */
export class InvalidInsightInputError extends Error {
  /** invalid_parameter_value, like the SQL functions' own input errors. */
  readonly code = '22023';
  readonly extensions: Record<string, unknown>;
  constructor(message: string, extensions: Record<string, unknown>) {
    super(message);
    this.name = 'InvalidInsightInputError';
    this.extensions = extensions;
  }
}

function parseField(query: string, field: string, options?: ParseOptions) {
  try {
    return parseQuery(query, options);
  } catch (error) {
    if (!(error instanceof QuerySyntaxError)) throw error;
    throw new InvalidInsightInputError(`${field}: ${error.message}`, {
      field,
      query: query.length > 200 ? `${query.slice(0, 200)}…` : query,
      refusal: error.code,
      position: error.position,
      reason: error.reason,
      ...(error.hint ? { hint: error.hint } : {}),
    });
  }
}

/** A capture-group series is parsed as one (a regexp with a group); the parser says what is wrong. */
function checkCaptureFlag(query: string, field: string, wantsCaptures: boolean): void {
  parseField(query, field, { capture: wantsCaptures });
}

// Inputs arrive as GraphQL gives them (camelCase). Shapes the SQL functions check themselves
// (missing fields, wrong types) are left to them, so every message has one source.
interface InsightInput {
  series?: unknown;
  repositoryCriteria?: unknown;
  query?: unknown;
}

function checkCriteria(input: InsightInput): void {
  if (typeof input.repositoryCriteria === 'string' && input.repositoryCriteria.trim()) {
    parseField(input.repositoryCriteria.trim(), 'repositoryCriteria', { criteriaOnly: true });
  }
}

/** What a JSON value is, for a message: "an array", "a number", "null". */
function jsonKind(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  return `a ${typeof value}`;
}

/**
 * A series' text fields must be text. The SQL functions read them with `->>`, which turns an array
 * or a number into its JSON text: `["TODO"]` would be stored as the query and fail in the worker on
 * every run. Positions count from 1, as the SQL functions' messages do.
 */
function checkSeriesFields(element: Record<string, unknown>, position: number): void {
  for (const field of ['query', 'label', 'stroke'] as const) {
    const value = element[field];
    const required = field === 'query';
    if (value === undefined || (!required && value === null) || typeof value === 'string') continue;
    throw new InvalidInsightInputError(`series ${position}'s ${field} must be a string, not ${jsonKind(value)}`, {
      field: `series[${position - 1}].${field}`,
      got: jsonKind(value),
    });
  }
}

/** Line charts: every series' query, and its capture_groups flag against the query. */
function checkLineChartInput(input: InsightInput): void {
  if (Array.isArray(input.series)) {
    input.series.forEach((element: unknown, index) => {
      // Not an object: the SQL function says what a series is.
      if (!element || typeof element !== 'object' || Array.isArray(element)) return;
      checkSeriesFields(element as Record<string, unknown>, index + 1);
      const { query, capture_groups: captures } = element as { query?: unknown; capture_groups?: unknown };
      if (typeof query === 'string' && query.trim())
        checkCaptureFlag(query.trim(), `series[${index}].query`, captures === true);
    });
  }
  checkCriteria(input);
}

/** Pie charts: no query (languages) or a capture-group regexp. */
function checkPieChartInput(input: InsightInput): void {
  if (typeof input.query === 'string' && input.query.trim()) checkCaptureFlag(input.query.trim(), 'query', true);
  checkCriteria(input);
}

function checkedBy(check: (input: InsightInput) => void): PlanWrapperFn {
  return (plan, _$source, fieldArgs) => {
    sideEffect(fieldArgs.getRaw('input'), (input) => check((input ?? {}) as InsightInput));
    return plan();
  };
}

export const InsightQueryValidationPlugin = wrapPlans({
  Mutation: {
    createLineChartInsight: checkedBy(checkLineChartInput),
    updateLineChartInsight: checkedBy(checkLineChartInput),
    createPieChartInsight: checkedBy(checkPieChartInput),
    updatePieChartInsight: checkedBy(checkPieChartInput),
  },
});
