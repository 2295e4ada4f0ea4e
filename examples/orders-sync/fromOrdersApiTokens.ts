// A custom provider: short-lived access tokens for the orders API, obtained with the OAuth 2.0
// client credentials grant (RFC 6749 §4.4). It is what a connector author writes when their
// source hands out its own tokens: an object with `name`, `schemes` and `resolve`, passed to
// `createSecrets({ providers })` like any built-in provider. The client then does the rest:
// guards, caching, single-flight, redaction of every token, audit, and — through
// `secrets.handle()` — refreshing ahead of expiry and announcing rotations.
import { z } from 'zod';
import {
  AccessDeniedError,
  ProviderError,
  ProviderUnavailableError,
  SecretNotFoundError,
  type ResolveContext,
  type ResolvedSecret,
  type Secret,
  type SecretProvider,
  type SecretRef,
} from '../../src/index.js';

/** The one path this provider serves: `orders-api://access-token`. */
export const ACCESS_TOKEN_PATH = 'access-token';

/**
 * Options of {@link fromOrdersApiTokens}.
 *
 * @example
 * ```ts
 * const { clientSecret } = await bootstrap.load(ordersSecrets);
 * const tokens = fromOrdersApiTokens({ tokenUrl: 'https://orders.example/oauth/token', clientId: 'orders-sync', clientSecret });
 * ```
 */
export interface FromOrdersApiTokensInit {
  /** The token endpoint, e.g. `https://orders.example/oauth/token`. */
  readonly tokenUrl: string | URL;
  /** The OAuth client id (not secret). */
  readonly clientId: string;
  /**
   * The long-lived client secret, already resolved (for example with `secrets.load(manifest)`
   * from the local store). It is revealed only into the `Authorization` header of a token request.
   */
  readonly clientSecret: Secret<string>;
  /**
   * The ref scheme this provider serves.
   * @default 'orders-api'
   */
  readonly scheme?: string;
  /**
   * The provider's name in errors, audit records and `Secret.provider`.
   * @default 'orders-api'
   */
  readonly name?: string;
  /**
   * The environment the tokens belong to (the guard checks it against the client's).
   * @default none
   */
  readonly environment?: string;
  /**
   * How long one token request may take, in milliseconds.
   * @default 10_000
   */
  readonly timeoutMs?: number;
  /**
   * The `fetch` used for token requests.
   * @default globalThis.fetch
   */
  readonly fetch?: typeof fetch;
}

/**
 * RFC 6749 §5.1. `expires_in` is whole seconds (and only RECOMMENDED); the demo server also
 * sends the non-standard `expires_in_ms`, which is preferred when present, because demo
 * lifetimes are seconds long and rounding to whole seconds would matter.
 */
const tokenResponse = z.object({
  access_token: z.string().min(1),
  token_type: z.string().refine((t) => t.toLowerCase() === 'bearer'),
  expires_in: z.number().nonnegative().optional(),
  expires_in_ms: z.number().int().positive().optional(),
});
/** RFC 6749 §5.2. */
const errorResponse = z.object({ error: z.string() });

/**
 * Access tokens for the orders API, exchanged for the client secret at each `resolve`.
 *
 * - Serves `orders-api://access-token` and nothing else (`SECRET_NOT_FOUND` for other paths).
 * - Each resolve is one token request and returns `{ value, expiresAt, version }`; `version`
 *   counts the tokens this provider has obtained (`'1'`, `'2'`, …), so rotations can be logged
 *   without values. A response without any lifetime gets no `expiresAt` (a handle then asks
 *   again every `ttlMs`).
 * - `expiresAt` is measured from the moment the request was *sent*: the server cannot have
 *   issued the token earlier, so the estimate errs on the early side.
 * - `invalid_client` (HTTP 401, or 400 as some servers send it) → `AccessDeniedError`, which
 *   stops the chain; a network failure, a timeout, 429 or 5xx → `ProviderUnavailableError`,
 *   which the handle retries with backoff; any other answer → `ProviderError`.
 * - Error messages carry the status and the OAuth `error` code, never a body or a header.
 *
 * @example
 * ```ts
 * const secrets = createSecrets({ environment: 'dev', providers: [fromOrdersApiTokens({ tokenUrl, clientId, clientSecret })] });
 * const token = secrets.handle('orders-api://access-token', { refreshWindowMs: 60_000 });
 * await token.withCredential((t) => fetch(url, { headers: { authorization: `Bearer ${t.reveal()}` } }));
 * ```
 */
