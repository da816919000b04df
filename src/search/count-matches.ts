// Counting semantics (docs/query-language.md): a match is a non-overlapping occurrence within one line,
// case-insensitive unless case:yes; empty matches do not count; a regexp with capture groups is
// counted per distinct value of its first group (truncated to 100 characters). Binary content (a
// NUL byte in the first 8000 bytes, git's own rule) and files over 1 MiB count nothing.
import type { SearchQuery } from './query/parse-query.ts';

export const MAX_FILE_BYTES = 1024 * 1024;
export const BINARY_SNIFF_BYTES = 8000;
export const MAX_CAPTURE_LENGTH = 100;

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
  /** Literal matchers cannot run away; regexps run in a thread with a deadline. */
  readonly canBacktrack: boolean;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

/** Literal search: indexOf over the whole text (a pattern without a newline cannot span lines). */
function literalMatcher(pattern: string, caseSensitive: boolean): ContentMatcher {
  const asciiOnly = /^[\x00-\x7f]*$/.test(pattern);
  if (pattern.includes('\n') || pattern === '') return { canBacktrack: false, count: () => NOTHING };
  if (!caseSensitive && !asciiOnly) return regexpMatcher(escapeRegExp(pattern), false, 0);
  const needle = caseSensitive ? pattern : pattern.toLowerCase();
  return {
    canBacktrack: false,
    count(text) {
      const haystack = caseSensitive ? text : text.toLowerCase();
      let count = 0;
      for (let at = haystack.indexOf(needle); at >= 0; at = haystack.indexOf(needle, at + needle.length)) count++;
      return count ? { count } : NOTHING;
    },
  };
}

/**
 * Regexp search, line by line. A quick multi-line test over the whole text first (a superset of the
 * per-line semantics: `^`/`$` match at every line boundary) rejects the many texts without a match.
 */
function regexpMatcher(source: string, caseSensitive: boolean, captureGroups: number): ContentMatcher {
  const flags = caseSensitive ? 's' : 'is';
  const anywhere = new RegExp(source, `m${flags}`);
  const perLine = new RegExp(source, `g${flags}`);
  return {
    canBacktrack: true,
    count(text) {
      if (!anywhere.test(text)) return NOTHING;
      let count = 0;
      const captures: Record<string, number> = {};
      let lineStart = 0;
      while (lineStart <= text.length) {
        let lineEnd = text.indexOf('\n', lineStart);
        if (lineEnd < 0) lineEnd = text.length;
        const line = text.slice(lineStart, lineEnd);
        perLine.lastIndex = 0;
        for (let match = perLine.exec(line); match; match = perLine.exec(line)) {
          if (match[0] === '') {
            perLine.lastIndex++;
            continue;
          }
          count++;
          if (captureGroups > 0 && match[1] !== undefined) {
            const value = match[1].slice(0, MAX_CAPTURE_LENGTH);
            captures[value] = (captures[value] ?? 0) + 1;
          }
        }
        lineStart = lineEnd + 1;
      }
      if (!count) return NOTHING;
      return captureGroups > 0 ? { count, captures } : { count };
    },
  };
}

export function compileMatcher(
  query: Pick<SearchQuery, 'pattern' | 'patternType' | 'caseSensitive' | 'captureGroups'>,
): ContentMatcher {
  return query.patternType === 'regexp'
    ? regexpMatcher(query.pattern, query.caseSensitive, query.captureGroups)
    : literalMatcher(query.pattern, query.caseSensitive);
}

/** Counts one blob's content, applying the binary rule. */
export function countContent(matcher: ContentMatcher, content: Buffer): BlobCount {
  if (content.length > MAX_FILE_BYTES || isBinary(content)) return NOTHING;
  return matcher.count(content.toString('utf8'));
}
