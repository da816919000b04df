// Listens on a free local port for the rest of a test, to see how something copes with it taken.
import net from 'node:net';
import type { ExecutionContext } from 'ava';

export async function occupyPort(t: ExecutionContext): Promise<number> {
  const blocker = net.createServer();
  await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
  t.teardown(() => blocker.close());
  return (blocker.address() as net.AddressInfo).port;
}
