// `code-insights grant` / `revoke`: share a view or dashboard with a user, an org or everyone, as a
// DBA. The same rows the API's grant mutations write (insight_view_grants, dashboard_grants).
import { type Command, CONFIG_FLAGS, CONFIG_FLAGS_HELP, configFromFlags, loggerFor, parseCommandLine, printHelp, UsageError } from '../command.ts';
import { formatTable } from '../format-table.ts';
import { parseId } from '../parse-id.ts';
import { withDatabase } from '../with-database.ts';
import { findView } from './insight-read.ts';

const help = `Usage: code-insights grant <view|dashboard> ID (--user ID | --org ID | --global) [--json]
       code-insights grant list <view|dashboard> ID [--json]
       code-insights revoke <view|dashboard> GRANT-ID

A view is visible to a user with a grant naming them, one of their orgs, or everyone, or when it is
on a dashboard they can see; dashboards likewise. Views are given by id or unique id.

Options:
  --user ID      grant to one user (the token's sub)
  --org ID       grant to everyone in an org (the token's org_ids)
  --global       grant to everyone, signed in or not
  --json         print the result as JSON
  -h, --help     show this help

${CONFIG_FLAGS_HELP}

Examples:
  code-insights grant view 7 --org 3
  code-insights grant dashboard 2 --global
  code-insights grant list view 7
  code-insights revoke view 15`;

const TABLES = { view: { table: 'insight_view_grants', column: 'insight_view_id' }, dashboard: { table: 'dashboard_grants', column: 'dashboard_id' } } as const;


async function run(this: Command, argv: string[], revoking: boolean): Promise<number> {
  const { values, positionals } = parseCommandLine(
    argv,
    { ...CONFIG_FLAGS, json: { type: 'boolean' }, user: { type: 'string' }, org: { type: 'string' }, global: { type: 'boolean' } },
    true,
  );
  if (values.help) return printHelp(this);
  const listing = !revoking && positionals[0] === 'list';
  const [kind, target] = listing ? positionals.slice(1) : positionals;
  if (kind !== 'view' && kind !== 'dashboard') throw new UsageError(`use: code-insights ${revoking ? 'revoke' : 'grant'} <view|dashboard> ...`);
  if (!target || positionals.length !== (listing ? 3 : 2)) throw new UsageError(`give one ${revoking ? 'grant id' : kind}`);
  const principals = [values.user !== undefined, values.org !== undefined, values.global === true].filter(Boolean).length;
  if (!revoking && !listing && principals !== 1) throw new UsageError('give exactly one of --user ID, --org ID or --global');
  const { table, column } = TABLES[kind];
  const config = configFromFlags(values);
  return withDatabase(config, loggerFor(config), async (pool) => {
    if (revoking) {
      const { rows } = await pool.query(`delete from ${table} where id = $1 returning *`, [parseId(target, 'GRANT-ID')]);
      if (!rows[0]) throw new UsageError(`no ${kind} grant ${target}`);
      console.log(values.json ? JSON.stringify(rows[0]) : `Revoked grant ${target}.`);
      return 0;
    }
    const id = kind === 'view' ? (await findView(pool, target)).id : parseId(target, 'dashboard');
    if (kind === 'dashboard' && !(await pool.query('select 1 from dashboard where id = $1 and deleted_at is null', [id])).rowCount) {
      throw new UsageError(`no dashboard ${id}`);
    }
    if (listing) {
      const { rows } = await pool.query(`select id, user_id, org_id, global from ${table} where ${column} = $1 order by id`, [id]);
      if (values.json) console.log(JSON.stringify(rows));
      else console.log(formatTable(['GRANT', 'USER', 'ORG', 'EVERYONE'], rows.map((r) => [r.id, r.user_id, r.org_id, r.global ? 'yes' : ''])));
      return 0;
    }
    const user = values.user === undefined ? null : parseId(values.user, '--user');
    const org = values.org === undefined ? null : parseId(values.org, '--org');
    const everyone = values.global === true ? true : null;
    // Granting twice changes nothing.
    const existing = await pool.query(
      `select * from ${table} where ${column} = $1 and user_id is not distinct from $2 and org_id is not distinct from $3 and global is not distinct from $4`,
      [id, user, org, everyone],
    );
    const row = existing.rows[0] ?? (await pool.query(`insert into ${table} (${column}, user_id, org_id, global) values ($1, $2, $3, $4) returning *`, [id, user, org, everyone])).rows[0];
    const whom = everyone ? 'everyone' : user ? `user ${user}` : `org ${org}`;
    console.log(values.json ? JSON.stringify(row) : `${kind === 'view' ? 'View' : 'Dashboard'} ${id} is shared with ${whom} (grant ${row.id}).`);
    return 0;
  });
}

export const grant: Command = {
  name: 'grant',
  summary: 'share a view or dashboard with a user, an org or everyone; list grants',
  help,
  run(argv) {
    return run.call(this, argv, false);
  },
};

export const revoke: Command = {
  name: 'revoke',
  summary: 'remove a grant from a view or dashboard',
  help,
  run(argv) {
    return run.call(this, argv, true);
  },
};
