// The PostGraphile v5 preset: the Amber preset over the `public` schema. Requests run as an API role
// with the claims of their verified token (src/auth), so row-level security decides what each one
// sees. No CRUD mutations: writes are the SQL functions listed in MUTATIONS, which check permission
// and input themselves.
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

/** Internals that are not part of the API (they stay reachable with SQL). */
const HIDDEN = [
  'metadata', 'migration_logs', 'repo_iterator', 'repo_iterator_errors', 'insights_background_jobs',
  'insights_data_retention_jobs', 'insight_series_backfill', 'archived_series_points',
  'archived_insight_series_recording_times', 'insights_jobs_backfill_in_progress', 'insights_jobs_backfill_new',
  'worker_processes', 'search_blob_counts', 'series_point_totals', 'insight_view_lines',
  // The operator's view: SQL and /healthz.
  'recurring_tasks', 'task_run_status',
];
/** SQL functions that are API mutations (everything else VOLATILE stays hidden). */
const MUTATIONS = [
  'create_dashboard', 'update_dashboard', 'delete_dashboard', 'add_view_to_dashboard', 'remove_view_from_dashboard',
  'grant_dashboard', 'revoke_dashboard_grant', 'grant_insight_view', 'revoke_insight_view_grant',
  // Queries are parsed first by src/server/insight-query-validation.ts.
  'create_line_chart_insight', 'update_line_chart_insight', 'create_pie_chart_insight', 'update_pie_chart_insight',
  'delete_insight_view',
  // Admin claim only (checked in SQL).
  'retry_backfill', 'move_backfill_to_front', 'move_backfill_to_back', 'cancel_backfill', 'add_repository', 'sync_repository',
];
const HIDDEN_FUNCTIONS = [
  'app_require_user', 'app_require_admin', 'dashboard_is_editable', 'insight_view_is_editable',
  'utc_now', 'time_unit_interval', 'repository_name_id', 'repository_criteria_matches', 'insight_series_sample_times',
  'backfill_sample_times', 'backfill_priority', 'backfill_should_yield', 'app_user_id', 'app_org_ids', 'app_is_admin', 'grant_applies',
  'dashboard_is_visible', 'insight_view_is_visible', 'app_visible_series_ids',
  'check_repo_regex', 'check_line_series', 'check_insight_scope', 'insight_series_pending_jobs', 'insight_view_data_live',
  'app_may_read_view', 'insight_view_export', 'ensure_partitions_ahead', 'ensure_monthly_partitions',
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
  if (!error.originalError || error.originalError instanceof GraphQLError || isSafeError(error.originalError)) return defaultMaskError(error);
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
            ...Object.fromEntries(HIDDEN.map((name) => [name, { tags: { behavior: '-*' } }])),
            // May carry credentials, or describe the workers' disks (API roles cannot read them either).
            repositories: { attribute: { clone_url: { tags: { behavior: '-*' } }, mirror_path: { tags: { behavior: '-*' } } } },
          },
          procedure: Object.fromEntries([
            ...HIDDEN_FUNCTIONS.map((name) => [name, { tags: { behavior: '-*' } }]),
            ...MUTATIONS.map((name) => [name, { tags: { behavior: '+mutationField' } }]),
            ...LISTS.map((name) => [name, { tags: { behavior: '-connection +list' } }]),
          ]),
        },
      }),
    ],
    // pubsub: LISTEN/NOTIFY for subscriptions (backfillProgress).
    pgServices: [makePgService({ pool, schemas: ['public'], pubsub: true })],
    schema: {
      // Writes only through the functions in MUTATIONS (enabled one by one below).
      defaultBehavior: '-insert -update -delete -mutationField',
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
      graphqlPath: '/graphql',
      graphiql: true,
      graphiqlPath: '/graphiql',
      graphiqlOnGraphQLGET: true,
      websockets: true,
      watch: false,
    },
  };
}
