import type { Dispatcher } from 'undici';
import type { SecretsClient } from '../client.js';
import type { HandleOrRef } from './credential.js';
import { tokenAuth, Unauthorized, type HttpAuthOptions } from './http.js';

type Handler = Dispatcher.DispatchHandler;
type Controller = Dispatcher.DispatchController;

/**
 * An undici interceptor (for `dispatcher.compose(...)`) that sends `Authorization: Bearer <token>`
 * from a token handle, and on a 401 answer refreshes the token once through `withCredential`
 * and sends the request again. Requests whose body is a stream or iterable cannot be sent twice:
 * their 401 is passed on as it came.
 *
 * @param source - A token handle (text, or JSON with `token` / `access_token`), or a ref to make one from.
 * @param secrets - The client that makes the handle.
 * @param options - The header and scheme.
 *
 * @example
 * ```ts
 * const api = new Agent().compose(undiciAuth('vault://kv/prod/orders-api#token', secrets));
 * const res = await request('https://api.example.com/orders', { dispatcher: api });
 * ```
 */
export function undiciAuth(source: HandleOrRef, secrets: Pick<SecretsClient, 'handle'>, options: HttpAuthOptions = {}): Dispatcher.DispatcherComposeInterceptor {
  const auth = tokenAuth(source, secrets, options);
  return (dispatch) => (opts, handler) => {
    const replayable = opts.body === undefined || opts.body === null || typeof opts.body === 'string' || opts.body instanceof Uint8Array;
    let attempt = 0;
    let controller: Controller | undefined;
    auth.handle
      .withCredential(
        (credential) =>
          new Promise<void>((resolve, reject) => {
            attempt += 1;
            const last = attempt > 1 || !replayable;
            const headers = withHeader(opts.headers, auth.header, auth.value(credential));
            let swallowing = false;
            const wrapped: Handler = {
              onRequestStart(c, context) {
                controller = c;
                // The caller sees one request: the retry's start is not announced again.
                if (attempt === 1) handler.onRequestStart?.(c, context);
              },
              onRequestUpgrade(c, status, h, socket) {
                handler.onRequestUpgrade?.(c, status, h, socket);
              },
              onResponseStart(c, status, h, message) {
                if (status === 401 && !last) {
                  swallowing = true;
                  return;
                }
                resolve();
                handler.onResponseStart?.(c, status, h, message);
              },
              onResponseData(c, chunk) {
                if (!swallowing) handler.onResponseData?.(c, chunk);
              },
              onResponseEnd(c, trailers) {
                if (swallowing) reject(new Unauthorized('the server answered 401'));
                else handler.onResponseEnd?.(c, trailers);
              },
              onResponseError(c, err) {
                resolve();
                handler.onResponseError?.(c, err);
              },
            };
            dispatch({ ...opts, headers }, wrapped);
          }),
        { isAuthError: (err) => err instanceof Unauthorized },
      )
      .catch((err: unknown) => {
        // No token (or no refreshed one): the request fails with that error, which names no value.
        handler.onResponseError?.(controller ?? detached, err instanceof Error ? err : new Error(String(err)));
      });
    return true;
  };
}

/** A controller for an error before any dispatch started. */
const detached: Controller = {
  aborted: false,
  paused: false,
  reason: null,
  abort() {},
  pause() {},
  resume() {},
};

/** The request's headers with `name` set, whatever shape they came in (object, flat array, iterable). */
function withHeader(headers: Dispatcher.DispatchOptions['headers'], name: string, value: string): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  const put = (k: string, v: unknown) => {
    if (k.toLowerCase() === name || v === undefined || v === null) return;
    out[k] = Array.isArray(v) ? v.map(String) : String(v);
  };
  if (Array.isArray(headers)) {
    for (let i = 0; i + 1 < headers.length; i += 2) put(String(headers[i]), headers[i + 1]);
  } else if (headers !== null && headers !== undefined && typeof (headers as Iterable<unknown>)[Symbol.iterator] === 'function') {
    for (const [k, v] of headers as Iterable<[string, string | string[] | undefined]>) put(k, v);
  } else if (headers !== null && headers !== undefined) {
    for (const [k, v] of Object.entries(headers)) put(k, v);
  }
  out[name] = value;
  return out;
}
