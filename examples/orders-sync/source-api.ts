// The source system of the demo: a small "orders API" on loopback, OAuth 2.0 style. A client
// trades its long-lived client secret for a short-lived access token at `POST /oauth/token`
// (the client credentials grant, RFC 6749 §4.4), then reads paginated order rows from
// `GET /v1/orders` with that token as a bearer token (RFC 6750). It stands in for the SaaS API a
// real connector reads; nothing in it knows about connector-secrets except that it is handed the
// client secret as a `Secret`, and hands each token it issues to an optional hook as a `Secret`,
// so no credential ever sits in a printable field.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Secret } from '../../src/index.js';

/** One order row as the API serves it. */
export interface Order {
  readonly id: string;
  readonly customerId: string;
  readonly amountCents: number;
  readonly currency: 'EUR' | 'USD' | 'GBP';
  readonly status: 'placed' | 'paid' | 'shipped' | 'refunded';
  readonly createdAt: string;
}

/** One page of `GET /v1/orders?page=N&limit=M`. */
export interface OrdersPage {
  readonly data: readonly Order[];
  readonly page: number;
  readonly limit: number;
  readonly total: number;
  /** The next page number, or `null` on the last page. */
  readonly nextPage: number | null;
}

/** The success response of `POST /oauth/token` (RFC 6749 §5.1), plus one non-standard field. */
export interface TokenResponse {
  readonly access_token: string;
  readonly token_type: 'Bearer';
  /**
   * Lifetime in whole seconds, as RFC 6749 defines it. Rounded down, so it never overstates the
   * lifetime (a sub-second lifetime says 0).
   */
  readonly expires_in: number;
  /**
   * Non-standard: the exact lifetime in milliseconds. Demo lifetimes are seconds long, where a
   * rounding of `expires_in` matters (1.5 s would say 1); clients that know this field prefer it.
   */
  readonly expires_in_ms: number;
}

/** Options of {@link startSourceApi}. */
export interface SourceApiOptions {
  /** The one registered OAuth client: its id (not secret). */
  readonly clientId: string;
  /** The registered client's secret. Only a digest of it is kept. */
  readonly clientSecret: Secret<string>;
  /** The rows served, in order. */
  readonly orders: readonly Order[];
  /**
   * How long an access token stays valid, in milliseconds.
   * @default 3_600_000 (1 hour)
   */
  readonly tokenLifetimeMs?: number;
  /** The largest `limit` a client may ask for. @default 100 */
  readonly maxLimit?: number;
  /**
   * Called with each access token issued, wrapped in a `Secret`. Tests use it to check that no
   * token shows up where it must not.
   */
  readonly onTokenIssued?: (token: Secret<string>) => void;
  /** The clock, in epoch milliseconds. @default Date.now */
  readonly now?: () => number;
}

/** Request counters of a {@link SourceApi} (no request data is kept). */
export interface SourceApiStats {
  /** `GET /v1/orders` requests answered with rows. */
  readonly served: number;
  /** `GET /v1/orders` requests refused with 401 (no token, unknown token, expired token). */
  readonly refused: number;
  /** Access tokens issued by `POST /oauth/token`. */
  readonly tokensIssued: number;
  /** `POST /oauth/token` requests refused (bad client credentials or a malformed request). */
  readonly tokenRequestsRefused: number;
}

/** A running orders API. */
export interface SourceApi {
  /** Base URL, e.g. `http://127.0.0.1:41234`. */
  readonly url: string;
  /** The token endpoint, `<url>/oauth/token`. */
  readonly tokenUrl: string;
  /** Request counters, live. */
  readonly stats: SourceApiStats;
  /** Stops listening and drops open connections. */
  close(): Promise<void>;
}

const STATUSES = ['placed', 'paid', 'shipped', 'refunded'] as const;
const CURRENCIES = ['EUR', 'USD', 'GBP'] as const;
/** Token requests are a short form body; anything larger is refused unread. */
const MAX_TOKEN_REQUEST_BYTES = 4096;

/**
 * Deterministic demo rows: the same `count` gives the same rows on every run.
 */
