// The query language: Sourcegraph's search syntax with the meaning Sourcegraph gives it in
// search-powered insights (docs/query-language.md), parsed into a plain JSON plan. The plan is what
// every path stores and counts with (src/store/series-query-plans.ts); anything the language cannot
// count exactly is refused with a code, a position and, where it can be expressed, how.
import { commitAfterTime } from './commit-after.ts';
import { findLanguage, languageNames } from './languages.ts';
import { QuerySyntaxError } from './query-error.ts';
import { compileRe2, quoteRe2, Re2SyntaxError } from '../regexp/re2.ts';
import { scanQuery, type Token } from './scan-query.ts';
import { closest } from './suggest.ts';

export { QuerySyntaxError } from './query-error.ts';

/** Bump when the plan's shape or meaning changes: stored plans of older versions are parsed again. */
export const PARSER_VERSION = 2;
/** Queries longer than this are refused before any parsing. */
export const MAX_QUERY_LENGTH = 4096;

/** A pattern expression: RE2 terms combined as Sourcegraph combines them in one file. */
export type PatternNode =
  | {
      kind: 'term';
      /** The RE2 source to match (a literal is quoted). */
      regexp: string;
      /** The literal text, when the term is literal (the fast path). */
      literal?: string;
    }
  | { kind: 'and'; children: PatternNode[] }
  | { kind: 'or'; children: PatternNode[] }
  | { kind: 'not'; child: PatternNode };

export interface RepoPredicate {
  negated: boolean;
  /** repo:has.file(path:…) / repo:has.path(…): some file's path matches (RE2, case-insensitive). */
  path?: string;
  /** repo:has.file(content:…) / repo:has.content(…): some file's content matches. */
  content?: string;
  /** repo:has.commit.after(…): the commit searched is no older; the argument as written (commit-after.ts). */
  commitAfter?: string;
}

export type PatternType = 'literal' | 'regexp' | 'standard' | 'keyword';

export interface SearchQuery {
  /** The query as written. */
  source: string;
  version: number;
  /** How the pattern was read. */
  patternType: PatternType;
  /** What to look for; null for path or file counts that filter by file:/lang: alone. */
  pattern: PatternNode | null;
  caseSensitive: boolean;
  /** content: count matches in file contents; path: count files whose path matches. */
  target: 'content' | 'path';
  /** match: every occurrence; file: files with a match; repo: repositories with a match. */
  select: 'match' | 'file' | 'repo';
  /** RE2 patterns on repository names, case-insensitive: every include must match, no exclude. */
  repoInclude: string[];
  repoExclude: string[];
  repoPredicates: RepoPredicate[];
  /** RE2 patterns on paths (case-insensitive unless case:yes). */
  fileInclude: string[];
  fileExclude: string[];
  /** Linguist language names. */
  langInclude: string[];
  /** `lang:a or lang:b`: each list admits a file in any of its languages. */
  langIncludeAny: string[][];
  langExclude: string[];
  /** file:has.content(…): only files whose content matches (or, negated, does not). */
  fileContentInclude: string[];
  fileContentExclude: string[];
  /** Capturing groups of the pattern, for a capture-group series (0 otherwise). */
  captureGroups: number;
  /** timeout:…, in seconds (the server's own limit still applies). */
  timeoutSeconds?: number;
}

export interface ParseOptions {
  /** Repository criteria: only repo:/-repo: filters, no pattern. */
  criteriaOnly?: boolean;
  /** A capture-group series ("detect and track"): the query is a regexp; its first group is the value. */
  capture?: boolean;
}

/**
 * How each pattern type reads a query (Sourcegraph's parser.go and transformer.go): whether quotes
 * delimit a literal or are characters, whether `/…/` is a regexp, what a bare word is, and how
 * adjacent pattern words combine (joined by a space; `.*?` in regexp mode; and-ed in keyword mode).
 */
const MODES: Record<
  PatternType,
  { quotesDelimit: boolean; slashesDelimit: boolean; words: 'literal' | 'regexp'; join: 'space' | 'fuzzy' | 'and' }
> = {
  literal: { quotesDelimit: false, slashesDelimit: false, words: 'literal', join: 'space' },
  standard: { quotesDelimit: false, slashesDelimit: true, words: 'literal', join: 'space' },
  regexp: { quotesDelimit: true, slashesDelimit: true, words: 'regexp', join: 'fuzzy' },
  keyword: { quotesDelimit: true, slashesDelimit: true, words: 'literal', join: 'and' },
};
/**
 * Without patterntype: a query is literal, as Sourcegraph's insights read it, with one addition the
 * product asks for: `/…/` is a regexp (Sourcegraph's standard mode). Quotes stay ordinary characters.
 */
const DEFAULT_PATTERN_TYPE: PatternType = 'standard';

type FilterName =
  | 'repo'
  | 'file'
  | 'lang'
  | 'case'
  | 'patterntype'
  | 'count'
  | 'type'
  | 'select'
  | 'fork'
  | 'archived'
  | 'visibility'
  | 'timeout'
  | 'context'
  | 'repohasfile';

