/**
 * The non-secret detail of a failed Azure call, attached as the `cause` of the connector-secrets
 * error it became: the HTTP status, Key Vault's or Entra's error code (and Key Vault's inner
 * code, e.g. `ForbiddenByRbac`), the request id and the number of attempts. Azure's own message
 * is never kept: it can quote a secret name, a caller id or what a request submitted, and the SDK
 * error it came from carries the request.
 *
 * @example
 * ```ts
 * try {
 *   await secrets.get('azure-kv://orders-kv/orders-db');
 * } catch (err) {
 *   if (err instanceof Error && err.cause instanceof AzureApiError) log.warn({ status: err.cause.status, code: err.cause.azureCode, inner: err.cause.innerCode });
 * }
 * ```
 */
export class AzureApiError extends Error {
  /** Always `'AzureApiError'`. */
  override name = 'AzureApiError' as const;
  /** The HTTP status, or `undefined` when no response arrived. */
  readonly status: number | undefined;
  /** Key Vault's `error.code`, Entra's `error`, or the network error code (`ECONNRESET`, …). */
  readonly azureCode: string;
  /** Key Vault's `error.innererror.code` (`ForbiddenByRbac`, `SecretDisabled`, …), when given. */
  readonly innerCode: string | undefined;
  /** `x-ms-request-id` of the answer, for Azure support. */
  readonly requestId: string | undefined;

  constructor(init: { status?: number | undefined; azureCode: string; innerCode?: string | undefined; requestId?: string | undefined }) {
    super(`Azure: ${init.status === undefined ? 'no response' : `HTTP ${init.status}`} (${init.azureCode}${init.innerCode === undefined ? '' : `/${init.innerCode}`})`);
    this.status = init.status;
    this.azureCode = init.azureCode;
    this.innerCode = init.innerCode;
    this.requestId = init.requestId;
  }

  /** The detail of any error the Azure SDK throws (RestError, AuthenticationError, network errors). */
  static from(err: unknown): AzureApiError {
    const e = (err ?? {}) as {
      name?: unknown;
      code?: unknown;
      statusCode?: unknown;
      details?: { error?: { code?: unknown; innererror?: { code?: unknown }; innerError?: { code?: unknown } } };
      errorResponse?: { error?: unknown };
      response?: { headers?: { get?(name: string): string | undefined } };
    };
    const status = typeof e.statusCode === 'number' ? e.statusCode : undefined;
    const bodyCode = e.details?.error?.code;
    // The SDK deserializes Key Vault's `innererror` as `innerError`; raw bodies keep the wire name.
    const inner = e.details?.error?.innerError?.code ?? e.details?.error?.innererror?.code;
    const code =
      typeof bodyCode === 'string'
        ? bodyCode
        : typeof e.errorResponse?.error === 'string'
          ? e.errorResponse.error
          : typeof e.code === 'string' && /^[A-Za-z_]+$/.test(e.code)
            ? e.code
            : typeof e.name === 'string' && /^[A-Za-z]+$/.test(e.name)
              ? e.name
              : 'UnknownError';
    const requestId = e.response?.headers?.get?.('x-ms-request-id');
    return new AzureApiError({ status, azureCode: code, innerCode: typeof inner === 'string' ? inner : undefined, requestId: typeof requestId === 'string' ? requestId : undefined });
  }
}
