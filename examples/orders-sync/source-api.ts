// The source system of the demo: a small "orders API" on loopback that serves paginated order
// rows as JSON and refuses every request without the right bearer token. It stands in for the
// SaaS API a real connector reads; nothing in it knows about connector-secrets except that it
// is handed its token as a `Secret`, so the token never sits in a printable field.
import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Secret } from '../../src/index.js';

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

/** Options of {@link startSourceApi}. */
export interface SourceApiOptions {
  /** The bearer token every request must carry. */
  readonly token: Secret<string>;
  /** The rows served, in order. */
  readonly orders: readonly Order[];
  /** The largest `limit` a client may ask for. @default 100 */
  readonly maxLimit?: number;
}

/** A running orders API. */
export interface SourceApi {
  /** Base URL, e.g. `http://127.0.0.1:41234`. */
  readonly url: string;
  /** Request counters (no request data is kept). */
  readonly stats: { readonly served: number; readonly refused: number };
  /** Stops listening and drops open connections. */
  close(): Promise<void>;
}

const STATUSES = ['placed', 'paid', 'shipped', 'refunded'] as const;
const CURRENCIES = ['EUR', 'USD', 'GBP'] as const;

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
 * Routes: `GET /v1/orders?page=1&limit=50` (bearer token required). Anything else is 404/405.
 * A missing or wrong token gets `401` with `WWW-Authenticate: Bearer`, and the response never
 * says which part was wrong.
 */
export async function startSourceApi(options: SourceApiOptions): Promise<SourceApi> {
  const maxLimit = options.maxLimit ?? 100;
  // The server compares digests, so the comparison is constant-time whatever the lengths.
  const expected = digest(options.token.reveal());
  const stats = { served: 0, refused: 0 };

  const server = createServer((req, res) => {
    try {
      handle(req, res);
    } catch {
      send(res, 500, { error: 'internal error' });
    }
  });

  function handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (url.pathname !== '/v1/orders') return send(res, 404, { error: 'not found' });
    if (req.method !== 'GET') return send(res, 405, { error: 'method not allowed' }, { allow: 'GET' });
    if (!authorized(req.headers.authorization)) {
      stats.refused += 1;
      return send(res, 401, { error: 'unauthorized' }, { 'www-authenticate': 'Bearer realm="orders"' });
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

  function authorized(header: string | undefined): boolean {
    const match = /^Bearer ([^\s]+)$/i.exec(header ?? '');
    return match !== null && timingSafeEqual(digest(match[1]!), expected);
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    stats,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      }),
  };
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