const FILTER_ALIASES: Record<string, FilterName> = {
  repo: 'repo',
  r: 'repo',
  file: 'file',
  f: 'file',
  path: 'file',
  lang: 'lang',
  l: 'lang',
  language: 'lang',
  case: 'case',
  patterntype: 'patterntype',
  count: 'count',
  type: 'type',
  select: 'select',
  fork: 'fork',
  archived: 'archived',
  visibility: 'visibility',
  timeout: 'timeout',
  context: 'context',
  repohasfile: 'repohasfile',
};
const NEGATABLE = new Set<FilterName>(['repo', 'file', 'lang', 'repohasfile']);
/** Sourcegraph filters this engine does not count, each named in its refusal. */
const UNSUPPORTED_FILTERS: Record<string, string> = {
  rev: 'revisions other than the default branch are not searched',
  revision: 'revisions other than the default branch are not searched',
  author: 'author: belongs to commit and diff searches, which insights do not count yet',
  committer: 'committer: belongs to commit and diff searches, which insights do not count yet',
  before: 'before: belongs to commit and diff searches; the insight samples history itself',
  after: 'after: belongs to commit and diff searches; the insight samples history itself',
  until: 'until: belongs to commit and diff searches; the insight samples history itself',
  since: 'since: belongs to commit and diff searches; the insight samples history itself',
  message: 'message: belongs to commit searches, which insights do not count yet',
  msg: 'msg: belongs to commit searches, which insights do not count yet',
  content: 'content: is not supported',
  repogroup: 'repogroup: was removed from Sourcegraph; use repo: filters or repository criteria',
  stable: 'stable: is not supported',
};

const COUNT_HINT = 'series count file contents and paths; commit, diff and symbol series are not supported yet';

function regexpError(error: unknown, what: string, at: number): never {
  if (error instanceof Re2SyntaxError)
    throw new QuerySyntaxError(
      'invalid-regexp',
      `invalid regular expression in ${what}: ${error.reason}`,
      at + error.offset,
      error.hint,
    );
  throw error;
}

/** Checks an RE2 pattern and returns its capturing group count. */
function checkRegexp(source: string, caseSensitive: boolean, at: number, what: string): number {
  try {
    return compileRe2(source, { caseInsensitive: !caseSensitive, multiline: true }).groupCount;
  } catch (error) {
    return regexpError(error, what, at);
  }
}

function emptyQuery(source: string, patternType: PatternType): SearchQuery {
  return {
    source,
    version: PARSER_VERSION,
    patternType,
    pattern: null,
    caseSensitive: false,
    target: 'content',
    select: 'match',
    repoInclude: [],
    repoExclude: [],
    repoPredicates: [],
    fileInclude: [],
    fileExclude: [],
    langInclude: [],
    langIncludeAny: [],
    langExclude: [],
    fileContentInclude: [],
    fileContentExclude: [],
    captureGroups: 0,
  };
}

