// Counting semantics (docs/query-language.md): a match is a non-overlapping occurrence in a
// file's content (it may span lines), case-insensitive unless case:yes; empty matches do not count;
// a capture-group series is counted per distinct value of its first group (truncated to 100
// characters; at most MAX_CAPTURE_VALUES values per repository and commit, see search-commit.ts).
// Binary content (a NUL byte in the first 8000 bytes, git's own rule) and files over 1 MiB count
// nothing.
import type { PatternNode, SearchQuery } from './query/parse-query.ts';
import { compileRe2, quoteRe2, type Re2 } from './regexp/re2.ts';

export const MAX_FILE_BYTES = 1024 * 1024;
export const BINARY_SNIFF_BYTES = 8000;
export const MAX_CAPTURE_LENGTH = 100;
/**
 * Distinct capture values kept per repository and commit: the most frequent ones (ties in code-unit
 * order); the rest are left out and the point is marked incomplete ('capture-limit'). Sourcegraph
 * shows 20 values of a capture-group insight by default (sorted by count) and aggregates capture
 * values in a buffer of 500 labels, reporting when it overflowed: this keeps as many.
 */
export const MAX_CAPTURE_VALUES = 500;

/** A capture value as stored: its first 100 UTF-16 code units, never half of a surrogate pair. */
export function truncateCapture(value: string): string {
  if (value.length <= MAX_CAPTURE_LENGTH) return value;
  const cut = value.charCodeAt(MAX_CAPTURE_LENGTH - 1);
  // A high surrogate at the end would be half a character, which PostgreSQL's jsonb refuses.
  return value.slice(0, cut >= 0xd800 && cut <= 0xdbff ? MAX_CAPTURE_LENGTH - 1 : MAX_CAPTURE_LENGTH);
}

/** What one blob contributes: its match count and, for capture-group queries, counts per value. */
export interface BlobCount {
  count: number;
  captures?: Record<string, number>;
}

export const NOTHING: BlobCount = { count: 0 };

export function isBinary(content: Buffer): boolean {
  return content.subarray(0, BINARY_SNIFF_BYTES).includes(0);
}

export interface ContentMatcher {
  /** Counts matches in a text (a file's content or a path). */
  count(text: string): BlobCount;
  /** Literal matchers are a scan; regexps run in a thread with a deadline (linear, but not cheap). */
  readonly canBacktrack: boolean;
  /** Some regexp of it runs on V8's (backtracking) engine: see count-blobs.ts for the fallback. */
  readonly usesV8?: boolean;
}

/** Characters whose case folding (RE2's simple folding) or lower-casing crosses into ASCII letters. */
const FOLDS_INTO_ASCII = /[\u0130\u017f\u212a]/;

/**
 * Literal search: indexOf over the whole text. Case-insensitive with an ASCII needle by lower-casing,
 * which is exactly RE2's `(?i)` unless the text holds one of the few characters that fold into ASCII
 * (KELVIN SIGN, LONG S, DOTTED CAPITAL I): those texts, and non-ASCII needles, go to the RE2 engine.
 */
function literalMatcher(pattern: string, caseSensitive: boolean, fast: boolean): ContentMatcher {
  if (pattern === '') return { canBacktrack: false, count: () => NOTHING };
  if (!caseSensitive && !/^[\x00-\x7f]*$/.test(pattern)) return regexpMatcher(quoteRe2(pattern), false, 0, fast);
  // A literal cannot backtrack in either engine, so it runs in-process.
  const folded = caseSensitive ? undefined : regexpMatcher(quoteRe2(pattern), false, 0, fast);
  const needle = caseSensitive ? pattern : pattern.toLowerCase();
  return {
    canBacktrack: false,
    count(text) {
      if (folded && FOLDS_INTO_ASCII.test(text)) return folded.count(text);
      const haystack = caseSensitive ? text : text.toLowerCase();
      let count = 0;
      for (let at = haystack.indexOf(needle); at >= 0; at = haystack.indexOf(needle, at + needle.length)) count++;
      return count ? { count } : NOTHING;
    },
  };
}

/**
 * Regexp search over the whole text with RE2 (src/search/regexp/re2.ts) in multi-line mode, as
 * Sourcegraph's searcher compiles patterns: `^`/`$` match at line boundaries and a match may span
 * lines where the pattern says so (`\n`, `(?s).`). Empty matches do not count.
 */
function regexpMatcher(source: string, caseSensitive: boolean, captureGroups: number, fast: boolean): ContentMatcher {
  // A capture-group series reads group 1, where V8 and RE2 differ on groups that match empty
  // inside a repetition: those keep re2js (counting match ranges is the same in both).
  const regexp = compileRe2(source, {
    caseInsensitive: !caseSensitive,
    multiline: true,
    fast: fast && captureGroups === 0,
  });
  return {
    canBacktrack: true,
    usesV8: regexp.engine === 'v8',
    count(text) {
      if (!regexp.test(text)) return NOTHING;
      let count = 0;
      const captures: Record<string, number> = {};
      for (const match of regexp.matches(text)) {
        if (match.end === match.start) continue;
        count++;
        if (captureGroups > 0 && match.group1 !== undefined) {
          const value = truncateCapture(match.group1);
          captures[value] = (captures[value] ?? 0) + 1;
        }
      }
      if (!count) return NOTHING;
      return captureGroups > 0 ? { count, captures } : { count };
    },
  };
}

