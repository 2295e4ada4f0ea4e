import { GcpApiError } from './GcpApiError.js';
import { GcpHttpFailure, retryableStatus } from './GcpHttpFailure.js';
import { sleep, systemClock } from '../handles/clock.js';
import { backoffDelay, type RetryPolicy } from '../retry.js';

/** One REST call. */
export interface GcpRequest {
  readonly method: 'GET' | 'POST';
  /** Below the endpoint, e.g. `v1/projects/p/secrets/s/versions/3:access`. */
  readonly path: string;
  readonly body?: unknown;
  /** The bearer token. */
  readonly token: string;
  readonly signal?: AbortSignal | undefined;
  /** Values the body carries, masked out of any message Google sends back. */
  readonly scrub?: readonly string[];
}

/** Settings of a {@link GcpTransport}. */
export interface GcpTransportInit {
  /** `https://secretmanager.googleapis.com`, or a loopback URL in tests. */
  readonly endpoint: string;
  readonly retry: RetryPolicy;
  readonly requestTimeoutMs: number;
  readonly random: () => number;
}

/**
 * JSON over HTTPS to one Google API with Node's fetch: bounded attempts with full-jitter backoff
 * on RESOURCE_EXHAUSTED, 5xx and network errors, each attempt under a timeout, inside a deadline.
 * Error statuses become a {@link GcpHttpFailure} carrying google.rpc.Status `status` and `message`.
 */
export class GcpTransport {
  readonly #init: GcpTransportInit;
  readonly #base: string;

  constructor(init: GcpTransportInit) {
    this.#init = init;
    this.#base = init.endpoint.replace(/\/+$/, '');
  }

  async send(req: GcpRequest): Promise<unknown> {
    const { retry, random, requestTimeoutMs } = this.#init;
    const started = Date.now();
    for (let attempt = 1; ; attempt++) {
      const outcome = await this.#once(req, attempt, requestTimeoutMs);
      if (outcome.ok) return outcome.body;
      const failure = outcome.failure;
      const status = failure.api.httpStatus;
      const again = (status === 0 || retryableStatus(status)) && attempt < retry.maxAttempts && !req.signal?.aborted;
      if (!again) throw failure;
      const wait = backoffDelay(retry, attempt, random);
      if (Date.now() - started + wait >= retry.deadlineMs) throw failure;
      // sleep() keeps the process alive: the caller awaits this retry pause.
      await sleep(wait, { signal: req.signal });
    }
  }

  async #once(req: GcpRequest, attempt: number, timeoutMs: number): Promise<{ ok: true; body: unknown } | { ok: false; failure: GcpHttpFailure }> {
    // The attempt's timeout keeps the process alive (a caller awaits it), and is cleared below.
    const timeout = new AbortController();
    const timer = systemClock.setTimeout(() => timeout.abort(), timeoutMs);
    const signal = req.signal === undefined ? timeout.signal : AbortSignal.any([req.signal, timeout.signal]);
    const headers: Record<string, string> = { authorization: `Bearer ${req.token}`, accept: 'application/json' };
    if (req.body !== undefined) headers['content-type'] = 'application/json';
    const fail = (httpStatus: number, message: string, status?: string, networkCode?: string) => ({
      ok: false as const,
      failure: new GcpHttpFailure(new GcpApiError({ httpStatus, status, message: scrub(message, req.scrub), networkCode, method: req.method, path: req.path, attempts: attempt })),
    });
    let res: Response;
    let text: string;
    try {
      res = await fetch(`${this.#base}/${req.path}`, {
        method: req.method,
        headers,
        ...(req.body === undefined ? {} : { body: JSON.stringify(req.body) }),
        signal,
      });
      text = await res.text();
    } catch (err) {
      if (req.signal?.aborted) throw req.signal.reason;
      const code = timeout.signal.aborted ? 'ETIMEDOUT' : networkCode(err);
      return fail(0, `no answer from Google Cloud (${code})`, undefined, code);
    } finally {
      systemClock.clearTimeout(timer);
    }
    let body: unknown;
    try {
      body = text === '' ? {} : JSON.parse(text);
    } catch {
      // Not JSON (a proxy's HTML page): keep the status, never the text.
      body = undefined;
    }
    if (res.ok) {
      if (body === undefined) return fail(res.status, 'Google Cloud answered with a body that is not JSON');
      return { ok: true, body };
    }
    const error = (body as { error?: { status?: unknown; message?: unknown } } | undefined)?.error;
    const status = typeof error?.status === 'string' ? error.status : undefined;
    const message = typeof error?.message === 'string' ? error.message : `HTTP ${res.status}`;
    return fail(res.status, message, status);
  }
}

function networkCode(err: unknown): string {
  for (let e: unknown = err, depth = 0; e !== null && typeof e === 'object' && depth < 5; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    e = (e as { cause?: unknown }).cause;
  }
  return 'network error';
}

function scrub(message: string, values: readonly string[] | undefined): string {
  let out = message;
  for (const v of values ?? []) if (v.length > 0) out = out.split(v).join('[REDACTED]');
  return out;
}
