import {
  type Command,
  CONFIG_FLAGS,
  printHelp,
  CONFIG_FLAGS_HELP,
  configFromFlags,
  loggerFor,
  parseCommandLine,
} from '../command.ts';
import { runService } from '../run-service.ts';

export const worker: Command = {
  name: 'worker',
  summary: 'run background jobs only (add as many as you like, on any host)',
  help: `Usage: code-insights worker [options]

Runs a Graphile Worker process that takes jobs from the shared PostgreSQL queue: recordings,
backfills, retention and maintenance, and any job a DBA adds with graphile_worker.add_job(...).
Start one per host (or several) to scale out; they coordinate through the database. Migrations are
applied first, so a worker can be started before the first \`serve\`.

Options:
  --metrics-port N     METRICS_PORT: serve this process's /metrics (Prometheus) on HOST:N
                       (jobs by task and outcome, blobs read, cache hits, bytes searched; 0 picks
                       a free port). Queue and backfill gauges are on serve's /metrics.
  -h, --help           show this help

${CONFIG_FLAGS_HELP}

Examples:
  DATABASE_URL=postgres://app@db.internal/insights code-insights worker --concurrency 8
  code-insights worker --host 0.0.0.0 --metrics-port 9464   # for Prometheus to scrape
  code-insights worker      # uses the embedded database of DATA_DIR (when no serve is running)`,
  async run(argv) {
    const { values } = parseCommandLine(argv, { ...CONFIG_FLAGS, 'metrics-port': { type: 'string' } });
    if (values.help) return printHelp(this);
    const config = configFromFlags(values);
    const logger = loggerFor(config);
    return runService({ config, logger, worker: true, http: false, migrate: true, metricsServer: true }, (service) => {
      const metrics = service.metrics ? `\n  Metrics:  ${service.metrics.url}` : '';
      console.log(
        `Code Insights worker is running (${config.WORKER_CONCURRENCY} concurrent job(s))\n  Database: ${service.database.description}${metrics}\nPress Ctrl-C to stop.`,
      );
    });
  },
};
