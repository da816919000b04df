// `code-insights jobs ...`: the Graphile Worker queue for operators: what is waiting, running or
// failed, and retrying or removing jobs (the SQL recipes of docs/operations.md, as commands), through
// Graphile Worker's public admin functions only (src/store/jobs.ts).
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
import { withDatabase } from '../with-database.ts';
import { completeJobs, listJobs, rescheduleJobs, taskRunStatus } from '../../store/jobs.ts';
import type { Queryable } from '../../store/queryable.ts';

const help = `Usage: code-insights jobs <list|retry|remove|runs> ... [--json]

  jobs list [--failed]      waiting, running and failed jobs (--failed: only those out of attempts)
  jobs retry ID...          run these jobs again now, with fresh attempts
  jobs remove ID...         delete jobs that should not run (not ones running now)
  jobs runs                 recurring tasks: schedule, last success and failure, overdue
                            (the insights_core.task_run_status view)

Retry and remove use Graphile Worker's graphile_worker.reschedule_jobs and complete_jobs; a job
that is locked (running now) or gone is reported and the exit code is 1.

Options:
  --failed       with list: only jobs that have given up
  --json         print the result as JSON
  -h, --help     show this help

${CONFIG_FLAGS_HELP}

Examples:
  code-insights jobs list --failed
  code-insights jobs retry 123 124
  code-insights jobs remove 125
  code-insights jobs runs --json`;

/** The job ids given, as text (bigint), or a usage error naming the first that is not one. */
const ids = (texts: string[]) => {
  if (!texts.length) throw new UsageError('give one or more job ids');
  return texts.map((text) => {
    if (!/^[1-9]\d{0,17}$/.test(text)) throw new UsageError(`a job id is a number, got "${text}"`);
    return text;
  });
};

async function list(db: Queryable, failedOnly: boolean, json: boolean): Promise<void> {
  const rows = await listJobs(db, failedOnly);
  if (json) console.log(JSON.stringify(rows));
  else if (!rows.length) console.log(failedOnly ? 'No failed jobs.' : 'The queue is empty.');
  else {
    const table = rows.map((r) => [
      r.id,
      r.task,
      r.state,
      r.run_at.toISOString(),
      `${r.attempts}/${r.max_attempts}`,
      r.last_error?.split('\n')[0]?.slice(0, 60),
    ]);
    console.log(formatTable(['ID', 'TASK', 'STATE', 'RUN AT', 'ATTEMPTS', 'LAST ERROR'], table));
  }
}

async function runs(db: Queryable, json: boolean): Promise<void> {
  const rows = await taskRunStatus(db);
  if (json) console.log(JSON.stringify(rows));
  else {
    const table = rows.map((r) => [
      r.task_name,
      r.schedule,
      r.last_success_at?.toISOString() ?? 'never',
      r.last_failure_at?.toISOString() ?? '',
      r.overdue ? 'OVERDUE' : '',
    ]);
    console.log(formatTable(['TASK', 'SCHEDULE', 'LAST SUCCESS', 'LAST FAILURE', 'OVERDUE'], table));
  }
}

export const jobs: Command = {
  name: 'jobs',
  summary: 'the job queue: list, retry and remove jobs; the run log of recurring tasks',
  help,
  async run(argv) {
    const { values, positionals } = parseCommandLine(
      argv,
      { ...CONFIG_FLAGS, json: { type: 'boolean' }, failed: { type: 'boolean' } },
      true,
    );
    if (values.help) return printHelp(this);
    const [action, ...rest] = positionals;
    if (!action || !['list', 'retry', 'remove', 'runs'].includes(action)) {
      throw new UsageError('use: code-insights jobs <list|retry ID...|remove ID...|runs>');
    }
    const json = values.json === true;
    const config = configFromFlags(values);
    return withDatabase(config, loggerFor(config), async (pool) => {
      if (action === 'list') {
        await list(pool, values.failed === true, json);
        return 0;
      }
      if (action === 'runs') {
        await runs(pool, json);
        return 0;
      }
      const wanted = ids(rest);
      const retrying = action === 'retry';
      const done = retrying ? await rescheduleJobs(pool, wanted) : await completeJobs(pool, wanted);
      const missed = wanted.filter((id) => !done.includes(id));
      if (json) {
        const key = retrying ? 'retried' : 'removed';
        console.log(JSON.stringify({ [key]: done.map(Number), not_found_or_running: missed.map(Number) }));
      } else {
        if (done.length) console.log(`${retrying ? 'Retrying' : 'Removed'} job(s) ${done.join(', ')}.`);
        if (missed.length) console.log(`Not found or running now: ${missed.join(', ')}.`);
      }
      return missed.length ? 1 : 0;
    });
  },
};
