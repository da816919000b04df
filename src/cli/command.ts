// What every CLI command provides, and the options they share.
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { type Config, type ConfigInput, loadConfig } from '../config.ts';
import { createLogger, type Logger } from '../logger.ts';

export interface Command {
  name: string;
  summary: string;
  /** Full --help text. */
  help: string;
  run(argv: string[]): Promise<number>;
}

/** A usage mistake (unknown flag, missing argument): exit code 2 with the message. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

type Options = NonNullable<ParseArgsConfig['options']>;

/** Flags that set configuration (see src/config.ts); shared by serve, worker and migrate. */
export const CONFIG_FLAGS = {
  'database-url': { type: 'string' },
  port: { type: 'string' },
  host: { type: 'string' },
  'data-dir': { type: 'string' },
  concurrency: { type: 'string' },
  'log-level': { type: 'string' },
} as const satisfies Options;

export const CONFIG_FLAGS_HELP = `Configuration (flags override environment variables):
  --database-url URL   DATABASE_URL        PostgreSQL to use; unset: embedded PostgreSQL in DATA_DIR
  --port N             PORT                HTTP port (default 4000; 0 picks a free port)
  --host ADDR          HOST                HTTP interface (default 127.0.0.1)
  --data-dir DIR       DATA_DIR            embedded database and mirrors (default <project>/data)
  --concurrency N      WORKER_CONCURRENCY  jobs run at once by this process (default 4)
  --log-level LEVEL    LOG_LEVEL           debug, info, warn or error (default info)
                       LOG_FORMAT          text or json (one object per line; default text)
                       EMBEDDED_PG_PORT    embedded PostgreSQL port (default 54329, or a free one)
                       JWT_SECRET          HS256 secret for API tokens (32+ characters)
                       METRICS_PORT        a worker's own /metrics port (worker --metrics-port)
                       SEARCH_TIMEOUT_SECONDS, BACKFILL_TIME_BUDGET_SECONDS, BACKFILL_PAGE_SIZE,
                       MAX_SAMPLES_PER_SERIES: search and backfill limits (see the README)
                       BACKFILL_DAILY_BUDGET_PER_USER  daily backfill cost per API user, or "off"`;

export interface ParsedCommandLine {
  values: Record<string, string | boolean | undefined>;
  positionals: string[];
}

export function parseCommandLine(argv: string[], options: Options, allowPositionals = false): ParsedCommandLine {
  try {
    const { values, positionals } = parseArgs({
      args: argv,
      options: { ...options, help: { type: 'boolean', short: 'h' } },
      allowPositionals,
      strict: true,
    });
    return { values: values as ParsedCommandLine['values'], positionals };
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

export function configFromFlags(values: ParsedCommandLine['values']): Config {
  const str = (name: string) => (typeof values[name] === 'string' ? (values[name] as string) : undefined);
  const overrides: ConfigInput = {
    DATABASE_URL: str('database-url'),
    PORT: str('port'),
    HOST: str('host'),
    DATA_DIR: str('data-dir'),
    WORKER_CONCURRENCY: str('concurrency'),
    LOG_LEVEL: str('log-level'),
    METRICS_PORT: str('metrics-port'),
  };
  return loadConfig(process.env, overrides);
}

export function printHelp(command: Command): number {
  console.log(command.help);
  return 0;
}

export function loggerFor(config: Config): Logger {
  return createLogger({ level: config.LOG_LEVEL, format: config.LOG_FORMAT });
}
