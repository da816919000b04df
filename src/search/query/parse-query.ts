// The query language: a documented subset of Sourcegraph's syntax (docs/query-language.md),
// parsed into a typed AST. Anything it does not understand is an error with a position, never a
// silent zero.
import { findLanguage, languageNames } from './languages.ts';

export interface SearchQuery {
  /** The query as written. */
  source: string;
  /** What to look for; '' only for path queries that filter by file: alone. */
  pattern: string;
  patternType: 'literal' | 'regexp';
  caseSensitive: boolean;
  /** content: count matches in file contents; path: count files whose path matches. */
  target: 'content' | 'path';
  /** match: count every occurrence; file: count files with at least one. */
  select: 'match' | 'file';
  repoInclude: string[];
  repoExclude: string[];
  fileInclude: string[];
  fileExclude: string[];
  /** Canonical language names (see languages.ts). */
  langInclude: string[];
  langExclude: string[];
  /** Number of capturing groups in a regexp pattern (0 for literals). */
  captureGroups: number;
}

/** A malformed query; `position` is the 0-based character offset of the problem. */
export class QuerySyntaxError extends Error {
  readonly position: number;
  readonly reason: string;
  readonly hint?: string;
  constructor(reason: string, position: number, hint?: string) {
    super(`${reason} at ${position}${hint ? `; ${hint}` : ''}`);
    this.name = 'QuerySyntaxError';
    this.reason = reason;
    this.position = position;
    this.hint = hint;
  }
}

type FilterName = 'repo' | 'file' | 'lang' | 'case' | 'patterntype' | 'count' | 'type' | 'select';

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
};
const NEGATABLE = new Set<FilterName>(['repo', 'file', 'lang']);
/** Filters Sourcegraph has that we do not support: named in the error rather than "unknown". */
const UNSUPPORTED_FILTERS = new Set([
  'context',
  'fork',
  'archived',
  'visibility',
  'rev',
  'revision',
  'repohasfile',
  'author',
  'before',
  'after',
  'message',
  'msg',
  'timeout',
  'content',
]);

interface Token {
  kind: 'filter' | 'pattern';
  start: number;
  /** filter */
  negated?: boolean;
  key?: string;
  value?: string;
  valueStart?: number;
  /** pattern */
  text?: string;
  /** a "quoted" literal or a /delimited/ regexp */
  quoted?: boolean;
  delimitedRegexp?: boolean;
}

/** Edit distance counting a swap of two neighbours as one edit (optimal string alignment). */
function editDistance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        d[i]![j] = Math.min(d[i]![j]!, d[i - 2]![j - 2]! + 1);
    }
  }
  return d[a.length]![b.length]!;
}

function closest(word: string, candidates: string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    const distance = editDistance(word.toLowerCase(), candidate);
    if (distance < bestDistance) [best, bestDistance] = [candidate, distance];
  }
  return bestDistance <= Math.max(1, Math.floor(word.length / 3)) ? best : undefined;
}

/** Reads a "quoted" string starting at `start` (the quote); returns its value and the index after it. */
function readQuoted(input: string, start: number): { value: string; end: number } {
  const quote = input[start]!;
  let value = '';
  for (let i = start + 1; i < input.length; i++) {
    const char = input[i]!;
    if (char === '\\' && i + 1 < input.length) {
      const next = input[++i]!;
      value += next === quote || next === '\\' ? next : `\\${next}`;
    } else if (char === quote) {
      return { value, end: i + 1 };
    } else {
      value += char;
    }
  }
  throw new QuerySyntaxError(`unterminated quoted string`, start);
}

/** Reads a /delimited/ regexp starting at `start`; the closing slash is the first unescaped one. */
function readDelimited(input: string, start: number): { value: string; end: number } | undefined {
  for (let i = start + 1; i < input.length; i++) {
    if (input[i] === '\\') i++;
    else if (input[i] === '/') {
      const after = input[i + 1];
      if (after === undefined || /\s/.test(after)) return { value: input.slice(start + 1, i), end: i + 1 };
      return undefined;
    }
  }
  return undefined;
}

/**
 * Splits the query into filters and pattern terms. With patterntype:regexp anywhere in the query,
 * quotes in pattern terms are ordinary characters (so `"version": "(\d+)` works as written).
 */
