// Counts a query over commits of one repository: lists the trees, applies the path and language
// filters, reads only blobs the cache does not know (through one cat-file process), and adds up.
import type { TreeEntry } from '../git/list-tree.ts';
import { TreeCache } from '../git/tree-cache.ts';
import type { BlobCountCache } from './blob-count-cache.ts';
import { countBlobs } from './count-blobs.ts';
import { type BlobCount, compileMatcher, MAX_FILE_BYTES } from './count-matches.ts';
import { blobFingerprint } from './query/fingerprint.ts';
import { findLanguage, pathIsInLanguage } from './query/languages.ts';
import type { SearchQuery } from './query/parse-query.ts';
import { countSearch } from '../metrics/process-metrics.ts';

export interface CommitSearchResult {
  /** Total (match or file) count. */
  value: number;
  /** Per capture value, for capture-group queries. */
  captures?: Map<string, number>;
  filesConsidered: number;
  /** Blobs read for this commit (a blob several commits share is read for the oldest). */
  blobsRead: number;
  bytesRead: number;
  /** Files whose count came from the cache. */
  cacheHits: number;
}

export interface SearchCommitOptions {
  gitDir: string;
  commit: string;
  query: SearchQuery;
  cache?: BlobCountCache;
  /** Reuses tree listings of commits searched before (by commit id). */
  trees?: TreeCache;
  /** A commit searched just before (a backfill's previous sample): its listing is diffed, not redone. */
  previousCommit?: string;
  /** Epoch milliseconds; past it the search fails with SearchTimeoutError. */
  deadline: number;
}

/** The entries a query's file:, lang: and their negations let through. */
export function selectEntries(entries: TreeEntry[], query: SearchQuery): TreeEntry[] {
  const flags = query.caseSensitive ? '' : 'i';
  const include = query.fileInclude.map((source) => new RegExp(source, flags));
  const exclude = query.fileExclude.map((source) => new RegExp(source, flags));
  const langInclude = query.langInclude.map((name) => findLanguage(name)!);
  const langExclude = query.langExclude.map((name) => findLanguage(name)!);
  return entries.filter(
    (entry) =>
      include.every((re) => re.test(entry.path)) &&
      !exclude.some((re) => re.test(entry.path)) &&
      langInclude.every((language) => pathIsInLanguage(entry.path, language)) &&
      !langExclude.some((language) => pathIsInLanguage(entry.path, language)),
  );
}

function add(total: CommitSearchResult, result: BlobCount, select: SearchQuery['select']): void {
  if (result.count === 0) return;
  total.value += select === 'file' ? 1 : result.count;
  if (result.captures) {
    total.captures ??= new Map();
    for (const [value, count] of Object.entries(result.captures)) {
      total.captures.set(value, (total.captures.get(value) ?? 0) + (select === 'file' ? 1 : count));
    }
  }
}

export interface SearchCommitsOptions extends Omit<SearchCommitOptions, 'commit'> {
  /** Distinct commits, oldest first: each listing is diffed from the one before. */
  commits: string[];
}

/** Listing entries one batch of commits may hold at once: bounds memory on large repositories. */
const ENTRIES_PER_BATCH = 1_000_000;

/** Counts a query over one commit. */
export async function searchCommit(options: SearchCommitOptions): Promise<CommitSearchResult> {
  return (await searchCommits({ ...options, commits: [options.commit] })).get(options.commit)!;
}

/**
 * Counts a query over several commits of one repository (a backfill's sample commits) as one
 * search: the listings come from one diff process, and every blob not cached is read once, through
 * one cat-file process, whichever commits share it.
 */
export async function searchCommits(options: SearchCommitsOptions): Promise<Map<string, CommitSearchResult>> {
  const trees = options.trees ?? new TreeCache();
  const results = new Map<string, CommitSearchResult>();
  if (options.commits.length === 0) return results;
  // The first listing says how many commits fit in a batch (the first batch finds it cached).
  const [first] = await trees.listChain(options.gitDir, options.commits.slice(0, 1), options.previousCommit);
  const batchSize = Math.max(1, Math.floor(ENTRIES_PER_BATCH / Math.max(1, first!.length)));
  let previous = options.previousCommit;
  for (let i = 0; i < options.commits.length; i += batchSize) {
    const commits = options.commits.slice(i, i + batchSize);
    const listings = await trees.listChain(options.gitDir, commits, previous);
    await searchListings(options, commits, listings, results);
    previous = commits.at(-1);
  }
  return results;
}

async function searchListings(
  options: SearchCommitsOptions,
  commits: string[],
  listings: TreeEntry[][],
  results: Map<string, CommitSearchResult>,
): Promise<void> {
  const { query } = options;
  const selected = listings.map((listing) => selectEntries(listing, query));
  const empty = (entries: TreeEntry[]): CommitSearchResult => ({
    value: 0,
    filesConsidered: entries.length,
    blobsRead: 0,
    bytesRead: 0,
    cacheHits: 0,
    ...(query.captureGroups > 0 ? { captures: new Map<string, number>() } : {}),
  });

  if (query.target === 'path') {
    const matcher = query.pattern ? compileMatcher(query) : undefined;
    commits.forEach((commit, k) => {
      const total = empty(selected[k]!);
      // A path counts once however often the pattern occurs in it: the 'file' selection.
      for (const entry of selected[k]!) add(total, matcher ? matcher.count(entry.path) : { count: 1 }, 'file');
      results.set(commit, total);
    });
    return;
  }

  // Unknown sizes (listings derived from a diff) are checked when the blob is read.
  const searchable = selected.map((entries) =>
    entries.filter((entry) => entry.size === undefined || entry.size <= MAX_FILE_BYTES),
  );
  const distinct = new Set<string>();
  for (const entries of searchable) for (const entry of entries) distinct.add(entry.oid);
  const oids = [...distinct];
  const fingerprint = blobFingerprint(query);
  const known = options.cache ? await options.cache.getMany(fingerprint, oids) : new Map<string, BlobCount>();
  const missing = oids.filter((oid) => !known.has(oid));
  const read = missing.length
    ? await countBlobs({ gitDir: options.gitDir, query, oids: missing, deadline: options.deadline })
    : undefined;
  if (read) for (const [oid, result] of read.results) known.set(oid, result);
  // Stored while the totals are added up: one turn of the event loop sends the insert first.
  const stored = read ? options.cache?.putMany(fingerprint, read.results) : undefined;
  if (stored) {
    stored.catch(() => {}); // awaited below; a failure meanwhile must not count as unhandled
    await new Promise((resolve) => setImmediate(resolve));
  }
  // A blob read is credited to the first (oldest) commit that has it. Every other file's count came
  // from the cache (a blob read for an earlier commit of the batch is cached by then).
  const readFor = new Map<string, number>();
  commits.forEach((commit, k) => {
    const total = empty(selected[k]!);
    for (const { oid } of searchable[k]!) {
      add(total, known.get(oid)!, query.select);
      const bytes = read?.sizes.get(oid);
      if (bytes === undefined) {
        total.cacheHits++;
        continue;
      }
      const reader = readFor.get(oid);
      if (reader === undefined) {
        readFor.set(oid, k);
        total.blobsRead++;
        total.bytesRead += bytes;
      } else if (reader !== k) {
        total.cacheHits++;
      }
    }
    countSearch(total);
    results.set(commit, total);
  });
  await stored;
}
