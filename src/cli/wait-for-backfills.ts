// `insight create --wait`: polls the backfills of the new series until each is completed or failed,
// drawing a progress bar on a terminal and plain lines otherwise (logs, CI).
import type pg from 'pg';
import { latestBackfillProgress } from '../store/backfill-wait.ts';

export interface WaitOptions {
  pool: pg.Pool;
  seriesIds: number[];
  out?: NodeJS.WriteStream;
  pollMs?: number;
}

interface Progress {
  done: number;
  total: number;
  states: string[];
  errors: number;
}

async function progress(pool: pg.Pool, seriesIds: number[]): Promise<Progress> {
  const rows = await latestBackfillProgress(pool, seriesIds);
  return {
    done: rows.reduce(
      (n, r) =>
        n +
        (r.state === 'completed' || r.state === 'failed'
          ? (r.repositories ?? 0)
          : Math.min(r.repositories_done, r.repositories ?? 0)),
      0,
    ),
    total: rows.reduce((n, r) => n + (r.repositories ?? 0), 0),
    states: rows.map((r) => r.state),
    errors: rows.reduce((n, r) => n + r.errors, 0),
  };
}

function bar(fraction: number, width = 30): string {
  const filled = Math.round(fraction * width);
  return `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}]`;
}

/** Resolves true when every backfill completed, false when one failed. */
export async function waitForBackfills(options: WaitOptions): Promise<boolean> {
  const out = options.out ?? process.stderr;
  const tty = Boolean(out.isTTY);
  let lastLine = '';
  for (;;) {
    const p = await progress(options.pool, options.seriesIds);
    const finished = p.states.length > 0 && p.states.every((s) => s === 'completed' || s === 'failed');
    const fraction = p.total ? p.done / p.total : finished ? 1 : 0;
    const line = `backfill ${bar(fraction)} ${(fraction * 100).toFixed(0).padStart(3)}%  ${p.done}/${p.total} repositories${p.errors ? `, ${p.errors} errors` : ''}`;
    if (tty) out.write(`\r${line}`);
    else if (line !== lastLine) out.write(`${line}\n`);
    lastLine = line;
    if (finished) {
      if (tty) out.write('\n');
      return p.states.every((s) => s === 'completed');
    }
    await new Promise((resolve) => setTimeout(resolve, options.pollMs ?? 500));
  }
}
