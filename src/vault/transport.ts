import { ConfigError } from '../errors.js';
import { sleep, type Clock } from '../handles/clock.js';
import { backoffDelay, type RetryPolicy } from '../retry.js';
import { createVaultHttp, type ExchangeOptions, type VaultHttp } from './http.js';
import { loadNodeVault, type NodeVaultClient, type NodeVaultOptions } from './loadNodeVault.js';
import type { ResolvedTls } from './tls.js';
import { scrubErrors, submittedValues, VaultApiError } from './VaultApiError.js';
import { isTlsCode, retryableStatus, VaultHttpFailure } from './VaultHttpFailure.js';

/** Settings of a {@link VaultTransport}. */
export interface TransportConfig {
  readonly address: string;
  readonly namespace: string | undefined;
  readonly tls: ResolvedTls | undefined;
  readonly requestTimeoutMs: number;
  readonly retry: RetryPolicy;
  /** Times the deadline and the waits between attempts. */
  readonly clock: Clock;
  readonly random: () => number;
}

/** One call to Vault's HTTP API. */
export interface VaultCall {
  readonly method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** The API path below `/v1/`, segments already percent-encoded, query included. */
  readonly path: string;
  /** The client token; none for logins. */
  readonly token?: string | undefined;
  readonly body?: Readonly<Record<string, unknown>>;
  readonly signal?: AbortSignal | undefined;
  /** Retry transient failures. @default true */
  readonly retry?: boolean;
}

/** Marks an attempt ended by its own timeout (not by the caller). */
const TIMED_OUT = Symbol('timed out');

/**
 * Vault HTTP through node-vault's request machinery (`client.request`, with the exchange itself
 * on {@link createVaultHttp}): sends `X-Vault-Request`, the token and the namespace on every
 * call, bounds each attempt (the whole exchange, body included) by a timeout, retries transient
 * failures with exponential backoff and full jitter, or after the `Retry-After` Vault asks for,
 * inside a deadline, and turns every failure into a scrubbed {@link VaultApiError} (inside a
 * {@link VaultHttpFailure} for HTTP errors). The HTTP client's own errors, which hold the token
 * and body in their config, never escape.
 */
export class VaultTransport {
  readonly #client: NodeVaultClient;
  readonly #http: VaultHttp;
  readonly #config: TransportConfig;

  private constructor(client: NodeVaultClient, http: VaultHttp, config: TransportConfig) {
    this.#client = client;
    this.#http = http;
    this.#config = config;
  }

