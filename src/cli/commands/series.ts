import { type Command, CONFIG_FLAGS, CONFIG_FLAGS_HELP, configFromFlags, loggerFor, parseCommandLine, printHelp, UsageError } from '../command.ts';
import { formatTable } from '../format-table.ts';
import { withDatabase } from '../with-database.ts';

const help = `Usage: code-insights series points <series-id> [--json]

Prints every point of a series: time, kind (recording or snapshot), repository, captured value
(for capture-group series) and value. Repositories without matches at a recording time show 0.

Options:
  --json         print the points as JSON
  -h, --help     show this help

${CONFIG_FLAGS_HELP}

Examples:
  code-insights series points global-0ed8a4951d5118c1512ed0a80d6f7707
  code-insights series points 5b0c3f1e-6d8e-4c1b-9a53-2f4d3b7e9c10 --json`;

interface PointRow {
  recording_time: Date;
  snapshot: boolean;
  repo_id: number;
  repo_name: string;
  capture: string | null;
  value: number;
}

export const series: Command = {
  name: 'series',
  summary: 'show the points of a series',
  help,
  async run(argv) {
    const { values, positionals } = parseCommandLine(argv, { ...CONFIG_FLAGS, json: { type: 'boolean' } }, true);
    if (values.help) return printHelp(this);
    if (positionals[0] !== 'points' || positionals.length !== 2) throw new UsageError('use: code-insights series points <series-id>');
    const seriesId = positionals[1]!;
    const config = configFromFlags(values);
    return withDatabase(config, loggerFor(config), async (pool) => {
      const exists = await pool.query('select 1 from insight_series where series_id = $1', [seriesId]);
      if (!exists.rowCount) throw new Error(`no series "${seriesId}"`);
      const { rows } = await pool.query<PointRow>('select * from insight_series_points_filled($1)', [seriesId]);
      if (values.json) {
        console.log(
          JSON.stringify(
            rows.map((r) => ({ time: r.recording_time.toISOString(), kind: r.snapshot ? 'snapshot' : 'recording', repository: r.repo_name, capture: r.capture, value: r.value })),
          ),
        );
      } else if (!rows.length) {
        console.log(`Series ${seriesId} has no recordings yet.`);
      } else {
        console.log(
          formatTable(
            ['TIME', 'KIND', 'REPOSITORY', 'CAPTURE', 'VALUE'],
            rows.map((r) => [r.recording_time.toISOString(), r.snapshot ? 'snapshot' : 'recording', r.repo_name, r.capture, r.value]),
          ),
        );
      }
      return 0;
    });
  },
};
