import { migrateDatabase } from '../../db/migrate.ts';
import { resolveDatabase } from '../../db/resolve-database.ts';
import {
  type Command,
  CONFIG_FLAGS,
  printHelp,
  CONFIG_FLAGS_HELP,
  configFromFlags,
  loggerFor,
  parseCommandLine,
} from '../command.ts';

export const migrate: Command = {
  name: 'migrate',
  summary: 'apply the database schema (Graphile Worker and Code Insights migrations)',
  help: `Usage: code-insights migrate [options]

Installs or updates Graphile Worker's schema, then applies the committed migrations in
migrations/committed with graphile-migrate, exactly as \`npx graphile-migrate migrate\` does in CI.
Safe to run repeatedly. After it, a DBA can enqueue jobs with graphile_worker.add_job(...).

Options:
  -h, --help           show this help

${CONFIG_FLAGS_HELP}

Examples:
  DATABASE_URL=postgres://postgres@127.0.0.1:5432/insights code-insights migrate
  code-insights migrate     # migrates the embedded database in DATA_DIR`,
  async run(argv) {
    const { values } = parseCommandLine(argv, CONFIG_FLAGS);
    if (values.help) return printHelp(this);
    const config = configFromFlags(values);
    const logger = loggerFor(config);
    const database = await resolveDatabase(config, logger, { attach: true });
    try {
      await migrateDatabase({ connectionString: database.connectionString, logger });
      console.log(`Database is up to date: ${database.description}`);
      return 0;
    } finally {
      await database.stop();
    }
  },
};
