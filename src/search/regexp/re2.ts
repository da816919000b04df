// The one regular-expression engine of the query language: RE2 syntax and semantics through
// `re2js`, a port of Go's regexp package (the engine Sourcegraph uses), so matching is linear in the
// text whatever the pattern. Contents, paths, repository names and predicates all compile here.
// File contents, counted in threads under a deadline, may ask for `fast`: V8's engine on an exact
// translation of the pattern, checked against C++ RE2 by test/re2-conformance.test.ts.
import { RE2JS, RE2JSSyntaxException } from 're2js';
import { translateRe2 } from './re2-to-js.ts';

export interface Re2Options {
  /** `(?i)` for the whole pattern. */
  caseInsensitive: boolean;
  /** `(?m)`: `^` and `$` match at line boundaries (Sourcegraph's content search). */
  multiline?: boolean;
  /**
   * Match with V8's engine on an exact translation (re2-to-js.ts) where there is one: many times
   * faster, but backtracking, so only for callers that run under a deadline in a thread, and for
   * match positions only (matches() then reports no group).
   */
  fast?: boolean;
}

/** A pattern RE2 refuses; `offset` is the 0-based position in the pattern of the problem. */
export class Re2SyntaxError extends Error {
  readonly reason: string;
  readonly offset: number;
  readonly hint?: string;
  constructor(reason: string, offset: number, hint?: string) {
    super(reason);
    this.name = 'Re2SyntaxError';
    this.reason = reason;
    this.offset = offset;
    this.hint = hint;
  }
}

/** One match: UTF-16 offsets into the text, and the first capture group's text when it took part. */
export interface Re2Match {
  start: number;
  end: number;
  group1?: string;
}

interface Unsupported {
  reason: string;
  offset: number;
  hint?: string;
}

/** `\1`..`\9` is a backreference, except `\1`..`\7` followed by an octal digit (Go reads `\12` as octal). */
function isBackreference(digit: string, after: string | undefined): boolean {
  if (digit < '1' || digit > '9') return false;
  return digit >= '8' || after === undefined || after < '0' || after > '7';
}

/**
 * Perl syntax RE2 leaves out on purpose (it cannot be matched in linear time), found before re2js
 * sees the pattern so the error names the construct rather than "invalid escape sequence".
 */
