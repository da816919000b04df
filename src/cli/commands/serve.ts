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

export const serve: Command = {
  name: 'serve',
  summary: 'run the service: database, migrations, worker, GraphQL API and web UI',
  help: `Usage: code-insights serve [options]

Starts everything one machine needs: PostgreSQL (embedded unless DATABASE_URL is set), the schema
migrations, a background worker and the HTTP server (GraphQL at /graphql, GraphiQL at /graphiql,
health at /healthz). Ctrl-C or SIGTERM stops it cleanly; the embedded database keeps its data in
DATA_DIR/postgres for the next start.

Options:
  --no-worker          serve HTTP only (run \`code-insights worker\` elsewhere)
  --no-demo            on an empty embedded database, do not register the demo repository (this
                       project's history, or a bundled year of it) and its dashboard
  -h, --help           show this help

${CONFIG_FLAGS_HELP}

Examples:
  code-insights serve
  PORT=8080 DATABASE_URL=postgres://app@db.internal/insights code-insights serve
  code-insights serve --data-dir /var/lib/code-insights --log-level debug`,
  async run(argv) {
    const { values } = parseCommandLine(argv, {
      ...CONFIG_FLAGS,
      'no-worker': { type: 'boolean' },
      'no-demo': { type: 'boolean' },
    });
    if (values.help) return printHelp(this);
    const config = configFromFlags(values);
    const logger = loggerFor(config);
    return runService(
      { config, logger, worker: !values['no-worker'], http: true, migrate: true, demo: !values['no-demo'] },
      (service) => {
        const url = service.http!.url;
        console.log(
          [
            'Code Insights is running',
            `  GraphQL:  ${url}/graphql`,
            `  GraphiQL: ${url}/graphiql`,
            `  Health:   ${url}/healthz`,
            `  Web:      ${url}/`,
            `  Database: ${service.database.description}`,
            `  Worker:   ${service.worker ? `${config.WORKER_CONCURRENCY} concurrent job(s)` : 'not in this process (--no-worker)'}`,
            'Press Ctrl-C to stop.',
          ].join('\n'),
        );
      },
    );
  },
};
