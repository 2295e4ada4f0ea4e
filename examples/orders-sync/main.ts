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
//   5. after the sync, the connector asks for the prod client secret from its dev process: the
//      guard denies it (ENVIRONMENT_MISMATCH) before any provider is called
//   6. both connector clients run as identity `orders-sync` under a least-privilege policy and
//      write every access to a hash-chained, HMAC-signed audit log (guards-and-audit.ts); the
//      run ends by closing it (signed checkpoint) and verifying it with `verifyAuditLog`
//
// Vault mode (vault-mode.ts): with VAULT_ADDR set, or with `--vault` (which starts the loopback
// Vault test server), step 1 is skipped and step 3 reads the client secret from Vault KV
// instead: fromEnv → fromVault. Steps 2, 4, 5 and 6 do not change.
//
// AWS mode (aws-mode.ts): with `--aws`, step 1 is skipped and step 3 reads the client secret from
// the loopback AWS Secrets Manager double (aws-sm://), with credentials of a role assumed from
// the loopback STS double: fromEnv → fromAwsSecretsManager. Steps 2, 4, 5 and 6 do not change.
//
// GCP mode (gcp-mode.ts): with `--gcp`, the demo starts the loopback Google doubles (token
// endpoint, Secret Manager) and step 3 reads the client secret from Secret Manager instead:
// fromEnv → fromGcpSecretManager, authorized by a gcpAccessToken handle.
//
// Azure mode (azure-mode.ts): with `--azure` (which starts the loopback Entra ID and Key Vault
// doubles), step 3 reads it from Key Vault with a certificate-authenticated, auto-refreshing
// Entra token: fromEnv → fromAzureKeyVault.
//
// Nothing printed here contains a secret; test/examples/orders-sync.test.ts and
// orders-sync-vault.test.ts check that.
import os from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import { createSecrets, fromEnv, fromLocalStore, type ProviderAttempt, type Secret, type SecretMetadata, type SecretProvider, type SecretsClient } from '../../src/index.js';
import { awsClientSecretRef, awsProvider, startLoopbackAws, type DemoAws, type LoopbackAwsSeed } from './aws-mode.js';
import { ordersSecrets, SourceAuthError, syncOrders, type Log, type TokenRefreshOptions, type TokenRotation } from './connector.js';
import { fromOrdersApiTokens } from './fromOrdersApiTokens.js';
import {
  attemptCrossEnvironmentRead,
  DEMO_IDENTITY,
  DEMO_POLICY,
  DEMO_POLICY_DOCUMENT,
  ensureAuditKey,
  openAuditLog,
  verifyDemoAuditLog,
  type DeniedRead,
  type DemoAudit,
  type DemoAuditLog,
} from './guards-and-audit.js';
import { CLIENT_SECRET_ENTRY, ensureDemoStore, type DemoStore } from './setup.js';
import { generateOrders, startSourceApi, type SourceApiStats } from './source-api.js';
import { AZURE_DEMO_VAULT, azureSecretName, startLoopbackAzure, type DemoAzure, type LoopbackAzureSeed } from './azure-mode.js';
import { parseRef } from '../../src/index.js';
import {
  connectorVaultProvider,
  demoVaultProvider,
  startLoopbackVault,
  vaultClientSecretRef,
  vaultFromEnv,
  vaultSecretLocation,
  VAULT_CLIENT_SECRET_FIELD,
  type DemoVault,
  type LoopbackVaultSeed,
} from './vault-mode.js';
import { connectorGcpProvider, gcpClientSecretRef, startLoopbackGcp, type DemoGcp, type LoopbackGcpSeed } from './gcp-mode.js';

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
  /** The demo directory (store, keys, audit log, sink). @default `<os.tmpdir()>/connector-secrets-demo` */
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
  /**
   * Where the client secret comes from:
   * - `false`: the encrypted local store in `dir`;
   * - `'env'`: the Vault named by VAULT_ADDR, with the token in VAULT_TOKEN (both read from `env`);
   * - `'loopback'`: a loopback Vault test server the demo starts and seeds (`--vault`).
   * @default 'env' when VAULT_ADDR is set in `env`, else false
   */
  readonly vault?: 'env' | 'loopback' | false;
  /** With `vault: 'loopback'`: called with the seeded client secret and token (tests check neither leaks). */
  readonly onVaultSeeded?: (seed: LoopbackVaultSeed) => void;
  /**
   * Read the client secret from the loopback AWS Secrets Manager double, with credentials of a
   * role assumed from the loopback STS double (`--aws`).
   * @default false
   */
  readonly aws?: boolean;
  /** With `aws: true`: called with the seeded values (tests check none leaks). */
  readonly onAwsSeeded?: (seed: LoopbackAwsSeed) => void;
  /**
   * `'loopback'` (`--gcp`): read the client secret from Secret Manager on the loopback Google
   * doubles the demo starts and seeds.
   * @default false
   */
  readonly gcp?: 'loopback' | false;
  /** With `gcp: 'loopback'`: called with the seeded client secret and key, and every Google access token issued. */
  readonly onGcpSeeded?: (seed: LoopbackGcpSeed) => void;
  readonly onGcpAccessToken?: (token: string) => void;
  /**
   * Read the client secret from Azure Key Vault: loopback Entra ID and Key Vault doubles the demo
   * starts and seeds (`--azure`). Takes precedence over `vault`.
   * @default false
   */
  readonly azure?: boolean;
  /** With `azure`: called with the seeded client secret (tests check it never leaks). */
  readonly onAzureSeeded?: (seed: LoopbackAzureSeed) => void;
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
  /** The version of the client secret the provider reported (a KV version in Vault mode). */
  readonly clientSecretVersion: string | undefined;
  /** The non-secret metadata of the client secret (Vault: its KV `custom_metadata`). */
  readonly clientSecretMetadata: SecretMetadata;
  /** The provider that issued the access tokens. */
  readonly tokenProvider: string;
  /** The local store; undefined in Vault mode, which does not create one. */
  readonly store: DemoStore | undefined;
  /** The Vault the client secret was read from; undefined without Vault mode. */
  readonly vault: { readonly address: string; readonly loopback: boolean } | undefined;
  /** The loopback AWS the client secret was read from; undefined without AWS mode. */
  readonly aws: { readonly secretsManagerUrl: string; readonly roleArn: string } | undefined;
  /** The loopback Google doubles the client secret was read from; undefined without GCP mode. */
  readonly gcp: { readonly address: string } | undefined;
  /** HTTP status the API gave a request without a token. */
  readonly unauthenticatedStatus: number;
  /** Access-token rotations during the sync. */
  readonly rotations: readonly TokenRotation[];
  /** The access-token version each page was fetched with. */
  readonly pageTokenVersions: readonly (string | undefined)[];
  readonly requests: DemoRequests;
  /** The cross-environment read the demo attempts after the sync, and how it was denied. */
  readonly deniedRead: DeniedRead;
  /** The audit log of the run, verified after the clients closed. */
  readonly audit: DemoAudit;
}