export function generateOrders(count: number): Order[] {
  const start = Date.UTC(2024, 0, 1);
  let seed = 0x2f6b_a1c3;
  const next = () => (seed = (Math.imul(seed, 1_103_515_245) + 12_345) >>> 0);
  return Array.from({ length: count }, (_, i) => ({
    id: `ord-${String(i + 1).padStart(5, '0')}`,
    customerId: `cus-${String((next() % 40) + 1).padStart(3, '0')}`,
    amountCents: 500 + (next() % 50_000),
    currency: CURRENCIES[next() % CURRENCIES.length]!,
    status: STATUSES[next() % STATUSES.length]!,
    createdAt: new Date(start + i * 3_600_000).toISOString(),
  }));
}

/**
 * Starts the orders API on 127.0.0.1 and a free port.
 *
 * Routes:
 * - `POST /oauth/token`: the client credentials grant (RFC 6749 §4.4). The body is
 *   `application/x-www-form-urlencoded` with `grant_type=client_credentials`; the client
 *   authenticates with HTTP Basic (`client_id:client_secret`, each form-urlencoded, §2.3.1) or,
 *   as the RFC also allows, with `client_id` and `client_secret` in the body (never both). The
 *   answer is a {@link TokenResponse} with `Cache-Control: no-store`; errors are §5.2 JSON
 *   (`invalid_client` with 401, `invalid_request` / `unsupported_grant_type` with 400).
 * - `GET /v1/orders?page=1&limit=50`: requires `Authorization: Bearer <access token>` with a
 *   token this server issued and that has not expired; otherwise `401` with
 *   `WWW-Authenticate: Bearer …` (RFC 6750 §3), never saying more than `invalid_token`.
 *
 * Anything else is 404/405.
 */