function tokenize(input: string): Token[] {
  const tokens: Token[] = [];
  const quotesArePatternSyntax = !/(^|\s)patterntype:regexp?(\s|$)/i.test(input);
  let i = 0;
  while (i < input.length) {
    if (/\s/.test(input[i]!)) {
      i++;
      continue;
    }
    const start = i;
    if (quotesArePatternSyntax && (input[i] === '"' || input[i] === "'")) {
      const { value, end } = readQuoted(input, i);
      tokens.push({ kind: 'pattern', start, text: value, quoted: true });
      i = end;
      continue;
    }
    if (input[i] === '/') {
      const delimited = readDelimited(input, i);
      if (delimited) {
        tokens.push({ kind: 'pattern', start, text: delimited.value, delimitedRegexp: true });
        i = delimited.end;
        continue;
      }
    }
    const filter = input.slice(i).match(/^(-?)([a-zA-Z]+):/);
    if (filter) {
      const [whole, minus, key] = filter as unknown as [string, string, string];
      const valueStart = i + whole.length;
      let value: string;
      let end: number;
      if (input[valueStart] === '"' || input[valueStart] === "'") {
        ({ value, end } = readQuoted(input, valueStart));
      } else {
        end = valueStart;
        while (end < input.length && !/\s/.test(input[end]!)) end++;
        value = input.slice(valueStart, end);
      }
      const known = FILTER_ALIASES[key.toLowerCase()];
      // `TODO:` (a word and a colon, nothing after) is a pattern, not a filter.
      if (known || value !== '') {
        tokens.push({ kind: 'filter', start, negated: minus === '-', key: key.toLowerCase(), value, valueStart });
        i = end;
        continue;
      }
    }
    let end = i;
    while (end < input.length && !/\s/.test(input[end]!)) end++;
    tokens.push({ kind: 'pattern', start, text: input.slice(i, end) });
    i = end;
  }
  return tokens;
}

function checkRegexp(source: string, flags: string, position: number, what: string): RegExp {
  try {
    return new RegExp(source, flags);
  } catch (error) {
    const detail = (error as Error).message.replace(/^Invalid regular expression: /, '');
    throw new QuerySyntaxError(`invalid regular expression in ${what}: ${detail}`, position);
  }
}

export interface ParseOptions {
  /** Repository criteria: only repo:/-repo: filters, no pattern. */
  criteriaOnly?: boolean;
}

