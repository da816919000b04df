// The benchmark corpora: deterministic repositories of code-like files (same bytes on every machine),
// built with git fast-import once and reused from their directories afterwards. One is a single
// commit (bench:search); the other adds two years of weekly history (bench:backfill).
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import { seededRandom } from '../test/fixtures/seeded-random.ts';

export interface Corpus {
  files: number;
  lines: number;
  bytes: number;
}

const FILES = 3000;
const LINES_PER_FILE = 150;

const TOKENS = [
  'const',
  'let',
  'return',
  'function',
  'import',
  'from',
  'export',
  'class',
  'extends',
  'new',
  'await',
  'async',
  'if',
  'else',
  'for',
  'while',
  'value',
  'result',
  'config',
  'request',
  'response',
  'handler',
  'user',
  'items',
  'TODO',
  'FIXME',
  'lodash',
  'TypeError(',
  'RangeError(',
  'throw',
  'catch',
  'try',
  '=>',
  '{',
  '}',
  '(',
  ')',
  ';',
  'logger.info(',
  'options',
  'cache',
  'index',
  'length',
  'map',
  'filter',
  'reduce',
  'null',
  'undefined',
  'true',
];

/** One code-like file of `lines` lines. */
function codeFile(next: () => number, lines: number): Buffer {
  const body: string[] = [];
  for (let l = 0; l < lines; l++) {
    const words: string[] = [];
    const indent = '  '.repeat(Math.floor(next() * 4));
    const count = 2 + Math.floor(next() * 10);
    for (let w = 0; w < count; w++) words.push(TOKENS[Math.floor(next() * TOKENS.length)]!);
    body.push(indent + words.join(' '));
  }
  return Buffer.from(`${body.join('\n')}\n`);
}

const filePath = (f: number) =>
  `src/module${f % 40}/part${Math.floor(f / 40)}/file${f}.${['ts', 'js', 'go', 'py'][f % 4]}`;

/** fast-import commands for one commit on main (its parent is the previous mark). */
function commitHeader(mark: number, epochSeconds: number, message: string): Buffer {
  const from = mark > 1 ? `from :${mark - 1}\n` : '';
  return Buffer.from(
    `commit refs/heads/main\nmark :${mark}\ncommitter Bench <bench@example.com> ${epochSeconds} +0000\ndata ${Buffer.byteLength(message)}\n${message}\n${from}`,
  );
}

function generate(): { stream: Buffer; corpus: Corpus } {
  const next = seededRandom(20261122);
  const parts: Buffer[] = [commitHeader(1, 1700000000, 'corpus')];
  let lines = 0;
  let bytes = 0;
  for (let f = 0; f < FILES; f++) {
    const content = codeFile(next, LINES_PER_FILE);
    lines += LINES_PER_FILE;
    bytes += content.length;
    parts.push(Buffer.from(`M 100644 inline ${filePath(f)}\ndata ${content.length}\n`), content, Buffer.from('\n'));
  }
  parts.push(Buffer.from('\ndone\n'));
  return { stream: Buffer.concat(parts), corpus: { files: FILES, lines, bytes } };
}

/** The history corpus: the same kind of tree, then two commits a week for two years. */
export const HISTORY = {
  /** The Monday of the first week; the first commit is the day before. */
  start: Date.UTC(2023, 0, 2),
  weeks: 104,
  /** Files rewritten by each commit; every fourth commit also adds one. */
  changedPerCommit: 8,
};

function generateHistory(): { stream: Buffer; corpus: Corpus } {
  const next = seededRandom(20261123);
  const day = 86_400;
  const start = HISTORY.start / 1000;
  const parts: Buffer[] = [commitHeader(1, start - day, 'initial tree')];
  let files = FILES;
  for (let f = 0; f < FILES; f++) {
    const content = codeFile(next, LINES_PER_FILE);
    parts.push(Buffer.from(`M 100644 inline ${filePath(f)}\ndata ${content.length}\n`), content, Buffer.from('\n'));
  }
  let mark = 1;
  for (let week = 0; week < HISTORY.weeks; week++) {
    for (const offset of [1, 4]) {
      mark++;
      parts.push(
        Buffer.from('\n'),
        commitHeader(mark, start + (week * 7 + offset) * day, `week ${week} change ${offset}`),
      );
      const changed = new Set<number>();
      while (changed.size < HISTORY.changedPerCommit) changed.add(Math.floor(next() * files));
      if (mark % 4 === 0) changed.add(files++);
      for (const f of changed) {
        const content = codeFile(next, LINES_PER_FILE);
        parts.push(Buffer.from(`M 100644 inline ${filePath(f)}\ndata ${content.length}\n`), content, Buffer.from('\n'));
      }
    }
  }
  parts.push(Buffer.from('\ndone\n'));
  return { stream: Buffer.concat(parts), corpus: { files, lines: files * LINES_PER_FILE, bytes: 0 } };
}

export function buildCorpus(dir: string): Corpus {
  return buildOnce(dir, generate);
}

/** The history corpus (HISTORY), built once into `dir`; `bytes` is left 0: HEAD's size is not its point. */
export function buildHistoryCorpus(dir: string): Corpus {
  return buildOnce(dir, generateHistory);
}

function buildOnce(dir: string, make: () => { stream: Buffer; corpus: Corpus }): Corpus {
  const marker = `${dir}/corpus.json`;
  if (fs.existsSync(marker)) return JSON.parse(fs.readFileSync(marker, 'utf8')) as Corpus;
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  const { stream, corpus } = make();
  execFileSync('git', ['init', '--quiet', '--bare', '--initial-branch', 'main', dir]);
  execFileSync('git', ['--git-dir', dir, 'fast-import', '--quiet', '--done'], {
    input: stream,
    maxBuffer: 64 * 1024 * 1024,
  });
  // Packed and indexed like a fetched repository.
  execFileSync('git', ['--git-dir', dir, 'repack', '-a', '-d', '-q']);
  fs.writeFileSync(marker, JSON.stringify(corpus));
  return corpus;
}
