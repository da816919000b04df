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

export interface PresetOptions {
  pool: pg.Pool;
  /** Where the git mirrors are: language pie charts read them when they are queried. */
  dataDir: string;
  /** Verifies the tokens of websocket (subscription) connections, sent as connection params. */
  jwtSecret: Uint8Array;
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

export function maskError(error: GraphQLError): GraphQLError {
  const code = (error.originalError as { code?: unknown } | undefined)?.code;
  if (typeof code === 'string' && CLIENT_ERRORS.has(code)) {
    // Errors raised in TypeScript may carry details (a query's position and reason).
    const details = (error.originalError as { extensions?: Record<string, unknown> }).extensions;
    return new GraphQLError(error.originalError!.message, {
      nodes: error.nodes,
      source: error.source,
      positions: error.positions,
      path: error.path,
      extensions: { ...details, code },
    });
  }
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
}

/** The largest GraphQL request body accepted (grafserv's default); http-server.ts says so first. */
export const MAX_REQUEST_BYTES = 100_000;

export function makePreset({ pool, dataDir, jwtSecret }: PresetOptions): GraphileConfig.Preset {
  return {
    extends: [PostGraphileAmberPreset],
    plugins: [
      InflectionPlugin,
      InsightQueryValidationPlugin,
      makeLanguagePiePlugin({ pool, dataDir }),
      BackfillProgressSubscriptionPlugin,
      QueryCheckPlugin,
      SampleTimesCodecPlugin,
      jsonPgSmartTags({
        version: 1,
        config: {
          class: {
            ...Object.fromEntries(SEED_INTERNALS.map((name) => [name, { tags: { behavior: '-*' } }])),
            // May carry credentials, or describe the workers' disks (API roles cannot read them either).
            repositories: {
              attribute: { clone_url: { tags: { behavior: '-*' } }, mirror_path: { tags: { behavior: '-*' } } },
            },
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
        return { pgSettings: pgSettingsFor(identity) };
      },
    },
    grafserv: {
      maskError,
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
