// `code-insights jobs ...`: the Graphile Worker queue for operators: what is waiting, running or
// failed, and retrying or removing jobs (the SQL recipes of docs/operations.md, as commands).
import { type Command, CONFIG_FLAGS, CONFIG_FLAGS_HELP, configFromFlags, loggerFor, parseCommandLine, printHelp, UsageError } from '../command.ts';
import { formatTable } from '../format-table.ts';
import { withDatabase } from '../with-database.ts';

const help = `Usage: code-insights jobs <list|retry|remove|runs> ... [--json]

  jobs list [--failed]      waiting, running and failed jobs (--failed: only those out of attempts)
  jobs retry ID...          run these jobs again now, with fresh attempts
  jobs remove ID...         delete jobs that should not run (not ones running now)
  jobs runs                 recurring tasks: schedule, last success and failure, overdue (task_run_status)

Options:
  --failed       with list: only jobs that have given up
  --json         print the result as JSON
  -h, --help     show this help

${CONFIG_FLAGS_HELP}

Examples:
  code-insights jobs list --failed
  code-insights jobs retry 123 124
  code-insights jobs runs --json`;

const ids = (texts: string[]) => {
  if (!texts.length) throw new UsageError('give one or more job ids');
  return texts.map((text) => {
    if (!/^[1-9]\d{0,17}$/.test(text)) throw new UsageError(`a job id is a number, got "${text}"`);
    return text;
  });
};

export const jobs: Command = {
  name: 'jobs',
  summary: 'the job queue: list, retry and remove jobs; the run log of recurring tasks',
  help,
  async run(argv) {
    const { values, positionals } = parseCommandLine(argv, { ...CONFIG_FLAGS, json: { type: 'boolean' }, failed: { type: 'boolean' } }, true);
    if (values.help) return printHelp(this);
    const [action, ...rest] = positionals;
    if (!action || !['list', 'retry', 'remove', 'runs'].includes(action)) throw new UsageError('use: code-insights jobs <list|retry ID...|remove ID...|runs>');
    const config = configFromFlags(values);
    return withDatabase(config, loggerFor(config), async (pool) => {
      if (action === 'list') {
        const { rows } = await pool.query(
          `select id, task_identifier as task, key, run_at, attempts, max_attempts, locked_by, last_error,
                  case when locked_at is not null then 'running' when attempts >= max_attempts then 'failed'
                       when run_at > now() then 'scheduled' else 'waiting' end as state
             from graphile_worker.jobs where not $1 or attempts >= max_attempts order by run_at, id`,
          [values.failed === true],
        );
        if (values.json) console.log(JSON.stringify(rows));
        else if (!rows.length) console.log(values.failed ? 'No failed jobs.' : 'The queue is empty.');
        else console.log(formatTable(['ID', 'TASK', 'STATE', 'RUN AT', 'ATTEMPTS', 'LAST ERROR'], rows.map((r) => [r.id, r.task, r.state, r.run_at.toISOString(), `${r.attempts}/${r.max_attempts}`, r.last_error?.split('\n')[0]?.slice(0, 60)])));
        return 0;
      }
      if (action === 'runs') {
        const { rows } = await pool.query('select * from task_run_status order by task_name');
        if (values.json) console.log(JSON.stringify(rows));
        else console.log(formatTable(['TASK', 'SCHEDULE', 'LAST SUCCESS', 'LAST FAILURE', 'OVERDUE'], rows.map((r) => [r.task_name, r.schedule, r.last_success_at?.toISOString() ?? 'never', r.last_failure_at?.toISOString() ?? '', r.overdue ? 'OVERDUE' : ''])));
        return 0;
      }
      const wanted = ids(rest);
      const { rows } =
        action === 'retry'
          ? await pool.query('select id from graphile_worker.reschedule_jobs($1::bigint[], run_at := now(), attempts := 0)', [wanted])
          : await pool.query('select id from graphile_worker.complete_jobs($1::bigint[])', [wanted]);
      const done = rows.map((r) => String(r.id));
      const missed = wanted.filter((id) => !done.includes(id));
      if (values.json) console.log(JSON.stringify({ [action === 'retry' ? 'retried' : 'removed']: done.map(Number), not_found_or_running: missed.map(Number) }));
      else {
        if (done.length) console.log(`${action === 'retry' ? 'Retrying' : 'Removed'} job(s) ${done.join(', ')}.`);
        if (missed.length) console.log(`Not found or running now: ${missed.join(', ')}.`);
      }
      return missed.length ? 1 : 0;
    });
  },
};
