// `npm run demo`: the orders-sync connector end to end.
//
//   1. first run: an encrypted local store with a fresh random key and a random API token
//      (setup.ts); later runs reuse them
//   2. the orders API (source-api.ts) starts on loopback, configured with that token
//   3. the connector (connector.ts) resolves its token through fromEnv → fromLocalStore and
//      copies every page of orders to a JSONL sink
//
// Nothing printed here contains a secret; test/examples/orders-sync.test.ts checks that.
import os from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import { createSecrets, fromEnv, fromLocalStore, type SecretProvider } from '../../src/index.js';
import { SourceAuthError, syncOrders, type Log } from './connector.js';
import { ensureDemoStore, TOKEN_ENTRY, type DemoStore } from './setup.js';
import { generateOrders, startSourceApi } from './source-api.js';

/** How many orders the demo API serves, and how many rows a run must sync. */
export const DEMO_ORDER_COUNT = 137;
/** Rows per request; 137 rows make 3 pages. */
export const DEMO_PAGE_SIZE = 50;
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
}

/** What a demo run did. No values. */
export interface DemoResult {
  readonly rows: number;
  readonly pages: number;
  readonly sinkPath: string;
  /** The provider that answered for the API token. */
  readonly provider: string;
  readonly store: DemoStore;
  /** HTTP status the API gave a request without a token. */
  readonly unauthenticatedStatus: number;
}

/** The default demo directory: stable, so a second run reuses the store. */
export function defaultDemoDir(): string {
  return join(os.tmpdir(), 'connector-secrets-demo');
}

/**
 * The connector's provider chain, in order. Swapping the local store for another provider
 * (a vault mode, say) changes this function only.
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
  log(`orders-sync demo (environment "${environment}", directory ${dir})`);

  const store = await ensureDemoStore({ dir, environment, log });

  // The orders API is another system that was given the same token; here it reads it from
  // the same store, through its own client.
  const apiSecrets = createSecrets({ environment, providers: [fromLocalStore({ path: store.storePath, keyFile: store.keyFile, environment })] });
  const apiToken = await apiSecrets.get(`local://${TOKEN_ENTRY}`);
  await apiSecrets.close();
  const api = await startSourceApi({ token: apiToken, orders: generateOrders(DEMO_ORDER_COUNT) });

  const providers = connectorProviders(store);
  const secrets = createSecrets({ environment, providers, ...(options.env === undefined ? {} : { env: options.env }) });
  try {
    log(`orders API listening on ${api.url} (bearer token required)`);
    const probe = await fetch(new URL('/v1/orders', api.url));
    await probe.body?.cancel();
    log(`request without a token: HTTP ${probe.status}${probe.status === 401 ? ' (refused, as it should be)' : ' (UNEXPECTED)'}`);

    const sinkPath = join(dir, 'out', 'orders.jsonl');
    const result = await syncOrders({ secrets, log, sourceUrl: api.url, sinkPath, pageSize: DEMO_PAGE_SIZE }).catch((err: unknown) => {
      if (err instanceof SourceAuthError) {
        log('the API refused the token: is ORDERS_API_TOKEN set in your environment? The env provider is asked first.');
      }
      throw err;
    });

    const token = await secrets.get(result.tokenRef);
    log(`providers asked in order: ${providers.map((p) => p.name).join(' → ')}; ${result.tokenRef} answered by "${result.tokenProvider}"`);
    log(`the token printed with \`\${token}\`: ${token}`);
    log(`JSON.stringify({ token }): ${JSON.stringify({ token })}`);
    log(`synced ${result.rows} rows in ${result.pages} pages to ${result.sinkPath}`);
    log(`API requests: ${api.stats.served} served, ${api.stats.refused} refused`);
    return {
      rows: result.rows,
      pages: result.pages,
      sinkPath: result.sinkPath,
      provider: result.tokenProvider,
      store,
      unauthenticatedStatus: probe.status,
    };
  } finally {
    await secrets.close();
    await api.close();
  }
}

async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { dir: { type: 'string' }, help: { type: 'boolean', short: 'h' } } });
  if (values.help) {
    console.log('usage: npm run demo [-- --dir <directory>]\n\nSyncs demo orders with credentials from an encrypted local store.');
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