export function parseQuery(input: string, options: ParseOptions = {}): SearchQuery {
  const tokens = tokenize(input);
  const query: SearchQuery = {
    source: input,
    pattern: '',
    patternType: 'literal',
    caseSensitive: false,
    target: 'content',
    select: 'match',
    repoInclude: [],
    repoExclude: [],
    fileInclude: [],
    fileExclude: [],
    langInclude: [],
    langExclude: [],
    captureGroups: 0,
  };
  const seen = new Map<FilterName, number>();
  const patternTokens: Token[] = [];

  for (const token of tokens) {
    if (token.kind === 'pattern') {
      if (!token.quoted && !token.delimitedRegexp && /^(AND|OR|NOT)$/.test(token.text!)) {
        throw new QuerySyntaxError(
          `boolean operator ${token.text} is not supported`,
          token.start,
          'quote it to search for the word',
        );
      }
      patternTokens.push(token);
      continue;
    }
    const key = token.key!;
    const name = FILTER_ALIASES[key];
    if (!name) {
      if (UNSUPPORTED_FILTERS.has(key)) throw new QuerySyntaxError(`filter \`${key}:\` is not supported`, token.start);
      const suggestion = closest(
        key,
        Object.keys(FILTER_ALIASES).filter((k) => k.length > 1),
      );
      throw new QuerySyntaxError(
        `unknown filter \`${key}:\``,
        token.start,
        suggestion ? `did you mean \`${suggestion}:\`?` : 'quote the pattern to search for it literally',
      );
    }
    if (options.criteriaOnly && name !== 'repo') {
      throw new QuerySyntaxError(
        `repository criteria may only use repo: and -repo: filters, not \`${key}:\``,
        token.start,
      );
    }
    if (token.negated && !NEGATABLE.has(name))
      throw new QuerySyntaxError(`filter \`${key}:\` cannot be negated`, token.start);
    const value = token.value!;
    const at = token.valueStart!;
    if (value === '') throw new QuerySyntaxError(`filter \`${key}:\` needs a value`, token.start);
    if (!NEGATABLE.has(name)) {
      if (seen.has(name)) throw new QuerySyntaxError(`filter \`${name}:\` is given twice`, token.start);
      seen.set(name, token.start);
    }
    switch (name) {
      case 'repo':
      case 'file': {
        checkRegexp(value, 'i', at, `${name}:`);
        const list =
          name === 'repo'
            ? token.negated
              ? query.repoExclude
              : query.repoInclude
            : token.negated
              ? query.fileExclude
              : query.fileInclude;
        list.push(value);
        break;
      }
      case 'lang': {
        const language = findLanguage(value);
        if (!language) {
          const suggestion = closest(value, languageNames());
          throw new QuerySyntaxError(
            `unknown language \`${value}\``,
            at,
            suggestion ? `did you mean \`${suggestion}\`?` : undefined,
          );
        }
        (token.negated ? query.langExclude : query.langInclude).push(language.name);
        break;
      }
      case 'case':
        if (!/^(yes|no)$/i.test(value)) throw new QuerySyntaxError(`case: must be yes or no, not \`${value}\``, at);
        query.caseSensitive = value.toLowerCase() === 'yes';
        break;
      case 'patterntype': {
        const type = value.toLowerCase();
        if (type === 'regexp' || type === 'regex') query.patternType = 'regexp';
        else if (type === 'literal' || type === 'standard' || type === 'keyword') query.patternType = 'literal';
        else if (type === 'structural') throw new QuerySyntaxError('structural search is not supported', at);
        else throw new QuerySyntaxError(`patterntype: must be literal, regexp or standard, not \`${value}\``, at);
        break;
      }
      case 'count':
        if (!/^(all|\d+)$/i.test(value))
          throw new QuerySyntaxError(`count: must be all or a number, not \`${value}\``, at);
        break;
      case 'type': {
        const type = value.toLowerCase();
        if (type === 'file') query.target = 'content';
        else if (type === 'path') query.target = 'path';
        else if (['diff', 'commit', 'symbol', 'repo'].includes(type))
          throw new QuerySyntaxError(`type:${type} is not supported`, at);
        else throw new QuerySyntaxError(`type: must be file or path, not \`${value}\``, at);
        break;
      }
      case 'select': {
        const select = value.toLowerCase();
        if (select === 'file') query.select = 'file';
        else if (select === 'content') query.select = 'match';
        else throw new QuerySyntaxError(`select:${value} is not supported (select:file is)`, at);
        break;
      }
    }
  }

  if (options.criteriaOnly) {
    if (patternTokens.length)
      throw new QuerySyntaxError(
        'repository criteria may only contain repo: filters, not a pattern',
        patternTokens[0]!.start,
      );
    if (!query.repoInclude.length && !query.repoExclude.length)
      throw new QuerySyntaxError('repository criteria need at least one repo: filter', 0);
    return query;
  }

  if (patternTokens.some((t) => t.delimitedRegexp)) {
    if (patternTokens.length > 1)
      throw new QuerySyntaxError(
        'a /regexp/ pattern cannot be combined with other pattern terms',
        patternTokens[1]!.start,
      );
    query.patternType = 'regexp';
  }
  query.pattern = patternTokens.map((t) => t.text!).join(' ');
  const patternStart = patternTokens[0]?.start ?? 0;

  if (query.pattern === '' && !(query.target === 'path' && (query.fileInclude.length || query.langInclude.length))) {
    throw new QuerySyntaxError('the query has no pattern', input.length);
  }
  if (query.patternType === 'regexp' && query.pattern !== '') {
    const regexp = checkRegexp(query.pattern, query.caseSensitive ? '' : 'i', patternStart, 'the pattern');
    // Matching the empty alternative reports one slot per capturing group.
    query.captureGroups = new RegExp(`${regexp.source}|`).exec('')!.length - 1;
  }
  return query;
}
