// The query parser: Sourcegraph's pattern types, operators, filters and predicates, and a refusal
// with a code and a position for everything it cannot count exactly.
import test from 'ava';
import { commitAfterTime } from '../src/search/query/commit-after.ts';
import { parseQuery, QuerySyntaxError } from '../src/search/query/parse-query.ts';

const literal = (text: string) => ({ kind: 'term', literal: text });
const regexp = (source: string) => ({ kind: 'term', regexp: source });

test('without patterntype: literal (quotes and spaces as written), /…/ a regexp', (t) => {
  t.like(parseQuery('import React from'), { pattern: literal('import React from'), patternType: 'standard' });
  t.like(parseQuery('"TODO: fix"'), { pattern: literal('"TODO: fix"') });
  t.like(parseQuery('#!/usr/bin/env python3'), { pattern: literal('#!/usr/bin/env python3') });
  t.like(parseQuery('TODO:'), { pattern: literal('TODO:') });
  t.like(parseQuery('foo(bar) (x)'), { pattern: literal('foo(bar) (x)') });
  t.like(parseQuery('/TODO\\(\\w+\\)/'), { pattern: regexp('TODO\\(\\w+\\)') });
  // Sourcegraph's standard mode: a /regexp/ is and-ed with the literal beside it.
  t.like(parseQuery('/foo/ bar baz'), { pattern: { kind: 'and', children: [regexp('foo'), literal('bar baz')] } });
  // A name that is no filter, and not close to one, is pattern text (color:#fff, http://x).
  t.like(parseQuery('color:#fff'), { pattern: literal('color:#fff') });
  t.like(parseQuery('http://x'), { pattern: literal('http://x') });
});

test('patterntype:literal, regexp and keyword read the pattern as Sourcegraph does', (t) => {
  t.like(parseQuery('patterntype:literal /a.b/'), { pattern: literal('/a.b/'), patternType: 'literal' });
  t.like(parseQuery('patterntype:regexp foo bar'), { pattern: regexp('(?:foo).*?(?:bar)'), patternType: 'regexp' });
  t.like(parseQuery('patterntype:regexp "a.b"'), { pattern: { kind: 'term', literal: 'a.b', regexp: 'a\\.b' } });
  // A quote not followed by a space is part of the word.
  t.like(parseQuery('patterntype:regexp "license":\\s"(.*)"'), { pattern: regexp('"license":\\s"(.*)"') });
  t.like(parseQuery('patterntype:regexp fmt.Println()'), { pattern: regexp('fmt.Println\\(\\)') });
  t.like(parseQuery('patternType:keyword foo "bar baz"'), {
    pattern: { kind: 'and', children: [literal('foo'), literal('bar baz')] },
    patternType: 'keyword',
  });
});

test('and, or, not (any case) and parentheses, with and binding tighter', (t) => {
  t.like(parseQuery('a or b and c'), {
    pattern: { kind: 'or', children: [literal('a'), { kind: 'and', children: [literal('b'), literal('c')] }] },
  });
  t.like(parseQuery('(a OR b) AND c'), {
    pattern: { kind: 'and', children: [{ kind: 'or', children: [literal('a'), literal('b')] }, literal('c')] },
  });
  t.like(parseQuery('panic NOT ever'), {
    pattern: { kind: 'and', children: [literal('panic'), { kind: 'not', child: literal('ever') }] },
  });
  t.like(parseQuery('foo bar or baz'), { pattern: { kind: 'or', children: [literal('foo bar'), literal('baz')] } });
  t.like(parseQuery('repo:x a or b'), { repoInclude: ['x'], pattern: { kind: 'or' } });
  t.like(parseQuery('NOT file:test foo'), { fileExclude: ['test'], pattern: literal('foo') });
  t.like(parseQuery('not a select:file'), { select: 'file', pattern: { kind: 'not' } });
  // Without `or`, a filter in parentheses scopes the whole query, as everywhere else.
  t.like(parseQuery('x (repo:a and b)'), {
    repoInclude: ['a'],
    pattern: { kind: 'and', children: [literal('x'), literal('b')] },
  });
  // An `or` of one filter: one filter admitting either.
  t.like(parseQuery('(repo:^a$ or repo:^b$) TODO'), { repoInclude: ['(?:^a$)|(?:^b$)'] });
  t.like(parseQuery('lang:javascript OR lang:typescript'), {
    langIncludeAny: [['JavaScript', 'TypeScript']],
    target: 'path',
    pattern: null,
  });
  t.like(parseQuery('file:Dockerfile alpine -content:alpine:latest'), {
    pattern: { kind: 'and', children: [literal('alpine'), { kind: 'not', child: literal('alpine:latest') }] },
  });
});