export async function startSourceApi(options: SourceApiOptions): Promise<SourceApi> {
  const maxLimit = options.maxLimit ?? 100;
  const lifetimeMs = options.tokenLifetimeMs ?? 3_600_000;
  if (!Number.isInteger(lifetimeMs) || lifetimeMs < 1) throw new RangeError('tokenLifetimeMs must be a positive integer');
  const now = options.now ?? Date.now;
  // The server compares digests, so comparisons are constant-time whatever the lengths, and it
  // keeps no credential in the clear: not the client secret, not the tokens it issued.
  const clientIdDigest = digest(options.clientId);
  const clientSecretDigest = digest(options.clientSecret.reveal());
  /** Digest (hex) of each live access token → its expiry, epoch ms. */
  const tokens = new Map<string, number>();
  const stats = { served: 0, refused: 0, tokensIssued: 0, tokenRequestsRefused: 0 };

  const server = createServer((req, res) => {
    route(req, res).catch(() => {
      if (!res.headersSent) send(res, 500, { error: 'internal error' });
      else res.destroy();
    });
  });

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (url.pathname === '/oauth/token') {
      if (req.method !== 'POST') return send(res, 405, { error: 'method not allowed' }, { allow: 'POST' });
      return token(req, res);
    }
    if (url.pathname === '/v1/orders') {
      if (req.method !== 'GET') return send(res, 405, { error: 'method not allowed' }, { allow: 'GET' });
      return orders(req, res, url);
    }
    return send(res, 404, { error: 'not found' });
  }

  async function token(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const refuse = (status: number, error: string, headers: Record<string, string> = {}) => {
      stats.tokenRequestsRefused += 1;
      send(res, status, { error }, { 'cache-control': 'no-store', pragma: 'no-cache', ...headers });
    };
    const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
    if (type !== 'application/x-www-form-urlencoded') {
      req.resume();
      return refuse(400, 'invalid_request');
    }
    const text = await readBody(req, MAX_TOKEN_REQUEST_BYTES);
    if (text === undefined) return refuse(400, 'invalid_request');
    const form = new URLSearchParams(text);

    // Client authentication (§2.3.1): Basic, or the body parameters, but not both.
    const header = req.headers.authorization;
    const inBody = form.has('client_id') || form.has('client_secret');
    let client: { id: string; secret: string } | undefined;
    if (header !== undefined) {
      if (inBody) return refuse(400, 'invalid_request');
      client = basicCredentials(header);
      if (client === undefined) return refuse(401, 'invalid_client', { 'www-authenticate': 'Basic realm="orders"' });
    } else if (inBody) {
      client = { id: form.get('client_id') ?? '', secret: form.get('client_secret') ?? '' };
    } else {
      return refuse(401, 'invalid_client', { 'www-authenticate': 'Basic realm="orders"' });
    }
    // Both digests are compared, whichever fails first, so timing says nothing about which.
    const idOk = timingSafeEqual(digest(client.id), clientIdDigest);
    const secretOk = timingSafeEqual(digest(client.secret), clientSecretDigest);
    if (!idOk || !secretOk) return refuse(401, 'invalid_client', { 'www-authenticate': 'Basic realm="orders"' });

    const grant = form.get('grant_type');
    if (grant === null) return refuse(400, 'invalid_request');
    if (grant !== 'client_credentials') return refuse(400, 'unsupported_grant_type');

    const issuedAt = now();
    for (const [key, expiresAt] of tokens) if (expiresAt <= issuedAt) tokens.delete(key);
    const accessToken = new Secret(randomBytes(32).toString('base64url'));
    tokens.set(digest(accessToken.reveal()).toString('hex'), issuedAt + lifetimeMs);
    stats.tokensIssued += 1;
    options.onTokenIssued?.(accessToken);
    send(
      res,
      200,
      {
        access_token: accessToken.reveal(),
        token_type: 'Bearer',
        expires_in: Math.floor(lifetimeMs / 1000),
        expires_in_ms: lifetimeMs,
      } satisfies TokenResponse,
      // §5.1: responses carrying tokens must not be cached.
      { 'cache-control': 'no-store', pragma: 'no-cache' },
    );
  }

  function orders(req: IncomingMessage, res: ServerResponse, url: URL): void {
    const match = /^Bearer ([A-Za-z0-9._~+/-]+=*)$/i.exec(req.headers.authorization ?? '');
    if (match === null) {
      stats.refused += 1;
      return send(res, 401, { error: 'unauthorized' }, { 'www-authenticate': 'Bearer realm="orders"' });
    }
    const expiresAt = tokens.get(digest(match[1]!).toString('hex'));
    if (expiresAt === undefined || now() >= expiresAt) {
      stats.refused += 1;
      return send(res, 401, { error: 'invalid_token' }, { 'www-authenticate': 'Bearer realm="orders", error="invalid_token"' });
    }
    const page = intParam(url, 'page', 1);
    const limit = intParam(url, 'limit', 50);
    if (page === undefined || limit === undefined || limit > maxLimit) {
      return send(res, 400, { error: `page must be >= 1 and limit between 1 and ${maxLimit}` });
    }
    const from = (page - 1) * limit;
    const data = options.orders.slice(from, from + limit);
    const nextPage = from + limit < options.orders.length ? page + 1 : null;
    stats.served += 1;
    send(res, 200, { data, page, limit, total: options.orders.length, nextPage } satisfies OrdersPage);
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;

  return {
    url,
    tokenUrl: `${url}/oauth/token`,
    stats,
    close: () =>
      new Promise<void>((resolve, reject) => {
        tokens.clear();
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      }),
  };
}

/** `Basic base64(urlencoded(id) ":" urlencoded(secret))` (RFC 6749 §2.3.1), or undefined. */
function basicCredentials(header: string): { id: string; secret: string } | undefined {
  const match = /^Basic ([A-Za-z0-9+/]+=*)$/i.exec(header);
  if (match === null) return undefined;
  const decoded = Buffer.from(match[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return undefined;
  try {
    return { id: formDecode(decoded.slice(0, colon)), secret: formDecode(decoded.slice(colon + 1)) };
  } catch {
    return undefined;
  }
}

function formDecode(text: string): string {
  return decodeURIComponent(text.replace(/\+/g, ' '));
}

/** The body as UTF-8 text, or undefined when it is larger than `max` bytes (read and dropped). */
function readBody(req: IncomingMessage, max: number): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= max) chunks.push(chunk);
    });
    req.on('end', () => resolve(size > max ? undefined : Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

function intParam(url: URL, name: string, fallback: number): number | undefined {
  const raw = url.searchParams.get(name);
  if (raw === null) return fallback;
  if (!/^[1-9][0-9]{0,6}$/.test(raw)) return undefined;
  return Number(raw);
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}
