import { errorMessage } from '../../logger.ts';
import { parseQuery } from '../../search/query/parse-query.ts';
import { createLineInsight, viewSeries } from '../../store/insight-create.ts';
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
import { parseInterval } from '../parse-interval.ts';
import { waitForBackfills } from '../wait-for-backfills.ts';
import { withDatabase } from '../with-database.ts';
import { exportInsight } from './insight-export.ts';
import { deleteInsight, listInsights, showInsight } from './insight-read.ts';

const PALETTE = [
  '#1f77b4',
  '#ff7f0e',
  '#2ca02c',
  '#d62728',
  '#9467bd',
  '#8c564b',
  '#e377c2',
  '#7f7f7f',
  '#bcbd22',
  '#17becf',
];

const help = `Usage: code-insights insight create [options]
       code-insights insight list [--json]
       code-insights insight show <view> [--samples N] [--json]   lines with a sparkline each
       code-insights insight delete <view> [--expected-etag ETAG]   only if unchanged since read
       code-insights insight export <view> [--out FILE]   (see: insight export --help)

Creates a line-chart insight: one series per --series, over the given repositories (default: every
registered repository), sampled every --interval. Its first recording and snapshot are queued at
once; a running worker records them.

Options:
  --title T             title of the insight (required)
  --series 'LABEL=QUERY'  a series; repeat for more (up to 20). Without "LABEL=", the query is the label.
                        The query language is Sourcegraph's (docs/query-language.md).
  --capture-series 'LABEL=QUERY'  a capture-group series ("detect and track"): the query is a regexp
                        and each value of its first group becomes a line, e.g. 'version (\\d+)\\.'
  --stroke COLOR        colour of the series at the same position (default: a palette)
  --repos A,B           these repositories (by name)
  --repo-criteria Q     repositories matching Q, re-evaluated as repositories are added
                        (repo: filters, for example 'repo:^acme/ -repo:archive')
  --interval N[h|d|w|m|y]  sampling interval (default 1m: monthly)
  --from DATE           how far back history goes (default one year)
  --user ID             creator's user id (gets the grant); without it the insight is global
  --wait                wait for the history backfill, with a progress bar (needs a running worker)
  --json                print the created insight as JSON
  --expected-etag ETAG  with delete: the etag 'insight show --json' printed; a view changed since
                        is not deleted (stale update, exit 1)
  -h, --help            show this help

Queries use the language of docs/query-language.md; a malformed one is rejected with its position.

${CONFIG_FLAGS_HELP}

Examples:
  code-insights insight create --title 'TODOs' --series 'TODOs=TODO' --interval 1w
  code-insights insight create --title 'Lodash imports' \\
    --series "imports=patterntype:regexp import.*from 'lodash'" --repo-criteria 'repo:^acme/' --interval 1m
  code-insights insight create --title 'Versions' --capture-series '"version": "(\\d+)\\.' --repos acme/api --json
  code-insights insight delete 7 --expected-etag 3f2a9c1d0b8e4f6a7c5d2e1b0a9f8e7d`;

