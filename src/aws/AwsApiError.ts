/**
 * What AWS answered, without what it said: the error code, HTTP status and request id. AWS
 * messages can quote a request (a signature mismatch quotes the canonical request and the string
 * to sign; a validation error can quote a submitted value), so the message is never kept.
 * Carried as `cause` of the errors the AWS integration throws.
 *
 * @example
 * ```ts
 * if (err.cause instanceof AwsApiError && err.cause.awsCode === 'ThrottlingException') backOff();
 * ```
 */
export class AwsApiError extends Error {
  /** Always `'AwsApiError'`. */
  override name = 'AwsApiError' as const;
  /** The AWS error code (`ResourceNotFoundException`, `ThrottlingException`, …) or a network error code. */
  readonly awsCode: string;
  /** The HTTP status, when AWS answered. */
  readonly httpStatus: number | undefined;
  /** AWS's request id, for a support case. */
  readonly requestId: string | undefined;
  /** How many attempts the SDK made (its own retries included). */
  readonly attempts: number | undefined;

  constructor(awsCode: string, details: { httpStatus?: number | undefined; requestId?: string | undefined; attempts?: number | undefined } = {}) {
    super(`AWS answered ${awsCode}${details.httpStatus === undefined ? '' : ` (HTTP ${details.httpStatus})`}`);
    this.awsCode = awsCode;
    this.httpStatus = details.httpStatus;
    this.requestId = details.requestId;
    this.attempts = details.attempts;
  }

  /** The code, status and request id of an SDK error (or a network error's code); never its message. */
  static from(err: unknown): AwsApiError {
    const e = (typeof err === 'object' && err !== null ? err : {}) as { name?: unknown; code?: unknown; $metadata?: { httpStatusCode?: unknown; requestId?: unknown; attempts?: unknown } };
    const meta = e.$metadata ?? {};
    const code = typeof e.code === 'string' && /^E[A-Z]+$/.test(e.code) ? e.code : typeof e.name === 'string' ? e.name : 'UnknownError';
    return new AwsApiError(code, {
      httpStatus: typeof meta.httpStatusCode === 'number' ? meta.httpStatusCode : undefined,
      requestId: typeof meta.requestId === 'string' ? meta.requestId : undefined,
      attempts: typeof meta.attempts === 'number' ? meta.attempts : undefined,
    });
  }
}