/** The pattern type the query asks for, read before scanning (it decides what quotes mean). */
function requestedPatternType(input: string): { type: PatternType | 'structural'; at: number } | undefined {
  const match = /(?:^|[\s(])patterntype:(["']?)([a-z0-9]*)\1(?=$|[\s)])/i.exec(input);
  if (!match) return undefined;
  const at = match.index + match[0].indexOf(':') + 1;
  const value = match[2]!.toLowerCase();
  if (value === 'regexp' || value === 'regex') return { type: 'regexp', at };
  if (value === 'literal' || value === 'standard' || value === 'keyword' || value === 'structural')
    return { type: value, at };
  throw new QuerySyntaxError(
    'invalid-value',
    `patterntype: must be literal, standard, keyword or regexp, not \`${match[2]}\``,
    at,
  );
}

/** `lang:a or lang:b` (one field, or-ed): the files or repositories of either, one filter. */
interface UnionToken {
  kind: 'union';
  start: number;
  end: number;
  field: 'repo' | 'file' | 'lang';
  filters: Array<Extract<Token, { kind: 'filter' }>>;
}
type ParserToken = Token | UnionToken;

interface Parser {
  input: string;
  tokens: ParserToken[];
  next: number;
  query: SearchQuery;
  mode: (typeof MODES)[PatternType];
  options: ParseOptions;
  seen: Map<FilterName, number>;
  depth: number;
}

const MAX_GROUP_DEPTH = 64;

export function parseQuery(input: string, options: ParseOptions = {}): SearchQuery {
  if (input.length > MAX_QUERY_LENGTH)
    throw new QuerySyntaxError(
      'too-long',
      `the query is ${input.length} characters long; the limit is ${MAX_QUERY_LENGTH}`,
      MAX_QUERY_LENGTH,
    );
  const nul = input.indexOf('\0');
  if (nul >= 0) throw new QuerySyntaxError('syntax', 'the query contains a NUL character', nul);

  const requested = requestedPatternType(input);
  if (requested?.type === 'structural')
    throw new QuerySyntaxError(
      'unsupported-patterntype',
      'structural search is not supported',
      requested.at,
      'use patterntype:regexp with an RE2 regexp',
    );
  const patternType: PatternType = options.capture ? 'regexp' : (requested?.type ?? DEFAULT_PATTERN_TYPE);
  const mode = MODES[patternType];
  const scan = { quotesDelimit: mode.quotesDelimit, slashesDelimit: mode.slashesDelimit };
  let tokens = scanQuery(input, { ...scan, groups: true });
  if (!tokens.some((token) => token.kind === 'operator')) tokens = scanQuery(input, { ...scan, groups: false });
  if (options.capture) checkCaptureQuery(tokens, requested);
  const merged = mergeFilterUnions(tokens);
  checkFilterPositions(merged);

  const parser: Parser = {
    input,
    tokens: merged,
    next: 0,
    query: emptyQuery(input, patternType),
    mode,
    options,
    seen: new Map(),
    depth: 0,
  };
  const pattern = parseOr(parser);
  const stray = merged[parser.next];
  if (stray) throw new QuerySyntaxError('syntax', 'unbalanced parentheses: `)` closes nothing', stray.start);
  return finish(parser, pattern, input);
}

// Grammar (Sourcegraph's precedence): or < and < not; adjacent pattern words are one pattern
// (joined by a space) except in keyword mode, where they are and-ed; filters stand at the top level.
function parseOr(parser: Parser): PatternNode | null {
  const children: PatternNode[] = [];
  let operatorAt = -1;
  for (;;) {
    const child = parseAnd(parser);
    const token = parser.tokens[parser.next];
    if (child) children.push(child);
    else if (operatorAt >= 0)
      throw new QuerySyntaxError(
        'syntax',
        '`or` needs a pattern on both sides',
        operatorAt,
        'to search for the word, write /or/',
      );
    if (token?.kind === 'operator' && token.operator === 'or') {
      if (!child) throw new QuerySyntaxError('syntax', '`or` needs a pattern on both sides', token.start);
      operatorAt = token.start;
      parser.next++;
      continue;
    }
    break;
  }
  return children.length === 0 ? null : children.length === 1 ? children[0]! : { kind: 'or', children };
}

function parseAnd(parser: Parser): PatternNode | null {
  const children: PatternNode[] = [];
  let sequence = parseSequence(parser);
  children.push(...sequence.nodes);
  for (let token = parser.tokens[parser.next]; token?.kind === 'operator' && token.operator === 'and';) {
    if (!sequence.consumed) throw new QuerySyntaxError('syntax', '`and` needs a pattern on both sides', token.start);
    parser.next++;
    sequence = parseSequence(parser);
    if (!sequence.consumed) throw new QuerySyntaxError('syntax', '`and` needs a pattern on both sides', token.start);
    children.push(...sequence.nodes);
    token = parser.tokens[parser.next];
  }
  return children.length === 0 ? null : children.length === 1 ? children[0]! : { kind: 'and', children };
}

/** Units up to an `and`, `or` or `)`: filters (recorded), words (joined), groups and negations. */
function parseSequence(parser: Parser): { nodes: PatternNode[]; consumed: boolean } {
  const nodes: PatternNode[] = [];
  const first = parser.next;
  let words: Array<Extract<Token, { kind: 'pattern' }>> = [];
  const flushWords = () => {
    if (words.length) nodes.push(...wordsToTerms(parser, words));
    words = [];
  };
  for (;;) {
    const token = parser.tokens[parser.next];
    if (!token) break;
    if (token.kind === 'operator' && token.operator !== 'not') break;
    if (token.kind === 'paren' && !token.open) break;
    parser.next++;
    if (token.kind === 'union') {
      applyUnion(parser, token);
      continue;
    }
    if (token.kind === 'filter' && isContent(token)) {
      // content:X is the pattern X on its own (never joined to neighbouring words); -content:X excludes.
      flushWords();
      const term = contentTerm(parser, token);
      nodes.push(token.negated ? { kind: 'not', child: term } : term);
      continue;
    }
    if (token.kind === 'filter') {
      if (isPatternText(token)) words.push(asPattern(parser, token));
      else applyFilter(parser, token);
      continue;
    }
    if (token.kind === 'pattern') {
      words.push(token);
      continue;
    }
    flushWords();
    if (token.kind === 'operator') {
      // not: the next unit (a word, a quoted or slashed pattern, or a group).
      const target = parser.tokens[parser.next];
      if (!target || target.kind === 'operator' || (target.kind === 'paren' && !target.open))
        throw new QuerySyntaxError('syntax', '`not` needs a pattern after it', token.start);
      parser.next++;
      if (target.kind === 'union')
        throw new QuerySyntaxError('unsupported-boolean', '`not` before an `or` of filters', token.start);
      if (target.kind === 'filter' && isContent(target)) {
        if (target.negated)
          throw new QuerySyntaxError(
            'syntax',
            '`not` before a negated filter',
            token.start,
            'drop the `-` or the `not`',
          );
        nodes.push({ kind: 'not', child: contentTerm(parser, target) });
        continue;
      }
      if (target.kind === 'filter' && isPatternText(target)) {
        nodes.push({ kind: 'not', child: wordsToTerms(parser, [asPattern(parser, target)])[0]! });
        continue;
      }
      if (target.kind === 'filter') {
        // `NOT file:x` is `-file:x`; `NOT -file:x` is refused, as in Sourcegraph.
        if (target.negated)
          throw new QuerySyntaxError(
            'syntax',
            '`not` before a negated filter',
            token.start,
            'drop the `-` or the `not`',
          );
        applyFilter(parser, { ...target, negated: true });
        continue;
      }
      const child = target.kind === 'pattern' ? wordsToTerms(parser, [target])[0]! : parseGroup(parser, target.start);
      if (!child) throw new QuerySyntaxError('syntax', '`not` needs a pattern after it', token.start);
      nodes.push({ kind: 'not', child });
      continue;
    }
    const group = parseGroup(parser, token.start);
    if (group) nodes.push(group);
  }
  flushWords();
  return { nodes, consumed: parser.next > first };
}

function parseGroup(parser: Parser, openedAt: number): PatternNode | null {
  if (++parser.depth > MAX_GROUP_DEPTH)
    throw new QuerySyntaxError('syntax', `parentheses nest deeper than ${MAX_GROUP_DEPTH}`, openedAt);
  const filtersBefore = parser.seen.size;
  const scopeBefore = scopeSize(parser.query);
  const inner = parseOr(parser);
  const close = parser.tokens[parser.next];
  if (!close || close.kind !== 'paren' || close.open)
    throw new QuerySyntaxError('syntax', 'unbalanced parentheses: `(` is never closed', openedAt);
  parser.next++;
  parser.depth--;
  // Without `or` every filter scopes the whole query wherever it stands; under one it would not.
  if (hasOr(parser.tokens) && (parser.seen.size !== filtersBefore || scopeSize(parser.query) !== scopeBefore))
    throw new QuerySyntaxError(
      'unsupported-boolean',
      'filters inside parentheses are not supported',
      openedAt,
      'put filters outside the group, or make one series per alternative',
    );
  return inner;
}

function scopeSize(query: SearchQuery): number {
  return (
    query.repoInclude.length +
    query.repoExclude.length +
    query.repoPredicates.length +
    query.fileInclude.length +
    query.fileExclude.length +
    query.langInclude.length +
    query.langIncludeAny.length +
    query.langExclude.length +
    query.fileContentInclude.length +
    query.fileContentExclude.length
  );
}

/**
 * Sourcegraph's escapeParensHeuristic for regexp words: `()` is the literal text `()`, and a trailing
 * unescaped `(` (as in `foo(`) is a literal parenthesis.
 */
function escapeParens(word: string): string {
  let result = '';
  for (let i = 0; i < word.length; i++) {
    if (word[i] === '\\') {
      result += word.slice(i, i + 2);
      i++;
    } else if (word.startsWith('()', i)) {
      result += '\\(\\)';
      i++;
    } else if (word[i] === '(' && i === word.length - 1) {
      result += '\\(';
    } else {
      result += word[i];
    }
  }
  return result;
}

type PatternToken = Extract<Token, { kind: 'pattern' }>;

/** Adjacent pattern tokens as terms, combined the way the pattern type says (MODES). */
function wordsToTerms(parser: Parser, words: PatternToken[]): PatternNode[] {
  const { mode } = parser;
  const term = (token: PatternToken): Extract<PatternNode, { kind: 'term' }> => {
    if (token.form === 'slashed') return { kind: 'term', regexp: token.text };
    if (token.form === 'quoted' || mode.words === 'literal')
      return { kind: 'term', regexp: quoteRe2(token.text), literal: token.text };
    return { kind: 'term', regexp: escapeParens(token.text) };
  };
  if (mode.join === 'and') return words.map(term);
  if (mode.join === 'fuzzy') {
    if (words.length === 1) return [term(words[0]!)];
    return [{ kind: 'term', regexp: words.map((word) => `(?:${term(word).regexp})`).join('.*?') }];
  }
  // Literal and standard: runs of literal words are joined by a space; a /regexp/ stands alone and
  // is and-ed with its neighbours (`/foo/ bar baz` is /foo/ and "bar baz").
  const terms: PatternNode[] = [];
  let run: string[] = [];
  const flush = () => {
    if (run.length) {
      const literal = run.join(' ');
      terms.push({ kind: 'term', regexp: quoteRe2(literal), literal });
    }
    run = [];
  };
  for (const word of words) {
    if (word.form === 'slashed') {
      flush();
      terms.push(term(word));
    } else run.push(word.text);
  }
  flush();
  return terms;
}

/** Sourcegraph's detect-and-track queries are regexps; a literal pattern type is refused, not ignored. */
function checkCaptureQuery(tokens: Token[], requested: { type: PatternType | 'structural'; at: number } | undefined) {
  if (requested && requested.type !== 'regexp')
    throw new QuerySyntaxError(
      'invalid-value',
      `a capture-group series is a regexp; patterntype:${requested.type} does not apply`,
      requested.at,
      'leave patterntype: out',
    );
  const operator = tokens.find((token) => token.kind === 'operator');
  if (operator)
    throw new QuerySyntaxError(
      'unsupported-boolean',
      `a capture-group series takes one regexp, not \`${(operator as { operator: string }).operator}\``,
      operator.start,
      'write alternatives inside the regexp: (a|b)',
    );
}

const hasOr = (tokens: ParserToken[]) => tokens.some((token) => token.kind === 'operator' && token.operator === 'or');
const UNION_FIELDS: Record<string, 'repo' | 'file' | 'lang'> = {
  repo: 'repo',
  r: 'repo',
  file: 'file',
  f: 'file',
  path: 'file',
  lang: 'lang',
  l: 'lang',
  language: 'lang',
};

/** content:… is a pattern (Sourcegraph substitutes it into one), not a filter. */
const isContent = (token: ParserToken): boolean => token.kind === 'filter' && token.field === 'content';

/**
 * Runs like `lang:javascript or lang:typescript` (one field, or-ed, not negated, no predicate) become
 * one filter that admits either, so they scope the series as Sourcegraph's union of searches would.
 */
function mergeFilterUnions(tokens: Token[]): ParserToken[] {
  const unionField = (token: Token | undefined) =>
    token?.kind === 'filter' && !token.negated && !/^(has|contains)\./i.test(token.value)
      ? UNION_FIELDS[token.field]
      : undefined;
  const merged: ParserToken[] = [];
  for (let i = 0; i < tokens.length; i++) {
    const field = unionField(tokens[i]);
    const filters = [tokens[i] as Extract<Token, { kind: 'filter' }>];
    let j = i;
    while (field) {
      const operator = tokens[j + 1];
      if (operator?.kind !== 'operator' || operator.operator !== 'or' || unionField(tokens[j + 2]) !== field) break;
      filters.push(tokens[j + 2] as Extract<Token, { kind: 'filter' }>);
      j += 2;
    }
    // Only where the or is the whole query or a whole group: in `foo lang:a or lang:b` the or
    // splits the query (Sourcegraph: (foo lang:a) or lang:b), and the position check refuses it.
    const whole = i === 0 && j === tokens.length - 1;
    const grouped = tokens[i - 1]?.kind === 'paren' && tokens[j + 1]?.kind === 'paren';
    if (field && filters.length > 1 && (whole || grouped)) {
      merged.push({ kind: 'union', start: filters[0]!.start, end: filters.at(-1)!.end, field, filters });
      i = j;
    } else merged.push(tokens[i]!);
  }
  return merged;
}

/**
 * With `or`, Sourcegraph applies filters to the whole query only when they stand at its start or
 * end (`repo:x a or b`); a filter between (`a repo:x or b`) scopes one side only. One series has one
 * scope, so such a query is refused rather than read differently.
 */
function checkFilterPositions(tokens: ParserToken[]): void {
  if (!hasOr(tokens)) return;
  const isFilter = (token: ParserToken) => (token.kind === 'filter' && !isContent(token)) || token.kind === 'union';
  const first = tokens.findIndex((token) => !isFilter(token));
  let last = tokens.length - 1;
  while (last >= 0 && isFilter(tokens[last]!)) last--;
  for (let i = first; i <= last; i++) {
    const token = tokens[i]!;
    if (isFilter(token))
      throw new QuerySyntaxError(
        'unsupported-boolean',
        'with `or`, filters must stand at the start or the end of the query',
        token.start,
        'move it there to apply it to every alternative, or make one series per alternative',
      );
  }
}

/**
 * A `name:value` whose name is no filter is pattern text in Sourcegraph (`color:#fff`, `http://x`).
 * One that looks like a misspelt filter (`lnag:go`) is refused instead, with the suggestion, so a
 * typo never silently becomes a search for the typo.
 */
function isPatternText(token: Extract<Token, { kind: 'filter' }>): boolean {
  if (FILTER_ALIASES[token.field] || UNSUPPORTED_FILTERS[token.field]) return false;
  return closest(token.field, FILTER_NAMES) === undefined;
}

const FILTER_NAMES = Object.keys(FILTER_ALIASES).filter((k) => k.length > 1);

function asPattern(parser: Parser, token: Extract<Token, { kind: 'filter' }>): PatternToken {
  return {
    kind: 'pattern',
    start: token.start,
    end: token.end,
    text: parser.input.slice(token.start, token.end),
    form: 'word',
  };
}

/** content:X: a literal, or in regexp mode a regexp, as Sourcegraph's SubstituteAliases makes it. */
function contentTerm(parser: Parser, token: Extract<Token, { kind: 'filter' }>): PatternNode {
  if (parser.mode.words === 'regexp') return { kind: 'term', regexp: token.value };
  return { kind: 'term', regexp: quoteRe2(token.value), literal: token.value };
}

/** One include filter admitting any of the or-ed values. */
function applyUnion(parser: Parser, token: UnionToken): void {
  const { query } = parser;
  for (const filter of token.filters) applyFilter(parser, filter); // checks each value, then merged below
  if (token.field === 'lang') {
    const names = query.langInclude.splice(query.langInclude.length - token.filters.length);
    query.langIncludeAny.push(names);
    return;
  }
  const list = token.field === 'repo' ? query.repoInclude : query.fileInclude;
  const values = list.splice(list.length - token.filters.length);
  list.push(values.map((value) => `(?:${value})`).join('|'));
}

function once(parser: Parser, name: FilterName, token: Extract<Token, { kind: 'filter' }>): void {
  if (parser.seen.has(name))
    throw new QuerySyntaxError('invalid-value', `filter \`${name}:\` is given twice`, token.start);
  parser.seen.set(name, token.start);
}

function yesNoOnly(value: string, at: number, name: string): 'yes' | 'no' | 'only' {
  const lower = value.toLowerCase();
  if (lower === 'yes' || lower === 'no' || lower === 'only') return lower;
  if (lower === 'true') return 'yes';
  if (lower === 'false') return 'no';
  throw new QuerySyntaxError('invalid-value', `${name}: must be yes, no or only, not \`${value}\``, at);
}

/** The argument of a predicate such as `has.file(...)`, or undefined when the value is not one. */
function predicateArgument(value: string, name: string): string | undefined {
  const prefix = `${name}(`;
  if (!value.toLowerCase().startsWith(prefix) || !value.endsWith(')')) return undefined;
  return value.slice(prefix.length, -1);
}

/** `path:X content:Y` inside repo:has.file(…), or a bare path. */
function fileArguments(argument: string, at: number): { path?: string; content?: string } {
  const result: { path?: string; content?: string } = {};
  const pattern = /\s*(?:(path|content):)?("(?:[^"\\]|\\.)*"|\S+)\s*/y;
  let consumed = 0;
  while (consumed < argument.length) {
    pattern.lastIndex = consumed;
    const match = pattern.exec(argument);
    if (!match) break;
    consumed = pattern.lastIndex;
    const key = (match[1] ?? 'path') as 'path' | 'content';
    const raw = match[2]!;
    const quoted = /^"(?:[^"\\]|\\.)*"$/.test(raw);
    if (raw.startsWith('"') && !quoted)
      throw new QuerySyntaxError('syntax', 'unterminated quoted string in repo:has.file()', at);
    const value = quoted ? raw.slice(1, -1).replace(/\\(["\\])/g, '$1') : raw;
    if (result[key] !== undefined) throw new QuerySyntaxError('invalid-value', `repo:has.file() takes one ${key}:`, at);
    result[key] = value;
  }
  if (result.path === undefined && result.content === undefined)
    throw new QuerySyntaxError('invalid-value', 'repo:has.file() needs path: or content:', at);
  return result;
}

function repoFilter(parser: Parser, token: Extract<Token, { kind: 'filter' }>): void {
  const { query } = parser;
  const value = token.value;
  const at = token.valueStart;
  const negated = token.negated;
  const predicate = (path?: string, content?: string, commitAfter?: string) => {
    if (path === '' || content === '')
      throw new QuerySyntaxError('invalid-value', 'a predicate needs a pattern: it would match every file', at);
    if (path !== undefined) checkRegexp(path, false, at, 'the predicate');
    if (content !== undefined) checkRegexp(content, false, at, 'the predicate');
    query.repoPredicates.push({
      negated,
      ...(path !== undefined ? { path } : {}),
      ...(content !== undefined ? { content } : {}),
      ...(commitAfter !== undefined ? { commitAfter } : {}),
    });
  };
  if (/^(has|contains)\./i.test(value)) {
    const file = predicateArgument(value, 'has.file') ?? predicateArgument(value, 'contains.file');
    if (file !== undefined) {
      const { path, content } = fileArguments(file, at);
      return predicate(path, content);
    }
    const path = predicateArgument(value, 'has.path');
    if (path !== undefined) return predicate(path);
    const content = predicateArgument(value, 'has.content') ?? predicateArgument(value, 'contains.content');
    if (content !== undefined) return predicate(undefined, content);
    const after = predicateArgument(value, 'has.commit.after') ?? predicateArgument(value, 'contains.commit.after');
    if (after !== undefined) {
      if (negated)
        throw new QuerySyntaxError('invalid-value', 'repo:has.commit.after() cannot be negated', token.start);
      return predicate(undefined, undefined, commitAfterArgument(after, at));
    }
    const name = value.slice(0, value.indexOf('(') >= 0 ? value.indexOf('(') : undefined);
    if (/^has\.(description|topic|meta|key|tag)$/i.test(name))
      throw new QuerySyntaxError(
        'unsupported-filter',
        `repo:${name}() is not supported: repositories here carry no code-host metadata`,
        at,
      );
    throw new QuerySyntaxError(
      'invalid-value',
      `unknown repository predicate \`${name}\``,
      at,
      'use has.file(), has.path(), has.content() or has.commit.after()',
    );
  }
  checkRegexp(value, false, at, 'repo:');
  if (parser.options.criteriaOnly) checkCriteriaRegexp(value, at);
  (negated ? query.repoExclude : query.repoInclude).push(value);
}

/**
 * Repository criteria are evaluated in SQL (insights_core.repository_criteria_matches, PostgreSQL's
 * regular expressions) as repositories are registered. Only the part of RE2 both engines read the
 * same is accepted there: literal characters and escaped punctuation, `.`, `^`, `$`, classes of
 * characters and ranges, groups, `(?:…)`, `|` and repetitions up to 255.
 */
function checkCriteriaRegexp(value: string, at: number): void {
  const refuse = (offset: number, what: string): never => {
    throw new QuerySyntaxError(
      'not-criteria',
      `repository criteria cannot use ${what} (they are matched by PostgreSQL)`,
      at + offset,
      'put that repo: filter in the series query instead, where it is matched with RE2',
    );
  };
  for (let i = 0; i < value.length; i++) {
    const char = value[i]!;
    if (char === '\\') {
      const next = value[i + 1] ?? '';
      if (/[0-9A-Za-z]/.test(next)) refuse(i, `\`\\${next}\``);
      i++;
    } else if (char === '(' && value[i + 1] === '?' && value[i + 2] !== ':') refuse(i, 'flags or named groups');
    else if (value.startsWith('[:', i) || value.startsWith('[[:', i)) refuse(i, 'POSIX classes');
    else if (char === '{') {
      const repeat = /^\{(\d+)(?:,(\d*))?\}/.exec(value.slice(i));
      if (repeat && Math.max(Number(repeat[1]), Number(repeat[2] || 0)) > 255) refuse(i, 'a repetition over 255');
    }
  }
}

/** Checks has.commit.after's argument (commit-after.ts) and keeps it as written. */
function commitAfterArgument(value: string, at: number): string {
  if (!commitAfterTime(value))
    throw new QuerySyntaxError(
      'invalid-value',
      `repo:has.commit.after() needs a date (YYYY-MM-DD) or a time like \`1 month ago\`, not \`${value.trim()}\``,
      at,
    );
  return value.trim();
}

function applyFilter(parser: Parser, token: Extract<Token, { kind: 'filter' }>): void {
  const { query, options } = parser;
  const field = token.field;
  const name = FILTER_ALIASES[field];
  const value = token.value;
  const at = token.valueStart;
  if (!name) {
    if (UNSUPPORTED_FILTERS[field])
      throw new QuerySyntaxError('unsupported-filter', `\`${field}:\`: ${UNSUPPORTED_FILTERS[field]}`, token.start);
    const suggestion = closest(field, FILTER_NAMES);
    throw new QuerySyntaxError(
      'unknown-filter',
      `unknown filter \`${field}:\``,
      token.start,
      suggestion ? `did you mean \`${suggestion}:\`?` : undefined,
    );
  }
  if (options.criteriaOnly && name !== 'repo')
    throw new QuerySyntaxError(
      'not-criteria',
      `repository criteria may only use repo: and -repo: filters, not \`${field}:\``,
      token.start,
    );
  if (token.negated && !NEGATABLE.has(name))
    throw new QuerySyntaxError('invalid-value', `filter \`${field}:\` cannot be negated`, token.start);
  switch (name) {
    case 'repo':
      if (options.criteriaOnly && /^(has|contains)\./i.test(value))
        throw new QuerySyntaxError('not-criteria', 'repository criteria cannot use predicates', at);
      return repoFilter(parser, token);
    case 'repohasfile': {
      checkRegexp(value, false, at, 'repohasfile:');
      query.repoPredicates.push({ negated: token.negated, path: value });
      return;
    }
    case 'file': {
      const content = predicateArgument(value, 'has.content') ?? predicateArgument(value, 'contains.content');
      if (content !== undefined) {
        if (content === '') throw new QuerySyntaxError('invalid-value', 'file:has.content() needs a pattern', at);
        checkRegexp(content, false, at, 'file:has.content()');
        (token.negated ? query.fileContentExclude : query.fileContentInclude).push(content);
        return;
      }
      if (/^(has|contains)\.[a-z.]+\(/i.test(value))
        throw new QuerySyntaxError(
          'unsupported-filter',
          `file:${value.slice(0, value.indexOf('('))}() is not supported`,
          at,
          'file:has.content() is',
        );
      checkRegexp(value, false, at, 'file:');
      (token.negated ? query.fileExclude : query.fileInclude).push(value);
      return;
    }
    case 'lang': {
      const language = findLanguage(value);
      if (!language) {
        const suggestion = closest(value, languageNames());
        throw new QuerySyntaxError(
          'unknown-language',
          `unknown language \`${value.length > 40 ? `${value.slice(0, 40)}…` : value}\``,
          at,
          suggestion ? `did you mean \`${suggestion}\`?` : 'languages are GitHub Linguist names, e.g. go, typescript',
        );
      }
      (token.negated ? query.langExclude : query.langInclude).push(language.name);
      return;
    }
    case 'case':
      once(parser, name, token);
      if (!/^(yes|no)$/i.test(value))
        throw new QuerySyntaxError('invalid-value', `case: must be yes or no, not \`${value}\``, at);
      query.caseSensitive = value.toLowerCase() === 'yes';
      return;
    case 'patterntype':
      once(parser, name, token); // read before scanning (requestedPatternType), checked here too
      if (!/^(literal|standard|keyword|regexp?|structural)$/i.test(value))
        throw new QuerySyntaxError(
          'invalid-value',
          `patterntype: must be literal, standard, keyword or regexp, not \`${value}\``,
          at,
        );
      return;
    case 'count':
      once(parser, name, token);
      if (!/^(all|\d+)$/i.test(value))
        throw new QuerySyntaxError('invalid-value', `count: must be all or a number, not \`${value}\``, at);
      return;
    case 'timeout': {
      once(parser, name, token);
      const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/i.exec(value);
      if (!match)
        throw new QuerySyntaxError(
          'invalid-value',
          `timeout: must be a duration such as 30s or 2m, not \`${value}\``,
          at,
        );
      const factor = { ms: 0.001, s: 1, m: 60, h: 3600 }[(match[2] ?? 's').toLowerCase() as 'ms' | 's' | 'm' | 'h'];
      query.timeoutSeconds = Number(match[1]) * factor;
      return;
    }
    case 'type': {
      once(parser, name, token);
      const type = value.toLowerCase();
      if (type === 'file') query.target = 'content';
      else if (type === 'path') query.target = 'path';
      else if (['diff', 'commit', 'symbol', 'repo'].includes(type))
        throw new QuerySyntaxError(
          'unsupported-type',
          `type:${type} is not supported`,
          at,
          type === 'repo' ? 'to count repositories, use select:repo' : COUNT_HINT,
        );
      else throw new QuerySyntaxError('invalid-value', `type: must be file or path, not \`${value}\``, at);
      return;
    }
    case 'select': {
      once(parser, name, token);
      const select = value.toLowerCase();
      if (select === 'file') query.select = 'file';
      else if (select === 'repo') query.select = 'repo';
      else if (select === 'content') query.select = 'match';
      else
        throw new QuerySyntaxError(
          'unsupported-select',
          `select:${value} is not supported`,
          at,
          'select:repo, select:file and select:content are',
        );
      return;
    }
    case 'fork':
      // Repositories here are mirrors of their URLs, never marked as forks: yes and no keep them all.
      once(parser, name, token);
      if (yesNoOnly(value, at, 'fork') === 'only')
        throw new QuerySyntaxError(
          'unsupported-filter',
          'fork:only would count nothing: no repository here is known to be a fork',
          at,
          'leave fork: out',
        );
      return;
    case 'archived':
      once(parser, name, token);
      if (yesNoOnly(value, at, 'archived') === 'only')
        throw new QuerySyntaxError(
          'unsupported-filter',
          'archived:only would count nothing: no repository here is known to be archived',
          at,
          'leave archived: out',
        );
      return;
    case 'visibility': {
      once(parser, name, token);
      const visibility = value.toLowerCase();
      if (visibility === 'any') return;
      if (visibility === 'public' || visibility === 'private')
        throw new QuerySyntaxError(
          'unsupported-filter',
          `visibility:${visibility} is not supported: repositories here carry no visibility`,
          at,
          'use visibility:any or repo: filters',
        );
      throw new QuerySyntaxError('invalid-value', `visibility: must be any, public or private, not \`${value}\``, at);
    }
    case 'context':
      once(parser, name, token);
      if (value.toLowerCase() !== 'global')
        throw new QuerySyntaxError(
          'unsupported-filter',
          `context:${value} is not supported: only context:global (every repository) is`,
          at,
          'use repo: filters or repository criteria',
        );
      return;
  }
}

function walk(node: PatternNode, visit: (node: PatternNode, negated: boolean) => void, negated = false): void {
  visit(node, negated);
  if (node.kind === 'and' || node.kind === 'or') node.children.forEach((child) => walk(child, visit, negated));
  if (node.kind === 'not') walk(node.child, visit, !negated);
}

function finish(parser: Parser, pattern: PatternNode | null, input: string): SearchQuery {
  const { query, options } = parser;
  if (options.criteriaOnly) {
    if (pattern)
      throw new QuerySyntaxError(
        'not-criteria',
        'repository criteria may only contain repo: filters, not a pattern',
        parser.tokens.find((token) => token.kind !== 'filter')?.start ?? 0,
      );
    if (!query.repoInclude.length && !query.repoExclude.length)
      throw new QuerySyntaxError('not-criteria', 'repository criteria need at least one repo: filter', 0);
    return query;
  }
  query.pattern = pattern;
  let terms = 0;
  let positive = 0;
  if (pattern)
    walk(pattern, (node, negated) => {
      if (node.kind !== 'term') return;
      terms++;
      if (!negated) positive++;
      checkRegexp(node.regexp, query.caseSensitive, 0, 'the pattern');
    });
  if (pattern && positive === 0 && query.select === 'match')
    throw new QuerySyntaxError(
      'no-pattern',
      'a query made only of `not` terms has no matches to count',
      0,
      'add select:file to count the files without it, or select:repo for repositories',
    );
  if (!pattern) {
    const scoped =
      query.fileInclude.length ||
      query.fileExclude.length ||
      query.langInclude.length ||
      query.langIncludeAny.length ||
      query.langExclude.length ||
      query.fileContentInclude.length;
    // Without a pattern, file filters select files (Sourcegraph answers with path matches, one each).
    if (!scoped && !(query.select === 'repo' && query.repoPredicates.length))
      throw new QuerySyntaxError(
        'no-pattern',
        'the query has no pattern',
        input.length,
        'add a pattern, or file: or lang: filters to count files',
      );
    if (query.target !== 'path' && query.select === 'match') query.target = 'path';
  }
  if (query.target === 'path' && pattern && pattern.kind !== 'term')
    throw new QuerySyntaxError('unsupported-boolean', 'type:path takes one pattern, not `and`/`or`/`not`', 0);
  if (options.capture) {
    if (!pattern || pattern.kind !== 'term' || terms !== 1)
      throw new QuerySyntaxError(
        'invalid-value',
        'a capture-group series takes one regexp, not `and`/`or`/`not`',
        0,
        'write alternatives inside the regexp: /(a|b)/',
      );
    query.captureGroups = checkRegexp(pattern.regexp, query.caseSensitive, 0, 'the pattern');
    if (query.captureGroups === 0)
      throw new QuerySyntaxError(
        'invalid-value',
        'a capture-group series needs a regexp with a capturing group',
        0,
        'for example /version (\\d+)/',
      );
    if (query.select === 'repo' || query.target !== 'content')
      throw new QuerySyntaxError(
        'invalid-value',
        'a capture-group series counts values in contents (select:file counts files per value)',
        0,
      );
  }
  return query;
}
