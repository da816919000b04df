// Property test: for random literal patterns at random commits of a generated repository with
// hundreds of files, the engine's count equals `git grep -o -I -F` (same case mode).
import { spawnSync } from 'node:child_process';
import test from 'ava';
import { parseQuery } from '../src/search/query/parse-query.ts';
import { searchCommit } from '../src/search/search-commit.ts';
import { createFixtureRepository, type FixtureCommit, seededRandom, tempDir } from './fixtures/git-repository.ts';

const WORDS = [
  'alpha',
  'beta',
  'Gamma',
  'delta',
  'TODO',
  'todo:',
  'fixme',
  'a.b',
  'x+y',
  'foo(bar)',
  'lodash',
  'import',
  'from',
  'the',
  'aaa',
  'tab\there',
  'ümlaut',
];

function generate(seed: number, files: number, commits: number): FixtureCommit[] {
  const random = seededRandom(seed);
  const pick = <T>(list: T[]) => list[Math.floor(random() * list.length)]!;
  const text = () => {
    const lines: string[] = [];
    const lineCount = 1 + Math.floor(random() * 40);
    for (let i = 0; i < lineCount; i++) {
      const words: string[] = [];
      const wordCount = Math.floor(random() * 12);
      for (let j = 0; j < wordCount; j++) {
        const word = pick(WORDS);
        words.push(random() < 0.2 ? word.toUpperCase() : word);
      }
      lines.push(words.join(random() < 0.8 ? ' ' : ''));
    }
    return `${lines.join('\n')}\n`;
  };
  const history: FixtureCommit[] = [];
  const paths = Array.from(
    { length: files },
    (_, i) => `dir${i % 7}/sub${i % 3}/file${i}.${pick(['ts', 'go', 'md', 'txt'])}`,
  );
  history.push({ date: '2024-01-01T00:00:00Z', files: Object.fromEntries(paths.map((p) => [p, text()])) });
  for (let c = 1; c < commits; c++) {
    const changes: Record<string, string | null> = {};
    for (const p of paths) if (random() < 0.3) changes[p] = random() < 0.1 ? null : text();
    history.push({ date: `2024-0${1 + c}-01T00:00:00Z`, files: changes });
  }
  return history;
}

function gitGrepCount(gitDir: string, commit: string, pattern: string, ignoreCase: boolean): number {
  const args = [
    '--git-dir',
    gitDir,
    'grep',
    '-o',
    '-I',
    '-F',
    '--no-color',
    ...(ignoreCase ? ['-i'] : []),
    '-e',
    pattern,
    commit,
  ];
  const result = spawnSync('git', args, {
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
    env: { ...process.env, LC_ALL: 'C' },
  });
  if (result.status === 1) return 0;
  if (result.status !== 0) throw new Error(`git grep failed: ${result.stderr}`);
  return result.stdout.split('\n').filter(Boolean).length;
}

test('random literal patterns at random commits count exactly what git grep -o -I -F counts', async (t) => {
  const repo = createFixtureRepository(`${tempDir(t)}/generated.git`, generate(42, 300, 5));
  const random = seededRandom(7);
  let nonZero = 0;
  for (let i = 0; i < 60; i++) {
    const commit = repo.commits[Math.floor(random() * repo.commits.length)]!;
    const word = WORDS[Math.floor(random() * WORDS.length)]!;
    const start = Math.floor(random() * (word.length - 1));
    let pattern = word.slice(start, start + 2 + Math.floor(random() * 5));
    if (random() < 0.3) pattern = pattern.toUpperCase();
    if (random() < 0.1) pattern = `${pattern} ${WORDS[Math.floor(random() * WORDS.length)]!.slice(0, 3)}`;
    // git grep -i folds ASCII only in the C locale; keep case-insensitive patterns ASCII.
    const caseSensitive = random() < 0.4 || /[^\x00-\x7f]/.test(pattern);
    const quoted = `patterntype:keyword "${pattern.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"${caseSensitive ? ' case:yes' : ''}`;
    const engine = await searchCommit({
      gitDir: repo.path,
      commit,
      query: parseQuery(quoted),
      deadline: Date.now() + 60_000,
    });
    const expected = gitGrepCount(repo.path, commit, pattern, !caseSensitive);
    if (expected > 0) nonZero++;
    t.is(engine.value, expected, `${quoted} at ${commit.slice(0, 8)}`);
  }
  t.true(nonZero > 30, `most patterns should match something (${nonZero} did)`);
});
