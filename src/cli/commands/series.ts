// `code-insights series points <series-id>`: every point of a series, for operators checking what a
// recording or backfill stored (src/store/series-points.ts).
import {
  type Command,
  CONFIG_FLAGS,
  CONFIG_FLAGS_HELP,
  configFromFlags,
  loggerFor,
  parseCommandLine,
  printHelp,
  UsageError,
} from '../command.ts';
import { formatTable } from '../format-table.ts';
import { withDatabase } from '../with-database.ts';
import { seriesExists, seriesPointsFilled } from '../../store/series-points.ts';

const help = `Usage: code-insights series points <series-id> [--json]

Prints every point of a series: time, kind (recording or snapshot), repository, captured value
(for capture-group series) and value. Repositories without matches at a recording time show 0.
The series id is the one insight create prints for each series.

Options:
  --json         print the points as JSON
  -h, --help     show this help

${CONFIG_FLAGS_HELP}

Examples:
  code-insights series points global-0ed8a4951d5118c1512ed0a80d6f7707
  code-insights series points 5b0c3f1e-6d8e-4c1b-9a53-2f4d3b7e9c10 --json`;

export const series: Command = {
  name: 'series',
  summary: 'show the points of a series',
  help,
  async run(argv) {
    const { values, positionals } = parseCommandLine(argv, { ...CONFIG_FLAGS, json: { type: 'boolean' } }, true);
    if (values.help) return printHelp(this);
    if (positionals[0] !== 'points' || positionals.length !== 2) {
      throw new UsageError('use: code-insights series points <series-id>');
    }
    const seriesId = positionals[1]!;
    const config = configFromFlags(values);
    return withDatabase(config, loggerFor(config), async (pool) => {
      if (!(await seriesExists(pool, seriesId))) throw new Error(`no series "${seriesId}"`);
      const rows = await seriesPointsFilled(pool, seriesId);
      const kind = (snapshot: boolean) => (snapshot ? 'snapshot' : 'recording');
      if (values.json) {
        const points = rows.map((r) => ({
          time: r.recording_time.toISOString(),
          kind: kind(r.snapshot),
          repository: r.repo_name,
          capture: r.capture,
          value: r.value,
        }));
        console.log(JSON.stringify(points));
      } else if (!rows.length) {
        console.log(`Series ${seriesId} has no recordings yet.`);
      } else {
        const table = rows.map((r) => [
          r.recording_time.toISOString(),
          kind(r.snapshot),
          r.repo_name,
          r.capture,
          r.value,
        ]);
        console.log(formatTable(['TIME', 'KIND', 'REPOSITORY', 'CAPTURE', 'VALUE'], table));
      }
      return 0;
    });
  },
};
