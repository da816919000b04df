// Runs a long-lived service process until SIGINT/SIGTERM, then stops it cleanly. The same signal
// often arrives twice at once (Ctrl-C reaches npm and the service, and npm forwards it too), so only
// a signal more than REPEAT_WINDOW_MS after the first one means "exit now without waiting".
import type { Config } from '../config.ts';
import type { Logger } from '../logger.ts';
import { startService, type Service, type ServiceOptions } from '../service.ts';

const REPEAT_WINDOW_MS = 2000;

export async function runService(
  options: ServiceOptions,
  announce: (service: Service, config: Config) => void,
): Promise<number> {
  const { logger } = options;
  let signalled: NodeJS.Signals | undefined;
  let signalledAt = 0;
  // Assigned once, after the signal handlers that read it are installed (a signal may come first).
  // eslint-disable-next-line prefer-const
  let service: Service | undefined;
  let resolveDone!: (code: number) => void;
  const done = new Promise<number>((resolve) => (resolveDone = resolve));

  const onSignal = (signal: NodeJS.Signals) => {
    if (signalled) {
      if (Date.now() - signalledAt < REPEAT_WINDOW_MS) return;
      logger.warn(`${signal} again: exiting without waiting`);
      process.exit(130);
    }
    signalled = signal;
    signalledAt = Date.now();
    logger.info(`${signal} received, shutting down (within ${options.config.SHUTDOWN_GRACE_SECONDS} s)`);
    // The last resort: whatever still holds the process past the grace period (and a moment for
    // the worker's own bound) does not keep it from exiting.
    setTimeout(() => {
      logger.warn(`still stopping after ${options.config.SHUTDOWN_GRACE_SECONDS} s: exiting`);
      process.exit(1);
    }, options.config.SHUTDOWN_GRACE_SECONDS * 1000).unref();
    if (service) void stopAndResolve(service, logger, resolveDone, 0);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  service = await startService(options);
  if (signalled) {
    // A signal arrived during start-up: stop now that everything is up.
    await service.stop();
    logger.info('stopped');
    return 0;
  }
  announce(service, options.config);
  service.worker?.promise.catch(() => {
    if (!signalled) void stopAndResolve(service!, logger, resolveDone, 1);
  });
  return done;
}

async function stopAndResolve(service: Service, logger: Logger, resolve: (code: number) => void, code: number) {
  await service.stop();
  logger.info('stopped');
  resolve(code);
}
