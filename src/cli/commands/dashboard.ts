// `code-insights dashboard ...`: dashboards and the views on them, as a DBA (every dashboard). Every
// change goes through the core writers the API's mutations call (src/store/dashboards.ts), so both
// doors trim, validate and bump last_updated_at alike.
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
import { formatTable } from '../format-table.ts';
import { parseId } from '../parse-id.ts';
import { withDatabase } from '../with-database.ts';
import * as dashboards from '../../store/dashboards.ts';
import type { Queryable } from '../../store/queryable.ts';
import { findView, throughCore } from './insight-read.ts';

const help = `Usage: code-insights dashboard <list|create|rename|add|remove|delete> ... [--json]

  dashboard list                      dashboards with their views, grants and last_updated_at
  dashboard create TITLE [--user ID]  a new dashboard (with a user grant for ID, else shared with everyone)
  dashboard rename DASHBOARD TITLE [--expected-last-updated-at TIME]
                                      a new title (trimmed; refused when empty)
  dashboard add DASHBOARD VIEW        put a view on a dashboard
  dashboard remove DASHBOARD VIEW     take it off
  dashboard delete DASHBOARD          soft-delete a dashboard (its views stay)

Views are given by id or unique id, dashboards by id. Share with: code-insights grant dashboard ...
Every change bumps the dashboard's last_updated_at, as the API's do. A rename with
--expected-last-updated-at (the value dashboard list --json or the API's lastUpdatedAt shows) is
refused, exit code 1, when someone changed the dashboard since; without it the CLI reads the current
value and renames that version (refused only if it changes in the instant between).

Options:
  --user ID                        with create: the owner (gets a user grant)
  --expected-last-updated-at TIME  with rename: fail unless the dashboard is unchanged since TIME
  --json                           print the result as JSON
  -h, --help                       show this help

${CONFIG_FLAGS_HELP}

Examples:
  code-insights dashboard create 'Platform health' --user 42
  code-insights dashboard rename 3 'Platform health (2025)'
  code-insights dashboard rename 3 'Platform health' --expected-last-updated-at 2025-01-31T12:00:00.123456
  code-insights dashboard add 3 7
  code-insights dashboard list --json`;

const ARITY: Record<string, number> = { list: 0, create: 1, rename: 2, add: 2, remove: 2, delete: 1 };
const USAGE = 'use: code-insights dashboard <list|create TITLE|rename D TITLE|add D V|remove D V|delete D>';

type Print = (json: unknown, text: string) => void;

function grantText(g: dashboards.DashboardGrantSummary): string {
  return g.global ? 'everyone' : g.user_id ? `user ${g.user_id}` : `org ${g.org_id}`;
}

async function list(db: Queryable, print: Print): Promise<void> {
  const rows = await dashboards.listDashboards(db);
  const table = rows.map((r) => [
    r.id,
    r.title,
    r.views.map((v) => v.id).join(', '),
    r.grants.map(grantText).join(', '),
    r.last_updated_at,
  ]);
  const headers = ['ID', 'TITLE', 'VIEWS', 'SHARED WITH', 'LAST UPDATED'];
  print(rows, rows.length ? formatTable(headers, table) : 'No dashboards.');
}

/** Renames; without an expected time, against the one read now (the caller means "whatever is there"). */
async function rename(
  db: Queryable,
  current: dashboards.Dashboard,
  title: string,
  expected: string | undefined,
): Promise<dashboards.Dashboard> {
  try {
    return await throughCore(dashboards.renameDashboard(db, current.id, title, expected ?? current.last_updated_at));
  } catch (error) {
    // 22007/22008: not a time the database can read.
    const code = (error as { code?: unknown }).code;
    if (code === '22007' || code === '22008') {
      throw new UsageError(
        '--expected-last-updated-at must be a time such as 2025-01-31T12:00:00.123456 ' +
          `(see dashboard list --json), got "${expected}"`,
      );
    }
    throw error;
  }
}

export const dashboard: Command = {
  name: 'dashboard',
  summary: 'list, create, rename and delete dashboards; add and remove views',
  help,
  async run(argv) {
    const { values, positionals } = parseCommandLine(
      argv,
      {
        ...CONFIG_FLAGS,
        json: { type: 'boolean' },
        user: { type: 'string' },
        'expected-last-updated-at': { type: 'string' },
      },
      true,
    );
    if (values.help) return printHelp(this);
    const [action, ...rest] = positionals;
    if (!action || !(action in ARITY) || rest.length !== ARITY[action]) throw new UsageError(USAGE);
    const user = values.user === undefined ? null : parseId(values.user, '--user');
    const expected = values['expected-last-updated-at'];
    if (typeof expected === 'string' && action !== 'rename') {
      throw new UsageError('--expected-last-updated-at goes with rename');
    }
    const config = configFromFlags(values);
    return withDatabase(config, loggerFor(config), async (pool) => {
      const print: Print = (json, text) => console.log(values.json ? JSON.stringify(json) : text);
      if (action === 'list') {
        await list(pool, print);
        return 0;
      }
      if (action === 'create') {
        const created = await throughCore(dashboards.createDashboard(pool, rest[0]!, user));
        const whose = user === null ? 'shared with everyone' : `owned by user ${user}`;
        print(created, `Created dashboard ${created.id} (${created.title}), ${whose}.`);
        return 0;
      }
      const dashboardId = parseId(rest[0], 'DASHBOARD');
      const current = await dashboards.findDashboard(pool, dashboardId);
      if (!current) throw new UsageError(`no dashboard ${dashboardId}`);
      if (action === 'rename') {
        const renamed = await rename(pool, current, rest[1]!, typeof expected === 'string' ? expected : undefined);
        const stamp = `last_updated_at ${renamed.last_updated_at}`;
        print(renamed, `Renamed dashboard ${dashboardId} to "${renamed.title}" (${stamp}).`);
        return 0;
      }
      if (action === 'delete') {
        await throughCore(dashboards.deleteDashboard(pool, dashboardId));
        print({ deleted: dashboardId }, `Deleted dashboard ${dashboardId}.`);
        return 0;
      }
      const view = await findView(pool, rest[1]!);
      if (action === 'add') {
        const changed = await throughCore(dashboards.addViewToDashboard(pool, dashboardId, view.id));
        print(
          { dashboard: dashboardId, added: view.id, last_updated_at: changed.last_updated_at },
          `View ${view.id} (${view.title}) is on dashboard ${dashboardId}.`,
        );
      } else {
        const changed = await throughCore(dashboards.removeViewFromDashboard(pool, dashboardId, view.id));
        print(
          { dashboard: dashboardId, removed: view.id, last_updated_at: changed.last_updated_at },
          `View ${view.id} is off dashboard ${dashboardId}.`,
        );
      }
      return 0;
    });
  },
};
