import fs from 'node:fs';
import path from 'node:path';
import type pg from 'pg';
import { errorMessage } from '../../logger.ts';
import { redactCredentials } from '../../git/redact-credentials.ts';
import type { Repository } from '../../repos/repository.ts';
import { syncRepository } from '../../repos/sync-repository.ts';
import {
  listRepositories,
  registerRepository,
  repositoriesNamed,
  repositoryRestrictions,
  restrictRepository,
} from '../../store/repositories-admin.ts';
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

const help = `Usage: code-insights repos <add|list|sync|restrict> [options]

  repos add <path-or-url> [--name N] [--branch B] [--no-sync] [--json]
      Register a git repository by local path or clone URL and fetch it now (unless --no-sync).
      The name defaults to host/path of a URL or the last part of a path; the branch to the
      repository's HEAD branch.
  repos list [--json]
      Every registered repository with its branch, last fetch, last fetch error and, for a
      restricted one, who may see it.
  repos sync [NAME...] [--json]
      Fetch the named repositories (all when none are named) now. Exit code 1 if any fails.
  repos restrict NAME [--user ID]... [--org ID]... [--json]
      Restrict a repository to these users and orgs (as a private code host does): everyone
      else's counts, pies, drill-downs and exports leave it out. With no --user or --org it is
      visible to everyone again. Admin tokens always see it.

${CONFIG_FLAGS_HELP}

Examples:
  code-insights repos add ../my-project --name acme/my-project
  code-insights repos add https://example.com/acme/api.git --branch main
  code-insights repos list --json
  code-insights repos sync acme/my-project
  code-insights repos restrict acme/secret --user 12 --org 3`;

interface SyncOutcome {
  name: string;
  ok: boolean;
  branch?: string | null;
  head?: string | null;
  error?: string;
}

async function syncAll(pool: pg.Pool, dataDir: string, repositories: Repository[]): Promise<SyncOutcome[]> {
  const outcomes: SyncOutcome[] = [];
  for (const repository of repositories) {
    try {
      const state = await syncRepository({ pool, dataDir, repository });
      outcomes.push({ name: repository.name, ok: true, branch: state.defaultBranch, head: state.head });
    } catch (error) {
      outcomes.push({ name: repository.name, ok: false, error: errorMessage(error) });
    }
  }
  return outcomes;
}

function describe(outcome: SyncOutcome): string {
  if (!outcome.ok) return `${outcome.name}: fetch failed: ${outcome.error}`;
  return `${outcome.name}: ${outcome.branch ? `${outcome.branch} at ${outcome.head?.slice(0, 12) ?? '(no commits yet)'}` : 'empty repository'}`;
}

