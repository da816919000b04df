// Database-wide gauges for /metrics, read when Prometheus scrapes: the job queue by state, backfills
// by state and the progress of unfinished ones. /metrics answers anyone, so no label carries what a
// user wrote or owns: no series id (a shared series' id was derived from its query), query,
// repository name, clone URL or error text; states, task names and backfill numbers only.
import { Gauge, Registry } from 'prom-client';
import type pg from 'pg';
import { backfillCountsByState, queueJobCounts, unfinishedBackfillProgress } from '../store/metrics.ts';
import { processRegistry } from './process-metrics.ts';

/** What /metrics serves: Prometheus text and its content type. */
export interface MetricsSource {
  readonly contentType: string;
  /** The text of a scrape; scrapes at the same time share one reading (a flood reads the database once at a time). */
  metrics(): Promise<string>;
}

/** A registry for one server: its database gauges merged with this process's metrics. */
export function makeMetricsRegistry(pool: pg.Pool): MetricsSource {
  const registry = new Registry();
  new Gauge({
    name: 'code_insights_queue_jobs',
    help: 'Graphile Worker jobs by state: runnable (due), locked (running), scheduled (due later), failed (out of attempts).',
    labelNames: ['state'] as const,
    registers: [registry],
    async collect() {
      for (const [state, count] of Object.entries(await queueJobCounts(pool))) this.set({ state }, count);
    },
  });
  new Gauge({
    name: 'code_insights_backfills',
    help: 'Backfills by state (new, processing, completed, failed).',
    labelNames: ['state'] as const,
    registers: [registry],
    async collect() {
      this.reset();
      for (const row of await backfillCountsByState(pool)) this.set({ state: row.state }, row.count);
    },
  });
  new Gauge({
    name: 'code_insights_backfill_progress_ratio',
    help: 'Share of repositories searched by each unfinished backfill (0 to 1), by backfill number.',
    labelNames: ['backfill_id'] as const,
    registers: [registry],
    async collect() {
      this.reset();
      for (const row of await unfinishedBackfillProgress(pool))
        this.set({ backfill_id: String(row.backfill_id) }, Number(row.percent_complete) / 100);
    },
  });
  const merged = Registry.merge([processRegistry, registry]);
  let scraping: Promise<string> | undefined;
  return {
    contentType: merged.contentType,
    metrics() {
      scraping ??= merged.metrics().finally(() => (scraping = undefined));
      return scraping;
    },
  };
}