/** The default demo directory: stable, so a second run reuses the store. */
export function defaultDemoDir(): string {
  return join(os.tmpdir(), 'connector-secrets-demo');
}

/** Where the long-lived client secret lives: the local store, a Vault, AWS or Google Cloud. */
export type ClientSecretSource =
  | { readonly kind: 'local'; readonly store: DemoStore }
  | { readonly kind: 'vault'; readonly vault: DemoVault; readonly environment: string }
  | { readonly kind: 'aws'; readonly aws: DemoAws; readonly environment: string }
  | { readonly kind: 'gcp'; readonly gcp: DemoGcp }
  | { readonly kind: 'azure'; readonly azure: DemoAzure };

/**
 * The chain the long-lived client secret is resolved through, in order: the environment first
 * (so `ORDERS_API_CLIENT_SECRET` overrides), then the local store or Vault. The manifest ref
 * (`secret://orders-api/client-secret`) is the same for both; the Vault provider maps it to
 * field `client-secret` of `kv/<env>/orders-api` (fromVaultKvFields.ts says why).
 */
export function connectorProviders(source: ClientSecretSource): SecretProvider[] {
  if (source.kind === 'aws') return [fromEnv(), awsProvider(source.aws, source.environment)];
  if (source.kind === 'gcp') return [fromEnv(), connectorGcpProvider(source.gcp)];
  if (source.kind === 'azure') return [fromEnv(), source.azure.provider()];
  return source.kind === 'local'
    ? [fromEnv(), fromLocalStore({ path: source.store.storePath, keyFile: source.store.keyFile, environment: source.store.environment })]
    : [fromEnv(), connectorVaultProvider(source.vault, source.environment)];
}

