// The code-insights command line: dispatches to one module per command in src/cli/commands/.
import fs from 'node:fs';
import path from 'node:path';
import { ConfigError } from '../config.ts';
import { projectRoot } from '../project-root.ts';
import { errorMessage } from '../logger.ts';
import { type Command, UsageError } from './command.ts';
import { backfill } from './commands/backfill.ts';
import { dashboard } from './commands/dashboard.ts';
import { grant, revoke } from './commands/grant.ts';
import { jobs } from './commands/jobs.ts';
import { insight } from './commands/insight.ts';
import { migrate } from './commands/migrate.ts';
import { repos } from './commands/repos.ts';
import { serve } from './commands/serve.ts';
import { schema } from './commands/schema.ts';
import { series } from './commands/series.ts';
import { token } from './commands/token.ts';
import { worker } from './commands/worker.ts';

const commands: Command[] = [
  serve,
  worker,
  migrate,
  repos,
  insight,
  dashboard,
  grant,
  revoke,
  series,
  backfill,
  jobs,
  token,
  schema,
];

const mainHelp = `Usage: code-insights <command> [options]

Code Insights tracks how code changes over time: search queries over git repositories, sampled
on a schedule, backfilled, and served through a GraphQL API.

Commands:
${commands.map((c) => `  ${c.name.padEnd(10)} ${c.summary}`).join('\n')}
  help       show help for a command

Options:
  -h, --help     show this help
  -v, --version  print the version

Run \`code-insights <command> --help\` for a command's options and examples.
Exit codes: 0 success, 1 failure, 2 usage error.`;

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h') {
    console.log(mainHelp);
    return 0;
  }
  if (name === '--version' || name === '-v') {
    const pkg = JSON.parse(fs.readFileSync(path.join(projectRoot, 'package.json'), 'utf8')) as { version: string };
    console.log(`code-insights ${pkg.version} (node ${process.version})`);
    return 0;
  }
  if (name === 'help') {
    const target = commands.find((c) => c.name === rest[0]);
    console.log(target ? target.help : mainHelp);
    return target || rest[0] === undefined ? 0 : 2;
  }
  const command = commands.find((c) => c.name === name);
  if (!command) {
    process.stderr.write(`code-insights: unknown command "${name}"; run \`code-insights --help\` for the list\n`);
    return 2;
  }
  try {
    return await command.run(rest);
  } catch (error) {
    if (error instanceof UsageError) {
      process.stderr.write(
        `code-insights ${command.name}: ${error.message}\nRun \`code-insights ${command.name} --help\` for usage.\n`,
      );
      return 2;
    }
    if (error instanceof ConfigError) {
      process.stderr.write(`code-insights: ${error.message}\n`);
      return 1;
    }
    process.stderr.write(`code-insights ${command.name}: ${errorMessage(error)}\n`);
    return 1;
  }
}

process.exitCode = await main(process.argv.slice(2));
