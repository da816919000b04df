// Worker-thread entry for regexp searches (see search-thread-pool.ts): runs one search per message,
// so a pathological regexp can only stall this thread, which is terminated at the deadline, never
// the worker process's event loop. Blobs come through the port of each message from a cat-file
// process the calling thread runs (a process spawned here would outlive a terminated thread as a
// zombie: nothing would wait for it).
import { parentPort } from 'node:worker_threads';
import { portTransport } from '../git/cat-file-batch.ts';
import type { BlobCount } from './count-matches.ts';
import { readAndCount } from './read-and-count.ts';
import type { SearchRequest, ThreadMessage } from './search-thread-pool.ts';

const post = (message: ThreadMessage) => parentPort!.postMessage(message);

parentPort!.on('message', async ({ task, port }: SearchRequest) => {
  let results: Array<[string, BlobCount, number]> = [];
  const flush = () => {
    if (results.length) post({ kind: 'results', results });
    results = [];
  };
  try {
    await readAndCount(
      {
        ...task,
        onResult(oid, result, bytes) {
          results.push([oid, result, bytes]);
          if (results.length >= 256) flush();
        },
      },
      portTransport(port),
    );
    flush();
    post({ kind: 'done' });
  } catch (error) {
    flush();
    post({ kind: 'error', name: (error as Error).name, message: (error as Error).message });
  }
});
