/**
 * The non-secret detail of a failed Vault call, attached as the `cause` of the connector-secrets
 * error it became. It carries Vault's `errors` array with every value the request submitted (and
 * the token) masked out, so it can be logged. It never holds the HTTP client's error, whose
 * request config would include the token and the request body.
 *
 * @example
 * ```ts
 * try {
 *   await secrets.get('vault://kv/etl/orders-db');
 * } catch (err) {
 *   if (err instanceof Error && err.cause instanceof VaultApiError) log.warn({ status: err.cause.status, errors: err.cause.errors });
 * }
 * ```
 */
export class VaultApiError extends Error {
  /** Always `'VaultApiError'`. */
  override name = 'VaultApiError' as const;
  /** The HTTP status, or `undefined` when no response arrived. */
  readonly status: number | undefined;
  /** Vault's `errors` array, scrubbed of submitted values. */
  readonly errors: readonly string[];
  /** The network or TLS error code (`ECONNREFUSED`, `ETIMEDOUT`, …) when no response arrived. */
  readonly code: string | undefined;
  /** The HTTP method. */
  readonly method: string;
  /** The API path below `/v1/` (never holds a value). */
  readonly path: string;
  /** How many attempts were made. */
  readonly attempts: number;

  constructor(init: {
    status?: number | undefined;
    errors?: readonly string[];
    code?: string | undefined;
    method: string;
    path: string;
    attempts?: number;
  }) {
    const what = init.status !== undefined ? `HTTP ${init.status}` : (init.code ?? 'no response');
    const errors = init.errors ?? [];
    super(`vault ${init.method} ${init.path}: ${what}${errors.length > 0 ? `: ${errors.join('; ')}` : ''}`);
    this.status = init.status;
    this.errors = Object.freeze([...errors]);
    this.code = init.code;
    this.method = init.method;
    this.path = init.path;
    this.attempts = init.attempts ?? 1;
  }
}

const MASK = '[REDACTED]';
const MAX_ERRORS = 8;
const MAX_LENGTH = 500;

/**
 * Vault's `errors` array made safe to keep: only strings, at most 8 of at most 500 characters,
 * and every submitted value (request body strings, the token, …) replaced by `[REDACTED]`,
 * longest first, so a plugin that quotes its input cannot leak it.
 */
export function scrubErrors(errors: unknown, submitted: readonly string[]): string[] {
  if (!Array.isArray(errors)) return [];
  const values = [...new Set(submitted.filter((v) => v.length >= 3))].sort((a, b) => b.length - a.length);
  const out: string[] = [];
  for (const e of errors.slice(0, MAX_ERRORS)) {
    if (typeof e !== 'string') continue;
    let text = e;
    for (const v of values) if (text.includes(v)) text = text.split(v).join(MASK);
    out.push(text.length > MAX_LENGTH ? `${text.slice(0, MAX_LENGTH)}…` : text);
  }
  return out;
}

/** Every string leaf of a request body (and its JSON form), for {@link scrubErrors}. */
export function submittedValues(body: unknown, out: string[] = []): string[] {
  if (typeof body === 'string') out.push(body);
  else if (typeof body === 'number' || typeof body === 'boolean') return out;
  else if (Array.isArray(body)) for (const v of body) submittedValues(v, out);
  else if (typeof body === 'object' && body !== null) {
    for (const v of Object.values(body)) submittedValues(v, out);
    out.push(JSON.stringify(body));
  }
  return out;
}
