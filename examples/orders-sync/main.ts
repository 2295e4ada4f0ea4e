// `npm run demo`: the orders-sync connector end to end, with a short-lived credential.
//
//   1. first run: an encrypted local store with a fresh random key and a random OAuth client
//      secret (setup.ts); later runs reuse them
//   2. the orders API (source-api.ts) starts on loopback: `POST /oauth/token` trades the client
//      secret for access tokens that live 2 seconds, `GET /v1/orders` wants a valid one
//   3. the client secret is loaded through fromEnv → fromLocalStore; a custom provider
//      (fromOrdersApiTokens.ts) exchanges it for access tokens
//   4. the connector (connector.ts) reads 14 slow pages through `secrets.handle()`, which
//      replaces the token in the background before it expires: the run sees at least one
//      rotation and not a single refused request
//
// Nothing printed here contains a secret; test/examples/orders-sync.test.ts checks that.
import os from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import { createSecrets, fromEnv, fromLocalStore, type Secret, type SecretProvider, type SecretsClient } from '../../src/index.js';
import { ordersSecrets, SourceAuthError, syncOrders, type Log, type TokenRefreshOptions, type TokenRotation } from './connector.js';
import { fromOrdersApiTokens } from './fromOrdersApiTokens.js';
import { CLIENT_SECRET_ENTRY, ensureDemoStore, type DemoStore } from './setup.js';
import { generateOrders, startSourceApi, type SourceApiStats } from './source-api.js';

/** How many orders the demo API serves, and how many rows a run must sync. */
export const DEMO_ORDER_COUNT = 137;
/** Rows per request; 137 rows make 14 pages. */
export const DEMO_PAGE_SIZE = 10;
/** Pause between page requests: 13 pauses make the sync last longer than one token lifetime. */
export const DEMO_PAUSE_MS = 150;
/**
 * How long an access token lives. The token endpoint says `expires_in: 2` (seconds, RFC 6749)
 * and `expires_in_ms: 2000` (non-standard, exact); the provider uses the latter.
 */
export const DEMO_TOKEN_LIFETIME_MS = 2000;
/**
 * How the connector's handle refreshes a 2-second token: the refresh falls between 2/3 and 3/4
 * of the lifetime (1.33–1.5 s), the window of 500 ms caps it at 1.5 s, and no token is used in
 * its last 300 ms, which leaves a request time to reach the API while its token is valid.
 */
export const DEMO_TOKEN_REFRESH: TokenRefreshOptions = { refreshWindowMs: 500, safetyMarginMs: 300 };
/** The OAuth client id of the connector (an identifier, not a secret). */
export const DEMO_CLIENT_ID = 'orders-sync';
/** The environment tag of the demo. */
export const DEMO_ENVIRONMENT = 'dev';

/** Options of {@link runDemo}. */
export interface DemoOptions {
  /** Where every line goes. @default console.log */
  readonly log?: Log;
  /** The demo directory (store, key, sink). @default `<os.tmpdir()>/connector-secrets-demo` */
  readonly dir?: string;
  /**
   * The environment variables the env provider reads.
   * @default process.env
   */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /**
   * Called with each access token the demo API issues. Tests use it to check that no token
   * leaks into the output or the sink.
   */
  readonly onTokenIssued?: (token: Secret<string>) => void;
}

/** Request counters of a demo run. */
export interface DemoRequests extends SourceApiStats {
  /** Order requests refused while the connector ran (the probe before it is not counted). */
  readonly refusedDuringSync: number;
}

/** What a demo run did. No values. */
export interface DemoResult {
  readonly rows: number;
  readonly pages: number;
  readonly sinkPath: string;
  /** The provider that answered for the client secret. */
  readonly provider: string;
  /** The provider that issued the access tokens. */
  readonly tokenProvider: string;
  readonly store: DemoStore;
  /** HTTP status the API gave a request without a token. */
  readonly unauthenticatedStatus: number;
  /** Access-token rotations during the sync. */
  readonly rotations: readonly TokenRotation[];
  /** The access-token version each page was fetched with. */
  readonly pageTokenVersions: readonly (string | undefined)[];
  readonly requests: DemoRequests;
}

/** The default demo directory: stable, so a second run reuses the store. */
export function defaultDemoDir(): string {
  return join(os.tmpdir(), 'connector-secrets-demo');
}

/**
 * The chain the long-lived client secret is resolved through, in order. Swapping the local
 * store for another provider (a vault mode, say) changes this function only.
 */
export function connectorProviders(store: DemoStore): SecretProvider[] {
  return [fromEnv(), fromLocalStore({ path: store.storePath, keyFile: store.keyFile, environment: store.environment })];
}

/**
 * Runs the demo once: set up (or reuse) the store, start the API, sync, print what happened.
 */
