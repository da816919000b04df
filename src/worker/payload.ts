// Payload validation for tasks. Jobs can be added with plain SQL, so a payload is untrusted input:
// a malformed one fails its job with a message naming the bad field, and is not retried (retrying
// cannot fix it).
import type { JobHelpers, Task } from 'graphile-worker';
import { z } from 'zod';

/**
 * Thrown when a job cannot succeed however often it is retried: its payload does not match the
 * task's schema, or it names something that does not exist.
 */
export class InvalidPayloadError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidPayloadError';
  }
}

/** Graphile Worker adds `_cron` to payloads of scheduled runs; every task schema accepts it. */
export const cronMarker = z.object({ ts: z.string(), backfilled: z.boolean().optional() }).optional();

export function parsePayload<S extends z.ZodType>(task: string, schema: S, payload: unknown): z.infer<S> {
  const result = schema.safeParse(payload ?? {});
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => {
    if (issue.code === 'unrecognized_keys') return issue.keys.map((key) => `unknown field "${key}"`).join('; ');
    const field = issue.path.length ? issue.path.join('.') : 'payload';
    return `${field}: ${issue.message}`;
  });
  throw new InvalidPayloadError(`${task}: invalid payload: ${problems.join('; ')}`);
}

/** Makes InvalidPayloadError final for a task (see doNotRetry). */
export function withFinalPayloadErrors(task: Task): Task {
  return async (payload, helpers) => {
    try {
      return await task(payload, helpers);
    } catch (error) {
      if (error instanceof InvalidPayloadError) await doNotRetry(helpers);
      throw error;
    }
  };
}

/**
 * Marks the running job as out of attempts so that, when Graphile Worker records this failure,
 * it is final instead of being retried with back-off for days.
 */
export async function doNotRetry(helpers: JobHelpers): Promise<void> {
  await helpers.withPgClient((client) =>
    client.query('update graphile_worker._private_jobs set max_attempts = attempts where id = $1', [helpers.job.id]),
  );
}
