// Counts a query over commits of one repository: lists the trees, applies the path and language
// filters, reads only blobs the cache does not know (through one cat-file process), and adds up.
import type { TreeEntry } from '../git/list-tree.ts';
import { TreeCache } from '../git/tree-cache.ts';
import type { BlobCountCache } from './blob-count-cache.ts';
import { countBlobs, type CountBlobsResult, SearchTimeoutError } from './count-blobs.ts';
import { commitTimes } from '../git/commit-times.ts';
import { commitAfterTime } from './query/commit-after.ts';
import {
  type BlobCount,
  compileMatcher,
  MAX_CAPTURE_VALUES,
  MAX_FILE_BYTES,
  type MatcherQuery,
} from './count-matches.ts';
import { blobFingerprint } from './query/fingerprint.ts';
import { findLanguage, type Language, pathIsInLanguage } from './query/languages.ts';
import { compileRe2, type Re2 } from './regexp/re2.ts';
import type { SearchQuery } from './query/parse-query.ts';
import { countSearch } from '../metrics/process-metrics.ts';

export interface CommitSearchResult {
  /** Total (match or file) count. */
  value: number;
  /** Per capture value, for capture-group queries: the MAX_CAPTURE_VALUES most frequent. */
  captures?: Map<string, number>;
  /** Capture values past MAX_CAPTURE_VALUES that were left out: how many, and their matches. */
  capturesOmitted?: { values: number; count: number };
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

/** A query's path patterns, compiled once (RE2; case-insensitive unless case:yes). */
export class PathFilter {
  readonly #include: Re2[];
  readonly #exclude: Re2[];
  readonly #langInclude: Language[];
  readonly #langIncludeAny: Language[][];
  readonly #langExclude: Language[];
  constructor(
    query: Pick<
      SearchQuery,
      'fileInclude' | 'fileExclude' | 'langInclude' | 'langIncludeAny' | 'langExclude' | 'caseSensitive'
    >,
  ) {
    const options = { caseInsensitive: !query.caseSensitive };
    this.#include = query.fileInclude.map((source) => compileRe2(source, options));
    this.#exclude = query.fileExclude.map((source) => compileRe2(source, options));
    this.#langInclude = query.langInclude.map((name) => findLanguage(name)!);
    // Plans stored before the field existed have none.
    this.#langIncludeAny = (query.langIncludeAny ?? []).map((names) => names.map((name) => findLanguage(name)!));
    this.#langExclude = query.langExclude.map((name) => findLanguage(name)!);
  }

