// Our RE2 engine (src/search/regexp/re2.ts, re2js underneath) against Google's C++ RE2 itself, compiled to
// WASM (the re2-wasm devDependency): for every pattern × input of test/fixtures/re2-conformance-cases.ts,
// both refuse the pattern or neither does, and if it compiles both find the same successive matches
// (start, end, first group), countMatches is RE2's number of non-empty matches, and test() agrees.
//
// The oracle is re2-wasm's WrappedRE2, the C++ binding under its RE2 class: that class rewrites the pattern
// from JavaScript syntax first (`\u0041` becomes `\x{0041}`, `\cA` a control character, `/` inside
// `\Q...\E` becomes `\/`), which would make RE2 accept or read differently what RE2 proper refuses, and its
// lastIndex adds a match's UTF-16 length to a code point index. Two of its steps are kept: a named group
// `(?<name>...)` is read as `(?P<name>...)` (current RE2 accepts both, the RE2 inside re2-wasm 1.0.2 only
// the latter), and a duplicate group name is refused (as Go does; the bare binding accepts it).
//
// WrappedRE2.match(text, start, groups) takes and returns code point indexes (it counts UTF-8 sequences),
// and returns the matched text rather than its end; the helper turns both into UTF-16 offsets. The WASM
// heap is fixed at 16 MiB and an allocation past it aborts the module, so every WrappedRE2 is deleted
// after use and no case compiles a huge program (`\pL{1000}` is enough to abort it).
import { createRequire } from 'node:module';
import test, { type ExecutionContext } from 'ava';
import { compileRe2, type Re2, type Re2Match, Re2SyntaxError } from '../src/search/regexp/re2.ts';
import { type Re2ConformanceCase, re2ConformanceGroups } from './fixtures/re2-conformance-cases.ts';

type WasmBinding = typeof import('re2-wasm/build/wasm/re2.js');
type WrappedRE2 = InstanceType<WasmBinding['WrappedRE2']>;

const { WrappedRE2 } = createRequire(import.meta.url)('re2-wasm/build/wasm/re2.js') as WasmBinding;

/** `(?<name>` as `(?P<name>` outside escapes, `\Q...\E` and classes; lookbehind `(?<=`, `(?<!` stays. */
function withPythonGroupNames(source: string): string {
  let out = '';
  let inClass = false;
  for (let i = 0; i < source.length; i++) {
    const char = source[i]!;
    if (char === '\\') {
      const stop = source[i + 1] === 'Q' ? source.indexOf('\\E', i + 2) : i;
      const end = stop < 0 ? source.length : stop + 2;
      out += source.slice(i, end);
      i = end - 1;
    } else if (inClass) {
      const posix = source.startsWith('[:', i) ? source.indexOf(':]', i + 2) : -1;
      const end = posix < 0 ? i + 1 : posix + 2;
      out += source.slice(i, end);
      i = end - 1;
      if (char === ']' && posix < 0) inClass = false;
    } else if (char === '[') {
      inClass = true;
      let end = i + 1;
      if (source[end] === '^') end++;
      if (source[end] === ']') end++; // a leading ] is a member
      out += source.slice(i, end);
      i = end - 1;
    } else if (source.startsWith('(?<', i) && source[i + 3] !== '=' && source[i + 3] !== '!') {
      out += '(?P<';
      i += 2;
    } else {
      out += char;
    }
  }
  return out;
}

interface Oracle {
  /** RE2's error when it refuses the pattern. */
  error?: string;
  /**
   * All matches as Go's FindAllStringSubmatchIndex (UTF-16 offsets): successive leftmost-first matches
   * from where the last one ended, stepping one code point after an empty match; an empty match right
   * where the previous match ended is skipped unless keepEmptyAfterMatch (java.util.regex's find loop).
   */
  findAll(text: string, keepEmptyAfterMatch?: boolean): Re2Match[];
  dispose(): void;
}

