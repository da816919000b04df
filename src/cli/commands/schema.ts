import fs from 'node:fs';
import path from 'node:path';
import { projectRoot } from '../../project-root.ts';
import { exportSchema } from '../../server/export-schema.ts';
import { type Command, CONFIG_FLAGS, CONFIG_FLAGS_HELP, configFromFlags, loggerFor, parseCommandLine, printHelp, UsageError } from '../command.ts';
import { withDatabase } from '../with-database.ts';

export const SCHEMA_FILE = path.join(projectRoot, 'schema.graphql');

const help = `Usage: code-insights schema export [--out FILE] [--check]

Prints the GraphQL schema (SDL) the server builds from the migrated database, or writes it to
--out (the repository keeps it in schema.graphql; a test fails when the two differ).

Options:
  --out FILE     write to FILE instead of standard output
  --check        compare with schema.graphql; exit 1 and say so when it differs
  -h, --help     show this help

${CONFIG_FLAGS_HELP}

Examples:
  code-insights schema export --out schema.graphql
  code-insights schema export --check`;

export const schema: Command = {
  name: 'schema',
  summary: 'export the GraphQL schema (SDL)',
  help,
  async run(argv) {
    const { values, positionals } = parseCommandLine(argv, { ...CONFIG_FLAGS, out: { type: 'string' }, check: { type: 'boolean' } }, true);
    if (values.help) return printHelp(this);
    if (positionals[0] !== 'export' || positionals.length !== 1) throw new UsageError('use: code-insights schema export [--out FILE] [--check]');
    const config = configFromFlags(values);
    const sdl = await withDatabase(config, loggerFor(config), (pool) => exportSchema(pool));
    if (values.check) {
      const committed = fs.existsSync(SCHEMA_FILE) ? fs.readFileSync(SCHEMA_FILE, 'utf8') : '';
      if (committed === sdl) return 0;
      process.stderr.write('schema.graphql differs from the live schema; run `code-insights schema export --out schema.graphql`\n');
      return 1;
    }
    if (typeof values.out === 'string') fs.writeFileSync(values.out, sdl);
    else process.stdout.write(sdl);
    return 0;
  },
};
