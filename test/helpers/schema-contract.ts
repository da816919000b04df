// Compares a database's catalog with the schema contract (test/fixtures/seed-schema-contract.md, a
// copy of shared/seeds/000_*.txt: psql `\d` output of every table, view and enum). The database
// must have every column (type, nullability, default), index, check and foreign-key constraint,
// view (exact definition), enum (labels in order) and comment of the contract. Additions are allowed.
import fs from 'node:fs';
import type pg from 'pg';

export interface ContractTable {
  name: string;
  columns: Array<{ name: string; type: string; nullable: boolean; default: string }>;
  /** psql's index lines, for example `"x_pkey" PRIMARY KEY, btree (id)`. */
  indexes: string[];
  checks: string[];
  foreignKeys: string[];
  comment?: string;
  columnComments: Record<string, string>;
}

export interface SchemaContract {
  tables: ContractTable[];
  views: Array<{ name: string; definition: string }>;
  enums: Array<{ name: string; labels: string[] }>;
}

const decodeEntities = (text: string) =>
  text
    .replaceAll('&amp;', '&')
    .replaceAll('&gt;', '>')
    .replaceAll('&lt;', '<')
    .replaceAll('&#34;', '"')
    .replaceAll('&#39;', "'");

export const normalizeSql = (sql: string) => sql.replace(/\s+/g, ' ').replace(/;\s*$/, '').trim();

