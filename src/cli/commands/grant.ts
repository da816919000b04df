// `code-insights grant` / `revoke`: share a view or dashboard with a user, an org or everyone, as a
// DBA, through the core writers the API's grant mutations call (src/store/grants.ts): granting
// twice changes nothing, and a dashboard's grant or revoke bumps its last_updated_at.
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
import { findDashboard } from '../../store/dashboards.ts';
import * as grants from '../../store/grants.ts';
import type { Queryable } from '../../store/queryable.ts';
import { findView, throughCore } from './insight-read.ts';

const help = `Usage: code-insights grant <view|dashboard> ID (--user ID | --org ID | --global) [--role ROLE] [--json]
       code-insights grant list <view|dashboard> ID [--json]
       code-insights revoke <view|dashboard> GRANT-ID [--json]

A view is visible to a user with a grant naming them, one of their orgs, or everyone, or when it is
on a dashboard they can see; dashboards likewise. Views are given by id or unique id. A grant names
exactly one grantee and a role: viewer (reads), editor (also changes it and shares it as viewer or
editor) or owner (also deletes it, gives any role and revokes others' grants); a grant to everyone
is always viewer. Granting the same again changes nothing, or sets the role when it differs. A
dashboard's grant and revoke bump its last_updated_at, as the API's do.

Options:
  --user ID      grant to one user (the token's sub)
  --org ID       grant to everyone in an org (the token's org_ids)
  --global       grant to everyone, signed in or not
  --role ROLE    viewer (default), editor or owner
  --json         print the result as JSON
  -h, --help     show this help

${CONFIG_FLAGS_HELP}

Examples:
  code-insights grant view 7 --org 3
  code-insights grant view 7 --user 12 --role editor
  code-insights grant dashboard 2 --global
  code-insights grant list view 7
  code-insights revoke view 15`;

type Kind = 'view' | 'dashboard';
type Grant = grants.ViewGrant | grants.DashboardGrant;

/** The id of the view or dashboard named on the command line, or a usage error. */
async function targetId(db: Queryable, kind: Kind, target: string): Promise<number> {
  if (kind === 'view') return (await findView(db, target)).id;
  const id = parseId(target, 'dashboard');
  if (!(await findDashboard(db, id))) throw new UsageError(`no dashboard ${id}`);
  return id;
}

function listGrants(db: Queryable, kind: Kind, id: number): Promise<Grant[]> {
  return kind === 'view' ? grants.listViewGrants(db, id) : grants.listDashboardGrants(db, id);
}

function addGrant(db: Queryable, kind: Kind, id: number, grantee: grants.Grantee, role: grants.GrantRole) {
  const added =
    kind === 'view' ? grants.addViewGrant(db, id, grantee, role) : grants.addDashboardGrant(db, id, grantee, role);
  return throughCore<Grant>(added);
}

function removeGrant(db: Queryable, kind: Kind, grantId: number) {
  const removed = kind === 'view' ? grants.removeViewGrant(db, grantId) : grants.removeDashboardGrant(db, grantId);
  return throughCore<grants.RemovedGrant<Grant>>(removed);
}

async function run(this: Command, argv: string[], revoking: boolean): Promise<number> {
  const { values, positionals } = parseCommandLine(
    argv,
    {
      ...CONFIG_FLAGS,
      json: { type: 'boolean' },
      user: { type: 'string' },
      org: { type: 'string' },
      global: { type: 'boolean' },
      role: { type: 'string' },
    },
    true,
  );
  if (values.help) return printHelp(this);
  const listing = !revoking && positionals[0] === 'list';
  const [kind, target] = listing ? positionals.slice(1) : positionals;
  if (kind !== 'view' && kind !== 'dashboard') {
    throw new UsageError(`use: code-insights ${revoking ? 'revoke' : 'grant'} <view|dashboard> ...`);
  }
  if (!target || positionals.length !== (listing ? 3 : 2)) {
    throw new UsageError(`give one ${revoking ? 'grant id' : kind}`);
  }
  // Checked here too (the core refuses it as well) so the message names the flags.
  const principals = [values.user !== undefined, values.org !== undefined, values.global === true].filter(Boolean);
  if (!revoking && !listing && principals.length !== 1) {
    throw new UsageError('give exactly one of --user ID, --org ID or --global');
  }
  const role = (values.role ?? 'viewer') as grants.GrantRole;
  if (!grants.GRANT_ROLES.includes(role)) {
    throw new UsageError(`--role is one of ${grants.GRANT_ROLES.join(', ')}, not "${values.role}"`);
  }
  if (role !== 'viewer' && values.global) throw new UsageError('a grant to everyone (--global) can only be viewer');
  const config = configFromFlags(values);
  return withDatabase(config, loggerFor(config), async (pool) => {
    if (revoking) {
      const removed = await removeGrant(pool, kind, parseId(target, 'GRANT-ID'));
      console.log(values.json ? JSON.stringify(removed) : `Revoked grant ${target}.`);
      return 0;
    }
    const id = await targetId(pool, kind, target);
    if (listing) {
      const rows = await listGrants(pool, kind, id);
      if (values.json) console.log(JSON.stringify(rows));
      else {
        const table = rows.map((r) => [r.id, r.user_id, r.org_id, r.global ? 'yes' : '', r.role]);
        console.log(formatTable(['GRANT', 'USER', 'ORG', 'EVERYONE', 'ROLE'], table));
      }
      return 0;
    }
    const grantee: grants.Grantee = {
      userId: values.user === undefined ? null : parseId(values.user, '--user'),
      orgId: values.org === undefined ? null : parseId(values.org, '--org'),
      isGlobal: values.global === true,
    };
    const row = await addGrant(pool, kind, id, grantee, role);
    const whom = grantee.isGlobal ? 'everyone' : grantee.userId ? `user ${grantee.userId}` : `org ${grantee.orgId}`;
    const what = kind === 'view' ? 'View' : 'Dashboard';
    console.log(
      values.json ? JSON.stringify(row) : `${what} ${id} is shared with ${whom} as ${row.role} (grant ${row.id}).`,
    );
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
