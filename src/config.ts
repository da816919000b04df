// The one place where configuration enters the program. Every setting can come from the environment
// or from a CLI flag (flags win); everything is validated here with zod and nowhere else.
import path from 'node:path';
import { z } from 'zod';
import { projectRoot } from './project-root.ts';

export const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
export const LOG_FORMATS = ['text', 'json'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

/**
 * Documentation of every setting, one entry each: the README's configuration table is generated from
 * it (`npm run docs:config`; test/config-docs.test.ts fails when the README is stale).
 */
export const SETTINGS = {
  DATABASE_URL: {
    flag: '`--database-url`',
    default: 'unset: embedded',
    meaning: 'PostgreSQL connection string (PostgreSQL 15+). Unset: an embedded PostgreSQL in `DATA_DIR/postgres`.',
  },
  PORT: {
    flag: '`--port`',
    default: '`4000`',
    meaning: 'HTTP port of GraphQL, GraphiQL, `/healthz` and the web UI. `0` picks a free port.',
  },
  HOST: {
    flag: '`--host`',
    default: '`127.0.0.1`',
    meaning: 'Interface the HTTP server listens on (`0.0.0.0` for all).',
  },
  DATA_DIR: {
    flag: '`--data-dir`',
    default: '`<project>/data`',
    meaning:
      'Embedded database (`postgres/`, `postgres.password`), repository mirrors (`mirrors/`) and the generated `jwt-secret`.',
  },
  EMBEDDED_PG_PORT: {
    flag: '',
    default: '`54329`',
    meaning:
      'Port of the embedded PostgreSQL (127.0.0.1 only). If the default is taken a free port is used; an explicitly set port that is taken is an error. `0` picks a free port.',
  },
  WORKER_CONCURRENCY: {
    flag: '`--concurrency`',
    default: '`4`',
    meaning: 'Jobs one worker process runs at the same time (1–256).',
  },
  METRICS_PORT: {
    flag: '`--metrics-port` (worker)',
    default: 'unset: none',
    meaning:
      "Port of a `/metrics` endpoint for a `worker` process, on `HOST`: its job, blob, cache and byte counters (the queue and backfill gauges are on `serve`'s `/metrics`). `0` picks a free port.",
  },
  LOG_LEVEL: {
    flag: '`--log-level`',
    default: '`info`',
    meaning: '`debug`, `info`, `warn` or `error`. Logs go to stderr.',
  },
  LOG_FORMAT: {
    flag: '',
    default: '`text`',
    meaning:
      '`text` (lines for people) or `json` (one object per line: `time`, `level`, `scope`, `message`, and `request_id` on API request lines).',
  },
  JWT_SECRET: {
    flag: '',
    default: 'unset: generated into `DATA_DIR/jwt-secret`',
    meaning:
      'HS256 secret that signs and verifies API tokens, at least 32 characters. Servers sharing a database must share it.',
  },
  SEARCH_TIMEOUT_SECONDS: {
    flag: '',
    default: '`60`',
    meaning:
      'Longest one repository may be searched for one recording (or one backfill page); past it the repository gets an incomplete point (`timeout`).',
  },
  SHUTDOWN_GRACE_SECONDS: {
    flag: '',
    default: '`10`',
    meaning:
      "How long SIGTERM/SIGINT may take: running jobs are asked to stop (a backfill step leaves the page it is on; the next start resumes from its last committed page); after this long the process exits anyway, and another worker retries what was still running once this one's heartbeat is stale (30 s).",
  },
  BACKFILL_TIME_BUDGET_SECONDS: {
    flag: '',
    default: '`60`',
    meaning: 'How long a backfill step works before re-queueing itself, so cheaper backfills can overtake it.',
  },
  BACKFILL_PAGE_SIZE: {
    flag: '',
    default: '`10`',
    meaning: 'Repositories per backfill page; points and progress are committed after every page.',
  },
  MAX_SAMPLES_PER_SERIES: {
    flag: '',
    default: '`104`',
    meaning: 'Historical samples per series (hard limit 1000); retention keeps as many recording times live.',
  },
  BACKFILL_DAILY_BUDGET_PER_USER: {
    flag: '',
    default: 'unset',
    meaning:
      "Backfill cost (repositories x historical sample times) an API user may queue per UTC day; over it, creating an insight fails with a clear error and writes nothing. `off` removes the limit; unset leaves the database's setting (`usage_quotas`; 1,000,000 on a new database) as it is.",
  },
  GRAPHQL_MAX_DEPTH: {
    flag: '',
    default: '`15`',
    meaning:
      "Deepest field nesting a GraphQL operation may have, fragments expanded (1–200; GraphiQL's introspection query is 15 deep). Brackets may nest twice as deep (at least 100).",
  },
  GRAPHQL_MAX_ALIASES: {
    flag: '',
    default: '`100`',
    meaning: 'Aliased fields one GraphQL operation may select, fragments expanded.',
  },
  GRAPHQL_MAX_FIELDS: {
    flag: '',
    default: '`2000`',
    meaning: 'Field selections one GraphQL operation may make, counting each fragment as often as it is spread.',
  },
  GRAPHQL_MAX_QUERY_LENGTH: {
    flag: '',
    default: '`20000`',
    meaning:
      'Characters of a GraphQL query document (variables not included), over HTTP and websockets; checked, with the nesting and the aliases written, before the document is parsed.',
  },
  GRAPHQL_MAX_SUBSCRIPTIONS_PER_CONNECTION: {
    flag: '',
    default: '`20`',
    meaning:
      'Subscriptions (and other operations) one websocket connection may have running at once. A client refused this many times in a row is disconnected (close code 1008).',
  },
  GRAPHQL_MAX_SUBSCRIPTIONS: {
    flag: '',
    default: '`500`',
    meaning:
      'Subscriptions (and other websocket operations) one server process runs at once, over all connections; each costs work on every event it gets.',
  },
  GRAPHQL_MAX_WEBSOCKETS: {
    flag: '',
    default: '`500`',
    meaning: 'Websocket connections one server process keeps open at once; past it a handshake gets a 503.',
  },
  API_STATEMENT_TIMEOUT_SECONDS: {
    flag: '',
    default: '`15`',
    meaning:
      "Longest one SQL statement of a GraphQL request may run (PostgreSQL's `statement_timeout` for the API roles); past it the request gets an error naming this limit. `0`: no limit.",
  },
} as const satisfies Record<string, { flag: string; default: string; meaning: string }>;
export type SettingName = keyof typeof SETTINGS;

const DEFAULT_PORT = 4000;
export const DEFAULT_EMBEDDED_PG_PORT = 54329;

const port = (what: string) =>
  z.coerce
    .number({ error: `${what} must be a number` })
    .int(`${what} must be a whole number`)
    .min(0, `${what} must be between 0 and 65535`)
    .max(65535, `${what} must be between 0 and 65535`);

/** A whole number setting between min and max. */
const wholeNumber = (what: string, min: number, max: number) =>
  z.coerce
    .number({ error: `${what} must be a number` })
    .int(`${what} must be a whole number`)
    .min(min, `${what} must be at least ${min}`)
    .max(max, `${what} must be at most ${max}`);

const configSchema = z.object({
  DATABASE_URL: z
    .string()
    .trim()
    .refine((value) => /^postgres(ql)?:\/\//.test(value), 'DATABASE_URL must start with postgres:// or postgresql://')
    .refine((value) => URL.canParse(value), 'DATABASE_URL is not a valid URL')
    .optional(),
  PORT: port('PORT').default(DEFAULT_PORT),
  HOST: z.string().trim().min(1, 'HOST must not be empty').default('127.0.0.1'),
  DATA_DIR: z
    .string()
    .trim()
    .min(1, 'DATA_DIR must not be empty')
    .default(path.join(projectRoot, 'data'))
    .transform((dir) => path.resolve(dir)),
  EMBEDDED_PG_PORT: port('EMBEDDED_PG_PORT').optional(),
  METRICS_PORT: port('METRICS_PORT').optional(),
  WORKER_CONCURRENCY: z.coerce
    .number({ error: 'WORKER_CONCURRENCY must be a number' })
    .int('WORKER_CONCURRENCY must be a whole number')
    .min(1, 'WORKER_CONCURRENCY must be at least 1')
    .max(256, 'WORKER_CONCURRENCY must be at most 256')
    .default(4),
  LOG_LEVEL: z
    .string()
    .trim()
    .toLowerCase()
    .pipe(z.enum(LOG_LEVELS, { error: `LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}` }))
    .default('info'),
  LOG_FORMAT: z
    .string()
    .trim()
    .toLowerCase()
    .pipe(z.enum(LOG_FORMATS, { error: `LOG_FORMAT must be one of ${LOG_FORMATS.join(', ')}` }))
    .default('text'),
  JWT_SECRET: z.string().min(32, 'JWT_SECRET must be at least 32 characters long').optional(),
  SEARCH_TIMEOUT_SECONDS: z.coerce
    .number({ error: 'SEARCH_TIMEOUT_SECONDS must be a number' })
    .positive('SEARCH_TIMEOUT_SECONDS must be more than 0')
    .max(86_400, 'SEARCH_TIMEOUT_SECONDS must be at most 86400')
    .default(60),
  SHUTDOWN_GRACE_SECONDS: z.coerce
    .number({ error: 'SHUTDOWN_GRACE_SECONDS must be a number' })
    .positive('SHUTDOWN_GRACE_SECONDS must be more than 0')
    .max(3600, 'SHUTDOWN_GRACE_SECONDS must be at most 3600')
    .default(10),
  BACKFILL_TIME_BUDGET_SECONDS: z.coerce
    .number({ error: 'BACKFILL_TIME_BUDGET_SECONDS must be a number' })
    .positive('BACKFILL_TIME_BUDGET_SECONDS must be more than 0')
    .max(3600, 'BACKFILL_TIME_BUDGET_SECONDS must be at most 3600')
    .default(60),
  BACKFILL_PAGE_SIZE: z.coerce
    .number({ error: 'BACKFILL_PAGE_SIZE must be a number' })
    .int('BACKFILL_PAGE_SIZE must be a whole number')
    .min(1, 'BACKFILL_PAGE_SIZE must be at least 1')
    .max(1000, 'BACKFILL_PAGE_SIZE must be at most 1000')
    .default(10),
  MAX_SAMPLES_PER_SERIES: z.coerce
    .number({ error: 'MAX_SAMPLES_PER_SERIES must be a number' })
    .int('MAX_SAMPLES_PER_SERIES must be a whole number')
    .min(1, 'MAX_SAMPLES_PER_SERIES must be at least 1')
    .max(1000, 'MAX_SAMPLES_PER_SERIES must be at most 1000')
    .default(104),
  BACKFILL_DAILY_BUDGET_PER_USER: z
    .union(
      [
        z.literal('off'),
        z.coerce
          .number({ error: 'BACKFILL_DAILY_BUDGET_PER_USER must be a positive number or "off"' })
          .positive('BACKFILL_DAILY_BUDGET_PER_USER must be a positive number or "off"'),
      ],
      { error: 'BACKFILL_DAILY_BUDGET_PER_USER must be a positive number or "off"' },
    )
    .optional(),
  GRAPHQL_MAX_DEPTH: wholeNumber('GRAPHQL_MAX_DEPTH', 1, 200).default(15),
  GRAPHQL_MAX_ALIASES: wholeNumber('GRAPHQL_MAX_ALIASES', 0, 100_000).default(100),
  GRAPHQL_MAX_FIELDS: wholeNumber('GRAPHQL_MAX_FIELDS', 1, 1_000_000).default(2000),
  GRAPHQL_MAX_QUERY_LENGTH: wholeNumber('GRAPHQL_MAX_QUERY_LENGTH', 100, 10_000_000).default(20_000),
  GRAPHQL_MAX_SUBSCRIPTIONS_PER_CONNECTION: wholeNumber('GRAPHQL_MAX_SUBSCRIPTIONS_PER_CONNECTION', 1, 10_000).default(
    20,
  ),
  GRAPHQL_MAX_SUBSCRIPTIONS: wholeNumber('GRAPHQL_MAX_SUBSCRIPTIONS', 1, 1_000_000).default(500),
  GRAPHQL_MAX_WEBSOCKETS: wholeNumber('GRAPHQL_MAX_WEBSOCKETS', 1, 1_000_000).default(500),
  API_STATEMENT_TIMEOUT_SECONDS: z.coerce
    .number({ error: 'API_STATEMENT_TIMEOUT_SECONDS must be a number' })
    .min(0, 'API_STATEMENT_TIMEOUT_SECONDS must be 0 (no limit) or more')
    .max(86_400, 'API_STATEMENT_TIMEOUT_SECONDS must be at most 86400')
    .default(15),
});

export type Config = z.infer<typeof configSchema>;
export type ConfigInput = Partial<Record<SettingName, string | undefined>>;

/** Thrown for invalid settings; its message is one line naming the setting. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

/**
 * Builds the configuration from the environment and flag overrides. Empty strings count as unset,
 * so `PORT= npm start` behaves like no PORT at all.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, overrides: ConfigInput = {}): Config {
  const raw: Record<string, string> = {};
  for (const name of Object.keys(SETTINGS) as SettingName[]) {
    const value = overrides[name] ?? env[name];
    if (value !== undefined && value !== '') raw[name] = value;
  }
  const result = configSchema.safeParse(raw);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    const setting = String(issue.path[0] ?? 'configuration');
    const given = raw[setting];
    const shown =
      given === undefined || setting === 'JWT_SECRET' || setting === 'DATABASE_URL' ? '' : ` (got "${given}")`;
    const message = issue.message.startsWith(setting) ? issue.message : `${setting}: ${issue.message}`;
    throw new ConfigError(`Invalid configuration: ${message}${shown}`);
  }
  return result.data;
}
