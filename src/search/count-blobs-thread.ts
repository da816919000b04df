// Worker-thread entry for regexp searches (see search-thread-pool.ts): runs one search per message,
// so a pathological regexp can only stall this thread, which is terminated at the deadline, never
// the worker process's event loop.
import { parentPort } from 'node:worker_threads';
import type { BlobCount } from './count-matches.ts';
import { readAndCount } from './read-and-count.ts';
import type { SearchTask, ThreadMessage } from './search-thread-pool.ts';

const post = (message: ThreadMessage) => parentPort!.postMessage(message);

parentPort!.on('message', async (task: SearchTask) => {
  let results: Array<[string, BlobCount, number]> = [];
  const flush = () => {
    if (results.length) post({ kind: 'results', results });
    results = [];
  };
  try {
    await readAndCount({
      ...task,
      onResult(oid, result, bytes) {
        results.push([oid, result, bytes]);
        if (results.length >= 256) flush();
      },
    });
    flush();
    post({ kind: 'done' });
  } catch (error) {
    flush();
    post({ kind: 'error', name: (error as Error).name, message: (error as Error).message });
  }
});
