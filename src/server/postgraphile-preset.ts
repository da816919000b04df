// The PostGraphile v5 preset: the Amber preset over the `public` schema. Requests run as an API role
// with the claims of their verified token (src/auth), so row-level security decides what each one
// sees. No CRUD mutations: writes are the VOLATILE SQL functions of `public`, which check permission
// and input themselves, then call the core (insights_core, not introspected).
import { makePgService } from 'postgraphile/adaptors/pg';
import { PostGraphileAmberPreset } from 'postgraphile/presets/amber';
import type pg from 'pg';
import { randomUUID } from 'node:crypto';
import { GraphQLError } from 'postgraphile/graphql';
import { isSafeError } from 'postgraphile/grafast';
import { defaultMaskError } from 'postgraphile/grafserv';
import { jsonPgSmartTags } from 'postgraphile/utils';
import { identityFromHeader, pgSettingsFor } from '../auth/tokens.ts';
import { identityOf } from './request-identity.ts';
import { currentRequestLog } from './request-log.ts';
import { InsightQueryValidationPlugin } from './insight-query-validation.ts';
import { InflectionPlugin } from './inflection.ts';
import { makeLanguagePiePlugin } from './language-pie-plugin.ts';
import { BackfillProgressSubscriptionPlugin } from './backfill-progress-subscription.ts';
import { QueryCheckPlugin } from './query-check-field.ts';
import { SampleTimesCodecPlugin } from './sample-times-codec.ts';
import { DEFAULT_REQUEST_LIMITS, makeRequestLimitsPlugin, type RequestLimits } from './request-limits.ts';

export interface PresetOptions {
  pool: pg.Pool;
  /** Where the git mirrors are: language pie charts read them when they are queried. */
  dataDir: string;
  /** Verifies the tokens of websocket (subscription) connections, sent as connection params. */
  jwtSecret: Uint8Array;
  /** Request cost limits and the API roles' statement timeout; the defaults for what is not given. */
  limits?: Partial<RequestLimits>;
}

/**
 * Tables of the seed contract that are internal: the contract fixes them in `public`, so they are
 * hidden here. Everything else internal lives in the insights_core schema, which PostGraphile does
 * not introspect; every function left in `public` is API (VOLATILE ones are mutations).
 */
const SEED_INTERNALS = [
  'metadata',
  'migration_logs',
  'repo_iterator',
  'repo_iterator_errors',
  'insights_background_jobs',
  'insights_data_retention_jobs',
  'insight_series_backfill',
  'archived_series_points',
  'archived_insight_series_recording_times',
  'insights_jobs_backfill_in_progress',
  'insights_jobs_backfill_new',
];
/** Computed columns returning small sets: plain lists rather than connections. */
const LISTS = ['insight_view_data', 'insight_view_series_status', 'insight_view_pie'];

/**
 * SQLSTATEs our functions raise for bad requests (invalid input, not permitted, stale update, not
 * found, duplicate, over the daily budget) and a websocket's bad token (28000): their messages are
 * meant for the client, so they are not masked.
 */
const CLIENT_ERRORS = new Set(['22023', '42501', '40001', 'P0002', '23505', '55000', '28000', '54000']);

/**
 * Input PostgreSQL cannot take (SQLSTATEs of class 22 that only a request's arguments cause), with
 * what to tell the client instead of PostgreSQL's message, which may quote SQL or stored values.
 */
const INPUT_ERRORS: Record<string, string> = {
  '22021':
    'a text argument contains a NUL character (\\u0000) or bytes that are not UTF-8, which PostgreSQL text cannot hold; remove it',
  '22P05': 'a JSON argument contains \\u0000 (a NUL character), which PostgreSQL cannot store in JSON; remove it',
  '22007': 'a date/time argument is not a valid timestamp: give an ISO 8601 date and time, e.g. 2024-01-31T12:00:00Z',
  '22008':
    'a date/time argument is out of range: a field past its end (month 13, February 30, hour 25) or a year PostgreSQL cannot store',
  '22009': 'a date/time argument has an invalid time zone offset: use Z or an offset such as +02:00',
  '22P02': 'an argument is not valid for its type (for example a BigInt or id that is not a whole number)',
  '22003': 'a number argument is out of range for its type',
  '54001': 'an argument is nested too deeply (JSON nesting of this depth cannot be stored); flatten it',
};

/** Grafast's own refusal of an operation too complex to plan (a plain Error, else masked). */
const GRAFAST_TOO_COMPLEX =
  /^(?:Query planning error: )?Query is too complex, Grafast refuses to continue processing at planning depth (\d+)/;

/** 15000 as "15 s", 1 as "1 ms" (whole milliseconds, as pgSettingsFor sets it). */
const formatDuration = (ms: number) =>
  ms < 1000 ? `${Math.max(1, Math.round(ms))} ms` : `${Number((ms / 1000).toFixed(3))} s`;

