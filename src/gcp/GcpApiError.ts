/**
 * What Google answered, kept as the `cause` of connector-secrets errors from the `gcp` module:
 * the HTTP status, the google.rpc.Status code name and message, the method and API path, and
 * how many attempts were made. Never a token, a request body or a secret value: the message is
 * Google's, with every value the request submitted replaced by `[REDACTED]`.
 *
 * @example
 * ```ts
 * if (err.cause instanceof GcpApiError && err.cause.status === 'PERMISSION_DENIED') console.error(err.cause.path);
 * ```
 */
export class GcpApiError extends Error {
  /** Always `'GcpApiError'`. */
  override name = 'GcpApiError' as const;
  /** The HTTP status, or 0 when no answer came (network error, timeout). */
  readonly httpStatus: number;
  /** The google.rpc.Status code name (`NOT_FOUND`, `PERMISSION_DENIED` …), or the OAuth `error`. */
  readonly status: string | undefined;
  /** The network error code (`ECONNREFUSED`, `ETIMEDOUT` …), if no answer came. */
  readonly networkCode: string | undefined;
  /** `GET`, `POST`. */
  readonly method: string;
  /** The API path, e.g. `v1/projects/p/secrets/s/versions/latest:access` (names, never values). */
  readonly path: string;
  /** Attempts made, the first included. */
  readonly attempts: number;

  constructor(init: { httpStatus: number; status?: string | undefined; message: string; networkCode?: string | undefined; method: string; path: string; attempts: number }) {
    super(init.message);
    this.httpStatus = init.httpStatus;
    this.status = init.status;
    this.networkCode = init.networkCode;
    this.method = init.method;
    this.path = init.path;
    this.attempts = init.attempts;
  }
}
