// enqueue_due_recordings (every minute): queues record_series for every series whose recording or
// snapshot is due (enqueue_due_series_recordings in SQL; one job key per series and mode).
import type { JobHelpers } from 'graphile-worker';
import { z } from 'zod';
import { cronMarker, parsePayload } from '../src/worker/payload.ts';

export const identifier = 'enqueue_due_recordings';

const payloadSchema = z.object({ _cron: cronMarker }).strict();

export default async function enqueueDueRecordings(payload: unknown, helpers: JobHelpers) {
  parsePayload(identifier, payloadSchema, payload);
  const { rows } = await helpers.query<{ queued: number }>('select enqueue_due_series_recordings() as queued');
  return { queued: rows[0]!.queued };
}
