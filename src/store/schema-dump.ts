// The text of sql/schema.sql: the migrated schema as readable SQL (sql/schema-dump.sql builds it).
import type pg from 'pg';
import { sqlFile } from '../db/sql-file.ts';

// The catalogs deparse names and literals by session settings (under IntervalStyle sql_standard a
// default of '1 year'::interval reads '1-0'; names in search_path lose their schema), so the dump
// pins them: the same text from every server and every caller's session.
const PINNED_SETTINGS: Record<string, string> = {
  search_path: 'public',
  TimeZone: 'UTC',
  DateStyle: 'ISO, MDY',
  IntervalStyle: 'postgres',
  extra_float_digits: '1',
  quote_all_identifiers: 'off',
  standard_conforming_strings: 'on',
};

const GET_ALL =
  'select array_agg(current_setting(name) order by n) as values from unnest($1::text[]) with ordinality as s(name, n)';
const SET_ALL = 'select set_config(name, value, false) from unnest($1::text[], $2::text[]) as s(name, value)';

export async function dumpSchema(db: pg.Pool | pg.ClientBase): Promise<string> {
  // Settings belong to a session: with a pool, hold one client for the whole dump. (A duck test, as
  // the pool may come from another copy of pg than ours.)
  if ('idleCount' in db) {
    const client = await db.connect();
    try {
      const text = await dumpSchema(client);
      client.release();
      return text;
    } catch (error) {
      client.release(true); // its settings may not have been put back
      throw error;
    }
  }
  const names = Object.keys(PINNED_SETTINGS);
  const {
    rows: [saved],
  } = await db.query<{ values: string[] }>(GET_ALL, [names]);
  await db.query(SET_ALL, [names, Object.values(PINNED_SETTINGS)]);
  let rows: DumpRow[];
  try {
    ({ rows } = await db.query<DumpRow>(sqlFile('schema-dump')));
  } catch (error) {
    // Inside the caller's transaction, that transaction is now aborted; its rollback restores them.
    await db.query(SET_ALL, [names, saved!.values]).catch(() => {});
    throw error;
  }
  await db.query(SET_ALL, [names, saved!.values]);
  const objects = rows.map((row) => {
    const query = row.view_query === null ? null : unqualifySingleRelation(row.view_query);
    return [row.definition, query, row.view_statements].filter((part) => part !== null).join('\n');
  });
  return `${objects.join('\n\n')}\n`;
}

interface DumpRow {
  definition: string;
  /** A view's query (pg_get_viewdef), to go between the CREATE and the view's other statements. */
  view_query: string | null;
  view_statements: string | null;
}

interface Token {
  text: string;
  start: number;
  /** Parentheses around the token (a parenthesis itself counts those outside it). */
  depth: number;
  /** Not inside a subquery: part of the view's own query. */
  outer: boolean;
  /** For "(": whether a subquery starts there. */
  subquery?: boolean;
}

/** The deparsed SQL as identifiers, quoted identifiers, literals and single characters. */
function tokenize(sql: string): Token[] {
  const tokens: Token[] = [];
  const open: boolean[] = []; // per enclosing "(": does a subquery start there?
  for (let start = 0; start < sql.length;) {
    const c = sql[start]!;
    if (/\s/.test(c)) {
      start++;
      continue;
    }
    let end = start + 1;
    if (c === "'" || c === '"') {
      // '' inside a literal (and "" inside an identifier) is the quote itself.
      while (end < sql.length && !(sql[end] === c && sql[end + 1] !== c)) end += sql[end] === c ? 2 : 1;
      end++;
    } else if (/[A-Za-z_]/.test(c)) {
      while (end < sql.length && /[\w$]/.test(sql[end]!)) end++;
    }
    const token: Token = { text: sql.slice(start, end), start, depth: open.length, outer: !open.includes(true) };
    tokens.push(token);
    if (c === '(') {
      token.subquery = /^\(\s*(SELECT|WITH|VALUES|TABLE)\b/.test(sql.slice(start, start + 12));
      open.push(token.subquery);
    } else if (c === ')') {
      open.pop();
    }
    start = end;
  }
  return tokens;
}

const IDENTIFIER = /^([A-Za-z_][\w$]*|".*")$/s;
const AFTER_FROM = new Set(['WHERE', 'GROUP', 'HAVING', 'WINDOW', 'ORDER', 'LIMIT', 'OFFSET', 'FETCH', 'FOR']);

/**
 * PostgreSQL 15 prints the columns of a view's query over one relation qualified ("t.id"), 16 and
 * later bare ("id"): 16 took the OLD and NEW entries out of views' range tables, and the deparser
 * qualifies columns when a query's range table has more than one entry. Dropping the qualifier in
 * such a query (not in its subqueries, qualified on every version) gives every version 16's text.
 */
function unqualifySingleRelation(sql: string): string {
  const tokens = tokenize(sql);
  const top = tokens.filter((token) => token.depth === 0);
  if (top.some((token) => /^(UNION|INTERSECT|EXCEPT)$/.test(token.text))) return sql;
  // The query's own FROM starts a line; "IS DISTINCT FROM" and the like are inside parentheses.
  const from = top.findIndex((token) => token.text === 'FROM' && /\n\s*$/.test(sql.slice(0, token.start)));
  if (from < 0) return sql;
  const after = top.findIndex((token, k) => k > from && AFTER_FROM.has(token.text));
  const items = top.slice(from + 1, after < 0 ? undefined : after);
  // More than one relation: a list, or a join (in parentheses that do not start a subquery).
  const join = items[0]?.text === '(' && !items[0].subquery;
  if (join || items.some((token) => token.text === ',' || token.text === 'JOIN')) return sql;
  // The relation's name in the query: its alias, else its own name (the last name not before a dot).
  const names = items.filter((token, k) => IDENTIFIER.test(token.text) && items[k + 1]?.text !== '.');
  const name = names.at(-1)?.text;
  if (name === undefined) return sql;
  let result = '';
  let copied = 0;
  for (let k = 0; k < tokens.length; k++) {
    const [before, token, dot, column] = [tokens[k - 1], tokens[k]!, tokens[k + 1], tokens[k + 2]];
    if (!token.outer || token.text !== name || before?.text === '.' || dot?.text !== '.') continue;
    if (column === undefined || !IDENTIFIER.test(column.text)) continue; // every version prints "t.*"
    result += sql.slice(copied, token.start);
    copied = column.start;
  }
  return result + sql.slice(copied);
}