/**
 * The client secret as the orders API registered it. The API is another system with its own
 * client; it reads the same store entry, or the same Vault field by its plain `vault://` ref.
 */
async function registeredClientSecret(source: ClientSecretSource, environment: string): Promise<Secret<string>> {
  if (source.kind === 'aws') {
    const awsSecrets = createSecrets({ environment, providers: [awsProvider(source.aws, environment)] });
    try {
      return await awsSecrets.get(awsClientSecretRef(environment));
    } finally {
      await awsSecrets.close();
    }
  }
  if (source.kind === 'gcp') {
    const gcpSecrets = createSecrets({ environment, providers: [source.gcp.provider()] });
    try {
      return await gcpSecrets.get(gcpClientSecretRef());
    } finally {
      await gcpSecrets.close();
    }
  }
  if (source.kind === 'azure') {
    const apiSecrets = createSecrets({ environment, providers: [source.azure.provider()] });
    try {
      return await apiSecrets.get(`azure-kv://${AZURE_DEMO_VAULT}/${azureSecretName(parseRef(ordersSecrets.specs.clientSecret.ref))}`);
    } finally {
      await apiSecrets.close();
    }
  }
  const apiSecrets = source.kind === 'local'
    ? createSecrets({ environment, providers: [fromLocalStore({ path: source.store.storePath, keyFile: source.store.keyFile, environment })] })
    : createSecrets({ environment, providers: [demoVaultProvider(source.vault)], env: source.vault.env });
  try {
    return await apiSecrets.get(source.kind === 'local' ? `local://${CLIENT_SECRET_ENTRY}` : vaultClientSecretRef(environment));
  } finally {
    await apiSecrets.close();
  }
}

/** Whether Vault refused or lacked the client secret (alone, or as the chain's last word). */
function vaultRefused(err: unknown): boolean {
  const { code, provider, attempts } = err as { code?: unknown; provider?: unknown; attempts?: readonly ProviderAttempt[] };
  const refusal = (c: unknown) => c === 'SECRET_NOT_FOUND' || c === 'ACCESS_DENIED';
  return refusal(code) && (provider === 'vault' || (attempts ?? []).some((a) => a.provider === 'vault' && refusal(a.code)));
}

/** `k=v, k=v` of non-secret metadata. */
function describeMetadata(metadata: SecretMetadata): string {
  const entries = Object.entries(metadata).filter((e): e is [string, string] => e[1] !== undefined);
  return entries.length === 0 ? 'none' : entries.map(([k, v]) => `${k}=${v}`).join(', ');
}

/**
 * Runs the demo once: set up (or reuse) the store, or in Vault mode start or find the Vault;
 * start the API, sync, print what happened.
 */
