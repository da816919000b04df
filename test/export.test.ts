// CSV export of a view over HTTP (same token rules as GraphQL) and from the CLI: live, archived and
// snapshot points together, the view's repository filters applied, nothing for a user without a grant.
import fs from 'node:fs';
import test from 'ava';
import { SignJWT } from 'jose';
import { issueToken } from '../src/auth/tokens.ts';
import { csvField, writeViewCsv } from '../src/export/view-csv.ts';
import { withTransaction } from '../src/store/transaction.ts';
import { useTestDatabase, type TestDatabase } from './helpers/database.ts';
import { cliEnv, runCli } from './helpers/cli.ts';
import { startTestServer } from './helpers/server.ts';
import { tempDir } from './fixtures/git-repository.ts';

const SECRET = new TextEncoder().encode('export-test-secret-long-enough-for-hs256');
const week = (n: number) => new Date(Date.UTC(2024, 0, 1) + n * 7 * 86_400_000).toISOString();

/** RFC 4180: quoted fields may hold commas, quotes ("") and line breaks. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\r' && text[i + 1] === '\n') {
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
      i++;
    } else field += c;
  }
  return rows;
}

async function viewWithHistory(db: TestDatabase) {
  const api = (await db.pool.query(`select (insights_core.register_repository('/nonexistent/api.git', 'acme/api')).id`))
    .rows[0].id;
  const web = (await db.pool.query(`select (insights_core.register_repository('/nonexistent/web.git', 'acme/web')).id`))
    .rows[0].id;
  const view = (
    await db.pool.query(
      `select id from insights_core.create_line_insight('Debt, "quoted"', '[{"query": "TODO", "label": "todos"}, {"query": "/v(\\\\d)/", "label": "versions", "capture_groups": true}]', array['acme/api', 'acme/web'], null, 'WEEK', 1, null, 1)`,
    )
  ).rows[0].id as number;
  const { rows } = await db.pool.query(
    `select insight_series_id as id from insight_view_series where insight_view_id = $1 order by 1`,
    [view],
  );
  const [todos, versions] = rows.map((r) => r.id as number);
  const record = (series: number, time: string, points: object[], snapshot = false) =>
    db.pool.query(`select insights_core.store_series_recording($1, $2, $3, $4::jsonb)`, [
      series,
      time,
      snapshot,
      JSON.stringify(points),
    ]);
  for (let n = 0; n < 6; n++)
    await record(todos!, week(n), [
      { repo_id: api, value: n + 1 },
      { repo_id: web, value: 10 },
    ]);
  await record(versions!, week(5), [
    { repo_id: api, value: 2, capture: '1' },
    { repo_id: web, value: 3, capture: 'a,"b"' },
  ]);
  await record(todos!, new Date().toISOString(), [{ repo_id: web, value: 42 }], true);
  await db.pool.query(`select insights_core.archive_series_points($1, 2)`, [todos]);
  return view;
}

/** The same rows from the tables, as the export should show them. */
async function expectedRows(db: TestDatabase, view: number, exclude?: RegExp) {
  const { rows } = await db.pool.query(
    `select v.title, vs.label, s.query, p.time, n.name::text as repository, p.value, p.capture, p.kind
       from insight_view v join insight_view_series vs on vs.insight_view_id = v.id join insight_series s on s.id = vs.insight_series_id
       join (select series_id, time, repo_name_id, value, capture, 'live' as kind from series_points
             union all select series_id, time, repo_name_id, value, capture, 'archived' from archived_series_points
             union all select series_id, time, repo_name_id, value, capture, 'snapshot' from series_points_snapshots) p on p.series_id = s.series_id
       join repo_names n on n.id = p.repo_name_id
      where v.id = $1`,
    [view],
  );
  return rows
    .filter((r) => !exclude || !exclude.test(r.repository))
    .map((r) => [
      r.title,
      r.label,
      r.query,
      r.time.toISOString(),
      r.repository,
      String(r.value),
      r.capture ?? '',
      r.kind,
    ])
    .sort((a, b) => a.join('\u0001').localeCompare(b.join('\u0001')));
}

