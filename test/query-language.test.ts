// The query parser: every documented form, and a clear error with a position for everything else.
import test from 'ava';
import { parseQuery, QuerySyntaxError } from '../src/search/query/parse-query.ts';

test('patterns: literal words, quoted strings, /regexp/ and patterntype:regexp', (t) => {
  t.like(parseQuery('import React from'), { pattern: 'import React from', patternType: 'literal' });
  t.like(parseQuery('"TODO: fix"'), { pattern: 'TODO: fix', patternType: 'literal' });
  t.like(parseQuery('"http://x"'), { pattern: 'http://x' });
  t.like(parseQuery('TODO:'), { pattern: 'TODO:' });
  t.like(parseQuery('/TODO\\(\\w+\\)/'), { pattern: 'TODO\\(\\w+\\)', patternType: 'regexp', captureGroups: 0 });
  t.like(parseQuery('patterntype:regexp "version": "(\\d+)\\.'), {
    pattern: '"version": "(\\d+)\\.',
    patternType: 'regexp',
    captureGroups: 1,
  });
  t.like(parseQuery('/(?:a|b)(c)(d)/'), { captureGroups: 2 });
  t.like(parseQuery('patterntype:literal a.b'), { pattern: 'a.b', patternType: 'literal' });
});

test('filters, aliases and negations', (t) => {
  const query = parseQuery(
    'TODO r:^acme/ -repo:archive f:\\.ts$ -file:test l:go -lang:md case:yes select:file count:all',
  );
  t.like(query, {
    pattern: 'TODO',
    repoInclude: ['^acme/'],
    repoExclude: ['archive'],
    fileInclude: ['\\.ts$'],
    fileExclude: ['test'],
    langInclude: ['go'],
    langExclude: ['markdown'],
    caseSensitive: true,
    select: 'file',
  });
  t.like(parseQuery('type:path lang:go'), { target: 'path', pattern: '' });
  t.like(parseQuery('TODO file:"my dir/"'), { fileInclude: ['my dir/'] });
});

const errors: Array<[string, string]> = [
  ['foo lnag:go', 'unknown filter `lnag:` at 4; did you mean `lang:`?'],
  ['http://x', 'unknown filter `http:` at 0; quote the pattern to search for it literally'],
  ['TODO lang:pyhton', 'unknown language `pyhton` at 10; did you mean `python`?'],
  ['patterntype:regexp foo(', 'invalid regular expression in the pattern: /foo(/i: Unterminated group at 19'],
  ['TODO file:(', 'invalid regular expression in file:: /(/i: Unterminated group at 10'],
  ['type:diff x', 'type:diff is not supported at 5'],
  ['patterntype:structural x', 'structural search is not supported at 12'],
  ['x select:repo', 'select:repo is not supported (select:file is) at 9'],
  ['context:global x', 'filter `context:` is not supported at 0'],
  ['x case:maybe', 'case: must be yes or no, not `maybe` at 7'],
  ['TODO -case:yes', 'filter `case:` cannot be negated at 5'],
  ['x case:yes case:no', 'filter `case:` is given twice at 11'],
  ['x AND y', 'boolean operator AND is not supported at 2; quote it to search for the word'],
  ['"unterminated', 'unterminated quoted string at 0'],
  ['repo:^acme/', 'the query has no pattern at 11'],
  ['/a/ b', 'a /regexp/ pattern cannot be combined with other pattern terms at 4'],
];
for (const [input, message] of errors) {
  test(`rejects ${JSON.stringify(input)}`, (t) => {
    const error = t.throws(() => parseQuery(input), { instanceOf: QuerySyntaxError });
    t.is(error!.message, message);
  });
}

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
});