  /** Loads node-vault and makes its client. */
  static async create(config: TransportConfig): Promise<VaultTransport> {
    const factory = await loadNodeVault();
    let url: URL;
    try {
      url = new URL(config.address);
    } catch {
      throw new ConfigError('Vault address (address option or VAULT_ADDR) is not a URL (expected e.g. https://vault.internal:8200)');
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new ConfigError(`Vault address must be http(s), not ${url.protocol}`);
    // TLS settings (and the refusal to honour VAULT_SKIP_VERIFY) live on the exchange's agent.
    const http = createVaultHttp(config.tls);
    const options: NodeVaultOptions = {
      endpoint: url.origin + url.pathname.replace(/\/+$/, ''),
      apiVersion: 'v1',
      // node-vault logs request bodies (secret_id, written values) through `debug`: silence it.
      debug: () => {},
      noCustomHTTPVerbs: true,
      'request-promise': http.requestPromise,
    };
    const client = factory(options);
    // node-vault falls back to VAULT_TOKEN / VAULT_NAMESPACE / VAULT_PREFIX from the environment;
    // every header is ours, so clear them.
    Object.assign(client, { token: '', namespace: '', pathPrefix: '' });
    return new VaultTransport(client, http, config);
  }

  /** Closes idle connections; calls made afterwards open new ones. */
  close(): void {
    this.#http.close();
  }

  /** Sends a call with retries; resolves the response body (`undefined` for 204). */
  async send(call: VaultCall): Promise<unknown> {
    const { retry, clock, random, requestTimeoutMs } = this.#config;
    const now = () => clock.now();
    const started = now();
    const deadline = started + retry.deadlineMs;
    const maxAttempts = call.retry === false ? 1 : retry.maxAttempts;
    const submitted = [...submittedValues(call.body), ...(call.token ? [call.token] : [])];
    const apiPath = call.path.split('?')[0]!;
    for (let attempt = 1; ; attempt++) {
      call.signal?.throwIfAborted();
      const timeout = Math.max(1, Math.min(requestTimeoutMs, deadline - now()));
      const received: NonNullable<ExchangeOptions['received']> = {};
      let failure: VaultHttpFailure | VaultApiError;
      try {
        return await this.#attempt(call, timeout, received);
      } catch (err) {
        if (call.signal?.aborted) throw call.signal.reason;
        failure = describe(err, call, apiPath, submitted, attempt);
      }
      const retryable = failure instanceof VaultHttpFailure ? retryableStatus(failure.status) : !isTlsCode(failure.code);
      if (!retryable || attempt >= maxAttempts) throw failure;
      // Vault (a rate limit quota, a proxy in front of it) may say how long to stay away: never less.
      const asked = failure instanceof VaultHttpFailure ? retryAfterMs(received.headers?.['retry-after'], now()) : undefined;
      const wait = Math.max(backoffDelay(retry, attempt, random), asked ?? 0);
      if (now() + wait >= deadline) throw failure;
      // The caller awaits this wait: it keeps the process alive (a backoff must never let a script exit mid-call).
      await sleep(wait, { clock, signal: call.signal });
    }
  }

  /**
   * One attempt. Its timeout and the caller's signal abort the exchange itself, so neither a
   * silent server nor one that trickles its body outlasts them, and the socket is closed.
   */
  async #attempt(call: VaultCall, timeoutMs: number, received: NonNullable<ExchangeOptions['received']>): Promise<unknown> {
    const headers: Record<string, string> = { 'X-Vault-Request': 'true' };
    if (call.token) headers['X-Vault-Token'] = call.token;
    if (this.#config.namespace) headers['X-Vault-Namespace'] = this.#config.namespace;
    const { clock } = this.#config;
    const attempt = new AbortController();
    const onAbort = () => attempt.abort(call.signal?.reason);
    call.signal?.addEventListener('abort', onAbort, { once: true });
    // The caller awaits the attempt, so its timeout keeps the process alive.
    const timer = clock.setTimeout(() => attempt.abort(TIMED_OUT), timeoutMs);
    try {
      const body = (await this.#client.request({
        path: `/${call.path}`,
        method: call.method,
        headers,
        signal: attempt.signal,
        received,
        ...(call.body === undefined ? {} : { json: call.body }),
      } as Parameters<NodeVaultClient['request']>[0])) as unknown;
      return body === '' ? undefined : body;
    } catch (err) {
      if (attempt.signal.reason === TIMED_OUT) throw Object.assign(new Error(`no complete answer within ${timeoutMs} ms`), { code: 'ETIMEDOUT' });
      throw err;
    } finally {
      clock.clearTimeout(timer);
      call.signal?.removeEventListener('abort', onAbort);
    }
  }
}

/** Resolves or rejects with `promise`, or rejects with the signal's reason when it aborts first. */
export function raceAbort<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (signal === undefined) return promise;
  if (signal.aborted) {
    promise.catch(() => {});
    return Promise.reject(signal.reason);
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => {
      promise.catch(() => {});
      reject(signal.reason);
    };
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}

/**
 * A `Retry-After` value in ms from `now`: delay-seconds or an HTTP date (RFC 9110 §10.2.3).
 * Anything else (absent, malformed, negative) is no request.
 */
export function retryAfterMs(header: string | string[] | undefined, now: number): number | undefined {
  const value = (Array.isArray(header) ? header[0] : header)?.trim();
  if (value === undefined || value === '') return undefined;
  if (/^\d+$/.test(value)) return Number(value) * 1000;
  // An HTTP date names its month; a bare or decimal number is not one.
  const at = /[a-z]/i.test(value) ? Date.parse(value) : Number.NaN;
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** node-vault / HTTP error → our scrubbed description. Only status, body and codes are read. */
function describe(err: unknown, call: VaultCall, path: string, submitted: readonly string[], attempts: number): VaultHttpFailure | VaultApiError {
  const e = err as { response?: { statusCode?: unknown; body?: unknown }; code?: unknown; cause?: { code?: unknown } } | null;
  const status = e?.response?.statusCode;
  if (typeof status === 'number') {
    const body = e?.response?.body;
    const errors = scrubErrors((body as { errors?: unknown } | null)?.errors, submitted);
    return new VaultHttpFailure(status, body, new VaultApiError({ status, errors, method: call.method, path, attempts }));
  }
  const code = typeof e?.code === 'string' ? e.code : typeof e?.cause?.code === 'string' ? e.cause.code : undefined;
  return new VaultApiError({ code: code ?? (err instanceof Error ? err.name : 'unknown'), method: call.method, path, attempts });
}
