// Credentials in free text (an error message, git's stderr, a clone URL), replaced by *** before
// the text leaves the process's logs: /healthz's last worker error, for one, held a clone URL's
// access token. Covers URL user info (`https://x-access-token:SECRET@host`, `user:p@ss@host`,
// `https://TOKEN@host`), secret query parameters (`?access_token=`, `?password=`, ...) and bearer
// tokens.

/** `scheme://userinfo@` up to the last @ before the host (a password may hold @). */
const USER_INFO = /\b([a-z][a-z0-9+.-]*:\/\/)([^\s/?#@]*(?:@[^\s/?#@]*)*)@(?=[^\s/?#@]*(?:[/?#:\s]|$))/gi;
/** scp-like addresses (`user:token@host:path`): the user info before the last @ ahead of the host. */
const SCP_USER_INFO = /(^|[\s'"(])([^\s'"(/@:]+):([^\s'"(/]*)@(?=[^\s/@:]+:)/g;
/** Query or fragment parameters that carry a secret, by name (any case). */
const SECRET_PARAMETER =
  /([?&#;](?:access_token|token|private_token|private-token|auth|authorization|password|passwd|pwd|secret|client_secret|api_key|apikey|key|sig|signature|x-amz-signature|x-amz-credential|x-goog-signature|sslpassword)=)[^&#\s'"]*/gi;
const BEARER = /\b(Bearer|Basic|token)\s+[A-Za-z0-9._~+/=-]{8,}/g;

/** Longer messages are cut first, so the patterns' (at worst quadratic) scans stay small. */
const MAX_TEXT = 20_000;

export function redactCredentials(text: string): string {
  return (text.length > MAX_TEXT ? `${text.slice(0, MAX_TEXT)}…` : text)
    .replace(USER_INFO, (_match, scheme: string, userInfo: string) => {
      const colon = userInfo.indexOf(':');
      // user:password keeps the user (it says whose); a bare token (https://TOKEN@host) is all secret.
      return `${scheme}${colon > 0 ? `${userInfo.slice(0, colon)}:***` : '***'}@`;
    })
    .replace(SCP_USER_INFO, '$1$2:***@')
    .replace(SECRET_PARAMETER, '$1***')
    .replace(BEARER, '$1 ***');
}
