import { ConfigError } from '../errors.js';
import { sleep, type Clock } from '../handles/clock.js';
import { backoffDelay, type RetryPolicy } from './backoff.js';
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

/**
 * Vault HTTP through node-vault's request machinery (`client.request`): sends `X-Vault-Request`,
 * the token and the namespace on every call, bounds each attempt by a timeout, retries transient
 * failures with exponential backoff and full jitter inside a deadline, and turns every failure
 * into a scrubbed {@link VaultApiError} (inside a {@link VaultHttpFailure} for HTTP errors).
 * The HTTP client's own errors, which hold the token and body in their config, never escape.
 */
export class VaultTransport {
  readonly #client: NodeVaultClient;
  readonly #config: TransportConfig;

  private constructor(client: NodeVaultClient, config: TransportConfig) {
    this.#client = client;
    this.#config = config;
  }

  /** Loads node-vault and makes its client. */
  static async create(config: TransportConfig): Promise<VaultTransport> {
    const factory = await loadNodeVault();
    let url: URL;
    try {
      url = new URL(config.address);
    } catch {
      throw new ConfigError(`Vault address "${config.address}" is not a URL (expected e.g. https://vault.internal:8200)`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new ConfigError(`Vault address must be http(s), not ${url.protocol}`);
    const tls = config.tls;
    const options: NodeVaultOptions = {
      endpoint: url.origin + url.pathname.replace(/\/+$/, ''),
      apiVersion: 'v1',
      // node-vault logs request bodies (secret_id, written values) through `debug`: silence it.
      debug: () => {},
      noCustomHTTPVerbs: true,
      requestOptions: {
        // Set explicitly so VAULT_SKIP_VERIFY in the environment cannot turn verification off.
        strictSSL: tls?.rejectUnauthorized ?? true,
        ...(tls?.ca === undefined ? {} : { ca: tls.ca }),
        ...(tls?.cert === undefined ? {} : { cert: tls.cert }),
        ...(tls?.key === undefined ? {} : { key: tls.key }),
        ...(tls?.passphrase === undefined ? {} : { passphrase: tls.passphrase }),
      },
    };
    const client = factory(options);
    // node-vault falls back to VAULT_TOKEN / VAULT_NAMESPACE / VAULT_PREFIX from the environment;
    // every header is ours, so clear them.
    Object.assign(client, { token: '', namespace: '', pathPrefix: '' });
    return new VaultTransport(client, config);
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
      let failure: VaultHttpFailure | VaultApiError;
      try {
        return await this.#attempt(call, timeout);
      } catch (err) {
        if (call.signal?.aborted) throw call.signal.reason;
        failure = describe(err, call, apiPath, submitted, attempt);
      }
      const retryable = failure instanceof VaultHttpFailure ? retryableStatus(failure.status) : !isTlsCode(failure.code);
      if (!retryable || attempt >= maxAttempts) throw failure;
      const wait = backoffDelay(retry, attempt, random);
      if (now() + wait >= deadline) throw failure;
      // The caller awaits this wait: it keeps the process alive (a backoff must never let a script exit mid-call).
      await sleep(wait, { clock, signal: call.signal });
    }
  }

  async #attempt(call: VaultCall, timeoutMs: number): Promise<unknown> {
    const headers: Record<string, string> = { 'X-Vault-Request': 'true' };
    if (call.token) headers['X-Vault-Token'] = call.token;
    if (this.#config.namespace) headers['X-Vault-Namespace'] = this.#config.namespace;
    const request = this.#client.request({
      path: `/${call.path}`,
      method: call.method,
      headers,
      timeout: timeoutMs,
      ...(call.body === undefined ? {} : { json: call.body }),
    }) as Promise<unknown>;
    const body = await raceAbort(request, call.signal);
    return body === '' ? undefined : body;
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

/** node-vault / axios error → our scrubbed description. Only status, body and codes are read. */
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
