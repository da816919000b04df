// Rewrites a query written in the first syntax (before the language followed Sourcegraph) into the
// current syntax with the same counts. What changed, and what the rewrite does about it:
// - "quoted" patterns were literals with the quotes removed; quotes are now ordinary characters, so
//   the text is written bare, or as a /regexp/ when bare words would read differently (operators,
//   filters, runs of spaces).
// - lower-case and/or/not were pattern words; they are operators now: such patterns become /regexp/.
// - several words under patterntype:regexp were one regexp joined by spaces; they are now joined by
//   `.*?`, so they become one /regexp/.
// - regexps were JavaScript's and matched within a line; they are RE2 over the whole file now, so
//   classes that could reach a line break (`\s`, `\W`, `\D`, `[^…]`) exclude it explicitly and
//   JavaScript-only escapes (`\uXXXX`, `\u{…}`) are written as RE2's `\x{…}`.
// - lang: names are GitHub Linguist's now (`txt` was an alias of text).
// A query the first parser refused is left as it is: it never counted anything.
import { scanQuery } from './scan-query.ts';

/** Class members for JavaScript's \W, \D and \S without the line break (the old search never saw one). */
const IN_CLASS: Record<string, string> = {
  W: '\\x{0}-\\x{9}\\x{b}-\\x{2f}\\x{3a}-\\x{40}\\x{5b}-\\x{5e}\\x{60}\\x{7b}-\\x{10ffff}',
  D: '\\x{0}-\\x{9}\\x{b}-\\x{2f}\\x{3a}-\\x{10ffff}',
  S:
    '\\x{0}-\\x{8}\\x{e}-\\x{1f}\\x{21}-\\x{9f}\\x{a1}-\\x{167f}\\x{1681}-\\x{1fff}\\x{200b}-\\x{2027}' +
    '\\x{202a}-\\x{202e}\\x{2030}-\\x{205e}\\x{2060}-\\x{2fff}\\x{3001}-\\x{fefe}\\x{ff00}-\\x{10ffff}',
};

/** JavaScript's `\s` without the line break, as RE2 class members. */
const JS_SPACE_NO_NEWLINE =
  '\\t\\x{0b}\\f\\r \\x{a0}\\x{1680}\\x{2000}-\\x{200a}\\x{2028}\\x{2029}\\x{202f}\\x{205f}\\x{3000}\\x{feff}';

interface LegacyToken {
  kind: 'filter' | 'pattern';
  raw: string;
  text: string;
  quoted?: boolean;
  slashed?: boolean;
  key?: string;
  value?: string;
}

function readQuoted(input: string, start: number): { value: string; end: number } | undefined {
  const quote = input[start]!;
  let value = '';
  for (let i = start + 1; i < input.length; i++) {
    const char = input[i]!;
    if (char === '\\' && i + 1 < input.length) {
      const next = input[++i]!;
      value += next === quote || next === '\\' ? next : `\\${next}`;
    } else if (char === quote) return { value, end: i + 1 };
    else value += char;
  }
  return undefined;
}

/** The first syntax's tokenizer (parse-query.ts before PARSER_VERSION 2), kept for the rewrite. */
function tokenize(input: string): LegacyToken[] | undefined {
  const tokens: LegacyToken[] = [];
  const quotesArePatternSyntax = !/(^|\s)patterntype:regexp?(\s|$)/i.test(input);
  let i = 0;
  while (i < input.length) {
    if (/\s/.test(input[i]!)) {
      i++;
      continue;
    }
    const start = i;
    if (quotesArePatternSyntax && (input[i] === '"' || input[i] === "'")) {
      const quoted = readQuoted(input, i);
      if (!quoted) return undefined;
      tokens.push({ kind: 'pattern', raw: input.slice(start, quoted.end), text: quoted.value, quoted: true });
      i = quoted.end;
      continue;
    }
    if (input[i] === '/') {
      let close = -1;
      for (let j = i + 1; j < input.length; j++) {
        if (input[j] === '\\') j++;
        else if (input[j] === '/') {
          if (j + 1 >= input.length || /\s/.test(input[j + 1]!)) close = j;
          break;
        }
      }
      if (close > 0) {
        tokens.push({
          kind: 'pattern',
          raw: input.slice(i, close + 1),
          text: input.slice(i + 1, close),
          slashed: true,
        });
        i = close + 1;
        continue;
      }
    }
    const filter = /^(-?)([a-zA-Z]+):/.exec(input.slice(i));
    if (filter) {
      const valueStart = i + filter[0].length;
      let end = valueStart;
      let value: string;
      if (input[valueStart] === '"' || input[valueStart] === "'") {
        const quoted = readQuoted(input, valueStart);
        if (!quoted) return undefined;
        ({ value, end } = quoted);
      } else {
        while (end < input.length && !/\s/.test(input[end]!)) end++;
        value = input.slice(valueStart, end);
      }
      if (value !== '') {
        tokens.push({ kind: 'filter', raw: input.slice(i, end), text: '', key: filter[2]!.toLowerCase(), value });
        i = end;
        continue;
      }
    }
    let end = i;
    while (end < input.length && !/\s/.test(input[end]!)) end++;
    tokens.push({ kind: 'pattern', raw: input.slice(i, end), text: input.slice(i, end) });
    i = end;
  }
  return tokens;
}