/** What a matcher needs from a query: the pattern tree, the case mode, capture and count modes. */
export type MatcherQuery = Pick<SearchQuery, 'pattern' | 'caseSensitive' | 'captureGroups'> & {
  /** select:file / select:repo: a file counts 1 when the pattern holds in it, not its matches. */
  countDocuments?: boolean;
};

type Range = [start: number, end: number];

/** One term's non-empty match ranges in a text (RE2, multi-line, case mode of the query). */
function termRanges(regexp: Re2, text: string): Range[] {
  if (!regexp.test(text)) return [];
  const ranges: Range[] = [];
  for (const match of regexp.matches(text)) if (match.end > match.start) ranges.push([match.start, match.end]);
  return ranges;
}

/** Overlapping ranges of several terms merged into one, as Sourcegraph's mergeMatches does. */
function mergedCount(ranges: Range[]): number {
  ranges.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let count = 0;
  let end = -1;
  for (const [start, stop] of ranges) {
    if (start < end) end = Math.max(end, stop);
    else {
      count++;
      end = stop;
    }
  }
  return count;
}

/**
 * A boolean pattern (Sourcegraph's matchtree): per file, `and` holds when every child holds, `or`
 * when one does, `not` when its child does not; the file's count is its positive terms' match
 * ranges, overlaps merged.
 */
function treeMatcher(
  pattern: PatternNode,
  caseSensitive: boolean,
  countDocuments: boolean,
  fast: boolean,
): ContentMatcher {
  const compiled = new Map<PatternNode, Re2>();
  const compile = (node: PatternNode) => {
    if (node.kind === 'term')
      compiled.set(node, compileRe2(node.regexp, { caseInsensitive: !caseSensitive, multiline: true, fast }));
    else if (node.kind === 'not') compile(node.child);
    else node.children.forEach(compile);
  };
  compile(pattern);
  const evaluate = (node: PatternNode, text: string, ranges: Range[]): boolean => {
    switch (node.kind) {
      case 'term': {
        const found = termRanges(compiled.get(node)!, text);
        ranges.push(...found);
        return found.length > 0;
      }
      case 'not':
        return !evaluate(node.child, text, []);
      case 'and': {
        const mine: Range[] = [];
        for (const child of node.children) if (!evaluate(child, text, mine)) return false;
        ranges.push(...mine);
        return true;
      }
      case 'or': {
        let any = false;
        for (const child of node.children) any = evaluate(child, text, ranges) || any;
        return any;
      }
    }
  };
  return {
    canBacktrack: true,
    usesV8: [...compiled.values()].some((regexp) => regexp.engine === 'v8'),
    count(text) {
      const ranges: Range[] = [];
      if (!evaluate(pattern, text, ranges)) return NOTHING;
      const count = countDocuments ? 1 : mergedCount(ranges);
      return count ? { count } : NOTHING;
    },
  };
}

/** A matcher that counts a document (any text) once when the single-term pattern matches it. */
function documentMatcher(inner: ContentMatcher): ContentMatcher {
  return {
    canBacktrack: inner.canBacktrack,
    usesV8: inner.usesV8 === true,
    count: (text) => (inner.count(text).count > 0 ? { count: 1 } : NOTHING),
  };
}

/**
 * `fast`: the caller runs the matcher where a deadline bounds it (readAndCount: in a search thread,
 * or in-process for literals), so regexps may use V8 on their exact translation (regexp/re2.ts).
 */
export function compileMatcher(query: MatcherQuery, options: { fast?: boolean } = {}): ContentMatcher {
  // Compiled once per thread and query: a backfill step makes many small searches of one query.
  const key = JSON.stringify([
    query.pattern,
    query.caseSensitive,
    query.captureGroups,
    query.countDocuments,
    options.fast,
  ]);
  let matcher = compiled.get(key);
  if (matcher) {
    compiled.delete(key);
  } else {
    matcher = compileNew(query, options.fast === true);
    if (compiled.size >= COMPILED_KEPT) compiled.delete(compiled.keys().next().value!);
  }
  compiled.set(key, matcher);
  return matcher;
}

/** Matchers kept (least recently used dropped): they hold no state between counts. */
const COMPILED_KEPT = 64;
const compiled = new Map<string, ContentMatcher>();

function compileNew(query: MatcherQuery, fast: boolean): ContentMatcher {
  const { pattern, caseSensitive } = query;
  if (!pattern) return { canBacktrack: false, count: () => ({ count: 1 }) };
  if (pattern.kind !== 'term') return treeMatcher(pattern, caseSensitive, query.countDocuments === true, fast);
  const single =
    pattern.literal !== undefined && query.captureGroups === 0
      ? literalMatcher(pattern.literal, caseSensitive, fast)
      : regexpMatcher(pattern.regexp, caseSensitive, query.captureGroups, fast);
  // Capture values are kept per file; the caller counts each value once per file (select:file).
  return query.countDocuments && query.captureGroups === 0 ? documentMatcher(single) : single;
}

/** Counts one blob's content, applying the binary rule. */
export function countContent(matcher: ContentMatcher, content: Buffer): BlobCount {
  if (content.length > MAX_FILE_BYTES || isBinary(content)) return NOTHING;
  return matcher.count(content.toString('utf8'));
}
