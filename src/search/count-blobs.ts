// Counts a set of blobs for a query within a deadline. Literal patterns run in-process (indexOf
// cannot run away; the deadline is checked between blobs). Regexps run in a worker thread that is
// terminated at the deadline (search-thread-pool.ts), so no regexp ever holds the event loop.
import type { BlobCount } from './count-matches.ts';
import { compileMatcher } from './count-matches.ts';
import { readAndCount, type ReadAndCountOptions, SearchTimeoutError } from './read-and-count.ts';
import { searchInThread } from './search-thread-pool.ts';

export interface CountBlobsResult {
  results: Map<string, BlobCount>;
  /** Bytes of each blob read. */
  sizes: Map<string, number>;
}

/** Blobs from which two readers share the work. */
const PARALLEL_FROM = 1000;

export async function countBlobs(options: Omit<ReadAndCountOptions, 'onResult'>): Promise<CountBlobsResult> {
  const results = new Map<string, BlobCount>();
  const sizes = new Map<string, number>();
  if (options.oids.length === 0) return { results, sizes };
  const onResult = (oid: string, result: BlobCount, bytes: number) => {
    results.set(oid, result);
    sizes.set(oid, bytes);
  };
  const matcher = compileMatcher(options.query, { fast: true });
  const inProcess = !matcher.canBacktrack;
  const { gitDir, query, oids, deadline } = options;
  const task = {
    gitDir,
    query: {
      pattern: query.pattern,
      caseSensitive: query.caseSensitive,
      captureGroups: query.captureGroups,
      countDocuments: query.countDocuments === true,
    },
    deadline,
  };
  // V8 on the exact translation first, in half the time left: a pattern it would backtrack on
  // (translation already keeps the classic ones with re2js) then costs half the budget, and the
  // blobs it did not finish are counted by re2js, linear whatever the pattern, in the other half.
  const inThread = async (part: string[]) => {
    if (!matcher.usesV8) return searchInThread({ ...task, oids: part, fast: false }, onResult);
    try {
      await searchInThread({ ...task, oids: part, deadline: Date.now() + (deadline - Date.now()) / 2 }, onResult);
    } catch (error) {
      if (!(error instanceof SearchTimeoutError)) throw error;
      const left = part.filter((oid) => !results.has(oid));
      await searchInThread({ ...task, oids: left, fast: false }, onResult);
    }
  };
  // Many blobs (a backfill's batch): two readers at once, so git's unpacking of one overlaps the
  // counting of the other's.
  const parts = oids.length >= PARALLEL_FROM ? [oids.slice(0, oids.length >> 1), oids.slice(oids.length >> 1)] : [oids];
  await Promise.all(
    parts.map((part) => (inProcess ? readAndCount({ ...task, oids: part, onResult }) : inThread(part))),
  );
  return { results, sizes };
}

export { SearchTimeoutError };