/** A first-syntax (JavaScript, per-line) regexp as an RE2 regexp with the same matches. */
export function legacyRegexpToRe2(source: string): string {
  let out = '';
  let inClass = false;
  for (let i = 0; i < source.length; i++) {
    const char = source[i]!;
    if (char === '\\') {
      const next = source[i + 1];
      if (next === undefined) {
        out += char;
        continue;
      }
      i++;
      if (next === 'u' && source[i + 1] === '{') {
        const close = source.indexOf('}', i);
        out += `\\x{${source.slice(i + 2, close)}}`;
        i = close;
      } else if (next === 'u' && /^[0-9a-fA-F]{4}$/.test(source.slice(i + 1, i + 5))) {
        out += `\\x{${source.slice(i + 1, i + 5)}}`;
        i += 4;
      } else if (next === 's') out += inClass ? JS_SPACE_NO_NEWLINE : `[${JS_SPACE_NO_NEWLINE}]`;
      else if (next === 'W' || next === 'D' || next === 'S')
        out += inClass
          ? IN_CLASS[next]
          : `[^${next === 'S' ? `\\n${JS_SPACE_NO_NEWLINE}` : `\\${next.toLowerCase()}\\n`}]`;
      else if (next === '/') out += '/';
      else out += `\\${next}`;
      continue;
    }
    if (inClass) {
      if (char === ']') inClass = false;
      out += char;
      continue;
    }
    if (char === '[') {
      inClass = true;
      if (source[i + 1] === '^') {
        // A negated class could match the line break the old per-line search never saw.
        out += '[^\\n';
        i++;
      } else out += '[';
      continue;
    }
    out += char;
  }
  return out;
}

/**
 * A literal as the current syntax reads it: bare when the current scanner reads it back as plain
 * words joined by single spaces (no operator, filter, /regexp/ or patterntype:), else as /regexp/.
 */
function literalPattern(text: string): string {
  const tokens = scanQuery(text, { quotesDelimit: false, slashesDelimit: true, groups: false });
  const bare =
    text !== '' &&
    !/\s\s|^\s|\s$|[\t\n\r]/.test(text) &&
    !/patterntype:/i.test(text) &&
    tokens.every((token) => token.kind === 'pattern' && token.form === 'word') &&
    tokens.map((token) => (token as { text: string }).text).join(' ') === text;
  return bare ? text : slashed(text.replace(/[\\.+*?()|[\]{}^$]/g, '\\$&'));
}

/** An RE2 regexp as a /…/ token: slashes inside are escaped so the token ends where it should. */
function slashed(regexp: string): string {
  return `/${regexp.replace(/(^|[^\\])((?:\\\\)*)\//g, '$1$2\\/')}/`;
}

const LANGUAGE_RENAMES: Record<string, string> = { txt: 'text', text: 'text', cplusplus: 'c++', docker: 'dockerfile' };

/** The query in the current syntax; unchanged when nothing it says reads differently now. */
export function rewriteLegacyQuery(query: string): string {
  const tokens = tokenize(query);
  if (!tokens) return query;
  const patterns = tokens.filter((token) => token.kind === 'pattern');
  const filters = tokens.filter((token) => token.kind === 'filter');
  const regexpType = filters.some((f) => f.key === 'patterntype' && /^regexp?$/i.test(f.value!));
  // The first parser refused AND/OR/NOT and a /regexp/ beside other words: such queries never ran.
  if (patterns.some((p) => !p.quoted && !p.slashed && /^(AND|OR|NOT)$/.test(p.text))) return query;
  if (patterns.some((p) => p.slashed) && patterns.length > 1) return query;
  const filterText = filters.map((filter) => {
    if ((filter.key === 'lang' || filter.key === 'l' || filter.key === 'language') && LANGUAGE_RENAMES[filter.value!])
      return filter.raw.replace(/:.*$/, `:${LANGUAGE_RENAMES[filter.value!]}`);
    return filter.raw;
  });
  let pattern = '';
  if (patterns.length) {
    const text = patterns.map((p) => p.text).join(' ');
    if (patterns[0]!.slashed || regexpType) pattern = slashed(legacyRegexpToRe2(text));
    else pattern = literalPattern(text);
  }
  const rewritten = [...filterText, ...(pattern ? [pattern] : [])].join(' ');
  // Keep the text as written when the rewrite only normalised spacing or token order.
  const sameTokens =
    patterns.every((p) => !p.quoted) &&
    !regexpType &&
    !patterns.some((p) => p.slashed) &&
    pattern === patterns.map((p) => p.text).join(' ') &&
    filterText.every((text, k) => text === filters[k]!.raw);
  return sameTokens ? query : rewritten;
}