/** maskError for the given limits: the client errors' messages are shown, anything else is masked. */
export function makeMaskError(limits: Pick<RequestLimits, 'statementTimeoutMs' | 'maxDepth'> = DEFAULT_REQUEST_LIMITS) {
  const clientError = (error: GraphQLError, message: string, extensions: Record<string, unknown>) =>
    new GraphQLError(message, {
      nodes: error.nodes,
      source: error.source,
      positions: error.positions,
      path: error.path,
      extensions,
    });
  return function maskError(error: GraphQLError): GraphQLError {
    const original = error.originalError as { code?: unknown; message?: string } | undefined;
    const code = original?.code;
    if (typeof code === 'string' && CLIENT_ERRORS.has(code)) {
      // Errors raised in TypeScript may carry details (a query's position and reason).
      const details = (error.originalError as { extensions?: Record<string, unknown> }).extensions;
      return clientError(error, error.originalError!.message, { ...details, code });
    }
    if (typeof code === 'string' && Object.hasOwn(INPUT_ERRORS, code))
      return clientError(error, INPUT_ERRORS[code]!, { code });
    // query_canceled: by the API roles' statement_timeout (or, rarely, by an operator).
    if (code === '57014')
      return clientError(
        error,
        !/statement timeout/.test(original?.message ?? '')
          ? 'the request was cancelled by the database server (an operator or a shutdown); try again'
          : limits.statementTimeoutMs > 0
            ? `the request ran longer than the ${formatDuration(limits.statementTimeoutMs)} statement limit (setting API_STATEMENT_TIMEOUT_SECONDS); ask for less (fewer rows, series or repositories) and try again`
            : "the request ran longer than the database server's statement_timeout allows; ask for less (fewer rows, series or repositories) and try again",
        { code, ...(limits.statementTimeoutMs ? { limit: limits.statementTimeoutMs } : {}) },
      );
    const tooComplex = original && !(original instanceof GraphQLError) && original.message?.match(GRAFAST_TOO_COMPLEX);
    if (tooComplex)
      return clientError(
        error,
        `the query is too complex to plan: it goes past planning depth ${tooComplex[1]}; select fewer nested fields (setting GRAPHQL_MAX_DEPTH is ${limits.maxDepth})`,
        { code: 'QUERY_TOO_COMPLEX' },
      );
    // Validation errors (no original error) and Grafast's safe errors are meant for the client.
    if (!error.originalError || error.originalError instanceof GraphQLError || isSafeError(error.originalError))
      return defaultMaskError(error);
    // Anything else is ours to fix: logged with the request's id, shown to the client by reference.
    const errorId = randomUUID().slice(0, 8);
    const message = `GraphQL error ${errorId} at ${error.path?.join('.') ?? '(no path)'}: ${error.originalError.message}`;
    const log = currentRequestLog();
    if (log) log.error(message);
    else console.error(message);
    return new GraphQLError(`An error occurred (logged with id ${errorId})`, {
      nodes: error.nodes,
      source: error.source,
      positions: error.positions,
      path: error.path,
      extensions: { errorId },
    });
  };
}

/** maskError with the default limits. */
export const maskError = makeMaskError();

/** The largest GraphQL request body accepted (grafserv's default); http-server.ts says so first. */
export const MAX_REQUEST_BYTES = 100_000;

export function makePreset({ pool, dataDir, jwtSecret, limits: given }: PresetOptions): GraphileConfig.Preset {
  const limits: RequestLimits = { ...DEFAULT_REQUEST_LIMITS, ...given };
  return {
    extends: [PostGraphileAmberPreset],
    plugins: [
      InflectionPlugin,
      InsightQueryValidationPlugin,
      makeLanguagePiePlugin({ pool, dataDir }),
      BackfillProgressSubscriptionPlugin,
      QueryCheckPlugin,
      SampleTimesCodecPlugin,
      makeRequestLimitsPlugin(limits),
      jsonPgSmartTags({
        version: 1,
        config: {
          class: {
            ...Object.fromEntries(SEED_INTERNALS.map((name) => [name, { tags: { behavior: '-*' } }])),
            // May carry credentials, or describe the workers' disks (API roles cannot read them either).
            repositories: {
              attribute: { clone_url: { tags: { behavior: '-*' } }, mirror_path: { tags: { behavior: '-*' } } },
            },
            // The names a series was defined over may include repositories the reader may not see:
            // InsightSeries.repositories is the computed column insight_series_repositories instead.
            insight_series: { attribute: { repositories: { tags: { behavior: '-*' } } } },
            // Every name a repository ever had, hidden or not: names reach the API through points
            // and repositories, which row-level security filters.
            repo_names: { tags: { behavior: '-*' } },
          },
          procedure: Object.fromEntries(LISTS.map((name) => [name, { tags: { behavior: '-connection +list' } }])),
        },
      }),
    ],
    // pubsub: LISTEN/NOTIFY for subscriptions (backfillProgress).
    pgServices: [makePgService({ pool, schemas: ['public'], pubsub: true })],
    schema: {
      // Writes only through the API's SQL functions, which check permission and input themselves.
      defaultBehavior: '-insert -update -delete',
    },
    grafast: {
      // Every request runs as an API role with the claims of its token (verified by the HTTP
      // server, src/server/request-identity.ts); row-level security decides what it sees.
      // Websocket connections send their token as the connection param "authorization" instead.
      async context(requestContext) {
        const ws = requestContext.ws;
        const identity = ws
          ? await identityFromHeader(ws.normalizedConnectionParams?.authorization as string | undefined, jwtSecret)
          : identityOf(requestContext.node?.req);
        // statement_timeout too: no statement of a request runs past API_STATEMENT_TIMEOUT_SECONDS.
        return { pgSettings: pgSettingsFor(identity, { statementTimeoutMs: limits.statementTimeoutMs }) };
      },
    },
    grafserv: {
      maskError: makeMaskError(limits),
      maxRequestLength: MAX_REQUEST_BYTES,
      graphqlPath: '/graphql',
      graphiql: true,
      graphiqlPath: '/graphiql',
      graphiqlOnGraphQLGET: true,
      websockets: true,
      watch: false,
    },
  };
}
