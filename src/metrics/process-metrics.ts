// Metrics of this process for /metrics (Prometheus): jobs run by its worker and the work of its
// search engine. Module-level, like the process they describe; database-wide numbers (queue depth,
// backfill progress) are read at scrape time by database-metrics.ts.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export const processRegistry = new Registry();
// Prefixed, so the defaults read code_insights_process_* and code_insights_nodejs_*.
collectDefaultMetrics({ register: processRegistry, prefix: 'code_insights_' });

export const jobDuration = new Histogram({
  name: 'code_insights_jobs_duration_seconds',
  help: 'Jobs run by this process, by task and outcome (success; error: will retry; failed: out of attempts), with their run time.',
  labelNames: ['task', 'outcome'] as const,
  buckets: [0.01, 0.05, 0.1, 0.5, 1, 5, 15, 60, 300],
  registers: [processRegistry],
});

const blobsRead = new Counter({
  name: 'code_insights_search_blobs_read_total',
  help: 'Blobs read from git and counted (not found in the per-blob cache).',
  registers: [processRegistry],
});

const blobCacheHits = new Counter({
  name: 'code_insights_search_blob_cache_hits_total',
  help: 'Files whose blob count came from the per-blob cache (memory or search_blob_counts) instead of a read.',
  registers: [processRegistry],
});

const bytesSearched = new Counter({
  name: 'code_insights_search_bytes_total',
  help: 'Bytes of blob content searched.',
  registers: [processRegistry],
});

new Gauge({
  name: 'code_insights_search_blob_cache_hit_ratio',
  help: 'Share of blobs this process answered from the per-blob cache since it started.',
  registers: [processRegistry],
  async collect() {
    const hits = (await blobCacheHits.get()).values[0]?.value ?? 0;
    const reads = (await blobsRead.get()).values[0]?.value ?? 0;
    this.set(hits + reads === 0 ? 0 : hits / (hits + reads));
  },
});

/** Records one commit search's work. */
export function countSearch(work: { blobsRead: number; cacheHits: number; bytesRead: number }): void {
  blobsRead.inc(work.blobsRead);
  blobCacheHits.inc(work.cacheHits);
  bytesSearched.inc(work.bytesRead);
}