export function parseContract(file: string): SchemaContract {
  const text = fs.readFileSync(file, 'utf8');
  const sections = text.split(/^# /m).slice(1);
  const contract: SchemaContract = { tables: [], views: [], enums: [] };
  for (const section of sections) {
    const heading = section.slice(0, section.indexOf('\n'));
    const body = section.slice(heading.length + 1);
    let match: RegExpMatchArray | null;
    if ((match = heading.match(/^Table "public\.(\w+)"/))) {
      contract.tables.push(parseTable(match[1]!, body));
    } else if ((match = heading.match(/^View "public\.(\w+)"/))) {
      const sql = body.match(/```sql\n([\s\S]*?)```/);
      if (!sql) throw new Error(`view ${match[1]} has no query in the contract`);
      contract.views.push({ name: match[1]!, definition: normalizeSql(sql[1]!) });
    } else if ((match = heading.match(/^Type (\w+)/))) {
      const labels = [...body.matchAll(/^- (.+)$/gm)].map((m) => m[1]!.trim());
      contract.enums.push({ name: match[1]!, labels });
    }
  }
  return contract;
}

function parseTable(name: string, body: string): ContractTable {
  const block = body.match(/```\n([\s\S]*?)```/)![1]!;
  const lines = block.split('\n');
  const table: ContractTable = { name, columns: [], indexes: [], checks: [], foreignKeys: [], columnComments: {} };
  let section: 'columns' | 'Indexes' | 'Check constraints' | 'Foreign-key constraints' | 'other' = 'columns';
  for (const line of lines) {
    const heading = line.match(/^([A-Z][\w -]+):$/);
    if (heading) {
      section =
        (['Indexes', 'Check constraints', 'Foreign-key constraints'] as const).find((s) => s === heading[1]) ?? 'other';
      continue;
    }
    if (section === 'columns') {
      const cells = line.split('|').map((cell) => cell.trim());
      if (cells.length !== 5 || cells[0] === 'Column' || /^-+$/.test(cells[0]!)) continue;
      table.columns.push({ name: cells[0]!, type: cells[1]!, nullable: cells[3] !== 'not null', default: cells[4]! });
    } else if (line.trim()) {
      const entry = line.trim();
      if (section === 'Indexes') table.indexes.push(entry);
      else if (section === 'Check constraints') table.checks.push(entry);
      else if (section === 'Foreign-key constraints') table.foreignKeys.push(entry);
    }
  }
  const prose = body.slice(body.lastIndexOf('```') + 3).trim();
  if (prose) {
    const paragraphs = prose.split(/\n\s*\n/).map((p) => decodeEntities(p.trim()));
    for (const paragraph of paragraphs) {
      const column = paragraph.match(/^\*\*(\w+)\*\*: ([\s\S]*)$/);
      if (column) table.columnComments[column[1]!] = column[2]!;
      else table.comment = paragraph;
    }
  }
  return table;
}

/** Reads what psql `\d` would show for one table, from the catalog. */
async function readTable(client: pg.Pool | pg.Client, table: string) {
  const columns = await client.query<{
    name: string;
    type: string;
    nullable: boolean;
    default: string | null;
    comment: string | null;
  }>(
    `select a.attname as name, format_type(a.atttypid, a.atttypmod) as type, not a.attnotnull as nullable,
            pg_get_expr(d.adbin, d.adrelid) as default, col_description(a.attrelid, a.attnum) as comment
       from pg_attribute a
       left join pg_attrdef d on d.adrelid = a.attrelid and d.adnum = a.attnum
      where a.attrelid = $1::regclass and a.attnum > 0 and not a.attisdropped
      order by a.attnum`,
    [`public.${table}`],
  );
  // Same construction as psql's describe: kind, then the index definition from USING on.
  const indexes = await client.query<{ line: string }>(
    `select format('"%s" ', c.relname)
            || case when i.indisprimary then 'PRIMARY KEY, '
                    when con.contype = 'u' then 'UNIQUE CONSTRAINT, '
                    when i.indisunique then 'UNIQUE, ' else '' end
            || regexp_replace(pg_get_indexdef(i.indexrelid, 0, true), '^.* USING ', '') as line
       from pg_index i
       join pg_class c on c.oid = i.indexrelid
       left join pg_constraint con on con.conindid = i.indexrelid and con.contype in ('p', 'u', 'x')
      where i.indrelid = $1::regclass`,
    [`public.${table}`],
  );
  const constraints = await client.query<{ type: string; line: string }>(
    `select contype as type, format('"%s" ', conname) || pg_get_constraintdef(oid, true) as line
       from pg_constraint where conrelid = $1::regclass and contype in ('c', 'f')`,
    [`public.${table}`],
  );
  const comment = await client.query<{ comment: string | null }>(
    `select obj_description($1::regclass, 'pg_class') as comment`,
    [`public.${table}`],
  );
  return {
    columns: columns.rows,
    indexes: indexes.rows.map((r) => r.line),
    checks: constraints.rows.filter((r) => r.type === 'c').map((r) => r.line),
    foreignKeys: constraints.rows.filter((r) => r.type === 'f').map((r) => r.line),
    comment: comment.rows[0]?.comment ?? undefined,
  };
}

/**
 * Column comments that deliberately differ from the contract, with the reason (docs/schema.md).
 * Keyed `table.column`; the value is the comment the database carries instead.
 */
export const COMMENT_DEVIATIONS: Record<string, string> = {
  // The seed pastes backfill_completed_at's text onto series_id; each column gets its own meaning.
  'insight_series.series_id':
    'Stable, externally visible identifier of this series; series_points.series_id refers to it.',
};

/** Every difference between the database and the contract, as readable lines; empty when it conforms. */
export async function compareWithContract(client: pg.Pool | pg.Client, contract: SchemaContract): Promise<string[]> {
  const problems: string[] = [];
  const existing = await client.query<{ relname: string; relkind: string }>(
    `select c.relname, c.relkind from pg_class c join pg_namespace n on n.oid = c.relnamespace
      where n.nspname = 'public' and c.relkind in ('r', 'p', 'v')`,
  );
  const kinds = new Map(existing.rows.map((r) => [r.relname, r.relkind]));

  for (const table of contract.tables) {
    if (!['r', 'p'].includes(kinds.get(table.name) ?? '')) {
      problems.push(`table ${table.name} is missing`);
      continue;
    }
    const actual = await readTable(client, table.name);
    for (const column of table.columns) {
      const found = actual.columns.find((c) => c.name === column.name);
      if (!found) {
        problems.push(`column ${table.name}.${column.name} is missing`);
        continue;
      }
      if (found.type !== column.type)
        problems.push(`column ${table.name}.${column.name} has type ${found.type}, expected ${column.type}`);
      if (found.nullable !== column.nullable)
        problems.push(
          `column ${table.name}.${column.name} is ${found.nullable ? 'nullable' : 'not null'}, expected ${column.nullable ? 'nullable' : 'not null'}`,
        );
      if ((found.default ?? '') !== column.default)
        problems.push(
          `column ${table.name}.${column.name} has default ${found.default ?? '(none)'}, expected ${column.default || '(none)'}`,
        );
      const expectedComment = COMMENT_DEVIATIONS[`${table.name}.${column.name}`] ?? table.columnComments[column.name];
      if (expectedComment !== undefined && found.comment !== expectedComment)
        problems.push(
          `column ${table.name}.${column.name} has comment ${JSON.stringify(found.comment)}, expected ${JSON.stringify(expectedComment)}`,
        );
    }
    for (const [kind, expected, got] of [
      ['index', table.indexes, actual.indexes],
      ['check constraint', table.checks, actual.checks],
      ['foreign key', table.foreignKeys, actual.foreignKeys],
    ] as const) {
      const normalized = new Set(got.map(normalizeSql));
      for (const line of expected) {
        if (!normalized.has(normalizeSql(line))) {
          const name = line.match(/^"([^"]+)"/)?.[1];
          const same = got.find((g) => g.startsWith(`"${name}"`));
          problems.push(
            same
              ? `${kind} on ${table.name} differs: ${same}, expected ${line}`
              : `${kind} on ${table.name} is missing: ${line}`,
          );
        }
      }
    }
    if (table.comment !== undefined && actual.comment !== table.comment)
      problems.push(
        `table ${table.name} has comment ${JSON.stringify(actual.comment)}, expected ${JSON.stringify(table.comment)}`,
      );
  }

  for (const view of contract.views) {
    if (kinds.get(view.name) !== 'v') {
      problems.push(`view ${view.name} is missing`);
      continue;
    }
    const { rows } = await client.query<{ def: string }>(`select pg_get_viewdef($1::regclass, false) as def`, [
      `public.${view.name}`,
    ]);
    const actual = normalizeSql(rows[0]!.def);
    if (actual !== view.definition)
      problems.push(`view ${view.name} differs:\n  got:      ${actual}\n  expected: ${view.definition}`);
  }

  for (const type of contract.enums) {
    const { rows } = await client.query<{ label: string }>(
      `select e.enumlabel as label from pg_enum e join pg_type t on t.oid = e.enumtypid
         join pg_namespace n on n.oid = t.typnamespace
        where n.nspname = 'public' and t.typname = $1 order by e.enumsortorder`,
      [type.name],
    );
    const labels = rows.map((r) => r.label);
    if (labels.length === 0) problems.push(`enum ${type.name} is missing`);
    else if (labels.join(',') !== type.labels.join(','))
      problems.push(`enum ${type.name} has labels ${labels.join(', ')}, expected ${type.labels.join(', ')}`);
  }
  return problems;
}
