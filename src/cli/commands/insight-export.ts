// `code-insights insight export <view> [--out FILE]`: the CSV of a view (src/export/view-csv.ts),
// as a DBA sees it (every view; live, archived and snapshot points), to a file or stdout.
import fs from 'node:fs';
import { once } from 'node:events';
import { writeViewCsv } from '../../export/view-csv.ts';
import {
  CONFIG_FLAGS,
  CONFIG_FLAGS_HELP,
  configFromFlags,
  loggerFor,
  parseCommandLine,
  UsageError,
} from '../command.ts';
import { withTransaction } from '../../store/transaction.ts';
import { withDatabase } from '../with-database.ts';
import { findView } from './insight-read.ts';

const exportHelp = `Usage: code-insights insight export <view> [--out FILE]

Writes a view's points as CSV (title, series_label, query, time, repository, value, capture, kind):
live, archived and snapshot points together, under the view's repository filters. <view> is the
view's id or unique id. Without --out the CSV goes to stdout.

Options:
  --out FILE            write to FILE instead of stdout
  -h, --help            show this help

${CONFIG_FLAGS_HELP}

Examples:
  code-insights insight export 7 --out debt.csv
  code-insights insight export 3f1c2a9e-0d4b-4c55-9a57-1e2f3a4b5c6d | head`;

/** Returns the exit code, like every command. */
export async function exportInsight(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandLine(argv, { ...CONFIG_FLAGS, out: { type: 'string' } }, true);
  if (values.help) {
    console.log(exportHelp);
    return 0;
  }
  if (positionals.length !== 2)
    throw new UsageError('use: code-insights insight export <view id or unique id> [--out FILE]');
  const wanted = positionals[1]!;
  const out = values.out as string | undefined;
  const config = configFromFlags(values);
  await withDatabase(config, loggerFor(config), async (pool) => {
    await withTransaction(
      pool,
      async (client) => {
        const view = await findView(client, wanted);
        const target = out ? fs.createWriteStream(out) : process.stdout;
        const count = await writeViewCsv(client, view.id, async (chunk) => {
          if (!target.write(chunk)) await once(target, 'drain');
        });
        if (out) {
          await new Promise<void>((resolve, reject) =>
            (target as fs.WriteStream).end((error?: Error | null) => (error ? reject(error) : resolve())),
          );
          console.error(`wrote ${count} row(s) to ${out}`);
        }
      },
      { readOnly: true },
    );
  });
  return 0;
}