export async function runDemo(options: DemoOptions = {}): Promise<DemoResult> {
  const log = options.log ?? ((line: string) => console.log(line));
  const dir = options.dir ?? defaultDemoDir();
  const environment = DEMO_ENVIRONMENT;
  const variables = options.env ?? process.env;
  const gcpMode = options.gcp === 'loopback';
  const mode = options.aws === true || gcpMode || options.azure === true ? false : options.vault ?? (variables['VAULT_ADDR'] ? 'env' : false);
  log(`orders-sync demo (environment "${environment}", directory ${dir})`);
  const aws: DemoAws | undefined =
    options.aws === true ? await startLoopbackAws({ environment, log, ...(options.onAwsSeeded === undefined ? {} : { onSeeded: options.onAwsSeeded }) }) : undefined;

  // Vault mode reads the client secret from Vault and leaves the local store alone.
  const vault: DemoVault | undefined =
    mode === 'loopback' ? await startLoopbackVault({ environment, log, env: variables, ...(options.onVaultSeeded === undefined ? {} : { onSeeded: options.onVaultSeeded }) })
    : mode === 'env' ? vaultFromEnv(variables, environment, log)
    : undefined;
  const gcp: DemoGcp | undefined = gcpMode
    ? await startLoopbackGcp({ environment, log, ...(options.onGcpSeeded === undefined ? {} : { onSeeded: options.onGcpSeeded }), ...(options.onGcpAccessToken === undefined ? {} : { onAccessToken: options.onGcpAccessToken }) })
    : undefined;
  const azure = options.azure ? await startLoopbackAzure({ environment, log, ...(options.onAzureSeeded === undefined ? {} : { onSeeded: options.onAzureSeeded }) }) : undefined;
  let auditLog: DemoAuditLog | undefined;
  let api: Awaited<ReturnType<typeof startSourceApi>> | undefined;
  let bootstrap: SecretsClient | undefined;
  // Short-lived: access tokens, from a custom provider that exchanges the client secret.
  let secrets: SecretsClient | undefined;
  try {
    const store = vault === undefined && aws === undefined && gcp === undefined && azure === undefined ? await ensureDemoStore({ dir, environment, log }) : undefined;
    const source: ClientSecretSource =
      aws !== undefined ? { kind: 'aws', aws, environment }
      : gcp !== undefined ? { kind: 'gcp', gcp }
      : azure !== undefined ? { kind: 'azure', azure }
      : store !== undefined ? { kind: 'local', store }
      : { kind: 'vault', vault: vault!, environment };
    // In Vault mode the clients read the Vault variables (the loopback ones with --vault).
    const env = vault !== undefined ? { env: vault.env } : options.env === undefined ? {} : { env: options.env };

    // Who the connector is, what it may read, and where every access is recorded: both of its
    // clients run as `orders-sync` under the same policy and write to the same audit log. Like
    // prod, an access the log cannot record is denied (`auditFailure: 'fail-closed'`).
    const auditKey = await ensureAuditKey(dir, log);
    auditLog = await openAuditLog(dir, auditKey, log);
    const guarded = { identity: DEMO_IDENTITY, policy: DEMO_POLICY, audit: auditLog.shared, auditFailure: 'fail-closed' } as const;
    log(`connector identity "${DEMO_IDENTITY}"; policy: allow ${DEMO_POLICY_DOCUMENT.rules.flatMap((r) => r.allow ?? []).join(', ')}, deny everything else`);

    // The orders API is another system that registered the connector's client secret; here it
    // reads it from the same store or Vault, through its own client.
    api = await startSourceApi({
      clientId: DEMO_CLIENT_ID,
      clientSecret: await registeredClientSecret(source, environment),
      orders: generateOrders(DEMO_ORDER_COUNT),
      tokenLifetimeMs: DEMO_TOKEN_LIFETIME_MS,
      ...(options.onTokenIssued === undefined ? {} : { onTokenIssued: options.onTokenIssued }),
    });

    // Long-lived: the client secret, through the connector's chain (env first, then the store or Vault).
    const providers = connectorProviders(source);
    bootstrap = createSecrets({ environment, providers, ...guarded, ...env });
    log(`orders API listening on ${api.url}: POST /oauth/token (client credentials), GET /v1/orders (bearer token)`);
    const { clientSecret } = await bootstrap.load(ordersSecrets);
    log(`client secret ${clientSecret.ref} resolved by provider "${clientSecret.provider}" ` +
      `(providers asked in order: ${providers.map((p) => p.name).join(' → ')})`);
    const where =
      clientSecret.provider === 'vault' ? `Vault KV ${vaultClientSecretRef(environment)}`
      : clientSecret.provider === 'aws-sm' ? `AWS Secrets Manager ${awsClientSecretRef(environment)} (version id and tags)`
      : clientSecret.provider === 'gcp' ? `Secret Manager ${gcpClientSecretRef()} (labels as metadata)`
      : `provider "${clientSecret.provider}"`;
    log(`non-secret facts from ${where}: version ${clientSecret.version ?? '?'}; metadata ${describeMetadata(clientSecret.metadata)}`);
    log(`the client secret printed with \`\${clientSecret}\`: ${clientSecret}`);
    log(`JSON.stringify({ clientSecret }): ${JSON.stringify({ clientSecret })}`);

    const tokens = fromOrdersApiTokens({ tokenUrl: api.tokenUrl, clientId: DEMO_CLIENT_ID, clientSecret, environment });
    secrets = createSecrets({ environment, providers: [tokens], ...guarded, ...env });

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

    // A dev process must never read prod credentials: asking is denied before any provider call.
    const deniedRead = await attemptCrossEnvironmentRead(bootstrap, log);

    // Closing the clients, then the log, writes its signed checkpoint; only then is it complete.
    await secrets.close();
    await bootstrap.close();
    await auditLog.close();
    const audit = await verifyDemoAuditLog(auditLog, auditKey, log);
    return {
      rows: result.rows,
      pages: result.pages,
      sinkPath: result.sinkPath,
      provider: clientSecret.provider ?? 'unknown',
      clientSecretVersion: clientSecret.version,
      clientSecretMetadata: clientSecret.metadata,
      tokenProvider: result.tokenProvider,
      store,
      vault: vault === undefined ? undefined : { address: vault.address, loopback: vault.loopback },
      aws: aws === undefined ? undefined : { secretsManagerUrl: aws.secretsManagerUrl, roleArn: aws.roleArn },
      gcp: gcp === undefined ? undefined : { address: gcp.address },
      unauthenticatedStatus: probe.status,
      rotations: result.rotations,
      pageTokenVersions: result.pageTokenVersions,
      requests,
      deniedRead,
      audit,
    };
  } catch (err) {
    if (vault !== undefined && vaultRefused(err)) {
      log(`Vault did not hand out the client secret: it must be field "${VAULT_CLIENT_SECRET_FIELD}" of the KV v2 secret ` +
        `${vaultSecretLocation(environment)}, readable with the token (README: "Vault mode")`);
    }
    throw err;
  } finally {
    await secrets?.close();
    await bootstrap?.close();
    await auditLog?.close();
    await api?.close();
    await vault?.close();
    await aws?.close();
    await gcp?.close();
    await azure?.close();
  }
}