export async function runDemo(options: DemoOptions = {}): Promise<DemoResult> {
  const log = options.log ?? ((line: string) => console.log(line));
  const dir = options.dir ?? defaultDemoDir();
  const environment = DEMO_ENVIRONMENT;
  const env = options.env === undefined ? {} : { env: options.env };
  log(`orders-sync demo (environment "${environment}", directory ${dir})`);

  const store = await ensureDemoStore({ dir, environment, log });

  // The orders API is another system that registered the connector's client secret; here it
  // reads it from the same store, through its own client.
  const apiSecrets = createSecrets({ environment, providers: [fromLocalStore({ path: store.storePath, keyFile: store.keyFile, environment })] });
  const registered = await apiSecrets.get(`local://${CLIENT_SECRET_ENTRY}`);
  await apiSecrets.close();
  const api = await startSourceApi({
    clientId: DEMO_CLIENT_ID,
    clientSecret: registered,
    orders: generateOrders(DEMO_ORDER_COUNT),
    tokenLifetimeMs: DEMO_TOKEN_LIFETIME_MS,
    ...(options.onTokenIssued === undefined ? {} : { onTokenIssued: options.onTokenIssued }),
  });

  // Long-lived: the client secret, through the connector's chain (env first, then the store).
  const providers = connectorProviders(store);
  const bootstrap = createSecrets({ environment, providers, ...env });
  // Short-lived: access tokens, from a custom provider that exchanges the client secret.
  let secrets: SecretsClient | undefined;
  try {
    log(`orders API listening on ${api.url}: POST /oauth/token (client credentials), GET /v1/orders (bearer token)`);
    const { clientSecret } = await bootstrap.load(ordersSecrets);
    log(`client secret ${clientSecret.ref} resolved by provider "${clientSecret.provider}" ` +
      `(providers asked in order: ${providers.map((p) => p.name).join(' → ')})`);
    log(`the client secret printed with \`\${clientSecret}\`: ${clientSecret}`);
    log(`JSON.stringify({ clientSecret }): ${JSON.stringify({ clientSecret })}`);

    const tokens = fromOrdersApiTokens({ tokenUrl: api.tokenUrl, clientId: DEMO_CLIENT_ID, clientSecret, environment });
    secrets = createSecrets({ environment, providers: [tokens], ...env });

    const probe = await fetch(new URL('/v1/orders', api.url));
    await probe.body?.cancel();
    log(`request without a token: HTTP ${probe.status}${probe.status === 401 ? ' (refused, as it should be)' : ' (UNEXPECTED)'}`);
    const refusedBefore = api.stats.refused;

    log(`access tokens live ${DEMO_TOKEN_LIFETIME_MS} ms; fetching ${DEMO_PAGE_SIZE} rows per page with a ${DEMO_PAUSE_MS} ms pause between pages`);
    const sinkPath = join(dir, 'out', 'orders.jsonl');
    const result = await syncOrders({
      secrets,
      log,
      sourceUrl: api.url,
      sinkPath,
      pageSize: DEMO_PAGE_SIZE,
      pauseMs: DEMO_PAUSE_MS,
      token: DEMO_TOKEN_REFRESH,
    }).catch((err: unknown) => {
      const code = (err as { code?: unknown }).code;
      if (code === 'ACCESS_DENIED' && clientSecret.provider === 'env') {
        log('the token endpoint refused the client secret from the environment: is ORDERS_API_CLIENT_SECRET set in your environment? The env provider is asked first.');
      } else if (err instanceof SourceAuthError) {
        log('the orders API refused an access token even after a refresh');
      }
      throw err;
    });

    const stats = { ...api.stats };
    const requests: DemoRequests = { ...stats, refusedDuringSync: stats.refused - refusedBefore };
    const versions = [...new Set(result.pageTokenVersions)];
    log(`synced ${result.rows} rows in ${result.pages} pages to ${result.sinkPath}`);
    const when = result.rotations.map((r) => (r.duringPage === undefined ? `after page ${r.afterPage}` : `during page ${r.duringPage}`));
    log(`access tokens used: versions ${versions.join(', ')}; ${result.rotations.length} rotation(s) mid-run` +
      (when.length === 0 ? '' : ` (${when.join(', ')})`) + ', none of them failing a request');
    log(`orders API: ${stats.served} requests served, ${stats.refused} refused ` +
      `(${refusedBefore} by the probe without a token, ${requests.refusedDuringSync} during the sync); ` +
      `token endpoint: ${stats.tokensIssued} access tokens issued, ${stats.tokenRequestsRefused} refused`);
    return {
      rows: result.rows,
      pages: result.pages,
      sinkPath: result.sinkPath,
      provider: clientSecret.provider ?? 'unknown',
      tokenProvider: result.tokenProvider,
      store,
      unauthenticatedStatus: probe.status,
      rotations: result.rotations,
      pageTokenVersions: result.pageTokenVersions,
      requests,
    };
  } finally {
    await secrets?.close();
    await bootstrap.close();
    await api.close();
  }
}

async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { dir: { type: 'string' }, help: { type: 'boolean', short: 'h' } } });
  if (values.help) {
    console.log('usage: npm run demo [-- --dir <directory>]\n\nSyncs demo orders from a loopback OAuth-protected API: a client secret from an encrypted local\nstore, exchanged for short-lived access tokens that rotate mid-run.');
    return 0;
  }
  try {
    await runDemo(values.dir === undefined ? {} : { dir: values.dir });
    return 0;
  } catch (err) {
    // Error messages of connector-secrets never contain values; print name, code and message.
    const code = (err as { code?: unknown }).code;
    console.error(`demo failed: ${err instanceof Error ? err.name : 'error'}${typeof code === 'string' ? ` [${code}]` : ''}: ${err instanceof Error ? err.message : String(err)}`);
    return 1;
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = await main(process.argv.slice(2));
}
