// enqueue_due_recordings (every minute): queues record_series for every series whose recording or
// snapshot is due (enqueue_due_series_recordings in SQL; one job key per series and mode).
import { z } from 'zod';
import { enqueueDueRecordings } from '../src/store/recordings.ts';
import { cronMarker, parsePayload } from '../src/worker/payload.ts';
import type { TaskContext } from '../src/worker/task-context.ts';

export const identifier = 'enqueue_due_recordings';

const payloadSchema = z.object({ _cron: cronMarker }).strict();

export function makeTask(context: TaskContext) {
  return async (payload: unknown) => {
    parsePayload(identifier, payloadSchema, payload);
    return { queued: await enqueueDueRecordings(context.pool) };
  };
}