async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: { dir: { type: 'string' }, vault: { type: 'boolean' }, aws: { type: 'boolean' }, gcp: { type: 'boolean' }, azure: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
  });
  if (values.help) {
    console.log([
      'usage: npm run demo [-- [--dir <directory>] [--vault | --aws | --gcp | --azure]]',
      '',
      'Syncs demo orders from a loopback OAuth-protected API: a client secret from an encrypted local',
      'store, exchanged for short-lived access tokens that rotate mid-run; then attempts one',
      'cross-environment read (denied) and verifies the run\'s audit log.',
      '',
      '  --vault   read the client secret from a loopback Vault test server the demo starts and seeds',
      '            (VAULT_ADDR and VAULT_TOKEN of your shell are ignored)',
      '  --aws     read the client secret from loopback AWS Secrets Manager and STS doubles the demo',
      '            starts and seeds (aws-sm://, credentials of an assumed role)',
      '  --gcp     read the client secret from Secret Manager on loopback Google doubles the demo starts',
      '            and seeds (a service account key, a labelled secret only it may read)',
      '  --azure   read it from loopback Azure Key Vault and Entra ID doubles the demo starts and seeds,',
      '            authenticating with a client certificate',
      '',
      'With VAULT_ADDR and VAULT_TOKEN set (and no --vault), the client secret is read from that Vault:',
      `field "client-secret" of the KV v2 secret ${vaultSecretLocation(DEMO_ENVIRONMENT)}.`,
    ].join('\n'));
    return 0;
  }
  try {
    await runDemo({
      ...(values.dir === undefined ? {} : { dir: values.dir }),
      ...(values.vault === true ? { vault: 'loopback' as const } : {}),
      ...(values.aws === true ? { aws: true } : {}),
      ...(values.gcp === true ? { gcp: 'loopback' as const } : {}),
      ...(values.azure === true ? { azure: true } : {}),
    });
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
