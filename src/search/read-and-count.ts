// Reads blobs through one `git cat-file --batch` and counts each: the inner loop of every search,
// used directly for literal patterns and inside a worker thread for regexps (see count-blobs.ts).
import { type BatchTransport, type BlobObject, CatFileBatch } from '../git/cat-file-batch.ts';
import { type BlobCount, compileMatcher, countContent, type MatcherQuery } from './count-matches.ts';

export interface ReadAndCountOptions {
  gitDir: string;
  query: MatcherQuery;
  /** Let regexps use V8 on their exact translation (false: re2js only, linear whatever the pattern). */
  fast?: boolean;
  oids: string[];
  /** Epoch milliseconds after which the work stops with a SearchTimeoutError. */
  deadline: number;
  /** Called for every counted blob, in order. */
  onResult: (oid: string, result: BlobCount, bytes: number) => void;
}

export class SearchTimeoutError extends Error {
  constructor(message = 'search timed out') {
    super(message);
    this.name = 'SearchTimeoutError';
  }
}

/** Blobs requested ahead of the one being counted: enough to keep git busy, bounded memory. */
const READ_AHEAD = 128;
/** Blobs asked for with one write to git. */
const GROUP = 32;

/**
 * `transport`: the cat-file process to read through, when another thread runs it (a search thread's
 * reads); without it this thread starts one of its own for `gitDir`.
 */
export async function readAndCount(options: ReadAndCountOptions, transport?: BatchTransport): Promise<void> {
  // Here a deadline bounds the work (a search thread, or a literal in-process).
  const matcher = compileMatcher(options.query, { fast: options.fast !== false });
  const batch = new CatFileBatch(transport ?? options.gitDir);
  try {
    const inFlight: Array<{ oid: string; answer: Promise<BlobObject | undefined> }> = [];
    let next = 0;
    const requestGroup = () => {
      const oids = options.oids.slice(next, next + GROUP);
      next += oids.length;
      batch.readMany(oids).forEach((answer, k) => {
        // Answers left waiting when an earlier one fails must not become unhandled rejections.
        answer.catch(() => {});
        inFlight.push({ oid: oids[k]!, answer });
      });
    };
    while (next < options.oids.length && inFlight.length < READ_AHEAD) requestGroup();
    while (inFlight.length) {
      const { oid, answer } = inFlight.shift()!;
      const object = await answer;
      if (next < options.oids.length && inFlight.length <= READ_AHEAD - GROUP) requestGroup();
      if (Date.now() > options.deadline) throw new SearchTimeoutError();
      if (!object) throw new Error(`blob ${oid} is missing from ${options.gitDir}`);
      options.onResult(oid, countContent(matcher, object.content), object.content.length);
    }
  } finally {
    await batch.close(); // waited for, so no search leaves a process behind
  }
}
