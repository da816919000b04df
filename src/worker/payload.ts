// Payload validation for tasks. Jobs can be added with plain SQL, so a payload is untrusted input:
// a malformed one fails its job with a message naming the bad field, and is not retried (retrying
// cannot fix it).
import { setTimeout } from 'node:timers/promises';
import type { JobHelpers, Task } from 'graphile-worker';
import type pg from 'pg';
import { z } from 'zod';
import { errorMessage } from '../logger.ts';
import { permanentlyFailJob } from '../store/job-failures.ts';

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

/**
 * Makes InvalidPayloadError final for a task: once Graphile Worker has recorded the failure (and
 * unlocked the job), the job is marked out of attempts through graphile_worker.permanently_fail_jobs,
 * so it is not retried with back-off for days (until then, for some milliseconds, it shows as failed
 * with a retry pending). Should it run again meanwhile, it fails again and is marked then.
 * Only that very job is marked: one re-added under the same key since (a new revision) is left alone.
 */
export function withFinalPayloadErrors(task: Task, pool: pg.Pool): Task {
  return async (payload, helpers) => {
    try {
      return await task(payload, helpers);
    } catch (error) {
      if (error instanceof InvalidPayloadError) void failForGood(pool, helpers, error.message);
      throw error;
    }
  };
}

async function failForGood(pool: pg.Pool, helpers: JobHelpers, message: string): Promise<void> {
  const { id, attempts, revision } = helpers.job;
  // Up to 5 s: past Graphile Worker's first retry (about 2.7 s after the failure), after which the
  // next run fails again and marks the job itself (its attempts no longer match ours).
  for (let attempt = 0; attempt < 100; attempt++) {
    await setTimeout(50, undefined, { ref: false });
    if (pool.ended || helpers.abortSignal?.aborted) return; // shutting down: the next run fails again
    try {
      if (await permanentlyFailJob(pool, { id, attempts, revision }, message)) return;
    } catch (error) {
      helpers.logger.warn(`could not fail job ${id} for good: ${errorMessage(error)}`);
      return;
    }
  }
  helpers.logger.warn(`job ${id} was not released within 5 s; it fails again on its next run and is marked then`);
}
