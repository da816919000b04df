// CSV of an insight view (insights_core.insight_view_export): every point of its series, live,
// archived and the snapshot, one row each. Rows are read through a cursor and written as they come,
// so a large export does not sit in memory. RFC 4180 quoting; times in ISO 8601 UTC.
import type pg from 'pg';
import { closeViewExportCursor, fetchViewExportRows, openViewExportCursor } from '../store/view-export.ts';

export const CSV_HEADER = ['title', 'series_label', 'query', 'time', 'repository', 'value', 'capture', 'kind'];

/**
 * One RFC 4180 field. A text cell that a spreadsheet would run as a formula (it starts with =, +, -,
 * @, a tab or a carriage return) gets a leading ' so it shows as text: titles, labels, queries,
 * repository names and captured values come from users and from repositories' content. Numbers are
 * written as they are (a negative count is not a formula).
 */
export function csvField(value: string | number | null): string {
  if (value === null) return '';
  const text = typeof value === 'string' && /^[=+\-@\t\r]/.test(value) ? `'${value}` : String(value);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

const csvLine = (fields: Array<string | number | null>) => `${fields.map(csvField).join(',')}\r\n`;

/**
 * Writes the CSV of a view to `write`, inside a transaction the caller has opened on `client` (as
 * the requester: the SQL function returns nothing for a view they may not see). Returns the rows written.
 */
export async function writeViewCsv(
  client: pg.ClientBase,
  viewId: number,
  write: (chunk: string) => unknown,
): Promise<number> {
  await openViewExportCursor(client, viewId);
  await write(csvLine(CSV_HEADER));
  let rows = 0;
  for (;;) {
    const batch = await fetchViewExportRows(client, 2000);
    if (batch.length === 0) break;
    await write(
      batch
        .map((row) =>
          csvLine([
            row.title,
            row.series_label,
            row.query,
            row.time.toISOString(),
            row.repository,
            row.value,
            row.capture,
            row.kind,
          ]),
        )
        .join(''),
    );
    rows += batch.length;
  }
  await closeViewExportCursor(client);
  return rows;
}
