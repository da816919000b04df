// Search threads run at a lower CPU priority than the event loop of their process (the API in
// `serve`, the worker's bookkeeping), so a search that keeps every core busy does not starve
// requests. Linux gives each thread its own nice value (setpriority on the thread id); elsewhere
// this does nothing.
import fs from 'node:fs';
import os from 'node:os';

/**
 * The nice value of search threads (and the git processes they start): about a third of the CPU
 * share of the event loop when both want it, not so low that searches starve on a busy machine.
 */
export const SEARCH_THREAD_NICE = 5;

export function lowerThreadPriority(): void {
  try {
    const threadId = Number(fs.readlinkSync('/proc/thread-self').split('/').pop());
    if (Number.isInteger(threadId) && os.getPriority(threadId) < SEARCH_THREAD_NICE)
      os.setPriority(threadId, SEARCH_THREAD_NICE);
  } catch {
    // Not Linux, or not allowed: the threads keep the process's priority.
  }
}