export function fromOrdersApiTokens(init: FromOrdersApiTokensInit): SecretProvider {
  const name = init.name ?? 'orders-api';
  const scheme = init.scheme ?? 'orders-api';
  const timeoutMs = init.timeoutMs ?? 10_000;
  const tokenUrl = new URL(init.tokenUrl);
  const doFetch = init.fetch ?? globalThis.fetch;
  let obtained = 0;

  async function resolve(ref: SecretRef, ctx: ResolveContext): Promise<ResolvedSecret> {
    const ids = { ref: String(ref), provider: name };
    if (ref.path !== ACCESS_TOKEN_PATH) {
      throw new SecretNotFoundError(`${name} serves only ${scheme}://${ACCESS_TOKEN_PATH}`, ids);
    }
    const requestedAt = ctx.now();
    let res: Response;
    try {
      res = await doFetch(tokenUrl, {
        method: 'POST',
        headers: {
          // RFC 6749 §2.3.1: HTTP Basic over the form-urlencoded id and secret.
          authorization: `Basic ${Buffer.from(`${formEncode(init.clientId)}:${formEncode(init.clientSecret.reveal())}`, 'utf8').toString('base64')}`,
          'content-type': 'application/x-www-form-urlencoded',
          accept: 'application/json',
        },
        body: new URLSearchParams({ grant_type: 'client_credentials' }).toString(),
        signal: AbortSignal.any([ctx.signal, AbortSignal.timeout(timeoutMs)]),
        redirect: 'error',
      });
    } catch (err) {
      if (ctx.signal.aborted) throw ctx.signal.reason;
      // fetch errors name the host and the socket error, not the request's headers.
      throw new ProviderUnavailableError(`the token endpoint could not be reached (${errorName(err)})`, { ...ids, cause: err });
    }

    if (res.ok) {
      const parsed = tokenResponse.safeParse(await res.json().catch(() => undefined));
      if (!parsed.success) {
        // The body holds a token: neither it nor zod's issues (which may quote it) go anywhere.
        throw new ProviderError('the token endpoint answered 200 without a usable bearer token response', ids);
      }
      const { access_token, expires_in, expires_in_ms } = parsed.data;
      const lifetimeMs = expires_in_ms ?? (expires_in === undefined ? undefined : expires_in * 1000);
      obtained += 1;
      return {
        value: access_token,
        ...(lifetimeMs === undefined ? {} : { expiresAt: new Date(requestedAt + lifetimeMs) }),
        version: String(obtained),
        metadata: {
          ...(init.environment === undefined ? {} : { environment: init.environment }),
          tokenType: 'Bearer',
          clientId: init.clientId,
        },
      };
    }

    const oauthError = errorResponse.safeParse(await res.json().catch(() => undefined)).data?.error;
    const what = `HTTP ${res.status}${oauthError === undefined ? '' : ` ${oauthError}`}`;
    if (res.status === 401 || res.status === 403 || oauthError === 'invalid_client' || oauthError === 'unauthorized_client') {
      throw new AccessDeniedError(`the token endpoint refused the client credentials of "${init.clientId}" (${what})`, ids);
    }
    if (res.status === 429 || res.status >= 500) {
      throw new ProviderUnavailableError(`the token endpoint is unavailable (${what})`, { ...ids, throttled: res.status === 429 });
    }
    throw new ProviderError(`the token endpoint refused the request (${what})`, ids);
  }

  return {
    name,
    schemes: [scheme],
    ...(init.environment === undefined ? {} : { environment: init.environment }),
    resolve,
  };
}

/** `application/x-www-form-urlencoded` encoding of one value (RFC 6749 Appendix B). */
function formEncode(text: string): string {
  return new URLSearchParams({ v: text }).toString().slice(2);
}

function errorName(err: unknown): string {
  const cause = (err as { cause?: { code?: unknown } } | null)?.cause;
  const code = typeof cause?.code === 'string' ? cause.code : undefined;
  const name = err instanceof Error ? err.name : typeof err;
  return code === undefined ? name : `${name}: ${code}`;
}
