// A query the language refuses: a stable code (for clients and tests), the 0-based position of the
// problem, what is wrong and, where the language can express it, how to write it instead.

export type QueryErrorCode =
  | 'syntax'
  | 'too-long'
  | 'unknown-filter'
  | 'invalid-value'
  | 'unknown-language'
  | 'invalid-regexp'
  | 'no-pattern'
  | 'unsupported-type'
  | 'unsupported-patterntype'
  | 'unsupported-select'
  | 'unsupported-filter'
  | 'unsupported-boolean'
  | 'not-criteria';

export class QuerySyntaxError extends Error {
  readonly code: QueryErrorCode;
  readonly position: number;
  readonly reason: string;
  readonly hint?: string;
  constructor(code: QueryErrorCode, reason: string, position: number, hint?: string) {
    super(`${reason} at ${position}${hint ? `; ${hint}` : ''}`);
    this.name = 'QuerySyntaxError';
    this.code = code;
    this.reason = reason;
    this.position = position;
    this.hint = hint;
  }
}
