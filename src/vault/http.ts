import http, { type IncomingHttpHeaders } from 'node:http';
import https from 'node:https';
import type { ResolvedTls } from './tls.js';

/** What node-vault hands its request function: our `client.request` options plus its `uri`. */
export interface ExchangeOptions {
  readonly method: string;
  readonly uri: string;
  readonly headers?: Record<string, string>;
  readonly json?: unknown;
  /** Aborts the exchange at any point, the body included (the socket is destroyed). */
  readonly signal?: AbortSignal;
  /** Filled with the response headers, for what node-vault's errors drop (`Retry-After`). */
  readonly received?: { headers?: IncomingHttpHeaders };
}

/** A response in the shape node-vault's `handleVaultResponse` reads. */
export interface ExchangeResponse {
  readonly statusCode: number;
  readonly body: unknown;
  readonly headers: IncomingHttpHeaders;
  readonly request: { readonly path: string };
}

/** Node-vault's pluggable HTTP seam (its `request-promise` option) and the agent behind it. */
export interface VaultHttp {
  /** Passed as node-vault's `request-promise` option: node-vault calls `defaults()` once. */
  readonly requestPromise: { defaults(): (options: ExchangeOptions) => Promise<ExchangeResponse> };
  /** Closes idle keep-alive connections. */
  close(): void;
}

/** Redirects followed per exchange, as node-vault's own client did (a standby sends 307 to the active node). */
const MAX_REDIRECTS = 5;

/**
 * One HTTP exchange with Vault on Node's http(s), plugged into node-vault's `request-promise`
 * seam. node-vault's own client bounds an attempt with a socket idle timeout, which a server
 * that sends its headers and then trickles the body never trips, and it drops response headers;
 * here the caller's signal ends the whole exchange, body included, and the headers come back.
 * A 307 or 308 (a standby node pointing at the active one) is followed with the same method and
 * body, never from https to http. Connections are kept alive on one agent (Node unrefs idle
 * ones, so they never hold a process).
 */
export function createVaultHttp(tls: ResolvedTls | undefined): VaultHttp {
  const agentOptions = {
    keepAlive: true,
    // Set explicitly so VAULT_SKIP_VERIFY in the environment cannot turn verification off.
    rejectUnauthorized: tls?.rejectUnauthorized ?? true,
    ...(tls?.ca === undefined ? {} : { ca: tls.ca }),
    ...(tls?.cert === undefined ? {} : { cert: tls.cert }),
    ...(tls?.key === undefined ? {} : { key: tls.key }),
    ...(tls?.passphrase === undefined ? {} : { passphrase: tls.passphrase }),
  };
  const httpAgent = new http.Agent({ keepAlive: true });
  const httpsAgent = new https.Agent(agentOptions);

  const exchange = async (options: ExchangeOptions): Promise<ExchangeResponse> => {
    let url = new URL(options.uri);
    for (let hop = 0; ; hop++) {
      const response = await once(url, options);
      const location = response.headers.location;
      if ((response.statusCode !== 307 && response.statusCode !== 308) || location === undefined || hop >= MAX_REDIRECTS) return response;
      const next = new URL(location, url);
      if (url.protocol === 'https:' && next.protocol !== 'https:') return response;
      url = next;
    }
  };

  const once = (url: URL, options: ExchangeOptions): Promise<ExchangeResponse> =>
    new Promise((resolve, reject) => {
      const secure = url.protocol === 'https:';
      const payload = options.json === undefined ? undefined : Buffer.from(JSON.stringify(options.json));
      const headers: Record<string, string> = { accept: 'application/json', ...options.headers };
      if (payload !== undefined) Object.assign(headers, { 'content-type': 'application/json', 'content-length': String(payload.length) });
      const req = (secure ? https : http).request(
        url,
        { method: options.method, headers, agent: secure ? httpsAgent : httpAgent, ...(options.signal === undefined ? {} : { signal: options.signal }) },
        (res) => {
          if (options.received !== undefined) options.received.headers = res.headers;
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('error', reject);
          res.on('end', () => {
            // A response cut short ends without its full body: that is a failure, not an answer.
            if (!res.complete) return reject(Object.assign(new Error('the response ended early'), { code: 'ECONNRESET' }));
            resolve({ statusCode: res.statusCode ?? 0, headers: res.headers, body: parseBody(Buffer.concat(chunks).toString('utf8')), request: { path: url.pathname } });
          });
        },
      );
      req.on('error', reject);
      req.end(payload);
    });

  return {
    requestPromise: { defaults: () => exchange },
    close() {
      httpAgent.destroy();
      httpsAgent.destroy();
    },
  };
}

/** JSON when it parses, else the text (as node-vault's own client does). */
function parseBody(text: string): unknown {
  if (text === '') return '';
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}
