// `insight list` and `insight show <view>`: the views (every one: the CLI acts as a DBA) and one
// view's lines, with a sparkline per line and its backfill status.
import type pg from 'pg';
import { CONFIG_FLAGS, configFromFlags, loggerFor, parseCommandLine, UsageError } from '../command.ts';
import { formatTable } from '../format-table.ts';
import { sparkline } from '../sparkline.ts';
import { withTransaction } from '../../db/with-transaction.ts';
import { withDatabase } from '../with-database.ts';

/** A view by id or unique id, or a usage error naming what was given. */
export async function findView(db: pg.Pool | pg.PoolClient, wanted: string): Promise<{ id: number; title: string; presentation_type: string }> {
  const { rows } = await db.query(
    `select id, title, presentation_type from insight_view where unique_id = $1 or ($1 ~ '^[0-9]{1,9}$' and id = $1::integer)`,
    [wanted],
  );
  if (!rows[0]) throw new UsageError(`no insight view "${wanted}" (give its id or unique id)`);
  return rows[0];
}

export async function listInsights(argv: string[]): Promise<number> {
  const { values } = parseCommandLine(argv.slice(1), { ...CONFIG_FLAGS, json: { type: 'boolean' } });
  const config = configFromFlags(values);
  return withDatabase(config, loggerFor(config), async (pool) => {
    const { rows } = await pool.query(
      `select v.id, v.unique_id, v.title, v.presentation_type as type, count(vs.insight_series_id)::int as series,
              insight_view_loading(v) as loading
         from insight_view v left join insight_view_series vs on vs.insight_view_id = v.id
        group by v.id order by v.id`,
    );
    if (values.json) console.log(JSON.stringify(rows));
    else if (!rows.length) console.log('No insights yet: code-insights insight create --help');
    else console.log(formatTable(['ID', 'TITLE', 'TYPE', 'SERIES', 'STATE'], rows.map((r) => [r.id, r.title, r.type, r.series, r.loading ? 'backfilling' : 'ready'])));
    return 0;
  });
}

export async function showInsight(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandLine(argv.slice(1), { ...CONFIG_FLAGS, json: { type: 'boolean' }, samples: { type: 'string' } }, true);
  if (positionals.length !== 1) throw new UsageError('use: code-insights insight show <view id or unique id> [--samples N] [--json]');
  const samples = values.samples === undefined ? null : Number(values.samples);
  if (samples !== null && (!Number.isInteger(samples) || samples < 1)) throw new UsageError('--samples must be a positive whole number');
  const config = configFromFlags(values);
  return withDatabase(config, loggerFor(config), async (pool) => {
    const view = await findView(pool, positionals[0]!);
    const lines = await pool.query(
      `select label, capture, times, "values" from insight_view_data((select v from insight_view v where v.id = $1), num_samples => $2)`,
      [view.id, samples],
    );
    const status = await pool.query(
      `select label, backfill_state, percent_complete, pending_jobs, incomplete_points from insight_view_series_status((select v from insight_view v where v.id = $1))`,
      [view.id],
    );
    if (values.json) {
      console.log(JSON.stringify({ ...view, lines: lines.rows, status: status.rows }));
      return 0;
    }
    console.log(`${view.title} (view ${view.id}, ${view.presentation_type.toLowerCase()} chart)`);
    if (!lines.rows.length) console.log('  no lines yet');
    for (const line of lines.rows) {
      const values: number[] = line.values;
      const first = line.times[0] ? new Date(line.times[0]).toISOString().slice(0, 10) : '';
      const last = line.times.at(-1) ? new Date(line.times.at(-1)).toISOString().slice(0, 10) : '';
      console.log(`  ${String(line.label).padEnd(24)} ${sparkline(values)}  ${values.at(-1) ?? 0} now (${values.length} samples, ${first} .. ${last})`);
    }
    for (const s of status.rows) {
      if (s.backfill_state && s.backfill_state !== 'completed') console.log(`  ${s.label}: backfill ${s.backfill_state}, ${s.percent_complete}% done, ${s.pending_jobs} job(s) pending`);
      if (s.incomplete_points > 0) console.log(`  ${s.label}: ${s.incomplete_points} incomplete point(s)`);
    }
    return 0;
  });
}

export async function deleteInsight(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandLine(argv.slice(1), { ...CONFIG_FLAGS, json: { type: 'boolean' } }, true);
  if (positionals.length !== 1) throw new UsageError('use: code-insights insight delete <view id or unique id>');
  const config = configFromFlags(values);
  return withDatabase(config, loggerFor(config), async (pool) => {
    const view = await findView(pool, positionals[0]!);
    await withTransaction(pool, async (client) => {
      const used = await client.query(`select coalesce(array_agg(insight_series_id), '{}') as ids from insight_view_series where insight_view_id = $1`, [view.id]);
      await client.query('delete from insight_view where id = $1', [view.id]);
      await client.query('select retire_unused_series($1)', [used.rows[0].ids]);
    });
    if (values.json) console.log(JSON.stringify({ deleted: view.id }));
    else console.log(`Deleted view ${view.id} (${view.title}); series no other view uses are retired and pruned later.`);
    return 0;
  });
}
