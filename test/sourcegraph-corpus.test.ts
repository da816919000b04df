// Real queries from Sourcegraph's documentation and Code Insights templates (test/fixtures/
// sourcegraph-corpus.ts), each with the outcome worked out by hand from Sourcegraph's meaning over
// the repositories of sourcegraph-corpus-repositories.ts. Every accepted query must count exactly
// that (zero accepted with another meaning); every refused one must be refused for the reason named.
// The share counted exactly is reported (target: at least 85 %).
import test from 'ava';
import { parseQuery, QuerySyntaxError, type SearchQuery } from '../src/search/query/parse-query.ts';
import { repositoryMatcher } from '../src/search/repo-filter.ts';
import { searchCommit } from '../src/search/search-commit.ts';
import { CORPUS, type CorpusQuery } from './fixtures/sourcegraph-corpus.ts';
import { CORPUS_REPOSITORIES } from './fixtures/sourcegraph-corpus-repositories.ts';
import { createFixtureRepository, type FixtureRepository, tempDir } from './fixtures/git-repository.ts';

interface Outcome {
  count?: number;
  captures?: Record<string, number>;
  refused?: string;
  message?: string;
}

async function run(
  entry: CorpusQuery,
  repositories: Array<{ name: string; repo: FixtureRepository }>,
): Promise<Outcome> {
  let plan: SearchQuery;
  try {
    plan = parseQuery(entry.query, { capture: entry.kind === 'capture' });
  } catch (error) {
    if (error instanceof QuerySyntaxError) return { refused: error.code, message: error.message };
    throw error;
  }
  const inScope = repositoryMatcher(plan);
  let count = 0;
  const captures: Record<string, number> = {};
  for (const { name, repo } of repositories) {
    if (!inScope(name)) continue;
    const result = await searchCommit({
      gitDir: repo.path,
      commit: repo.commits.at(-1)!,
      query: plan,
      deadline: Date.now() + 60_000,
    });
    count += result.value;
    for (const [value, n] of result.captures ?? []) captures[value] = (captures[value] ?? 0) + n;
  }
  return entry.kind === 'capture' ? { captures } : { count };
}

function expected(entry: CorpusQuery): Outcome {
  if ('refused' in entry.expect) return { refused: entry.expect.refused };
  if ('captures' in entry.expect) return { captures: entry.expect.captures };
  return { count: entry.expect.count };
}

test('the Sourcegraph query corpus: every query counted as Sourcegraph means it, or refused for its reason', async (t) => {
  t.true(CORPUS.length >= 100, `${CORPUS.length} queries`);
  const dir = tempDir(t);
  const repositories = CORPUS_REPOSITORIES.map(({ name, files }, k) => ({
    name,
    repo: createFixtureRepository(`${dir}/${k}.git`, [{ date: '2024-06-01T00:00:00Z', files }]),
  }));
  let counted = 0;
  let refused = 0;
  const wrong: string[] = [];
  // Queries Sourcegraph counts that this engine refuses (with its reason): not supported, but never
  // read with another meaning.
  const unsupported: string[] = [];
  for (const entry of CORPUS) {
    const outcome = await run(entry, repositories);
    const want = expected(entry);
    const { message, ...got } = outcome;
    const describe = `${entry.query}\n    expected ${JSON.stringify(want)}\n    got ${JSON.stringify(got)} ${message ?? ''}`;
    if (JSON.stringify(got) === JSON.stringify(want)) {
      if (want.refused) refused++;
      else counted++;
    } else if (got.refused && !want.refused) unsupported.push(describe);
    else wrong.push(describe);
  }
  const share = (100 * counted) / CORPUS.length;
  t.log(
    `${CORPUS.length} queries: ${counted} counted exactly (${share.toFixed(1)} %), ${refused} refused as expected, ` +
      `${unsupported.length} refused though Sourcegraph counts them, ${wrong.length} wrong`,
  );
  for (const line of unsupported) t.log(`not supported: ${line}`);
  t.deepEqual(wrong, [], 'no query is read with another meaning or refused for another reason');
  t.true(share >= 85, `${share.toFixed(1)} % supported exactly`);
});

test('every corpus query names where it comes from', (t) => {
  for (const entry of CORPUS) t.true(entry.source.length > 10, entry.query);
});
