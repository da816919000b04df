// The per-blob result cache: an in-process LRU in front of the search_blob_counts table, so results
// survive restarts and are shared by every worker, while repeated searches in one process skip the
// database too.
import type pg from 'pg';
import type { BlobCount } from './count-matches.ts';
import { readBlobCounts, writeBlobCounts } from '../store/blob-counts.ts';

export interface BlobCountCacheOptions {
  pool: pg.Pool;
  /** Entries kept in memory (default 500,000: roughly 50-100 MB). */
  maxEntries?: number;
}

export interface CacheStats {
  memoryHits: number;
  databaseHits: number;
  misses: number;
}

export class BlobCountCache {
  private readonly pool: pg.Pool;
  private readonly maxEntries: number;
  private readonly memory = new Map<string, BlobCount>();
  readonly stats: CacheStats = { memoryHits: 0, databaseHits: 0, misses: 0 };

  constructor(options: BlobCountCacheOptions) {
    this.pool = options.pool;
    this.maxEntries = options.maxEntries ?? 500_000;
  }

  /** Cached results for the given blobs; blobs not in the map must be counted. */
  async getMany(fingerprint: string, oids: string[]): Promise<Map<string, BlobCount>> {
    const found = new Map<string, BlobCount>();
    const notInMemory: string[] = [];
    for (const oid of oids) {
      const key = `${fingerprint}:${oid}`;
      const hit = this.memory.get(key);
      if (hit) {
        // Refresh its place in the LRU order.
        this.memory.delete(key);
        this.memory.set(key, hit);
        found.set(oid, hit);
      } else {
        notInMemory.push(oid);
      }
    }
    this.stats.memoryHits += found.size;
    if (notInMemory.length) {
      const rows = await readBlobCounts(this.pool, fingerprint, notInMemory);
      for (const row of rows) {
        const result: BlobCount = row.captures
          ? { count: row.match_count, captures: row.captures }
          : { count: row.match_count };
        found.set(row.blob_oid, result);
        this.remember(`${fingerprint}:${row.blob_oid}`, result);
      }
      this.stats.databaseHits += rows.length;
      this.stats.misses += notInMemory.length - rows.length;
    }
    return found;
  }

  async putMany(fingerprint: string, results: Map<string, BlobCount>): Promise<void> {
    if (results.size === 0) return;
    const oids: string[] = [];
    const counts: number[] = [];
    const captures: Array<string | null> = [];
    for (const [oid, result] of results) {
      oids.push(oid);
      counts.push(result.count);
      captures.push(result.captures ? JSON.stringify(result.captures) : null);
      this.remember(`${fingerprint}:${oid}`, result);
    }
    await writeBlobCounts(this.pool, fingerprint, { oids, counts, captures });
  }

  private remember(key: string, result: BlobCount): void {
    this.memory.set(key, result);
    if (this.memory.size > this.maxEntries) this.memory.delete(this.memory.keys().next().value!);
  }
}
