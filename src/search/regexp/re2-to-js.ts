// Translates an RE2 pattern (already accepted by re2js) into a JavaScript RegExp with the same
// match positions (groups do not capture: callers that read a group use re2js), so file contents
// can be counted by V8's much faster engine. Every construct whose meaning differs between the two
// is written out explicitly: `.`, `^`, `$`, `\A`, `\z`, `\b`, Perl and POSIX classes are emitted as
// the code points RE2 means; inline flags become V8's modifier groups or are applied while
// translating (`(?s)`, `(?m)`, `(?U)`). Anything not recognised returns undefined and the caller
// keeps re2js. V8 backtracks, so callers run the result only where a deadline bounds it (the
// search threads), and patterns a backtracking engine could run away on ((a+)+, (a|aa)*, a?a?…,
// a*a*a*a*) stay with re2js; test/re2-conformance.test.ts checks both engines against C++ RE2.

interface Flags {
  i: boolean;
  m: boolean;
  s: boolean;
  U: boolean;
}

/** A group being translated: the flags to restore at its end and modifier groups opened inside it. */
interface Frame {
  saved: Flags;
  /** Case-insensitivity of the emitted pattern where the group's content starts. */
  caseAtStart: boolean;
  /** `(?i:` / `(?-i:` groups opened by a flag change inside this group, closed at `|` and `)`. */
  open: number;
  /** The group holds a repetition or an alternation: repeating it could backtrack exponentially. */
  risky: boolean;
}

const modifier = (insensitive: boolean) => (insensitive ? '(?i:' : '(?-i:');

class Untranslatable extends Error {}

/** Unbounded repetitions (`*`, `+`, `{n,}`) a translated pattern may hold. */
const MAX_UNBOUNDED = 3;
/** Repetitions of any kind but an exact count (`?`, `*`, `{n,m}` …) a translated pattern may hold. */
const MAX_CHOICES = 6;

const hex = (codePoint: number) => `\\u{${codePoint.toString(16)}}`;

/** A code point as a JavaScript pattern character (u mode): printable ASCII as is unless special. */
function literal(codePoint: number): string {
  if (codePoint >= 0x30 && codePoint <= 0x39) return String.fromCodePoint(codePoint);
  if ((codePoint >= 0x41 && codePoint <= 0x5a) || (codePoint >= 0x61 && codePoint <= 0x7a))
    return String.fromCodePoint(codePoint);
  if (codePoint === 0x20 || codePoint === 0x5f) return String.fromCodePoint(codePoint);
  return hex(codePoint);
}

type Ranges = Array<[number, number]>;

const PERL: Record<string, Ranges> = {
  d: [[0x30, 0x39]],
  s: [
    [0x09, 0x0a],
    [0x0c, 0x0d],
    [0x20, 0x20],
  ],
  w: [
    [0x30, 0x39],
    [0x41, 0x5a],
    [0x5f, 0x5f],
    [0x61, 0x7a],
  ],
};

const POSIX: Record<string, Ranges> = {
  alnum: [
    [0x30, 0x39],
    [0x41, 0x5a],
    [0x61, 0x7a],
  ],
  alpha: [
    [0x41, 0x5a],
    [0x61, 0x7a],
  ],
  ascii: [[0x00, 0x7f]],
  blank: [
    [0x09, 0x09],
    [0x20, 0x20],
  ],
  cntrl: [
    [0x00, 0x1f],
    [0x7f, 0x7f],
  ],
  digit: [[0x30, 0x39]],
  graph: [[0x21, 0x7e]],
  lower: [[0x61, 0x7a]],
  print: [[0x20, 0x7e]],
  punct: [
    [0x21, 0x2f],
    [0x3a, 0x40],
    [0x5b, 0x60],
    [0x7b, 0x7e],
  ],
  space: [
    [0x09, 0x0d],
    [0x20, 0x20],
  ],
  upper: [[0x41, 0x5a]],
  word: PERL.w!,
  xdigit: [
    [0x30, 0x39],
    [0x41, 0x46],
    [0x61, 0x66],
  ],
};

function complement(ranges: Ranges): Ranges {
  const sorted = [...ranges].sort((a, b) => a[0] - b[0]);
  const result: Ranges = [];
  let next = 0;
  for (const [low, high] of sorted) {
    if (low > next) result.push([next, low - 1]);
    next = Math.max(next, high + 1);
  }
  if (next <= 0x10ffff) result.push([next, 0x10ffff]);
  return result;
}

const rangesText = (ranges: Ranges) =>
  ranges.map(([low, high]) => (low === high ? hex(low) : `${hex(low)}-${hex(high)}`)).join('');