test('filters, aliases and negations', (t) => {
  const query = parseQuery(
    'TODO r:^acme/ -repo:archive f:\\.ts$ -file:test l:go -lang:md case:yes select:file count:all',
  );
  t.like(query, {
    pattern: literal('TODO'),
    repoInclude: ['^acme/'],
    repoExclude: ['archive'],
    fileInclude: ['\\.ts$'],
    fileExclude: ['test'],
    langInclude: ['Go'],
    langExclude: ['Markdown'],
    caseSensitive: true,
    select: 'file',
  });
  t.like(parseQuery('type:path lang:go'), { target: 'path', pattern: null });
  t.like(parseQuery('select:file lang:TypeScript'), { select: 'file', pattern: null, langInclude: ['TypeScript'] });
  t.like(parseQuery('select:repo file:yarn.lock'), { select: 'repo', pattern: null });
  t.like(parseQuery('TODO file:"my dir/"'), { fileInclude: ['my dir/'] });
  t.like(parseQuery('TODO timeout:1m fork:no archived:no visibility:any context:global'), { timeoutSeconds: 60 });
  t.like(parseQuery('TODO lang:OBJECTIVE-C'), { langInclude: ['Objective-C'] });
});

test('predicates', (t) => {
  t.like(parseQuery('TODO repo:has.file(path:package\\.json content:"react")'), {
    repoPredicates: [{ negated: false, path: 'package\\.json', content: 'react' }],
  });
  t.like(parseQuery('TODO -repo:has.path(\\.go$) repo:has.content(foo)'), {
    repoPredicates: [
      { negated: true, path: '\\.go$' },
      { negated: false, content: 'foo' },
    ],
  });
  t.like(parseQuery('select:repo -repohasfile:readme.md'), { repoPredicates: [{ negated: true, path: 'readme.md' }] });
  t.like(parseQuery('TODO file:has.content(react) -file:has.content(test)'), {
    fileContentInclude: ['react'],
    fileContentExclude: ['test'],
  });
  // The argument is kept as written, so a relative time is resolved each time the series counts.
  const after = parseQuery('TODO repo:has.commit.after(2024-01-01)').repoPredicates[0]!;
  t.is(after.commitAfter, '2024-01-01');
  t.is(commitAfterTime(after.commitAfter!)!.toISOString(), '2024-01-01T00:00:00.000Z');
  const relative = parseQuery('TODO repo:has.commit.after(1 week ago)').repoPredicates[0]!.commitAfter!;
  t.is(relative, '1 week ago');
  const now = new Date('2026-03-10T12:00:00Z');
  t.is(commitAfterTime(relative, now)!.toISOString(), '2026-03-03T12:00:00.000Z');
  t.is(commitAfterTime('2 months ago', now)!.toISOString(), '2026-01-10T12:00:00.000Z');
  t.throws(() => parseQuery('TODO repo:has.commit.after(soon)'), { message: /needs a date/ });
  t.throws(() => parseQuery('TODO repo:has.content()'), { message: /needs a pattern/ });
  t.throws(() => parseQuery('TODO repo:has.file(path:"x)'), { message: /unterminated quoted string/ });
});

test('capture-group series read the query as a regexp and need a group', (t) => {
  t.like(parseQuery('file:package.json "license":\\s"(.*)"', { capture: true }), { captureGroups: 1 });
  t.like(parseQuery('/version (\\d+)/', { capture: true }), { pattern: regexp('version (\\d+)'), captureGroups: 1 });
  // A plain series with a group counts matches; its captureGroups stay 0.
  t.like(parseQuery('/version (\\d+)/'), { captureGroups: 0 });
  t.throws(() => parseQuery('/version \\d+/', { capture: true }), { message: /needs a regexp with a capturing group/ });
  t.throws(() => parseQuery('patterntype:literal (x)', { capture: true }), { message: /patterntype:literal/ });
  t.throws(() => parseQuery('(a) or (b)', { capture: true }), { message: /not `or`/ });
});

