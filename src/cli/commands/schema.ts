// `schema export` (the GraphQL SDL) and `schema dump` (the database schema as SQL): the generated
// files the repository keeps, schema.graphql and sql/schema.sql, each checked by a test.
import fs from 'node:fs';
import path from 'node:path';
import { projectRoot } from '../../project-root.ts';
import { exportSchema } from '../../server/export-schema.ts';
import { startScratchServer } from '../../db/scratch-database.ts';
import { createPool } from '../../db/pool.ts';
import { dumpSchema } from '../../store/schema-dump.ts';
import type { Config } from '../../config.ts';
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
import { withDatabase } from '../with-database.ts';

export const SCHEMA_FILE = path.join(projectRoot, 'schema.graphql');
export const SCHEMA_DUMP_FILE = path.join(projectRoot, 'sql', 'schema.sql');

const usage = 'use: code-insights schema export|dump [--out FILE] [--check]';

const help = `Usage: code-insights schema export [--out FILE] [--check]
       code-insights schema dump [--out FILE] [--check]

export  prints the GraphQL schema (SDL) the server builds from the migrated database, or writes
        it to --out (the repository keeps it in schema.graphql; a test fails when the two differ).
dump    migrates a scratch database (on the server of DATABASE_URL, or a throw-away embedded
        PostgreSQL; dropped afterwards) and prints the extensions, types, tables, views and
        functions of the public and insights_core schemas as SQL, with their comments, or writes
        it to --out (the repository keeps it in sql/schema.sql: \`npm run schema:dump\`; a test
        fails when it is stale). The same on every supported PostgreSQL version.

Options:
  --out FILE     write to FILE instead of standard output
  --check        compare with schema.graphql (export) or sql/schema.sql (dump); exit 1 and say so
                 when it differs
  -h, --help     show this help

${CONFIG_FLAGS_HELP}

Examples:
  code-insights schema export --out schema.graphql
  code-insights schema export --check
  code-insights schema dump --out sql/schema.sql
  code-insights schema dump --check`;

export const schema: Command = {
  name: 'schema',
  summary: 'export the GraphQL schema (SDL), or dump the database schema as SQL',
  help,
  async run(argv) {
    const flags = { ...CONFIG_FLAGS, out: { type: 'string' }, check: { type: 'boolean' } } as const;
    const { values, positionals } = parseCommandLine(argv, flags, true);
    if (values.help) return printHelp(this);
    const action = positionals[0];
    if ((action !== 'export' && action !== 'dump') || positionals.length !== 1) throw new UsageError(usage);
    const config = configFromFlags(values);
    const out = typeof values.out === 'string' ? values.out : undefined;
    if (action === 'dump') {
      const text = await dumpMigratedSchema(config);
      if (values.check) return check(SCHEMA_DUMP_FILE, text, 'is stale: run `npm run schema:dump`');
      return write(out, text);
    }
    const sdl = await withDatabase(config, loggerFor(config), (pool) => exportSchema(pool));
    const fix = 'run `code-insights schema export --out schema.graphql`';
    if (values.check) return check(SCHEMA_FILE, sdl, `differs from the live schema; ${fix}`);
    return write(out, sdl);
  },
};

/** The dump of a database that has the committed migrations and nothing else. */
async function dumpMigratedSchema(config: Config): Promise<string> {
  const logger = loggerFor(config);
  const server = await startScratchServer({ logger, databaseUrl: config.DATABASE_URL });
  try {
    const connectionString = await server.createDatabase('schema_dump');
    const pool = createPool({ connectionString, logger, max: 1, applicationName: 'code-insights-cli' });
    try {
      return await dumpSchema(pool);
    } finally {
      await pool.end();
    }
  } finally {
    await server.close();
  }
}

function check(file: string, text: string, problem: string): number {
  const committed = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
  if (committed === text) return 0;
  process.stderr.write(`${path.relative(projectRoot, file)} ${problem}\n`);
  return 1;
}

function write(out: string | undefined, text: string): number {
  if (out !== undefined) fs.writeFileSync(out, text);
  else process.stdout.write(text);
  return 0;
}