/** Unicode general categories RE2 knows by name (others in \p{…} are scripts). */
const CATEGORIES = new Set(
  'C Cc Cf Co Cs L Ll Lm Lo Lt Lu M Mc Me Mn N Nd Nl No P Pc Pd Pe Pf Pi Po Ps S Sc Sk Sm So Z Zl Zp Zs'.split(' '),
);

function unicodeClass(name: string, negated: boolean): string {
  if (name === 'Any') return negated ? '[^\\u{0}-\\u{10ffff}]' : '[\\u{0}-\\u{10ffff}]';
  const property = CATEGORIES.has(name) ? name : `Script=${name}`;
  return `\\${negated ? 'P' : 'p'}{${property}}`;
}

export function translateRe2(
  source: string,
  options: { caseInsensitive: boolean; multiline: boolean },
): RegExp | undefined {
  try {
    return new RegExp(translate(source, options), options.caseInsensitive ? 'giu' : 'gu');
  } catch (error) {
    if (error instanceof Untranslatable || error instanceof SyntaxError) return undefined;
    throw error;
  }
}

function translate(source: string, options: { caseInsensitive: boolean; multiline: boolean }): string {
  const points = Array.from(source, (char) => char.codePointAt(0)!);
  const at = (k: number) => (k < points.length ? String.fromCodePoint(points[k]!) : undefined);
  let flags: Flags = { i: options.caseInsensitive, m: options.multiline, s: false, U: false };
  const frames: Frame[] = [{ saved: flags, caseAtStart: flags.i, open: 0, risky: false }];
  let out = '';
  let k = 0;
  let unbounded = 0;
  let choices = 0;

  /** Up to three octal digits at k. */
  const readOctal = () => {
    let text = '';
    while (text.length < 3 && at(k) !== undefined && at(k)! >= '0' && at(k)! <= '7') text += at(k++);
    return text;
  };

  /** An escape at k (after the backslash) that stands for one code point, or undefined. */
  const escapedCodePoint = (): number | undefined => {
    const char = at(k)!;
    if (char >= '0' && char <= '7') {
      return parseInt(readOctal(), 8);
    }
    if (char === 'x') {
      k++;
      if (at(k) === '{') {
        const close = points.indexOf(0x7d, k);
        const value = parseInt(String.fromCodePoint(...points.slice(k + 1, close)), 16);
        k = close + 1;
        return value;
      }
      const digits = String.fromCodePoint(...points.slice(k, k + 2));
      k += 2;
      return parseInt(digits, 16);
    }
    const controls: Record<string, number> = { a: 7, f: 12, t: 9, n: 10, r: 13, v: 11 };
    if (char in controls) {
      k++;
      return controls[char];
    }
    if (/^[A-Za-z0-9]$/.test(char)) return undefined; // a class or an assertion
    k++;
    return char.codePointAt(0)!; // escaped punctuation
  };

  /** \p{Name}, \pL, \P…, \p{^…}: k is at the p/P. */
  const readUnicodeClass = (): string => {
    let negated = at(k) === 'P';
    k++;
    let name: string;
    if (at(k) === '{') {
      const close = points.indexOf(0x7d, k);
      name = String.fromCodePoint(...points.slice(k + 1, close));
      k = close + 1;
    } else {
      name = at(k)!;
      k++;
    }
    if (name.startsWith('^')) {
      negated = !negated;
      name = name.slice(1);
    }
    return unicodeClass(name, negated);
  };

  const readClass = (): string => {
    // k is after the '['.
    let negated = false;
    if (at(k) === '^') {
      negated = true;
      k++;
    }
    let members = '';
    let first = true;
    const single = (): number | string => {
      // One member: a code point, or a ready-made set (string).
      const char = at(k)!;
      const posixEnd = char === '[' && at(k + 1) === ':' ? points.indexOf(0x3a, k + 2) : -1;
      // A named class only when `:]` closes it, as in Go; `[[:alpha:x]` is a set of characters.
      if (
        posixEnd > 0 &&
        points[posixEnd + 1] === 0x5d &&
        /^\^?[a-z]+$/.test(String.fromCodePoint(...points.slice(k + 2, posixEnd)))
      ) {
        const end = posixEnd;
        let name = String.fromCodePoint(...points.slice(k + 2, end));
        k = end + 2;
        let posixNegated = false;
        if (name.startsWith('^')) {
          posixNegated = true;
          name = name.slice(1);
        }
        const ranges = POSIX[name];
        if (!ranges) throw new Untranslatable(name);
        if (flags.i && posixNegated) throw new Untranslatable('negated class under (?i)');
        return rangesText(posixNegated ? complement(ranges) : ranges);
      }
      if (char === '\\') {
        k++;
        const next = at(k)!;
        if ('dswDSW'.includes(next)) {
          k++;
          if (flags.i && next === 'W') throw new Untranslatable('negated class under (?i)');
          const ranges = PERL[next.toLowerCase()]!;
          return rangesText(next === next.toUpperCase() ? complement(ranges) : ranges);
        }
        if (next === 'p' || next === 'P') {
          if (flags.i) throw new Untranslatable('Unicode class under (?i)');
          return readUnicodeClass();
        }
        const codePoint = escapedCodePoint();
        if (codePoint === undefined) throw new Untranslatable(`\\${next}`);
        return foldSafe(codePoint);
      }
      k++;
      return foldSafe(char.codePointAt(0)!);
    };
    // A negated class that holds letters, under (?i): RE2 folds, then negates; keep it with re2js.
    const letters = (low: number, high: number) => low <= 0x7a && high >= 0x41 && !(low > 0x5a && high < 0x61);
    const checkNegated = (member: number | string, high?: number) => {
      if (!negated || !flags.i) return;
      if (typeof member === 'string' || letters(member, high ?? member))
        throw new Untranslatable('negated class with letters under (?i)');
    };
    while (k < points.length && (at(k) !== ']' || first)) {
      first = false;
      const low = single();
      if (typeof low === 'number' && at(k) === '-' && at(k + 1) !== ']' && at(k + 1) !== undefined) {
        k++;
        const high = single();
        if (typeof high !== 'number') throw new Untranslatable('range to a class');
        checkNegated(low, high);
        members += `${hex(low)}-${hex(high)}`;
      } else {
        checkNegated(low);
        members += typeof low === 'number' ? hex(low) : low;
      }
    }
    k++; // ']'
    return `[${negated ? '^' : ''}${members}]`;
  };

  // Case folding beyond ASCII (KELVIN SIGN, LONG S, negated classes) differs in corners between
  // V8's Canonicalize and RE2's fold orbits: such case-insensitive patterns stay with re2js.
  const foldSafe = (codePoint: number) => {
    if (flags.i && codePoint > 0x7f) throw new Untranslatable('non-ASCII under (?i)');
    return codePoint;
  };

  const setCase = (frame: Frame, insensitive: boolean) => {
    if (insensitive === flags.i) return;
    out += modifier(insensitive);
    frame.open++;
    flags = { ...flags, i: insensitive };
  };

  const closeOpen = (frame: Frame) => {
    out += ')'.repeat(frame.open);
    frame.open = 0;
  };

  /** Parses `(?flags)` or `(?flags:` at k (after "(?"); returns the new flags and whether a group opens. */
  const readFlags = (): { next: Flags; group: boolean } => {
    const next = { ...flags };
    let value = true;
    for (;;) {
      const char = at(k)!;
      k++;
      if (char === ')') return { next, group: false };
      if (char === ':') return { next, group: true };
      if (char === '-') value = false;
      else if (char === 'i' || char === 'm' || char === 's' || char === 'U') next[char] = value;
      else throw new Untranslatable(`flag ${char}`);
    }
  };

  /** A repetition operator at k: after \Q…\E or a flag group it would repeat what RE2 repeats, not us. */
  const repetitionAhead = () =>
    at(k) === '*' ||
    at(k) === '+' ||
    at(k) === '?' ||
    /^\{\d+(,\d*)?\}/.test(String.fromCodePoint(...points.slice(k, k + 16)));

  const quantifier = (): string | undefined => {
    const char = at(k);
    let text: string | undefined;
    if (char === '*' || char === '+' || char === '?') {
      text = char;
      k++;
    } else if (char === '{') {
      const match = /^\{(\d+)(,(\d*))?\}/.exec(String.fromCodePoint(...points.slice(k, k + 16)));
      if (!match) return undefined;
      text = match[0];
      k += match[0].length;
    } else return undefined;
    let lazy = false;
    if (at(k) === '?') {
      lazy = true;
      k++;
    }
    if (flags.U) lazy = !lazy;
    // Several unbounded repetitions in a row (a*a*a*b) backtrack polynomially, many optional ones
    // (a?a?…a?aa…a) exponentially: re2js keeps those.
    if (text === '*' || text === '+' || text.endsWith(',}')) {
      if (++unbounded > MAX_UNBOUNDED) throw new Untranslatable('too many unbounded repetitions');
    }
    const exact = /^\{(\d+)\}$/.exec(text) ?? /^\{(\d+),\1\}$/.exec(text);
    if (!exact && ++choices > MAX_CHOICES) throw new Untranslatable('too many optional repetitions');
    return text + (lazy ? '?' : '');
  };

  while (k < points.length) {
    const char = at(k)!;
    const frame = frames.at(-1)!;
    if (char === '\\') {
      k++;
      const next = at(k)!;
      if (next === 'Q') {
        k++;
        while (k < points.length && !(at(k) === '\\' && at(k + 1) === 'E')) out += literal(foldSafe(points[k++]!));
        if (k < points.length) k += 2;
        if (repetitionAhead()) throw new Untranslatable('repetition after \\Q…\\E');
        continue;
      }
      if (next === 'E') {
        k++;
        if (repetitionAhead()) throw new Untranslatable('repetition after \\E');
        continue;
      }
      if ('dswDSW'.includes(next)) {
        k++;
        if (flags.i && next === 'W') throw new Untranslatable('\\W under (?i)');
        const ranges = PERL[next.toLowerCase()]!;
        out += `[${rangesText(next === next.toUpperCase() ? complement(ranges) : ranges)}]`;
      } else if (next === 'b' || next === 'B') {
        k++;
        out += `(?-i:\\${next})`; // ASCII word boundary (JavaScript's \b folds case under i and u)
      } else if (next === 'A') {
        k++;
        out += '(?<![\\s\\S])';
      } else if (next === 'z') {
        k++;
        out += '(?![\\s\\S])';
      } else if (next === 'p' || next === 'P') {
        if (flags.i) throw new Untranslatable('Unicode class under (?i)');
        out += readUnicodeClass();
      } else {
        const codePoint = escapedCodePoint();
        if (codePoint === undefined) throw new Untranslatable(`\\${next}`);
        out += literal(foldSafe(codePoint));
      }
    } else if (char === '[') {
      k++;
      out += readClass();
    } else if (char === '.') {
      k++;
      out += flags.s ? '[\\u{0}-\\u{10ffff}]' : '[^\\n]';
    } else if (char === '^') {
      k++;
      out += flags.m ? '(?<![^\\n])' : '(?<![\\s\\S])';
    } else if (char === '$') {
      k++;
      out += flags.m ? '(?![^\\n])' : '(?![\\s\\S])';
    } else if (char === '|') {
      k++;
      frame.risky = true;
      closeOpen(frame);
      out += '|';
      // Flags set so far in this group go on into the next alternative (RE2's scoping).
      if (flags.i !== frame.caseAtStart) {
        out += modifier(flags.i);
        frame.open = 1;
      }
    } else if (char === '(') {
      k++;
      if (at(k) === '?') {
        k++;
        if (at(k) === 'P' || at(k) === '<') {
          // Named group: like any group, not capturing (positions only).
          const close = points.indexOf(0x3e, k);
          k = close + 1;
          frames.push({ saved: flags, caseAtStart: flags.i, open: 0, risky: false });
          out += '(?:';
        } else {
          const { next, group } = readFlags();
          if (group) {
            frames.push({ saved: flags, caseAtStart: next.i, open: 0, risky: false });
            out += next.i === flags.i ? '(?:' : modifier(next.i);
            flags = next;
          } else {
            const caseChange = next.i;
            flags = { ...next, i: flags.i };
            setCase(frame, caseChange);
            if (repetitionAhead()) throw new Untranslatable('repetition after a flag group');
          }
        }
      } else {
        frames.push({ saved: flags, caseAtStart: flags.i, open: 0, risky: false });
        out += '(?:';
      }
      continue;
    } else if (char === ')') {
      k++;
      closeOpen(frame);
      out += ')';
      flags = frame.saved;
      frames.pop();
      if (!frames.length) throw new Untranslatable('unbalanced');
      const parent = frames.at(-1)!;
      parent.risky ||= frame.risky;
      const repeat = quantifier();
      if (repeat !== undefined) {
        // A repeated group that itself repeats or alternates ((a+)+, (a|aa)*) is where a
        // backtracking engine goes exponential: such patterns stay with re2js.
        if (frame.risky) throw new Untranslatable('nested repetition');
        parent.risky = true;
        out += repeat;
      }
      continue;
    } else if (char === '{') {
      // Not a repetition here (quantifier() takes those): a literal brace.
      k++;
      out += '\\{';
      continue;
    } else if ('*+?'.includes(char)) {
      throw new Untranslatable('quantifier without operand');
    } else {
      k++;
      out += literal(foldSafe(char.codePointAt(0)!));
    }
    const repeat = quantifier();
    if (repeat !== undefined) {
      frame.risky = true;
      out += repeat;
    }
  }
  if (frames.length !== 1) throw new Untranslatable('unbalanced');
  closeOpen(frames[0]!);
  return out;
}
