import { resolveJwtSecret } from '../../auth/jwt-secret.ts';
import { issueToken } from '../../auth/tokens.ts';
import {
  type Command,
  CONFIG_FLAGS,
  CONFIG_FLAGS_HELP,
  configFromFlags,
  parseCommandLine,
  printHelp,
  UsageError,
} from '../command.ts';
import { parseId } from '../parse-id.ts';

const help = `Usage: code-insights token --user ID [--org ID]... [--admin] [--ttl 1h] [--json]

Issues an API token (an HS256 JWT signed with JWT_SECRET, or the secret generated in
DATA_DIR/jwt-secret) for a user, with the orgs they belong to and, optionally, the admin claim.
Send it as "Authorization: Bearer <token>". The API shows a user exactly what their grants allow:
views and dashboards granted to them, to one of their orgs, or to everyone.

Options:
  --user ID      user id (the sub claim), required
  --org ID       an org the user belongs to; repeat for more
  --admin        admin claim: queue and repository operations
  --ttl T        lifetime: 30m, 1h, 7d ... (default 1h)
  --json         print {"token", "expires_at"}
  -h, --help     show this help

${CONFIG_FLAGS_HELP}

Examples:
  code-insights token --user 42 --org 7 --ttl 8h
  curl -H "Authorization: Bearer $(code-insights token --user 42)" -d '{"query":"{ allInsightViews { nodes { title } } }"}' \\
       -H 'content-type: application/json' http://127.0.0.1:4000/graphql`;

export const token: Command = {
  name: 'token',
  summary: 'issue an API token for a user (orgs, admin, lifetime)',
  help,
  async run(argv) {
    const { values } = parseCommandLine(argv, {
      ...CONFIG_FLAGS,
      user: { type: 'string' },
      org: { type: 'string', multiple: true },
      admin: { type: 'boolean' },
      ttl: { type: 'string' },
      json: { type: 'boolean' },
    });
    if (values.help) return printHelp(this);
    if (typeof values.user !== 'string') throw new UsageError('--user is required');
    const userId = parseId(values.user, '--user');
    const orgIds = ((values.org as unknown as string[] | undefined) ?? []).map((org) => parseId(org, '--org'));
    const ttl = (values.ttl as string | undefined) ?? '1h';
    const match = ttl.match(/^(\d+)\s*(s|m|h|d|w)$/);
    if (!match || Number(match[1]) < 1) throw new UsageError(`--ttl must look like 30m, 1h or 7d, not "${ttl}"`);
    const seconds =
      Number(match[1]) * { s: 1, m: 60, h: 3600, d: 86400, w: 604800 }[match[2] as 's' | 'm' | 'h' | 'd' | 'w'];
    const config = configFromFlags(values);
    const jwt = await issueToken(
      { userId, orgIds, admin: Boolean(values.admin), ttl: `${seconds}s` },
      resolveJwtSecret(config),
    );
    const expiresAt = new Date(Date.now() + seconds * 1000).toISOString();
    console.log(values.json ? JSON.stringify({ token: jwt, expires_at: expiresAt }) : jwt);
    return 0;
  },
};