test('the HTTP export has every live, archived and snapshot point, for those who may see the view', async (t) => {
  const db = await useTestDatabase(t);
  const view = await viewWithHistory(db);
  const server = await startTestServer(t, db.connectionString, { jwtSecret: SECRET });
  const download = async (token?: string) => {
    const response = await fetch(`${server.url}/export/views/${view}.csv`, {
      headers: token ? { authorization: `Bearer ${token}` } : {},
    });
    return { status: response.status, type: response.headers.get('content-type'), text: await response.text() };
  };
  const mine = await download(await issueToken({ userId: 1, orgIds: [], admin: false, ttl: '5m' }, SECRET));
  t.is(mine.status, 200);
  t.is(mine.type, 'text/csv; charset=utf-8');
  const [header, ...rows] = parseCsv(mine.text);
  t.deepEqual(header, ['title', 'series_label', 'query', 'time', 'repository', 'value', 'capture', 'kind']);
  const expected = await expectedRows(db, view);
  t.is(expected.length, 6 * 2 + 2 + 1);
  t.deepEqual(
    [...rows].sort((a, b) => a.join('\u0001').localeCompare(b.join('\u0001'))),
    expected,
  );
  t.deepEqual([...new Set(rows.map((r) => r[7]))].sort(), ['archived', 'live', 'snapshot']);

  await db.pool.query(`update insight_view set default_filter_exclude_repo_regex = 'WEB' where id = $1`, [view]);
  const filtered = parseCsv(
    (await download(await issueToken({ userId: 1, orgIds: [], admin: false, ttl: '5m' }, SECRET))).text,
  ).slice(1);
  t.deepEqual(
    filtered.sort((a, b) => a.join('\u0001').localeCompare(b.join('\u0001'))),
    await expectedRows(db, view, /web/i),
    'the view filter applies',
  );

  const other = await download(await issueToken({ userId: 2, orgIds: [], admin: false, ttl: '5m' }, SECRET));
  t.deepEqual([other.status, other.text], [404, `no insight view ${view} that you may see\n`]);
  t.is((await download()).status, 404, 'anonymous: no global grant');
  const forged = await new SignJWT({})
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject('1')
    .setExpirationTime('5m')
    .sign(new TextEncoder().encode('some-other-secret-that-is-long-enough-x'));
  t.deepEqual(await download(forged), {
    status: 401,
    type: 'text/plain; charset=utf-8',
    text: 'invalid token: bad signature\n',
  });
});

test('insight export writes the same CSV from the CLI', async (t) => {
  const db = await useTestDatabase(t);
  const view = await viewWithHistory(db);
  const dir = tempDir(t);
  const env = cliEnv({ DATABASE_URL: db.connectionString, DATA_DIR: `${dir}/data` });
  const written = await runCli(['insight', 'export', String(view), '--out', `${dir}/view.csv`], env);
  t.is(written.code, 0, written.stderr);
  t.regex(written.stderr, /wrote 15 row\(s\) to /);
  const rows = parseCsv(fs.readFileSync(`${dir}/view.csv`, 'utf8')).slice(1);
  t.deepEqual(
    rows.sort((a, b) => a.join('\u0001').localeCompare(b.join('\u0001'))),
    await expectedRows(db, view),
  );
  t.true(
    rows.some((r) => r[6] === 'a,"b"'),
    'quoted fields survive',
  );

  const unknown = await runCli(['insight', 'export', 'nope'], env);
  t.is(unknown.code, 2);
  t.regex(unknown.stderr, /no insight view "nope"/);
});

test('CSV cells a spreadsheet would run as formulas are written as text; numbers stay numbers', (t) => {
  t.is(csvField('=HYPERLINK("http://evil.example")'), `"'=HYPERLINK(""http://evil.example"")"`);
  for (const cell of ['+1+2', '-2+3', '@SUM(A1)', '\tx', '\rx'])
    t.true(csvField(cell).replace(/^"/, '').startsWith(`'`), cell);
  t.is(csvField(-3), '-3', 'a number is not a formula');
  t.is(csvField('a,"b"'), '"a,""b"""', 'RFC 4180 quoting still applies');
  t.is(csvField('TODO'), 'TODO');
});

test('the export of a view whose label and captured value start with = holds them as text', async (t) => {
  const db = await useTestDatabase(t);
  const view = await viewWithHistory(db);
  await db.pool.query(`update insight_view_series set label = '=1+2' where insight_view_id = $1`, [view]);
  await db.pool.query(`update series_points set capture = '@cmd' where capture = '1'`);
  let csv = '';
  await withTransaction(db.pool, (client) => writeViewCsv(client, view, (chunk) => void (csv += chunk)));
  const rows = parseCsv(csv).slice(1);
  t.true(rows.length > 0);
  t.true(
    rows.every((row) => row[1] === `'=1+2`),
    'the label is text',
  );
  t.true(
    rows.some((row) => row[6] === `'@cmd`),
    'the captured value is text',
  );
  t.false(rows.some((row) => /^[=+@]/.test(row[1]!) || /^[=+@]/.test(row[6]!)));
});
