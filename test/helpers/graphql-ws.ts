// A minimal graphql-transport-ws client (Node's built-in WebSocket) for subscription tests: it
// connects with a token in the connection params, subscribes once, and queues what arrives.
import type { ExecutionContext } from 'ava';

export interface Subscription {
  /** The next message for the subscription: {type: 'next', payload} or {type: 'error', payload}. */
  next(timeoutMs?: number): Promise<{ type: string; payload: any }>;
}

export async function subscribe(
  t: ExecutionContext,
  serverUrl: string,
  query: string,
  token?: string,
): Promise<Subscription> {
  const socket = new WebSocket(`${serverUrl.replace(/^http/, 'ws')}/graphql`, 'graphql-transport-ws');
  t.teardown(() => socket.close());
  const queued: Array<{ type: string; payload: any }> = [];
  const waiting: Array<(message: { type: string; payload: any }) => void> = [];
  const deliver = (message: { type: string; payload: any }) => {
    const waiter = waiting.shift();
    if (waiter) waiter(message);
    else queued.push(message);
  };
  const acknowledged = new Promise<void>((resolve, reject) => {
    socket.addEventListener('message', (event) => {
      const message = JSON.parse(String(event.data));
      if (message.type === 'connection_ack') resolve();
      else if (message.type === 'next' || message.type === 'error') deliver(message);
      else if (message.type === 'ping') socket.send(JSON.stringify({ type: 'pong' }));
    });
    socket.addEventListener('close', (event) => {
      reject(new Error(`websocket closed: ${event.code} ${event.reason}`));
      deliver({ type: 'closed', payload: { code: event.code, reason: event.reason } });
    });
    socket.addEventListener('error', () => reject(new Error('websocket error')));
  });
  await new Promise<void>((resolve, reject) => {
    socket.addEventListener('open', () => resolve());
    socket.addEventListener('error', () => reject(new Error('websocket did not open')));
  });
  socket.send(JSON.stringify({ type: 'connection_init', payload: token ? { authorization: `Bearer ${token}` } : {} }));
  await acknowledged;
  socket.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query } }));
  return {
    next(timeoutMs = 10_000) {
      const message = queued.shift();
      if (message) return Promise.resolve(message);
      return new Promise((resolve, reject) => {
        const waiter = (received: { type: string; payload: any }) => {
          clearTimeout(timer);
          resolve(received);
        };
        // A waiter that timed out leaves the line, or it would swallow the next message.
        const timer = setTimeout(() => {
          waiting.splice(waiting.indexOf(waiter), 1);
          reject(new Error(`no subscription message within ${timeoutMs} ms`));
        }, timeoutMs);
        waiting.push(waiter);
      });
    },
  };
}
