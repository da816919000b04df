// `code-insights backfill ...`: history backfills for operators: their progress, and retrying,
// reordering or canceling one through the core's queue operations (src/store/backfill-queue.ts).
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
import {
  backfillStatus,
  cancelBackfill,
  moveBackfillToBack,
  moveBackfillToFront,
  retryBackfill,
} from '../../store/backfill-queue.ts';
import type { Queryable } from '../../store/queryable.ts';

const help = `Usage: code-insights backfill <status|retry|front|back|cancel> [ID] [--json]

  backfill status [ID...]   progress of backfills (all that are not completed, or the given ones)
  backfill retry ID         restart the backfill's repository iterator from the first repository
  backfill front ID         move it to the front of the queue (estimated cost 0)
  backfill back ID          move it to the back of the queue (cost above every other)
  backfill cancel ID        stop it between pages (retry resumes it)

The same operations are SQL functions: insights_core.backfill_retry(id),
insights_core.backfill_move_to_front(id), insights_core.backfill_move_to_back(id) and
insights_core.backfill_cancel(id); progress is the backfill_status view.

Options:
  --all          with status: completed backfills too
  --json         print the result as JSON
  -h, --help     show this help

${CONFIG_FLAGS_HELP}

Examples:
  code-insights backfill status
  code-insights backfill status --all
  code-insights backfill status 12 --json
  code-insights backfill front 12
  code-insights backfill cancel 12`;

/** The store operation behind each action word (each takes the backfill id). */
const OPERATIONS: Record<string, (db: Queryable, backfillId: number) => Promise<void>> = {
  retry: retryBackfill,
  front: moveBackfillToFront,
  back: moveBackfillToBack,
  cancel: cancelBackfill,
};

async function status(db: Queryable, ids: number[], all: boolean, json: boolean): Promise<number> {
  const rows = await backfillStatus(db, ids, all);
  if (json) console.log(JSON.stringify(rows));
  else if (!rows.length) console.log(ids.length ? 'No such backfill.' : 'No backfill is queued or running.');
  else {
    const table = rows.map((r) => [
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
    ]);
    const headers = ['ID', 'STATE', 'JOB', 'PROGRESS', 'REPOS', 'ERRORS', 'COST', 'BUCKET', 'WORKER', 'QUERY'];
    console.log(formatTable(headers, table));
  }
  return ids.length && rows.length < ids.length ? 1 : 0;
}

export const backfill: Command = {
  name: 'backfill',
  summary: 'show backfill progress; retry, reorder or cancel backfills',
  help,
  async run(argv) {
    const { values, positionals } = parseCommandLine(
      argv,
      { ...CONFIG_FLAGS, json: { type: 'boolean' }, all: { type: 'boolean' } },
      true,
    );
    if (values.help) return printHelp(this);
    const [action, ...rest] = positionals;
    if (!action) throw new UsageError('missing action: status, retry, front, back or cancel');
    const ids = rest.map((arg) => {
      if (!/^\d+$/.test(arg)) throw new UsageError(`backfill id must be a number, not "${arg}"`);
      return Number(arg);
    });
    const json = values.json === true;
    const config = configFromFlags(values);
    if (action === 'status') {
      return withDatabase(config, loggerFor(config), (pool) => status(pool, ids, Boolean(values.all), json));
    }
    const operation = Object.hasOwn(OPERATIONS, action) ? OPERATIONS[action] : undefined;
    if (!operation) throw new UsageError(`unknown action "${action}": use status, retry, front, back or cancel`);
    if (ids.length !== 1) throw new UsageError(`backfill ${action} takes one backfill id`);
    const backfillId = ids[0]!;
    return withDatabase(config, loggerFor(config), async (pool) => {
      await operation(pool, backfillId);
      // A separate statement: the function's changes are not visible to the one that called it.
      const [row] = await backfillStatus(pool, ids, true);
      if (json) console.log(JSON.stringify(row ?? null));
      else {
        const where = `cost ${row?.estimated_cost}, bucket ${row?.cost_bucket ?? '-'}`;
        console.log(`backfill ${backfillId}: ${action} done; now ${row?.state} (job ${row?.job_state}, ${where})`);
      }
      return 0;
    });
  },
};
