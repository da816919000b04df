// A numeric id given on the command line (dashboards, grants, users, orgs), or a usage error saying
// which one was wrong.
import { UsageError } from './command.ts';

export function parseId(text: unknown, what: string): number {
  if (typeof text !== 'string' || !/^[1-9]\d{0,8}$/.test(text))
    throw new UsageError(`${what} must be a numeric id, got "${text ?? ''}"`);
  return Number(text);
}
