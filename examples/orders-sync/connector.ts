// The connector itself: reads every page of the orders API and writes the rows to a JSONL
// sink. It never holds a credential literal. It declares the long-lived secret it needs
// (`ordersSecrets`: the OAuth client secret), and reads the API with a short-lived access token
// through an auto-refreshing handle (`secrets.handle(ACCESS_TOKEN_REF)`): the handle exchanges
// the client secret for a new token ahead of expiry, in the background, while pages keep
// flowing, and the token is revealed only at the moment it goes into the Authorization header.
import { mkdir, open, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import { defineSecrets, type Secret, type SecretsClient } from '../../src/index.js';

/** The long-lived secrets this connector needs: refs, owners and purposes, no values. */
export const ordersSecrets = defineSecrets({
  clientSecret: {
    ref: 'secret://orders-api/client-secret',
    owner: 'data-platform',
    purpose: 'obtain short-lived access tokens for the orders API (OAuth client credentials)',
    sensitivity: 'high',
    rotation: '30d',
  },
});

/** The short-lived access token, served by `fromOrdersApiTokens` (see fromOrdersApiTokens.ts). */
export const ACCESS_TOKEN_REF = 'orders-api://access-token';

/** Where the connector reports progress: one line per call. Lines never hold a secret. */
export type Log = (line: string) => void;

/** How the access token handle refreshes; passed to `secrets.handle()`. */
export interface TokenRefreshOptions {
  /**
   * The token is replaced at the latest this long before it expires (shrunk to a quarter of
   * short lifetimes); the refresh itself happens between 2/3 and 3/4 of the lifetime.
   * @default 300_000 (5 minutes, the handle's default)
   */
  readonly refreshWindowMs?: number;
  /**
   * A token is never used later than this before its expiry, which leaves the request time to
   * reach the API while the token is still valid.
   * @default 1000 (the handle's default)
   */
  readonly safetyMarginMs?: number;
}

/** Options of {@link syncOrders}. */
export interface SyncOptions {
  /**
   * The secrets client. It must serve {@link ACCESS_TOKEN_REF} (a `fromOrdersApiTokens`
   * provider in its chain).
   */
  readonly secrets: SecretsClient;
  readonly log: Log;
  /** Base URL of the orders API. */
  readonly sourceUrl: string;
  /** The JSONL file to write; replaced atomically at the end of a successful run. */
  readonly sinkPath: string;
  /** Rows per request. @default 50 */
  readonly pageSize?: number;
  /** A pause between two page requests, in milliseconds (a polite client, or a slow demo). @default 0 */
  readonly pauseMs?: number;
  /** How the access token is refreshed. @default the handle's defaults */
  readonly token?: TokenRefreshOptions;
  /** Aborts the run between (and during) requests. */
  readonly signal?: AbortSignal;
}

/** One access-token rotation seen during a run. No values. */
export interface TokenRotation {
  readonly from: string | undefined;
  readonly to: string | undefined;
  /** How many pages had been fetched when the new token arrived. */
  readonly afterPage: number;
  /**
   * The page whose request was in flight when the new token arrived (background refreshes do
   * not wait for requests), or undefined when it arrived between two requests.
   */
  readonly duringPage: number | undefined;
}

/** What one run did. No values. */
export interface SyncResult {
  readonly rows: number;
  readonly pages: number;
  readonly sinkPath: string;
  /** The ref the access token was resolved from. */
  readonly tokenRef: string;
  /** The provider that issued the access tokens. */
  readonly tokenProvider: string;
  /** The token version each page request was made with, in page order. */
  readonly pageTokenVersions: readonly (string | undefined)[];
  /** Every rotation of the access token during the run. */
  readonly rotations: readonly TokenRotation[];
}

/** The source refused the credential (HTTP 401/403). A refreshed credential may fix it. */
export class SourceAuthError extends Error {
  override readonly name = 'SourceAuthError';
  constructor(readonly status: number, readonly page: number) {
    super(`the orders API refused the credential with HTTP ${status} on page ${page}`);
  }
}

const orderRow = z.object({
  id: z.string(),
  customerId: z.string(),
  amountCents: z.number().int().nonnegative(),
  currency: z.string().length(3),
  status: z.string(),
  createdAt: z.iso.datetime(),
});
const ordersPage = z.object({
  data: z.array(orderRow),
  page: z.number().int().positive(),
  total: z.number().int().nonnegative(),
  nextPage: z.number().int().positive().nullable(),
});

/**
 * Copies every order from the source API to the sink.
 *
 * Every page request runs through `handle.withCredential()`: it gets the current access token
 * (refreshed ahead of expiry in the background), and should the API still refuse it with
 * 401/403, the handle fetches a new token once and the request is retried once.
 *
 * @throws {@link SourceAuthError} when the API refuses a token twice in a row; secrets errors
 * (codes such as `ACCESS_DENIED` when the token endpoint refuses the client secret) when no
 * token can be obtained.
 */
export async function syncOrders(options: SyncOptions): Promise<SyncResult> {
  const { secrets, log, sourceUrl, sinkPath, pageSize = 50, pauseMs = 0, signal } = options;

  const token = secrets.handle(ACCESS_TOKEN_REF, { ...options.token });
  let pages = 0;
  let inFlight: number | undefined;
  const rotations: TokenRotation[] = [];
  const pageTokenVersions: (string | undefined)[] = [];
  // Versions and refs are not secret; values never reach a log line.
  token.onRotate((next, previous) => {
    rotations.push({ from: previous.version, to: next.version, afterPage: pages, duringPage: inFlight });
    log(`access token rotated (version ${previous.version ?? '?'} → ${next.version ?? '?'}) ` +
      (inFlight === undefined ? `between page ${pages} and page ${pages + 1}` : `while page ${inFlight} was in flight`));
  });
  token.on('refresh-error', (err) => log(`access token refresh failed (${errorCode(err)}); retrying with backoff while the current token is valid`));
  token.on('expired', () => log('access token expired with no replacement; the next request asks for a new one'));

  try {
    // Resolve up front, so a refused client secret fails the run before any I/O.
    const first = await token.get();
    log(`access token for ${ACCESS_TOKEN_REF} issued by provider "${first.provider ?? 'unknown'}" ` +
      `(version ${first.version ?? '?'}, expires in ${expiresInMs(first)} ms)`);

    await mkdir(dirname(sinkPath), { recursive: true });
    const partial = `${sinkPath}.partial`;
    const sink = await open(partial, 'w', 0o644);
    let rows = 0;
    try {
      for (let page: number | null = 1; page !== null; ) {
        if (page > 1 && pauseMs > 0) await sleep(pauseMs, undefined, signal === undefined ? {} : { signal });
        const current: number = page;
        inFlight = current;
        const body = await token.withCredential((credential) => {
          pageTokenVersions[current - 1] = credential.version;
          return fetchPage(sourceUrl, current, pageSize, credential, signal);
        });
        inFlight = undefined;
        if (body.data.length > 0) await sink.write(body.data.map((row) => JSON.stringify(row)).join('\n') + '\n');
        rows += body.data.length;
        pages += 1;
        log(`page ${body.page}: ${body.data.length} rows (${rows}/${body.total}), access token version ${pageTokenVersions[current - 1] ?? '?'}`);
        page = body.nextPage;
      }
      await sink.sync();
    } catch (err) {
      await sink.close();
      await rm(partial, { force: true });
      throw err;
    }
    await sink.close();
    await rename(partial, sinkPath);
    return {
      rows,
      pages,
      sinkPath,
      tokenRef: first.ref ?? ACCESS_TOKEN_REF,
      tokenProvider: first.provider ?? 'unknown',
      pageTokenVersions,
      rotations,
    };
  } finally {
    // Stops the refresh timer; a run never leaves a timer or a request behind.
    await token.close();
  }
}

function expiresInMs(secret: Secret<string>): string {
  const at = secret.expiresAt?.getTime();
  return at === undefined ? '?' : String(Math.max(0, at - Date.now()));
}

function errorCode(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : err instanceof Error ? err.name : 'error';
}

async function fetchPage(base: string, page: number, limit: number, token: Secret<string>, signal: AbortSignal | undefined) {
  const url = new URL('/v1/orders', base);
  url.searchParams.set('page', String(page));
  url.searchParams.set('limit', String(limit));
  const res = await fetch(url, {
    // The one place the value is revealed: straight into the header, never into a variable
    // that outlives the request.
    headers: { authorization: `Bearer ${token.reveal()}`, accept: 'application/json' },
    ...(signal === undefined ? {} : { signal }),
  });
  if (res.status === 401 || res.status === 403) {
    await res.body?.cancel();
    throw new SourceAuthError(res.status, page);
  }
  if (!res.ok) {
    await res.body?.cancel();
    throw new Error(`the orders API answered HTTP ${res.status} on page ${page}`);
  }
  return ordersPage.parse(await res.json());
}
