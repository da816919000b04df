// Authentication happens in the HTTP layer, before GraphQL: a bad token is answered with 401 and one
// clear message (no stack trace in the logs); a good one is remembered for the request, and the
// GraphQL context turns it into PostgreSQL settings.
import type http from 'node:http';
import type { Identity } from '../auth/tokens.ts';

const identities = new WeakMap<http.IncomingMessage, Identity | undefined>();

export function rememberIdentity(req: http.IncomingMessage, identity: Identity | undefined): void {
  identities.set(req, identity);
}

export function identityOf(req: http.IncomingMessage | undefined): Identity | undefined {
  return req ? identities.get(req) : undefined;
}
