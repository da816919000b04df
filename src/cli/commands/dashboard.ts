// `code-insights dashboard ...`: dashboards and the views on them, as a DBA (every dashboard).
import { type Command, CONFIG_FLAGS, CONFIG_FLAGS_HELP, configFromFlags, loggerFor, parseCommandLine, printHelp, UsageError } from '../command.ts';
import { formatTable } from '../format-table.ts';
import { withTransaction } from '../../db/with-transaction.ts';
import { parseId } from '../parse-id.ts';
import { withDatabase } from '../with-database.ts';
import { findView } from './insight-read.ts';

const help = `Usage: code-insights dashboard <list|create|add|remove|delete> ... [--json]

  dashboard list                      dashboards with their views and grants
  dashboard create TITLE [--user ID]  a new dashboard (with a user grant for ID, else shared with everyone)
  dashboard add DASHBOARD VIEW        put a view on a dashboard
  dashboard remove DASHBOARD VIEW     take it off
  dashboard delete DASHBOARD          soft-delete a dashboard (its views stay)

Views are given by id or unique id, dashboards by id. Share with: code-insights grant dashboard ...

Options:
  --user ID      with create: the owner (gets a user grant)
  --json         print the result as JSON
  -h, --help     show this help

${CONFIG_FLAGS_HELP}

Examples:
  code-insights dashboard create 'Platform health' --user 42
  code-insights dashboard add 3 7
  code-insights dashboard list --json`;


export const dashboard: Command = {
  name: 'dashboard',
  summary: 'list, create and delete dashboards; add and remove views',
  help,
  async run(argv) {
    const { values, positionals } = parseCommandLine(argv, { ...CONFIG_FLAGS, json: { type: 'boolean' }, user: { type: 'string' } }, true);
    if (values.help) return printHelp(this);
    const [action, ...rest] = positionals;
    const arity: Record<string, number> = { list: 0, create: 1, add: 2, remove: 2, delete: 1 };
    if (!action || !(action in arity) || rest.length !== arity[action]) throw new UsageError('use: code-insights dashboard <list|create TITLE|add D V|remove D V|delete D>');
    const user = values.user === undefined ? null : parseId(values.user, '--user');
    const config = configFromFlags(values);
    return withDatabase(config, loggerFor(config), async (pool) => {
      const print = (json: unknown, text: string) => console.log(values.json ? JSON.stringify(json) : text);
      if (action === 'list') {
        const { rows } = await pool.query(
          `select d.id, d.title, d.created_by_user_id,
                  coalesce((select json_agg(json_build_object('id', v.id, 'title', v.title) order by v.id)
                              from dashboard_insight_view dv join insight_view v on v.id = dv.insight_view_id where dv.dashboard_id = d.id), '[]') as views,
                  coalesce((select json_agg(json_build_object('id', g.id, 'user_id', g.user_id, 'org_id', g.org_id, 'global', g.global) order by g.id)
                              from dashboard_grants g where g.dashboard_id = d.id), '[]') as grants
             from dashboard d where d.deleted_at is null order by d.id`,
        );
        const grantText = (g: { user_id: number | null; org_id: number | null; global: boolean | null }) =>
          g.global ? 'everyone' : g.user_id ? `user ${g.user_id}` : `org ${g.org_id}`;
        print(rows, rows.length ? formatTable(['ID', 'TITLE', 'VIEWS', 'SHARED WITH'], rows.map((r) => [r.id, r.title, r.views.map((v: { id: number }) => v.id).join(', '), r.grants.map(grantText).join(', ')])) : 'No dashboards.');
        return 0;
      }
      if (action === 'create') {
        const title = rest[0]!.trim();
        if (!title) throw new UsageError('the title must not be empty');
        const created = await withTransaction(pool, async (client) => {
          const { rows } = await client.query(`insert into dashboard (title, created_by_user_id) values ($1, $2) returning id, title`, [title, user]);
          await client.query(`insert into dashboard_grants (dashboard_id, user_id, global) values ($1, $2, $3)`, [rows[0].id, user, user === null ? true : null]);
          return rows[0];
        });
        print(created, `Created dashboard ${created.id} (${title}), ${user === null ? 'shared with everyone' : `owned by user ${user}`}.`);
        return 0;
      }
      const dashboardId = parseId(rest[0], 'DASHBOARD');
      const exists = await pool.query('select title from dashboard where id = $1 and deleted_at is null', [dashboardId]);
      if (!exists.rows[0]) throw new UsageError(`no dashboard ${dashboardId}`);
      if (action === 'delete') {
        await pool.query('update dashboard set deleted_at = now() where id = $1', [dashboardId]);
        print({ deleted: dashboardId }, `Deleted dashboard ${dashboardId}.`);
        return 0;
      }
      const view = await findView(pool, rest[1]!);
      if (action === 'add') {
        await pool.query('insert into dashboard_insight_view (dashboard_id, insight_view_id) values ($1, $2) on conflict do nothing', [dashboardId, view.id]);
        print({ dashboard: dashboardId, added: view.id }, `View ${view.id} (${view.title}) is on dashboard ${dashboardId}.`);
      } else {
        await pool.query('delete from dashboard_insight_view where dashboard_id = $1 and insight_view_id = $2', [dashboardId, view.id]);
        print({ dashboard: dashboardId, removed: view.id }, `View ${view.id} is off dashboard ${dashboardId}.`);
      }
      return 0;
    });
  },
};
