// The logger of the HTTP request being served (with its request id), for code that runs inside the
// request but is not handed it, such as PostGraphile's error masking.
import { AsyncLocalStorage } from 'node:async_hooks';
import type { Logger } from '../logger.ts';

export const requestLogs = new AsyncLocalStorage<Logger>();

export function currentRequestLog(): Logger | undefined {
  return requestLogs.getStore();
}