export const insight: Command = {
  name: 'insight',
  summary: 'create, list, show (with sparklines), delete and export insights',
  help,
  async run(argv) {
    if (argv[0] === 'export') return exportInsight(argv);
    if (['list', 'show', 'delete'].includes(argv[0] ?? '') && (argv.includes('--help') || argv.includes('-h')))
      return printHelp(this);
    if (argv[0] === 'list') return listInsights(argv);
    if (argv[0] === 'show') return showInsight(argv);
    if (argv[0] === 'delete') return deleteInsight(argv);
    const { values, positionals } = parseCommandLine(
      argv,
      {
        ...CONFIG_FLAGS,
        title: { type: 'string' },
        series: { type: 'string', multiple: true },
        'capture-series': { type: 'string', multiple: true },
        stroke: { type: 'string', multiple: true },
        repos: { type: 'string' },
        'repo-criteria': { type: 'string' },
        interval: { type: 'string' },
        from: { type: 'string' },
        user: { type: 'string' },
        json: { type: 'boolean' },
        wait: { type: 'boolean' },
      },
      true,
    );
    if (values.help) return printHelp(this);
    if (positionals[0] !== 'create' || positionals.length !== 1)
      throw new UsageError(
        'use: code-insights insight create --title T --series LABEL=QUERY ... (or: insight export <view>)',
      );
    const title = values.title as string | undefined;
    if (!title?.trim()) throw new UsageError('--title is required');
    const seriesArgs = [
      ...((values.series as unknown as string[] | undefined) ?? []).map((arg) => ({ arg, capture: false })),
      ...((values['capture-series'] as unknown as string[] | undefined) ?? []).map((arg) => ({ arg, capture: true })),
    ];
    if (!seriesArgs.length) throw new UsageError('at least one --series or --capture-series is required');
    const strokes = (values.stroke as unknown as string[] | undefined) ?? [];
    if (values.repos && values['repo-criteria']) throw new UsageError('give --repos or --repo-criteria, not both');

    const series = seriesArgs.map(({ arg, capture }, index) => {
      const split = arg.indexOf('=');
      const [label, query] =
        split > 0 ? [arg.slice(0, split).trim(), arg.slice(split + 1).trim()] : [undefined, arg.trim()];
      try {
        parseQuery(query, { capture });
        return {
          query,
          label: label ?? query,
          stroke: strokes[index] ?? PALETTE[index % PALETTE.length],
          capture_groups: capture,
        };
      } catch (error) {
        throw new UsageError(`series ${index + 1} (${JSON.stringify(query)}): ${errorMessage(error)}`);
      }
    });
    const criteria = values['repo-criteria'] as string | undefined;
    if (criteria !== undefined) {
      try {
        parseQuery(criteria, { criteriaOnly: true });
      } catch (error) {
        throw new UsageError(`--repo-criteria: ${errorMessage(error)}`);
      }
    }
    let interval;
    try {
      interval = parseInterval((values.interval as string | undefined) ?? '1m');
    } catch (error) {
      throw new UsageError(errorMessage(error));
    }
    const from = values.from as string | undefined;
    if (from !== undefined && Number.isNaN(Date.parse(from)))
      throw new UsageError(`--from "${from}" is not a date (use YYYY-MM-DD)`);
    const user = values.user as string | undefined;
    if (user !== undefined && !/^\d+$/.test(user)) throw new UsageError('--user must be a numeric user id');
    const repositories = (values.repos as string | undefined)
      ?.split(',')
      .map((name) => name.trim())
      .filter(Boolean);

    const config = configFromFlags(values);
    const logger = loggerFor(config);
    return withDatabase(config, logger, async (pool) => {
      const { id, unique_id } = await createLineInsight(pool, {
        title,
        series,
        repositories: repositories ?? null,
        repositoryCriteria: criteria ?? null,
        intervalUnit: interval.unit,
        intervalValue: interval.value,
        oldestHistoricalAt: from ?? null,
        userId: user ?? null,
      });
      const created = await viewSeries(pool, id);
      let backfilled = true;
      if (values.wait) backfilled = await waitForBackfills({ pool, seriesIds: created.map((row) => row.id) });
      if (values.json) {
        const series = created.map(({ series_id, label, query, stroke }) => ({ series_id, label, query, stroke }));
        console.log(
          JSON.stringify({
            id,
            unique_id,
            title: title.trim(),
            interval,
            series,
            ...(values.wait ? { backfilled } : {}),
          }),
        );
      } else {
        console.log(
          `Created insight ${id} "${title.trim()}" (${unique_id}), sampled every ${interval.value} ${interval.unit.toLowerCase()}(s)`,
        );
        for (const row of created) console.log(`  series ${row.series_id}  ${row.label}: ${row.query}`);
        if (values.wait)
          console.log(
            backfilled ? 'History backfilled.' : 'The backfill failed; see `code-insights backfill status --all`.',
          );
        else
          console.log(
            'Its recording and history backfill are queued; `code-insights series points <series-id>` shows the points.',
          );
      }
      return backfilled ? 0 : 1;
    });
  },
};