function findUnsupported(source: string): Unsupported | undefined {
  let inClass = false;
  for (let i = 0; i < source.length; i++) {
    const char = source[i]!;
    if (char === '\\') {
      const next = source[i + 1];
      if (next === 'Q') {
        const end = source.indexOf('\\E', i + 2);
        if (end < 0) return undefined;
        i = end + 1;
      } else if (!inClass && next !== undefined && isBackreference(next, source[i + 2])) {
        return { reason: 'backreferences are not supported (RE2 syntax)', offset: i };
      } else {
        i++;
      }
      continue;
    }
    if (inClass) {
      if (source.startsWith('[:', i)) {
        const end = source.indexOf(':]', i + 2);
        if (end > 0) i = end + 1;
      } else if (char === ']') inClass = false;
      continue;
    }
    if (char === '[') {
      inClass = true;
      if (source[i + 1] === '^') i++;
      if (source[i + 1] === ']') i++; // `[]a]`: a leading ] is a member
      continue;
    }
    if (/^\(\?<?[=!]/.test(source.slice(i, i + 4)))
      return {
        reason: 'lookaround assertions are not supported (RE2 syntax)',
        offset: i,
        hint: 'match the surrounding text too, or capture the part to keep',
      };
    if (source.startsWith('(?>', i)) return { reason: 'atomic groups are not supported (RE2 syntax)', offset: i };
    if ('*+?'.includes(char) && source[i + 1] === '+')
      return { reason: 'possessive quantifiers are not supported (RE2 syntax)', offset: i + 1 };
  }
  return undefined;
}

const isHighSurrogate = (code: number) => code >= 0xd800 && code <= 0xdbff;
const isLowSurrogate = (code: number) => code >= 0xdc00 && code <= 0xdfff;

export class Re2 {
  readonly source: string;
  readonly groupCount: number;
  readonly #compiled: RE2JS;
  readonly #fast: RegExp | undefined;

  constructor(source: string, options: Re2Options) {
    const unsupported = findUnsupported(source);
    if (unsupported) throw new Re2SyntaxError(unsupported.reason, unsupported.offset, unsupported.hint);
    const flags = (options.caseInsensitive ? RE2JS.CASE_INSENSITIVE : 0) | (options.multiline ? RE2JS.MULTILINE : 0);
    try {
      this.#compiled = RE2JS.compile(source, flags);
    } catch (error) {
      if (!(error instanceof RE2JSSyntaxException)) throw error;
      // re2js says what and where as Go does: "missing closing ): `foo(`"; the fragment locates it.
      const fragment = error.input ?? '';
      const found = fragment ? source.lastIndexOf(fragment) : -1;
      throw new Re2SyntaxError(error.error, found >= 0 ? found : 0);
    }
    this.source = source;
    this.groupCount = this.#compiled.groupCount();
    this.#fast = options.fast
      ? translateRe2(source, { caseInsensitive: options.caseInsensitive, multiline: options.multiline === true })
      : undefined;
  }

  /** Which engine matches: `re2js`, or `v8` on the translated pattern. */
  get engine(): 're2js' | 'v8' {
    return this.#fast ? 'v8' : 're2js';
  }

  /** Whether the pattern matches anywhere in the text (the fast DFA path). */
  test(text: string): boolean {
    if (this.#fast) {
      this.#fast.lastIndex = 0;
      return this.#fast.test(text);
    }
    return this.#compiled.test(text);
  }

  /**
   * Successive non-overlapping matches, leftmost-first, as Go's FindAllStringSubmatchIndex: after an
   * empty match the search moves on by one character, and an empty match right where the previous
   * match ended is skipped. Empty matches are reported too; callers that count skip them.
   */
  *matches(text: string): Generator<Re2Match> {
    if (this.#fast) {
      yield* this.#fastMatches(this.#fast, text);
      return;
    }
    const matcher = this.#compiled.matcher(text);
    const wantGroup = this.groupCount > 0;
    let previousEnd = -1;
    while (matcher.find()) {
      const start = matcher.start();
      const end = matcher.end();
      const abutting = start === end && start === previousEnd;
      previousEnd = end;
      if (abutting) continue;
      if (wantGroup) {
        const group1 = matcher.group(1);
        yield group1 === null || group1 === undefined ? { start, end } : { start, end, group1 };
      } else {
        yield { start, end };
      }
    }
  }

  *#fastMatches(regexp: RegExp, text: string): Generator<Re2Match> {
    regexp.lastIndex = 0;
    let previousEnd = -1;
    for (let match = regexp.exec(text); match; match = regexp.exec(text)) {
      const start = match.index;
      const end = start + match[0].length;
      if (end === start) {
        // Past an empty match by one character (a whole surrogate pair), as Go does.
        regexp.lastIndex = start + ((text.codePointAt(start) ?? 0) > 0xffff ? 2 : 1);
      }
      const abutting = start === end && start === previousEnd;
      previousEnd = end;
      if (abutting) continue;
      // V8 finds empty matches between the halves of a surrogate pair; RE2 works on code points.
      if (start === end && isLowSurrogate(text.charCodeAt(start)) && isHighSurrogate(text.charCodeAt(start - 1)))
        continue;
      yield { start, end };
      if (start >= text.length) return;
    }
  }

  /** The number of non-empty matches. */
  countMatches(text: string): number {
    if (!this.test(text)) return 0;
    let count = 0;
    for (const match of this.matches(text)) if (match.end > match.start) count++;
    return count;
  }
}

/** Compiles a pattern in RE2 syntax or throws a Re2SyntaxError saying what is wrong and where. */
export function compileRe2(source: string, options: Re2Options): Re2 {
  return new Re2(source, options);
}

/** A literal text as an RE2 pattern (`\Q...\E` cannot hold `\E`, so each metacharacter is escaped). */
export function quoteRe2(text: string): string {
  return RE2JS.quote(text);
}
