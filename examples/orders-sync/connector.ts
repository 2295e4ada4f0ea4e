// The connector itself: reads every page of the orders API and writes the rows to a JSONL
// sink. It never holds a credential literal. It declares what it needs (`ordersSecrets`),
// receives a `SecretsClient` from whoever runs it, and reveals the token only at the moment it
// builds the Authorization header.
import { mkdir, open, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { z } from 'zod';
import { defineSecrets, type Secret, type SecretsClient } from '../../src/index.js';

/** The secrets this connector needs: refs, owners and purposes, no values. */
export const ordersSecrets = defineSecrets({
  apiToken: {
    ref: 'secret://orders-api/token',
    owner: 'data-platform',
    purpose: 'read orders from the orders API',
    sensitivity: 'high',
    rotation: '30d',
  },
});

/** Where the connector reports progress: one line per call. Lines never hold a secret. */
export type Log = (line: string) => void;

/** Options of {@link syncOrders}. */
export interface SyncOptions {
  /** The secrets client; the connector asks it for `ordersSecrets`. */
  readonly secrets: SecretsClient;
  readonly log: Log;
  /** Base URL of the orders API. */
  readonly sourceUrl: string;
  /** The JSONL file to write; replaced atomically at the end of a successful run. */
  readonly sinkPath: string;
  /** Rows per request. @default 50 */
  readonly pageSize?: number;
  /** Aborts the run between (and during) requests. */
  readonly signal?: AbortSignal;
}

/** What one run did. No values. */
export interface SyncResult {
  readonly rows: number;
  readonly pages: number;
  readonly sinkPath: string;
  /** The ref the API token was resolved from. */
  readonly tokenRef: string;
  /** The provider that answered for the token. */
  readonly tokenProvider: string;
  /** The provider's version of the token, when it reports one. */
  readonly tokenVersion: string | undefined;
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
 * @throws {@link SourceAuthError} when the API refuses the token; secrets errors (codes such as
 * `SECRET_NOT_FOUND`) when the token cannot be resolved.
 */
export async function syncOrders(options: SyncOptions): Promise<SyncResult> {
  const { secrets, log, sourceUrl, sinkPath, pageSize = 50, signal } = options;

  // Resolve up front, so a missing credential fails the run before any I/O.
  const { apiToken } = await secrets.load(ordersSecrets);
  log(`credential ${apiToken.ref} resolved by provider "${apiToken.provider}"` +
    (apiToken.version === undefined ? '' : ` (version ${apiToken.version})`));

  // Each request asks the client again: a warm cache makes that cheap, and a rotated token
  // (after invalidate() or its TTL) is picked up without restarting the run. This one function
  // is the seam where an auto-refreshing credential handle plugs in.
  const credential = async (): Promise<Secret<string>> => (await secrets.load(ordersSecrets)).apiToken;

  await mkdir(dirname(sinkPath), { recursive: true });
  const partial = `${sinkPath}.partial`;
  const sink = await open(partial, 'w', 0o644);
  let rows = 0;
  let pages = 0;
  try {
    for (let page: number | null = 1; page !== null; ) {
      const body = await fetchPage(sourceUrl, page, pageSize, await credential(), signal);
      if (body.data.length > 0) await sink.write(body.data.map((row) => JSON.stringify(row)).join('\n') + '\n');
      rows += body.data.length;
      pages += 1;
      log(`page ${body.page}: ${body.data.length} rows (${rows}/${body.total})`);
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
    tokenRef: apiToken.ref ?? ordersSecrets.specs.apiToken.ref,
    tokenProvider: apiToken.provider ?? 'unknown',
    tokenVersion: apiToken.version,
  };
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
