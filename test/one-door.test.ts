// One door to the database: the only TypeScript that issues queries or holds SQL is the store
// layer (src/store/). Everything else (tasks, CLI, server, worker, demo, benchmarks) calls it.
import fs from 'node:fs';
import path from 'node:path';
import test from 'ava';

const root = path.resolve(import.meta.dirname, '..');
const STORE = path.join('src', 'store') + path.sep;

function typescriptFiles(dir: string): string[] {
  return fs.readdirSync(path.join(root, dir), { withFileTypes: true }).flatMap((entry) => {
    const relative = path.join(dir, entry.name);
    if (entry.isDirectory()) return typescriptFiles(relative);
    return /\.(ts|js)$/.test(entry.name) ? [relative] : [];
  });
}

/** Source without comments, so a comment may still name a SQL function or show a DBA's statement. */
function withoutComments(source: string): string {
  return source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`\\])\/\/.*$/gm, '$1');
}

/** Ways of reaching the database directly: a query call, or Graphile Worker's own clients. */
const DATABASE_CALL = /\.query\s*[<(]|\bwithPgClient\b|\bqueryOnce\s*\(/;
/** A string literal that starts with a SQL statement. */
const SQL_STRING = new RegExp(
  '([\'"`])\\s*(' +
    [
      'select\\s.*\\bfrom\\s',
      'select\\s+[\\w.]+\\s*\\(',
      'insert\\s+into\\s',
      'update\\s+[\\w.]+\\s+set\\s',
      'delete\\s+from\\s',
      '(create|drop|alter)\\s+(table|database|function|index|schema|view|role)\\b',
      'declare\\s+\\w+\\s.*\\bcursor\\b',
      'fetch\\s+\\d+\\s+from\\s',
      'set\\s+\\w+\\s*(=|to)\\s',
    ].join('|') +
    ')',
  'i',
);

const outsideStore = ['src', 'tasks', 'bench'].flatMap(typescriptFiles).filter((file) => !file.startsWith(STORE));

test('no TypeScript outside src/store/ issues a query', (t) => {
  t.true(outsideStore.length > 50, 'the scan sees the source tree');
  const offenders = outsideStore.filter((file) =>
    DATABASE_CALL.test(withoutComments(fs.readFileSync(path.join(root, file), 'utf8'))),
  );
  t.deepEqual(offenders, [], 'move these queries into a module of src/store/');
});

test('no TypeScript outside src/store/ holds SQL text', (t) => {
  const offenders = outsideStore.flatMap((file) =>
    withoutComments(fs.readFileSync(path.join(root, file), 'utf8'))
      .split('\n')
      .flatMap((line, index) => (SQL_STRING.test(line) ? [`${file}:${index + 1}: ${line.trim()}`] : [])),
  );
  t.deepEqual(offenders, [], 'SQL belongs in migrations/, sql/ or src/store/');
});

test('the scan finds what it is looking for', (t) => {
  // The patterns themselves must be able to fail, or the tests above prove nothing.
  t.true(DATABASE_CALL.test("await pool.query('select 1')"));
  t.true(DATABASE_CALL.test('client.query<{ id: number }>(text)'));
  t.true(DATABASE_CALL.test('helpers.withPgClient((client) => client)'));
  t.true(SQL_STRING.test("const text = 'select id from dashboard'"));
  t.true(SQL_STRING.test('`insert into task_runs (task_name) values ($1)`'));
  t.true(DATABASE_CALL.test("await client.query('begin')"));
  t.false(SQL_STRING.test("['diff', 'commit', 'symbol']"));
  t.true(SQL_STRING.test("'select insights_core.worker_crontab() as crontab'"));
  t.false(SQL_STRING.test("console.log('Selected 3 dashboards')"));
  t.false(SQL_STRING.test("if (action === 'create') {"));
  t.false(SQL_STRING.test("runGit(['fetch', '--prune'])"));
  t.is(withoutComments('a // select 1 from x\nb'), 'a \nb');
});
