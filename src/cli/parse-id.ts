// A numeric id given on the command line (dashboards, grants, users, orgs, backfills), or a usage
// error saying which one was wrong. The bound is the database's (src/db/database-id.ts).
import { MAX_DATABASE_ID } from '../db/database-id.ts';
import { UsageError } from './command.ts';

export function parseId(text: unknown, what: string): number {
  if (typeof text !== 'string' || !/^[1-9]\d{0,9}$/.test(text) || Number(text) > MAX_DATABASE_ID)
    throw new UsageError(`${what} must be a numeric id from 1 to ${MAX_DATABASE_ID}, got "${text ?? ''}"`);
  return Number(text);
}
