import type pg from 'pg';
import { type Command, CONFIG_FLAGS, CONFIG_FLAGS_HELP, configFromFlags, loggerFor, parseCommandLine, printHelp, UsageError } from '../command.ts';
import { formatTable } from '../format-table.ts';
import { withDatabase } from '../with-database.ts';

const help = `Usage: code-insights backfill <status|retry|front|back|cancel> [ID] [--json]

  backfill status [ID...]   progress of backfills (all that are not completed, or the given ones)
  backfill retry ID         restart the backfill's repository iterator from the first repository
  backfill front ID         move it to the front of the queue (estimated cost 0)
  backfill back ID          move it to the back of the queue (cost above every other)
  backfill cancel ID        stop it between pages (retry resumes it)

The same operations are SQL functions: backfill_retry(id), backfill_move_to_front(id),
backfill_move_to_back(id), backfill_cancel(id); progress is the backfill_status view.

Options:
  --all          with status: completed backfills too
  --json         print the result as JSON
  -h, --help     show this help

${CONFIG_FLAGS_HELP}

Examples:
  code-insights backfill status
  code-insights backfill status 12 --json
  code-insights backfill front 12`;

export interface BackfillStatusRow {
  backfill_id: number;
  series_id: string;
  query: string;
  state: string;
  estimated_cost: number | null;
  cost_bucket: number | null;
  repositories: number | null;
  repositories_done: number;
  errors: number;
  percent_complete: string;
  job_state: string | null;
  worker_hostname: string | null;
  last_heartbeat_at: Date | null;
  failure_message: string | null;
}

export async function backfillStatus(pool: pg.Pool, ids: number[], all: boolean): Promise<BackfillStatusRow[]> {
  const { rows } = await pool.query<BackfillStatusRow>(
    `select * from backfill_status where (cardinality($1::int[]) > 0 and backfill_id = any($1::int[]))
        or (cardinality($1::int[]) = 0 and ($2 or state in ('new', 'processing'))) order by backfill_id`,
    [ids, all],
  );
  return rows;
}

/** The SQL function behind each admin action (each takes the backfill id). */
const OPERATIONS: Record<string, string> = {
  retry: 'backfill_retry',
  front: 'backfill_move_to_front',
  back: 'backfill_move_to_back',
  cancel: 'backfill_cancel',
};

export const backfill: Command = {
  name: 'backfill',
  summary: 'show backfill progress; retry, reorder or cancel backfills',
  help,
  async run(argv) {
    const { values, positionals } = parseCommandLine(argv, { ...CONFIG_FLAGS, json: { type: 'boolean' }, all: { type: 'boolean' } }, true);
    if (values.help) return printHelp(this);
    const [action, ...rest] = positionals;
    if (!action) throw new UsageError('missing action: status, retry, front, back or cancel');
    const ids = rest.map((arg) => {
      if (!/^\d+$/.test(arg)) throw new UsageError(`backfill id must be a number, not "${arg}"`);
      return Number(arg);
    });
    const config = configFromFlags(values);
    if (action === 'status') {
      return withDatabase(config, loggerFor(config), async (pool) => {
        const rows = await backfillStatus(pool, ids, Boolean(values.all));
        if (values.json) console.log(JSON.stringify(rows));
        else if (!rows.length) console.log(ids.length ? 'No such backfill.' : 'No backfill is queued or running.');
        else
          console.log(
            formatTable(
              ['ID', 'STATE', 'JOB', 'PROGRESS', 'REPOS', 'ERRORS', 'COST', 'BUCKET', 'WORKER', 'QUERY'],
              rows.map((r) => [
                r.backfill_id,
                r.state,
                r.job_state,
                `${r.percent_complete}%`,
                `${r.repositories_done}/${r.repositories ?? '?'}`,
                r.errors,
                r.estimated_cost,
                r.cost_bucket,
                r.worker_hostname,
                r.query,
              ]),
            ),
          );
        return ids.length && rows.length < ids.length ? 1 : 0;
      });
    }
    const operation = OPERATIONS[action];
    if (!operation) throw new UsageError(`unknown action "${action}": use status, retry, front, back or cancel`);
    if (ids.length !== 1) throw new UsageError(`backfill ${action} takes one backfill id`);
    return withDatabase(config, loggerFor(config), async (pool) => {
      await pool.query(`select ${operation}($1)`, [ids[0]]);
      // A separate statement: the function's changes are not visible to the one that called it.
      const [row] = await backfillStatus(pool, ids, true);
      if (values.json) console.log(JSON.stringify(row ?? null));
      else console.log(`backfill ${ids[0]}: ${action} done; now ${row?.state} (job ${row?.job_state}, cost ${row?.estimated_cost}, bucket ${row?.cost_bucket ?? '-'})`);
      return 0;
    });
  },
};
