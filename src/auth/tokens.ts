// API tokens: HS256 JWTs whose claims say who is asking (sub = user id, org_ids, admin). The server
// verifies them and maps them to PostgreSQL settings, and row-level security does the rest.
import { errors as joseErrors, jwtVerify, SignJWT } from 'jose';
import { z } from 'zod';
import { databaseId, MAX_DATABASE_ID } from '../db/database-id.ts';

export interface Identity {
  userId: number;
  orgIds: number[];
  admin: boolean;
}

/** A token that must be refused: bad signature, expired, malformed claims. The message says which. */
export class AuthenticationError extends Error {
  /** invalid_authorization_specification: the GraphQL layer shows the message (websockets). */
  readonly code = '28000';
  constructor(message: string) {
    super(message);
    this.name = 'AuthenticationError';
  }
}

const claimsSchema = z.object({
  sub: z
    .string({ error: 'the sub claim (user id) is required' })
    .regex(/^[1-9]\d{0,9}$/, 'the sub claim must be a positive integer user id')
    .refine((sub) => Number(sub) <= MAX_DATABASE_ID, `the sub claim must be a user id of at most ${MAX_DATABASE_ID}`),
  org_ids: z
    .array(databaseId('an org id'), { error: 'the org_ids claim must be an array of positive integers' })
    .max(1000)
    .optional(),
  admin: z.boolean({ error: 'the admin claim must be true or false' }).optional(),
});

export async function verifyToken(token: string, secret: Uint8Array): Promise<Identity> {
  let payload: unknown;
  try {
    ({ payload } = await jwtVerify(token, secret, { algorithms: ['HS256'] }));
  } catch (error) {
    if (error instanceof joseErrors.JWTExpired) throw new AuthenticationError('invalid token: it has expired');
    if (error instanceof joseErrors.JWSSignatureVerificationFailed)
      throw new AuthenticationError('invalid token: bad signature');
    if (error instanceof joseErrors.JOSEAlgNotAllowed)
      throw new AuthenticationError('invalid token: only HS256 tokens are accepted');
    if (error instanceof joseErrors.JOSEError) throw new AuthenticationError(`invalid token: ${error.message}`);
    throw error;
  }
  const claims = claimsSchema.safeParse(payload);
  if (!claims.success) {
    const issue = claims.error.issues[0]!;
    // Messages of whole claims name them; one about an element says which claim it is in.
    const where = issue.message.startsWith('the ') ? '' : `the ${String(issue.path[0])} claim: `;
    throw new AuthenticationError(`invalid token: ${where}${issue.message}`);
  }
  return { userId: Number(claims.data.sub), orgIds: claims.data.org_ids ?? [], admin: claims.data.admin ?? false };
}

/** Reads `Authorization: Bearer <token>`; undefined when there is no header (anonymous). */
export async function identityFromHeader(
  header: string | undefined,
  secret: Uint8Array,
): Promise<Identity | undefined> {
  if (header === undefined || header.trim() === '') return undefined;
  const match = header.match(/^Bearer\s+(\S+)$/i);
  if (!match) throw new AuthenticationError('invalid Authorization header: expected "Bearer <token>"');
  return verifyToken(match[1]!, secret);
}

export interface IssueTokenOptions extends Identity {
  /** Lifetime, as jose accepts it: "1h", "30d", ... */
  ttl: string;
}

export async function issueToken(options: IssueTokenOptions, secret: Uint8Array): Promise<string> {
  const claims: Record<string, unknown> = {};
  if (options.orgIds.length) claims.org_ids = options.orgIds;
  if (options.admin) claims.admin = true;
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(String(options.userId))
    .setIssuedAt()
    .setExpirationTime(options.ttl)
    .sign(secret);
}

export interface PgSettingsOptions {
  /**
   * statement_timeout for the request's SQL, in milliseconds (API_STATEMENT_TIMEOUT_SECONDS); unset
   * or 0 leaves the database's setting.
   */
  statementTimeoutMs?: number;
}

/**
 * PostgreSQL settings for a request: the role to switch to, the claims the policies read and the
 * longest a statement may run (applied with set_config(..., true): for the request's transaction).
 */
export function pgSettingsFor(identity: Identity | undefined, options: PgSettingsOptions = {}): Record<string, string> {
  const limit: Record<string, string> = options.statementTimeoutMs
    ? { statement_timeout: String(Math.max(1, Math.round(options.statementTimeoutMs))) }
    : {};
  if (!identity) return { role: 'code_insights_anonymous', ...limit };
  return {
    role: identity.admin ? 'code_insights_admin' : 'code_insights_user',
    'jwt.claims.user_id': String(identity.userId),
    'jwt.claims.org_ids': identity.orgIds.join(','),
    'jwt.claims.admin': String(identity.admin),
    ...limit,
  };
}
