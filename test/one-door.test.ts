// One door to the database: the only TypeScript that issues queries or holds SQL is the store
// layer (src/store/). Everything else (tasks, CLI, server, worker, demo, benchmarks) calls it.
// The scan parses each file with TypeScript's own parser, so comments are not code, and a string
// or template literal is checked whole, over as many lines as it spans.
import fs from 'node:fs';
import path from 'node:path';
import test from 'ava';
import ts from 'typescript';

const root = path.resolve(import.meta.dirname, '..');
const STORE = path.join('src', 'store') + path.sep;

function sourceFiles(dir: string): string[] {
  return fs.readdirSync(path.join(root, dir), { withFileTypes: true }).flatMap((entry) => {
    const relative = path.join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(relative);
    return /\.(ts|js)$/.test(entry.name) ? [relative] : [];
  });
}

/** Methods that reach the database directly: pg's query, Graphile Worker's clients. */
const DATABASE_METHODS = new Set(['query', 'withPgClient', 'queryOnce']);

/** A literal that is a SQL statement (checked on the whole literal, case-insensitive). */
const SQL_TEXT = new RegExp(
  '^\\s*(' +
    [
      'select\\s[\\s\\S]*\\bfrom\\s',
      'select\\s+[\\w.$]+\\s*(\\(|::|\\bas\\b|$)',
      'select\\s+\\d',
      'with\\s+(recursive\\s+)?\\w+\\s+as\\s*\\(',
      'insert\\s+into\\s',
      'update\\s+[\\w.]+\\s+set\\s',
      'delete\\s+from\\s',
      'truncate\\s',
      '(create|drop|alter)\\s+(or\\s+replace\\s+)?(unique\\s+)?(table|database|function|index|schema|view|role|trigger)\\b',
      'lock\\s+table\\s',
      'copy\\s+[\\w.]+\\s+(from|to)\\b',
      'declare\\s+\\w+\\s[\\s\\S]*\\bcursor\\b',
      'fetch\\s+\\d+\\s+from\\s',
      'set\\s+(local\\s+)?\\w+\\s*(=|to)\\s',
      '(begin|commit|rollback)(\\s+read\\s+only)?\\s*;?\\s*$',
    ].join('|') +
    ')',
  'i',
);

/**
 * Words that are SQL statements when they are a whole query but ordinary words elsewhere (a list of
 * commit types): they count only as a query call's argument, which the call check finds anyway.
 */
const BARE_KEYWORDS = /^\s*(begin|commit|rollback)\s*$/i;

interface Finding {
  file: string;
  line: number;
  text: string;
}

function scan(file: string, source: string): { calls: Finding[]; sql: Finding[] } {
  const tree = ts.createSourceFile(file, source, ts.ScriptTarget.Latest, true);
  const calls: Finding[] = [];
  const sql: Finding[] = [];
  const at = (node: ts.Node, text: string): Finding => ({
    file,
    line: tree.getLineAndCharacterOfPosition(node.getStart(tree)).line + 1,
    text: text.replace(/\s+/g, ' ').slice(0, 100),
  });
  const visit = (node: ts.Node) => {
    if (ts.isCallExpression(node)) {
      const callee = node.expression;
      const name = ts.isPropertyAccessExpression(callee)
        ? callee.name.text
        : ts.isElementAccessExpression(callee) && ts.isStringLiteralLike(callee.argumentExpression)
          ? callee.argumentExpression.text
          : ts.isIdentifier(callee)
            ? callee.text
            : undefined;
      if (name && DATABASE_METHODS.has(name)) calls.push(at(node, node.getText(tree)));
    }
    let text: string | undefined;
    if (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)) text = node.text;
    else if (ts.isTemplateExpression(node))
      text = [node.head.text, ...node.templateSpans.map((span) => span.literal.text)].join(' x ');
    if (text !== undefined && SQL_TEXT.test(text) && !BARE_KEYWORDS.test(text)) sql.push(at(node, text));
    ts.forEachChild(node, visit);
  };
  visit(tree);
  return { calls, sql };
}

const outsideStore = ['src', 'tasks', 'bench'].flatMap(sourceFiles).filter((file) => !file.startsWith(STORE));
const findings = outsideStore.map((file) => scan(file, fs.readFileSync(path.join(root, file), 'utf8')));
const show = (found: Finding[]) => found.map((f) => `${f.file}:${f.line}: ${f.text}`);

test('no TypeScript outside src/store/ issues a query', (t) => {
  t.true(outsideStore.length > 50, 'the scan sees the source tree');
  t.deepEqual(show(findings.flatMap((f) => f.calls)), [], 'move these queries into a module of src/store/');
});

test('no TypeScript outside src/store/ holds SQL text', (t) => {
  t.deepEqual(show(findings.flatMap((f) => f.sql)), [], 'SQL belongs in migrations/, sql/ or src/store/');
});

test('the scan finds what it is looking for, and only that', (t) => {
  // The scan must be able to fail, or the tests above prove nothing.
  const sample = `
    // select id from dashboard   (a comment is not code)
    const a = await pool.query('select 1');
    const b = client.query<{ id: number }>(text);
    const c = helpers.withPgClient((client) => client);
    const d = db['query'](text);
    const e = \`
      select id
        from dashboard where id = \${id}\`;
    const f = 'insert into task_runs (task_name) values ($1)';
    const g = "create or replace function f() returns int language sql as 'select 1'";
    const h = \`with recent as (select 1) select * from recent\`;
    const i = 'truncate search_blob_counts';
    const j = 'select insights_core.worker_crontab() as crontab';
    const k = ['diff', 'commit', 'symbol'];
    const l = 'Selected 3 dashboards';
    const m = runGit(['fetch', '--prune', '+refs/*:refs/*']); // a /* inside a string is not a comment
    const n = 'select id from later';
  `;
  const { calls, sql } = scan('sample.ts', sample);
  t.deepEqual(
    calls.map((f) => f.line),
    [3, 4, 5, 6],
  );
  t.deepEqual(
    sql.map((f) => f.line),
    [3, 7, 10, 11, 12, 13, 14, 18],
  );
});