  matches(path: string): boolean {
    return (
      this.#include.every((re) => re.test(path)) &&
      !this.#exclude.some((re) => re.test(path)) &&
      this.#langInclude.every((language) => pathIsInLanguage(path, language)) &&
      this.#langIncludeAny.every((any) => any.some((language) => pathIsInLanguage(path, language))) &&
      !this.#langExclude.some((language) => pathIsInLanguage(path, language))
    );
  }
}

/** Entries checked between deadline checks: path matching is linear, but a tree can be huge. */
const ENTRIES_PER_CHECK = 4096;

/** The entries a query's file:, lang: and their negations let through, within the deadline. */
export function selectEntries(
  entries: TreeEntry[],
  filter: Pick<PathFilter, 'matches'>,
  deadline: number,
): TreeEntry[] {
  const selected: TreeEntry[] = [];
  for (let i = 0; i < entries.length; i++) {
    if (i % ENTRIES_PER_CHECK === ENTRIES_PER_CHECK - 1 && Date.now() > deadline) throw new SearchTimeoutError();
    if (filter.matches(entries[i]!.path)) selected.push(entries[i]!);
  }
  return selected;
}

function add(total: CommitSearchResult, result: BlobCount, select: 'match' | 'file'): void {
  if (result.count === 0) return;
  total.value += select === 'file' ? 1 : result.count;
  if (result.captures) {
    total.captures ??= new Map();
    for (const [value, count] of Object.entries(result.captures)) {
      total.captures.set(value, (total.captures.get(value) ?? 0) + (select === 'file' ? 1 : count));
    }
  }
}

/**
 * Keeps the MAX_CAPTURE_VALUES most frequent capture values (ties in code-unit order, so the choice
 * does not depend on reading order) and says what was left out: one query over a small repository
 * can have ten thousand distinct values, each a line and a row per sample.
 */
function capCaptures(total: CommitSearchResult): void {
  if (!total.captures || total.captures.size <= MAX_CAPTURE_VALUES) return;
  const ranked = [...total.captures].sort(([a, m], [b, n]) => n - m || (a < b ? -1 : a > b ? 1 : 0));
  total.captures = new Map(ranked.slice(0, MAX_CAPTURE_VALUES));
  const omitted = ranked.slice(MAX_CAPTURE_VALUES);
  total.capturesOmitted = { values: omitted.length, count: omitted.reduce((sum, [, count]) => sum + count, 0) };
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

/** Blob results for a matcher over some blobs: cached ones, the rest read and counted (and stored). */
interface Counted {
  known: Map<string, BlobCount>;
  read?: CountBlobsResult;
  stored?: Promise<void>;
}

async function countOids(options: SearchCommitsOptions, query: MatcherQuery, oids: string[]): Promise<Counted> {
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
    stored.catch(() => {}); // awaited by the caller; a failure meanwhile must not count as unhandled
    await new Promise((resolve) => setImmediate(resolve));
  }
  return { known, ...(read ? { read } : {}), ...(stored ? { stored } : {}) };
}

/** What a plan counts in each file's content. */
function contentMatcherQuery(query: SearchQuery): MatcherQuery {
  return {
    pattern: query.pattern,
    caseSensitive: query.caseSensitive,
    captureGroups: query.captureGroups,
    countDocuments: query.select !== 'match',
  };
}

/** Every per-blob count a plan uses (its pattern and its content predicates), e.g. to prune their cache. */
export function planMatcherQueries(query: SearchQuery): MatcherQuery[] {
  return [
    ...(query.target === 'content' ? [contentMatcherQuery(query)] : []),
    ...query.repoPredicates.flatMap((p) => (p.content === undefined ? [] : [contentTest(p.content)])),
    ...[...query.fileContentInclude, ...query.fileContentExclude].map(contentTest),
  ];
}

/** Whether a file's content matches an RE2 pattern (predicates), case-insensitive. */
const contentTest = (regexp: string): MatcherQuery => ({
  pattern: { kind: 'term', regexp },
  caseSensitive: false,
  captureGroups: 0,
  countDocuments: true,
});

const searchable = (entries: TreeEntry[]) =>
  entries.filter((entry) => entry.size === undefined || entry.size <= MAX_FILE_BYTES);

function distinctOids(lists: TreeEntry[][]): string[] {
  const distinct = new Set<string>();
  for (const entries of lists) for (const entry of entries) distinct.add(entry.oid);
  return [...distinct];
}

/** Keeps the entries whose content does (or, excluding, does not) match each file:has.content(). */
async function applyFileContent(
  options: SearchCommitsOptions,
  selected: TreeEntry[][],
  patterns: string[],
  keep: boolean,
): Promise<TreeEntry[][]> {
  for (const pattern of patterns) {
    const counted = await countOids(options, contentTest(pattern), distinctOids(selected.map(searchable)));
    await counted.stored;
    selected = selected.map((entries) =>
      entries.filter((entry) => (counted.known.get(entry.oid)?.count ?? 0) > 0 === keep),
    );
  }
  return selected;
}

/** Whether each commit's tree satisfies the repo: predicates (evaluated at that commit). */
async function predicatesHold(
  options: SearchCommitsOptions,
  commits: string[],
  listings: TreeEntry[][],
): Promise<boolean[]> {
  const holds = commits.map(() => true);
  const predicates = options.query.repoPredicates;
  if (!predicates.length) return holds;
  const times = predicates.some((p) => p.commitAfter) ? await commitTimes(options.gitDir, commits) : undefined;
  for (const predicate of predicates) {
    let found: boolean[];
    if (predicate.commitAfter) {
      const after = commitAfterTime(predicate.commitAfter)!.getTime() / 1000;
      found = commits.map((commit) => (times!.get(commit) ?? 0) >= after);
    } else {
      const path = predicate.path === undefined ? undefined : compileRe2(predicate.path, { caseInsensitive: true });
      const candidates = listings.map((listing) =>
        path ? selectEntries(listing, { matches: (p: string) => path.test(p) }, options.deadline) : listing,
      );
      if (predicate.content === undefined) found = candidates.map((entries) => entries.length > 0);
      else {
        const files = candidates.map(searchable);
        const counted = await countOids(options, contentTest(predicate.content), distinctOids(files));
        await counted.stored;
        found = files.map((entries) => entries.some((entry) => (counted.known.get(entry.oid)?.count ?? 0) > 0));
      }
    }
    found.forEach((value, k) => {
      if (value === predicate.negated) holds[k] = false;
    });
  }
  return holds;
}

async function searchListings(
  options: SearchCommitsOptions,
  commits: string[],
  listings: TreeEntry[][],
  results: Map<string, CommitSearchResult>,
): Promise<void> {
  const { query } = options;
  const holds = await predicatesHold(options, commits, listings);
  const filter = new PathFilter(query);
  let selected = listings.map((listing, k) => (holds[k] ? selectEntries(listing, filter, options.deadline) : []));
  selected = await applyFileContent(options, selected, query.fileContentInclude, true);
  selected = await applyFileContent(options, selected, query.fileContentExclude, false);
  const capture = query.captureGroups > 0;
  const empty = (entries: TreeEntry[]): CommitSearchResult => ({
    value: 0,
    filesConsidered: entries.length,
    blobsRead: 0,
    bytesRead: 0,
    cacheHits: 0,
    ...(capture ? { captures: new Map<string, number>() } : {}),
  });
  // select:repo: a repository counts 1 at a commit where anything matched.
  const finish = (commit: string, total: CommitSearchResult) => {
    if (query.select === 'repo') total.value = Math.min(1, total.value);
    capCaptures(total);
    countSearch(total);
    results.set(commit, total);
  };

  if (query.target === 'path') {
    const matcher = query.pattern ? compileMatcher({ ...query, captureGroups: 0 }) : undefined;
    commits.forEach((commit, k) => {
      const total = empty(selected[k]!);
      // A path counts once however often the pattern occurs in it: the 'file' selection.
      const matching = matcher
        ? selectEntries(selected[k]!, { matches: (path: string) => matcher.count(path).count > 0 }, options.deadline)
        : selected[k]!;
      for (let i = 0; i < matching.length; i++) add(total, { count: 1 }, 'file');
      finish(commit, total);
    });
    return;
  }

  // Unknown sizes (listings derived from a diff) are checked when the blob is read.
  const files = selected.map(searchable);
  const { known, read, stored } = await countOids(options, contentMatcherQuery(query), distinctOids(files));
  // A blob read is credited to the first (oldest) commit that has it. Every other file's count came
  // from the cache (a blob read for an earlier commit of the batch is cached by then).
  const readFor = new Map<string, number>();
  commits.forEach((commit, k) => {
    const total = empty(selected[k]!);
    for (const { oid } of files[k]!) {
      add(total, known.get(oid)!, query.select === 'match' ? 'match' : 'file');
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
    finish(commit, total);
  });
  await stored;
}