function compileOracle(source: string, options: { caseInsensitive?: boolean; multiline?: boolean }): Oracle {
  const flags = `${options.caseInsensitive ? 'i' : ''}${options.multiline ? 'm' : ''}`;
  const re: WrappedRE2 = new WrappedRE2(
    (flags ? `(?${flags})` : '') + withPythonGroupNames(source),
    false,
    false,
    false,
  );
  const dispose = () => (re as unknown as { delete(): void }).delete();
  if (!re.ok()) {
    const error = re.error();
    dispose();
    return { error, findAll: () => [], dispose: () => {} };
  }
  const names = re.capturingGroupNames();
  const keys = names.keys();
  const seen = new Set<string>();
  let duplicate: string | undefined;
  for (let i = 0; i < keys.size(); i++) {
    const name = names.get(keys.get(i));
    if (seen.has(name)) duplicate = name;
    seen.add(name);
  }
  (keys as unknown as { delete(): void }).delete();
  (names as unknown as { delete(): void }).delete();
  if (duplicate !== undefined) {
    dispose();
    return { error: `duplicate capture group name: ${duplicate}`, findAll: () => [], dispose: () => {} };
  }
  return {
    findAll(text, keepEmptyAfterMatch = false) {
      if (!text.isWellFormed()) throw new Error('the oracle takes UTF-8: no lone surrogates in inputs');
      const offsets = [0]; // the UTF-16 offset of each code point index
      for (const char of text) offsets.push(offsets.at(-1)! + char.length);
      const codePointAt = new Map(offsets.map((offset, index) => [offset, index]));
      const matches: Re2Match[] = [];
      let pos = 0;
      let previousEnd = -1;
      while (pos < offsets.length) {
        const found = re.match(text, pos, true);
        if (found.index < 0) break;
        const start = offsets[found.index]!;
        const end = start + found.match.length;
        const endIndex = codePointAt.get(end);
        if (endIndex === undefined) throw new Error(`RE2 match ends inside a character at ${end}`);
        const empty = end === start;
        if (!empty || keepEmptyAfterMatch || found.index !== previousEnd) {
          const group1 = found.groups[0];
          matches.push(group1 === undefined ? { start, end } : { start, end, group1 });
        }
        pos = empty ? endIndex + 1 : endIndex;
        previousEnd = endIndex;
      }
      return matches;
    },
    dispose,
  };
}

function describe(testCase: Re2ConformanceCase, input?: string): string {
  const flags = [testCase.caseInsensitive && 'caseInsensitive', testCase.multiline && 'multiline'].filter(Boolean);
  const shown =
    input === undefined
      ? ''
      : input.length > 60
        ? ` on ${JSON.stringify(input.slice(0, 40))}… (${input.length} chars)`
        : ` on ${JSON.stringify(input)}`;
  return `${JSON.stringify(testCase.pattern)}${flags.length ? ` (${flags.join(', ')})` : ''}${shown}`;
}

