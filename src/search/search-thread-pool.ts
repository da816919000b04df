// Worker threads for regexp searches, kept between searches. Starting a thread (and loading the
// search modules into it) costs about 50 ms, which dwarfed the work of a typical backfill step: a
// few new blobs of one commit. A thread that finishes is parked, unreferenced so it never keeps the
// process alive; a thread that misses its deadline may be stuck in a runaway regexp, so it is
// terminated instead and a fresh one takes its place next time. The thread reads blobs from a
// cat-file process that this thread runs (relayCatFileBatch) and ends when the search ends, so a
// terminated thread leaves no defunct git process behind.
import { MessageChannel, type MessagePort, Worker } from 'node:worker_threads';
import { relayCatFileBatch } from '../git/cat-file-batch.ts';
import type { BlobCount } from './count-matches.ts';
import { type ReadAndCountOptions, SearchTimeoutError } from './read-and-count.ts';

export type SearchTask = Omit<ReadAndCountOptions, 'onResult'>;

/** What a search thread is sent: the task, and the port to the cat-file process it reads through. */
export interface SearchRequest {
  task: SearchTask;
  port: MessagePort;
}

/** Messages from count-blobs-thread.ts. */
export type ThreadMessage =
  | { kind: 'results'; results: Array<[string, BlobCount, number]> }
  | { kind: 'done' }
  | { kind: 'error'; name: string; message: string };

/** Idle threads kept; more run at once when more searches do, and the extra ones end afterwards. */
const MAX_IDLE = 4;
const idle: Worker[] = [];

function takeThread(): Worker {
  const parked = idle.pop();
  if (parked) {
    parked.ref();
    return parked;
  }
  const worker = new Worker(new URL('./count-blobs-thread.ts', import.meta.url));
  // A thread that dies while parked (it should not) must not be handed out again.
  worker.on('exit', () => {
    const index = idle.indexOf(worker);
    if (index >= 0) idle.splice(index, 1);
  });
  return worker;
}

function park(worker: Worker): void {
  worker.removeAllListeners('message');
  worker.removeAllListeners('error');
  if (idle.length >= MAX_IDLE) {
    void worker.terminate();
    return;
  }
  worker.unref();
  idle.push(worker);
}

/** Runs one search in a thread; each counted blob is passed to onResult as it arrives. */
export async function searchInThread(task: SearchTask, onResult: ReadAndCountOptions['onResult']): Promise<void> {
  const worker = takeThread();
  const channel = new MessageChannel();
  const catFile = relayCatFileBatch(task.gitDir, channel.port1);
  let reusable = false;
  let onExit: ((code: number) => void) | undefined;
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new SearchTimeoutError()), Math.max(0, task.deadline - Date.now()));
      const settle = (error?: Error) => {
        clearTimeout(timer);
        if (error) reject(error);
        else resolve();
      };
      worker.on('message', (message: ThreadMessage) => {
        if (message.kind === 'results') {
          for (const [oid, result, bytes] of message.results) onResult(oid, result, bytes);
        } else {
          // Done, or an error the thread caught and reported: either way it is idle and sound.
          reusable = true;
          if (message.kind === 'done') settle();
          else settle(message.name === 'SearchTimeoutError' ? new SearchTimeoutError() : new Error(message.message));
        }
      });
      worker.on('error', (error) => settle(error));
      onExit = (code) => settle(new Error(`search thread exited unexpectedly (${code})`));
      worker.on('exit', onExit);
      worker.postMessage({ task, port: channel.port2 } satisfies SearchRequest, [channel.port2]);
    });
  } finally {
    if (onExit) worker.off('exit', onExit);
    if (reusable) park(worker);
    else await worker.terminate();
    // Killed if still running, and waited for: no search leaves a process behind.
    await catFile.close();
  }
}