const errors: Array<[string, string, string]> = [
  ['foo lnag:go', 'unknown-filter', 'unknown filter `lnag:` at 4; did you mean `lang:`?'],
  ['TODO lang:pyhton', 'unknown-language', 'unknown language `pyhton` at 10; did you mean `python`?'],
  ['patterntype:regexp foo(bar', 'invalid-regexp', 'invalid regular expression in the pattern: missing closing ) at 0'],
  ['/(?=x)/', 'invalid-regexp', 'invalid regular expression in the pattern: lookaround assertions are not supported'],
  ['/(a)\\1/', 'invalid-regexp', 'backreferences are not supported'],
  ['TODO file:(', 'invalid-regexp', 'invalid regular expression in file:: missing closing ) at 10'],
  ['type:diff x', 'unsupported-type', 'type:diff is not supported at 5'],
  ['type:repo x', 'unsupported-type', 'type:repo is not supported at 5; to count repositories, use select:repo'],
  ['patterntype:structural x', 'unsupported-patterntype', 'structural search is not supported at 12'],
  ['x select:symbol', 'unsupported-select', 'select:symbol is not supported at 9'],
  ['context:mine x', 'unsupported-filter', 'context:mine is not supported'],
  ['x rev:main', 'unsupported-filter', '`rev:`'],
  ['x fork:only', 'unsupported-filter', 'fork:only would count nothing'],
  ['x repo:has.topic(go)', 'unsupported-filter', 'repo:has.topic() is not supported'],
  ['x case:maybe', 'invalid-value', 'case: must be yes or no, not `maybe` at 7'],
  ['TODO -case:yes', 'invalid-value', 'filter `case:` cannot be negated at 5'],
  ['x case:yes case:no', 'invalid-value', 'filter `case:` is given twice at 11'],
  ['(a or b', 'syntax', 'unbalanced parentheses: `(` is never closed at 0'],
  ['a or', 'syntax', '`or` needs a pattern on both sides'],
  ['a repo:x or b', 'unsupported-boolean', 'with `or`, filters must stand at the start or the end of the query at 2'],
  ['x or (repo:a and b)', 'unsupported-boolean', 'with `or`, filters must stand at the start or the end'],
  ['(repo:a or b) x', 'unsupported-boolean', 'with `or`, filters must stand at the start or the end'],
  ['repo:^acme/', 'no-pattern', 'the query has no pattern at 11'],
  ['not a', 'no-pattern', 'a query made only of `not` terms has no matches to count'],
  ['a\0b', 'syntax', 'the query contains a NUL character at 1'],
  ['x'.repeat(5000), 'too-long', 'the query is 5000 characters long; the limit is 4096'],
];
for (const [input, code, message] of errors) {
  test(`refuses ${JSON.stringify(input.slice(0, 40))} (${code})`, (t) => {
    const error = t.throws(() => parseQuery(input), { instanceOf: QuerySyntaxError });
    t.is(error!.code as string, code);
    t.true(error!.message.includes(message), error!.message);
  });
}

test('a hostile lang: value or filter name is answered without a suggestion search', (t) => {
  // Suggestions compare words of up to 40 characters only (suggest.ts); the value is cut in the message.
  t.throws(() => parseQuery(`x lang:${'q'.repeat(4000)}`), {
    message: /^unknown language `q{40}…` at 7; languages are GitHub Linguist names/,
  });
  // A 2,000-character name is no filter: it is pattern text, as in Sourcegraph.
  t.like(parseQuery(`${'lnag'.repeat(500)}:go x`), { pattern: { kind: 'term' } });
});

test('repository criteria accept only repo: filters', (t) => {
  t.like(parseQuery('repo:^acme/ -repo:archive', { criteriaOnly: true }), {
    repoInclude: ['^acme/'],
    repoExclude: ['archive'],
  });
  t.throws(() => parseQuery('repo:x TODO', { criteriaOnly: true }), {
    message: 'repository criteria may only contain repo: filters, not a pattern at 7',
  });
  t.throws(() => parseQuery('file:x', { criteriaOnly: true }), {
    message: 'repository criteria may only use repo: and -repo: filters, not `file:` at 0',
  });
  // Criteria are matched by PostgreSQL: only what it reads as RE2 does.
  t.like(
    parseQuery('repo:^github\\.com/(acme|other)/ -repo:-(old|archive)$ repo:[a-z]{2,40}', { criteriaOnly: true }),
    {
      repoInclude: ['^github\\.com/(acme|other)/', '[a-z]{2,40}'],
    },
  );
  const refused: Array<[string, string]> = [
    ['repo:\\bacme', '`\\b`'],
    ['repo:(?i)acme', 'flags or named groups'],
    ['repo:[[:alpha:]]', 'POSIX classes'],
    ['repo:a{300}', 'a repetition over 255'],
  ];
  for (const [criteria, what] of refused) {
    const error = t.throws(() => parseQuery(criteria, { criteriaOnly: true }), { instanceOf: QuerySyntaxError });
    t.true(error!.message.includes(`cannot use ${what}`), `${criteria}: ${error!.message}`);
  }
});
