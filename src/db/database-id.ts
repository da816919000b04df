// Rows are identified by PostgreSQL integers: 1 .. 2^31 - 1. Every boundary that takes an id (job
// payloads, token claims) checks it here, so a larger number is a clear message, not a raw
// "out of range for type integer" from the database.
import { z } from 'zod';

export const MAX_DATABASE_ID = 2_147_483_647;

/** A row id: a positive integer PostgreSQL can hold; `what` names it in the message. */
export function databaseId(what: string) {
  return z
    .number({ error: `must be ${what} (a number)` })
    .int('must be a whole number')
    .positive('must be positive')
    .max(MAX_DATABASE_ID, `must be at most ${MAX_DATABASE_ID} (a PostgreSQL integer)`);
}
