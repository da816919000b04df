// `insight list`, `insight show <view>` and `insight delete <view>`: the views (every one: the CLI
// acts as a DBA), one view's lines with a sparkline per line and its backfill status, and deleting
// a view through the core writer the API uses.
import { CONFIG_FLAGS, configFromFlags, loggerFor, parseCommandLine, UsageError } from '../command.ts';
import { formatTable } from '../format-table.ts';
import { sparkline } from '../sparkline.ts';
import type { Queryable } from '../../store/queryable.ts';
import * as views from '../../store/views.ts';
import { withDatabase } from '../with-database.ts';

/** A view by id or unique id, or a usage error naming what was given. */
export async function findView(db: Queryable, wanted: string): Promise<views.View> {
  const view = await views.findView(db, wanted);
  if (!view) throw new UsageError(`no insight view "${wanted}" (give its id or unique id)`);
  return view;
}

/**
 * Runs a core writer and turns its refusals into CLI errors: P0002 (no such dashboard, view or
 * grant) and 22023 (bad input, such as an empty title) are usage errors with the core's message, as
 * the CLI's own checks are; anything else (40001 stale, ...) fails with its message, exit code 1.
 */
export async function throughCore<T>(work: Promise<T>): Promise<T> {
  try {
    return await work;
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (code === 'P0002' || code === '22023') throw new UsageError((error as Error).message);
    throw error;
  }
}

export async function listInsights(argv: string[]): Promise<number> {
  const { values } = parseCommandLine(argv.slice(1), { ...CONFIG_FLAGS, json: { type: 'boolean' } });
  const config = configFromFlags(values);
  return withDatabase(config, loggerFor(config), async (pool) => {
    const rows = await views.listViews(pool);
    if (values.json) console.log(JSON.stringify(rows));
    else if (!rows.length) console.log('No insights yet: code-insights insight create --help');
    else {
      const table = rows.map((r) => [r.id, r.title, r.type, r.series, r.loading ? 'backfilling' : 'ready']);
      console.log(formatTable(['ID', 'TITLE', 'TYPE', 'SERIES', 'STATE'], table));
    }
    return 0;
  });
}

export async function showInsight(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandLine(
    argv.slice(1),
    { ...CONFIG_FLAGS, json: { type: 'boolean' }, samples: { type: 'string' } },
    true,
  );
  if (positionals.length !== 1) {
    throw new UsageError('use: code-insights insight show <view id or unique id> [--samples N] [--json]');
  }
  const samples = values.samples === undefined ? null : Number(values.samples);
  if (samples !== null && (!Number.isInteger(samples) || samples < 1)) {
    throw new UsageError('--samples must be a positive whole number');
  }
  const config = configFromFlags(values);
  return withDatabase(config, loggerFor(config), async (pool) => {
    const view = await findView(pool, positionals[0]!);
    const lines = await views.viewLines(pool, view.id, samples);
    const status = await views.viewSeriesStatus(pool, view.id);
    if (values.json) {
      console.log(JSON.stringify({ ...view, lines, status }));
      return 0;
    }
    console.log(`${view.title} (view ${view.id}, ${view.presentation_type.toLowerCase()} chart)`);
    if (!lines.length) console.log('  no lines yet');
    for (const line of lines) {
      const values = line.values;
      const first = line.times[0] ? new Date(line.times[0]).toISOString().slice(0, 10) : '';
      const newest = line.times.at(-1);
      const last = newest ? new Date(newest).toISOString().slice(0, 10) : '';
      const now = `${values.at(-1) ?? 0} now (${values.length} samples, ${first} .. ${last})`;
      console.log(`  ${String(line.label).padEnd(24)} ${sparkline(values)}  ${now}`);
    }
    for (const s of status) {
      if (s.backfill_state && s.backfill_state !== 'completed') {
        const progress = `${s.percent_complete}% done, ${s.pending_jobs} job(s) pending`;
        console.log(`  ${s.label}: backfill ${s.backfill_state}, ${progress}`);
      }
      if (s.incomplete_points > 0) console.log(`  ${s.label}: ${s.incomplete_points} incomplete point(s)`);
    }
    return 0;
  });
}

export async function deleteInsight(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandLine(
    argv.slice(1),
    { ...CONFIG_FLAGS, json: { type: 'boolean' }, 'expected-etag': { type: 'string' } },
    true,
  );
  if (positionals.length !== 1) {
    throw new UsageError('use: code-insights insight delete <view id or unique id> [--expected-etag ETAG]');
  }
  const given = values['expected-etag'];
  const expectedEtag = typeof given === 'string' ? given : undefined;
  if (expectedEtag === '') {
    throw new UsageError('--expected-etag must not be empty (insight show --json prints the etag)');
  }
  const config = configFromFlags(values);
  return withDatabase(config, loggerFor(config), async (pool) => {
    const view = await findView(pool, positionals[0]!);
    // The core checks the etag (when given) under the view's lock, as for the API.
    await throughCore(views.deleteView(pool, view.id, expectedEtag));
    if (values.json) console.log(JSON.stringify({ deleted: view.id }));
    else {
      console.log(`Deleted view ${view.id} (${view.title}); series no other view uses are retired and pruned later.`);
    }
    return 0;
  });
}
