// CSV of an insight view (insight_view_export in SQL): every point of its series, live, archived and
// the snapshot, one row each. Rows are read through a cursor and written as they come, so a large
// export does not sit in memory. RFC 4180 quoting; times in ISO 8601 UTC.
import type pg from 'pg';

export const CSV_HEADER = ['title', 'series_label', 'query', 'time', 'repository', 'value', 'capture', 'kind'];

interface ExportRow {
  title: string | null;
  series_label: string | null;
  query: string;
  time: Date;
  repository: string | null;
  value: number;
  capture: string | null;
  kind: string;
}

function csvField(value: string | number | null): string {
  if (value === null) return '';
  const text = String(value);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

const csvLine = (fields: Array<string | number | null>) => `${fields.map(csvField).join(',')}\r\n`;

/**
 * Writes the CSV of a view to `write`, inside a transaction the caller has opened on `client` (as
 * the requester: the SQL function returns nothing for a view they may not see). Returns the rows written.
 */
export async function writeViewCsv(client: pg.ClientBase, viewId: number, write: (chunk: string) => unknown): Promise<number> {
  await client.query('declare view_export no scroll cursor for select * from insight_view_export($1)', [viewId]);
  await write(csvLine(CSV_HEADER));
  let rows = 0;
  for (;;) {
    const batch = await client.query<ExportRow>('fetch 2000 from view_export');
    if (batch.rows.length === 0) break;
    await write(
      batch.rows
        .map((row) => csvLine([row.title, row.series_label, row.query, row.time.toISOString(), row.repository, row.value, row.capture, row.kind]))
        .join(''),
    );
    rows += batch.rows.length;
  }
  await client.query('close view_export');
  return rows;
}
