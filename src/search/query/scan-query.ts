// Splits a query into tokens as Sourcegraph's scanner does: filters (`-?name:value`, a value may be
// quoted or hold balanced parentheses, as predicates do), the operators `and`, `or`, `not` (any
// case), grouping parentheses, and pattern words. Whether quotes delimit a pattern depends on the
// pattern type: in literal mode they are ordinary characters.
import { QuerySyntaxError } from './query-error.ts';

export type Token =
  | {
      kind: 'filter';
      start: number;
      end: number;
      negated: boolean;
      /** Lower-case field name. */
      field: string;
      value: string;
      valueStart: number;
    }
  | { kind: 'pattern'; start: number; end: number; text: string; form: 'word' | 'quoted' | 'slashed' }
  | { kind: 'operator'; start: number; end: number; operator: 'and' | 'or' | 'not' }
  | { kind: 'paren'; start: number; end: number; open: boolean };

export interface ScanOptions {
  /** Quotes delimit literal patterns (regexp, standard and keyword modes), or are characters (literal). */
  quotesDelimit: boolean;
  /** `/…/` delimits a regexp (every mode but literal). */
  slashesDelimit: boolean;
  /**
   * Parentheses group (the query uses `and`/`or`/`not`), or are ordinary pattern characters: as in
   * Sourcegraph's literal heuristics, `foo(bar)` and `(x)` without operators are searched as written.
   */
  groups: boolean;
}

const isSpace = (char: string | undefined) => char === ' ' || char === '\t' || char === '\n' || char === '\r';

/**
 * Reads a "quoted" or 'quoted' string at `start` as Sourcegraph's ScanDelimited does: `\n`, `\t` and
 * `\r` become the characters, `\\` and an escaped quote are unescaped, other escapes stay as written.
 */
export function readQuoted(input: string, start: number): { value: string; end: number } {
  const quote = input[start]!;
  let value = '';
  for (let i = start + 1; i < input.length; i++) {
    const char = input[i]!;
    if (char === '\\' && i + 1 < input.length) {
      const next = input[++i]!;
      const control = next === 'n' ? '\n' : next === 't' ? '\t' : next === 'r' ? '\r' : undefined;
      value += control ?? (next === quote || next === '\\' ? next : `\\${next}`);
    } else if (char === quote) {
      return { value, end: i + 1 };
    } else {
      value += char;
    }
  }
  throw new QuerySyntaxError('syntax', 'unterminated quoted string', start, `close it with ${quote}`);
}

function tryQuoted(input: string, start: number): { value: string; end: number } | undefined {
  try {
    return readQuoted(input, start);
  } catch {
    return undefined;
  }
}

/** A /delimited/ regexp at `start`: up to the first unescaped slash that ends a token. */
function readSlashed(input: string, start: number, options: ScanOptions): { value: string; end: number } | undefined {
  for (let i = start + 1; i < input.length; i++) {
    if (input[i] === '\\') i++;
    else if (input[i] === '/') {
      const after = input[i + 1];
      if (after === undefined || isSpace(after) || (after === ')' && options.groups)) {
        // An empty `//` is the literal text `//`.
        return i === start + 1 ? undefined : { value: input.slice(start + 1, i), end: i + 1 };
      }
    }
  }
  return undefined;
}

/** The end of a filter value: the next space outside parentheses (predicates hold spaces). */
function valueEnd(input: string, start: number, groups: boolean): number {
  let depth = 0;
  let i = start;
  for (; i < input.length; i++) {
    const char = input[i]!;
    if (char === '\\') {
      i++;
      continue;
    }
    // A quoted part inside a predicate (content:"a)b") holds parentheses and spaces as text.
    if ((char === '"' || char === "'") && depth > 0) {
      const close = input.indexOf(char, i + 1);
      if (close > 0) {
        i = close;
        continue;
      }
    }
    if (char === '(') depth++;
    else if (char === ')') {
      if (depth === 0) {
        if (groups) break; // closes a group around the filter
        continue;
      }
      depth--;
    } else if (isSpace(char) && depth === 0) break;
  }
  return i;
}

const FILTER = /^(-?)([a-zA-Z][a-zA-Z.]*):/;
const OPERATORS = new Set(['and', 'or', 'not']);

export function scanQuery(input: string, options: ScanOptions): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < input.length) {
    const char = input[i]!;
    if (isSpace(char)) {
      i++;
      continue;
    }
    const start = i;
    if (char === '(' && options.groups) {
      tokens.push({ kind: 'paren', start, end: i + 1, open: true });
      i++;
      continue;
    }
    if (char === ')' && options.groups) {
      tokens.push({ kind: 'paren', start, end: i + 1, open: false });
      i++;
      continue;
    }
    // A quoted or slashed pattern counts only when a space, a `)` or the end follows it, as in
    // Sourcegraph: `"license":\s"(.*)"` is one word.
    const boundary = (at: number) => at >= input.length || isSpace(input[at]) || (input[at] === ')' && options.groups);
    if (options.quotesDelimit && (char === '"' || char === "'")) {
      const quoted = tryQuoted(input, i);
      if (quoted && boundary(quoted.end)) {
        tokens.push({ kind: 'pattern', start, end: quoted.end, text: quoted.value, form: 'quoted' });
        i = quoted.end;
        continue;
      }
    }
    if (char === '/' && options.slashesDelimit) {
      const slashed = readSlashed(input, i, options);
      if (slashed) {
        tokens.push({ kind: 'pattern', start, end: slashed.end, text: slashed.value, form: 'slashed' });
        i = slashed.end;
        continue;
      }
    }
    const filter = FILTER.exec(input.slice(i, i + 64));
    if (filter) {
      const [whole, minus, name] = filter as unknown as [string, string, string];
      const valueStart = i + whole.length;
      let value: string;
      let end: number;
      if (input[valueStart] === '"' || input[valueStart] === "'") {
        ({ value, end } = readQuoted(input, valueStart));
      } else {
        end = valueEnd(input, valueStart, options.groups);
        value = input.slice(valueStart, end);
      }
      // `TODO:` (a word and a colon, nothing after) is a pattern, not a filter.
      if (value !== '') {
        tokens.push({
          kind: 'filter',
          start,
          end,
          negated: minus === '-',
          field: name.toLowerCase(),
          value,
          valueStart,
        });
        i = end;
        continue;
      }
    }
    // A word: up to a space, or a `)` that closes a group (a `)` inside the word is part of it).
    let end = i;
    let depth = 0;
    for (; end < input.length && !isSpace(input[end]); end++) {
      if (!options.groups) continue;
      if (input[end] === '(') depth++;
      else if (input[end] === ')') {
        if (depth === 0) break;
        depth--;
      }
    }
    const text = input.slice(i, end);
    if (OPERATORS.has(text.toLowerCase()))
      tokens.push({ kind: 'operator', start, end, operator: text.toLowerCase() as 'and' | 'or' | 'not' });
    else tokens.push({ kind: 'pattern', start, end, text, form: 'word' });
    i = end;
  }
  return tokens;
}
