const SQLSTATE = new Set(['28P01', '28000']);
const NAMES = new Set(['ExpiredToken', 'ExpiredTokenException', 'UnrecognizedClientException']);
const OAUTH = new Set(['invalid_grant', 'invalid_token']);

/**
 * The default authentication-failure detector of `withCredential`: PostgreSQL SQLSTATE 28P01
 * and 28000, MySQL 1045, SQL Server 18456, HTTP 401 and 403, AWS `ExpiredToken`,
 * `ExpiredTokenException`, `UnrecognizedClientException`, and OAuth `invalid_grant` /
 * `invalid_token`. The `cause` chain is searched too.
 *
 * @example
 * ```ts
 * await handle.withCredential(run, { isAuthError: (e) => isAuthError(e) || isMyDriverAuthError(e) });
 * ```
 */
export function isAuthError(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e !== null && typeof e === 'object' && depth < 8; depth++) {
    if (matches(e as Record<string, unknown>)) return true;
    e = (e as { cause?: unknown }).cause;
  }
  return false;
}

function matches(e: Record<string, unknown>): boolean {
  const { code, errno, number, status, statusCode, name, error } = e;
  if (typeof code === 'string' && (SQLSTATE.has(code) || NAMES.has(code) || OAUTH.has(code) || code === 'ER_ACCESS_DENIED_ERROR')) return true;
  if (errno === 1045 || number === 18456 || code === 18456) return true;
  const info = (e['originalError'] as { info?: { number?: unknown } } | undefined)?.info;
  if (info?.number === 18456) return true;
  const http = status ?? statusCode ?? (e['response'] as { status?: unknown } | undefined)?.status ?? (e['$metadata'] as { httpStatusCode?: unknown } | undefined)?.httpStatusCode;
  if (http === 401 || http === 403) return true;
  if (typeof name === 'string' && NAMES.has(name)) return true;
  if (typeof e['Code'] === 'string' && NAMES.has(e['Code'])) return true;
  return typeof error === 'string' && OAUTH.has(error);
}