export const repos: Command = {
  name: 'repos',
  summary: 'register, list and fetch git repositories',
  help,
  async run(argv) {
    const { values, positionals } = parseCommandLine(
      argv,
      {
        ...CONFIG_FLAGS,
        name: { type: 'string' },
        branch: { type: 'string' },
        'no-sync': { type: 'boolean' },
        json: { type: 'boolean' },
        user: { type: 'string', multiple: true },
        org: { type: 'string', multiple: true },
      },
      true,
    );
    if (values.help) return printHelp(this);
    const [action, ...rest] = positionals;
    if (!action) throw new UsageError('missing action: add, list, sync or restrict');
    const config = configFromFlags(values);
    const logger = loggerFor(config);
    const json = Boolean(values.json);

    if (action === 'add') {
      if (rest.length !== 1) throw new UsageError('repos add takes one path or clone URL');
      const target = rest[0]!;
      // A local path is stored absolute, so workers find it whatever their working directory.
      const cloneUrl = fs.existsSync(target) ? path.resolve(target) : target;
      return withDatabase(config, logger, async (pool) => {
        const repository = await registerRepository(
          pool,
          cloneUrl,
          (values.name as string | undefined) ?? null,
          (values.branch as string | undefined) ?? null,
        );
        const outcome = values['no-sync'] ? undefined : (await syncAll(pool, config.DATA_DIR, [repository]))[0]!;
        if (json)
          console.log(
            JSON.stringify({
              id: repository.id,
              name: repository.name,
              clone_url: redactCredentials(repository.clone_url),
              sync: outcome ?? null,
            }),
          );
        else {
          console.log(
            `Registered ${repository.name} (id ${repository.id}) from ${redactCredentials(repository.clone_url)}`,
          );
          if (outcome) console.log(describe(outcome));
        }
        return outcome && !outcome.ok ? 1 : 0;
      });
    }
    if (action === 'list') {
      if (rest.length) throw new UsageError('repos list takes no arguments');
      return withDatabase(config, logger, async (pool) => {
        const restrictions = new Map((await repositoryRestrictions(pool)).map((r) => [r.repo_id, r]));
        const rows = (await listRepositories(pool)).map((r) => ({
          ...r,
          clone_url: redactCredentials(r.clone_url),
          restricted_to: restrictions.has(r.id)
            ? { user_ids: restrictions.get(r.id)!.user_ids, org_ids: restrictions.get(r.id)!.org_ids }
            : null,
        }));
        const whoMaySee = (r: (typeof rows)[number]) =>
          r.restricted_to
            ? [
                ...r.restricted_to.user_ids.map((id) => `user ${id}`),
                ...r.restricted_to.org_ids.map((id) => `org ${id}`),
              ].join(', ')
            : 'everyone';
        if (json) console.log(JSON.stringify(rows));
        else if (!rows.length)
          console.log('No repositories registered yet; add one with `code-insights repos add <path-or-url>`.');
        else
          console.log(
            formatTable(
              ['ID', 'NAME', 'BRANCH', 'LAST FETCHED', 'VISIBLE TO', 'LAST ERROR'],
              rows.map((r) => [
                r.id,
                r.name,
                r.default_branch,
                r.last_fetched_at?.toISOString() ?? 'never',
                whoMaySee(r),
                r.last_fetch_error,
              ]),
            ),
          );
        return 0;
      });
    }
    if (action === 'sync') {
      return withDatabase(config, logger, async (pool) => {
        const rows = await repositoriesNamed(pool, rest);
        const unknown = rest.filter((name) => !rows.some((r) => r.name.toLowerCase() === name.toLowerCase()));
        if (unknown.length) throw new Error(`unknown repositories: ${unknown.join(', ')}`);
        const outcomes = await syncAll(pool, config.DATA_DIR, rows);
        if (json) console.log(JSON.stringify(outcomes));
        else for (const outcome of outcomes) console.log(describe(outcome));
        return outcomes.every((o) => o.ok) ? 0 : 1;
      });
    }
    if (action === 'restrict') {
      if (rest.length !== 1) throw new UsageError('repos restrict takes one repository name');
      const userIds = ((values.user as string[] | undefined) ?? []).map((id) => parseId(id, '--user'));
      const orgIds = ((values.org as string[] | undefined) ?? []).map((id) => parseId(id, '--org'));
      return withDatabase(config, logger, async (pool) => {
        const [repository] = await repositoriesNamed(pool, rest);
        if (!repository) throw new UsageError(`unknown repository: ${rest[0]}`);
        await restrictRepository(pool, repository.id, userIds, orgIds);
        const whom = [...userIds.map((id) => `user ${id}`), ...orgIds.map((id) => `org ${id}`)].join(', ');
        if (json)
          console.log(JSON.stringify({ id: repository.id, name: repository.name, user_ids: userIds, org_ids: orgIds }));
        else
          console.log(
            whom
              ? `${repository.name} is visible to ${whom} (and admins) only.`
              : `${repository.name} is visible to everyone.`,
          );
        return 0;
      });
    }
    throw new UsageError(`unknown action "${action}": use add, list, sync or restrict`);
  },
};