/** fast: V8 on the translated pattern where re2-to-js.ts translates it (file contents), else re2js. */
function check(t: ExecutionContext, testCase: Re2ConformanceCase, fast: boolean): void {
  const { pattern, inputs, known } = testCase;
  const options = { caseInsensitive: testCase.caseInsensitive ?? false, multiline: testCase.multiline, fast };
  if (known) t.is(inputs.length, 1, `${describe(testCase)}: a known disagreement has one input`);
  let ours: Re2 | Re2SyntaxError;
  try {
    ours = compileRe2(pattern, options);
  } catch (error) {
    if (!(error instanceof Re2SyntaxError)) throw error;
    ours = error;
    t.true(
      error.reason.length > 0 && error.offset >= 0 && error.offset <= pattern.length,
      `${describe(testCase)}: the error says what and where (${error.reason} at ${error.offset})`,
    );
  }
  const oracle = compileOracle(pattern, options);
  try {
    if (known?.ours === 'refused') {
      t.true(ours instanceof Re2SyntaxError, `${describe(testCase)}: known to be refused by ours; it compiles now`);
      t.is(oracle.error, undefined, `${describe(testCase)}: known to be accepted by RE2; RE2 refuses it now`);
      return;
    }
    if (oracle.error !== undefined) {
      t.true(
        ours instanceof Re2SyntaxError,
        `${describe(testCase)}: RE2 refuses it (${oracle.error}); ours compiles it`,
      );
      return;
    }
    if (ours instanceof Re2SyntaxError) {
      t.fail(`${describe(testCase)}: RE2 compiles it; ours refuses it (${ours.reason} at ${ours.offset})`);
      return;
    }
    const engine: string = ours.engine;
    for (const input of inputs) {
      const label = `${describe(testCase, input)} [${engine}]`;
      const matches: Re2Match[] = [...ours.matches(input)];
      const count = ours.countMatches(input);
      const found = ours.test(input);
      const all = oracle.findAll(input);
      // The V8 translation reports positions only (capture-group series read groups with re2js).
      const expected = engine === 'v8' ? all.map(({ start, end }) => ({ start, end })) : all;
      if (known && engine === 'v8') {
        // Known differences are in groups, which V8 does not report: positions must agree.
        t.deepEqual(matches, expected, `${label}: matches`);
      } else if (known) {
        t.deepEqual(matches, known.ours, `${label}: ours no longer answers what the known disagreement records`);
        t.notDeepEqual(expected, known.ours, `${label}: ours agrees with RE2 now; drop the known disagreement`);
      } else {
        t.deepEqual(matches, expected, `${label}: matches`);
      }
      t.is(count, expected.filter((match) => match.end > match.start).length, `${label}: countMatches`);
      t.is(found, expected.length > 0, `${label}: test`);
    }
  } finally {
    oracle.dispose();
  }
}

for (const { group, cases } of re2ConformanceGroups) {
  test(`RE2 conformance: ${group}`, (t) => {
    for (const testCase of cases) check(t, testCase, false);
  });
  test(`RE2 conformance, V8 on the translation where there is one: ${group}`, (t) => {
    for (const testCase of cases) check(t, testCase, true);
  });
}

test('the translation to V8 covers the common patterns and leaves the runaway ones to re2js', (t) => {
  const engine = (source: string) => compileRe2(source, { caseInsensitive: true, multiline: true, fast: true }).engine;
  for (const common of [
    '[a-z]+Error\\(',
    'import.*from',
    '\\bfoo\\b',
    '(?i)TODO\\((\\w+)\\)',
    '^\\s*#include',
    'x{2,5}',
  ])
    t.is(engine(common), 'v8', common);
  for (const runaway of ['(a+)+$', '(a|aa)+$', '(x+x+)+y', 'a*a*a*a*b', '(.*a){12}'])
    t.is(engine(runaway), 're2js', runaway);
});

test('RE2 conformance: the cases number at least 300 pattern × input pairs', (t) => {
  const pairs = re2ConformanceGroups.flatMap(({ cases }) => cases.flatMap(({ inputs }) => inputs)).length;
  t.true(pairs >= 300, `${pairs} pairs`);
});

test('the oracle enumerates matches the Go way, in UTF-16 offsets', (t) => {
  const oracle = compileOracle('(x)*', {});
  try {
    const go = [
      { start: 0, end: 0 },
      { start: 2, end: 2 },
      { start: 3, end: 4, group1: 'x' },
      { start: 6, end: 6 },
    ];
    t.deepEqual(oracle.findAll('😀ax😀'), go, 'no empty match where x ended');
    t.deepEqual(oracle.findAll('😀ax😀', true), [...go.slice(0, 3), { start: 4, end: 4 }, go[3]!], 'java.util.regex');
  } finally {
    oracle.dispose();
  }
});
