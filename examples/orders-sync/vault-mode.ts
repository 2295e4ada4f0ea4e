// Vault mode of the demo: the OAuth client secret comes from HashiCorp Vault instead of the local
// encrypted store. Two ways in:
//
//   - `npm run demo -- --vault` starts the loopback Vault test server (test/fixtures/vault-server),
//     seeds the secret and a token with a read-only policy, and points the demo at it;
//   - with VAULT_ADDR (and VAULT_TOKEN) set, the demo uses that Vault. The secret must be the
//     field `client-secret` of the KV v2 secret `kv/dev/orders-api` (README: "Vault mode").
//
// Either way the connector itself does not change: its manifest still names
// `secret://orders-api/client-secret`, and the chain becomes fromEnv → fromVaultKvFields(fromVault).
import { randomBytes } from 'node:crypto';
import { Secret, type SecretProvider } from '../../src/index.js';
import { fromVault } from '../../src/vault/index.js';
import { ordersSecrets, type Log } from './connector.js';
import { fromVaultKvFields } from './fromVaultKvFields.js';

/** The KV v2 mount the demo reads (`vault secrets enable -path=kv kv-v2`). */
export const VAULT_KV_MOUNT = 'kv';
/** The field of the KV secret that holds the client secret (the last segment of the logical ref). */
export const VAULT_CLIENT_SECRET_FIELD = 'client-secret';
/** The policy the loopback Vault gives the demo's token. */
export const VAULT_DEMO_POLICY = 'orders-sync';

/** The KV secret path below the mount: `<environment>/orders-api`. */
export function vaultSecretPath(environment: string): string {
  return `${environment}/orders-api`;
}

/** Where the KV secret lives, as the vault CLI names it: `kv/<environment>/orders-api`. */
export function vaultSecretLocation(environment: string): string {
  return `${VAULT_KV_MOUNT}/${vaultSecretPath(environment)}`;
}

/** The client secret as a plain Vault ref: `vault://kv/<environment>/orders-api#client-secret`. */
export function vaultClientSecretRef(environment: string): string {
  return `vault://${vaultSecretLocation(environment)}#${VAULT_CLIENT_SECRET_FIELD}`;
}

/** The Vault a demo run reads from. */
export interface DemoVault {
  /** The Vault address (not secret). */
  readonly address: string;
  /** True when the demo started the loopback test server itself (`--vault`). */
  readonly loopback: boolean;
  /**
   * The variables the Vault providers read: VAULT_ADDR, VAULT_TOKEN (and VAULT_NAMESPACE,
   * VAULT_CACERT when you set them). Passed to `createSecrets({ env })`.
   */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Stops the loopback server; does nothing for a Vault of yours. */
  close(): Promise<void>;
}

/**
 * A fromVault provider for the demo. The token is read from `env://VAULT_TOKEN`, the variables of
 * the client it is given to (`createSecrets({ env: vault.env })`), at every (re-)login.
 */
export function demoVaultProvider(vault: DemoVault): SecretProvider {
  return fromVault({ address: vault.address, auth: { method: 'token', token: 'env://VAULT_TOKEN' } });
}

/**
 * The connector's Vault provider: logical `secret://orders-api/client-secret` is read as field
 * `client-secret` of `kv/<environment>/orders-api` (see fromVaultKvFields.ts for why).
 */
export function connectorVaultProvider(vault: DemoVault, environment: string): SecretProvider {
  return fromVaultKvFields({ vault: demoVaultProvider(vault), mount: `${VAULT_KV_MOUNT}/${environment}` });
}

/** The Vault named by VAULT_ADDR in `env`; VAULT_TOKEN is read from the same variables. */
export function vaultFromEnv(env: Readonly<Record<string, string | undefined>>, environment: string, log: Log): DemoVault {
  const address = env['VAULT_ADDR'];
  if (address === undefined || address === '') throw new Error('VAULT_ADDR is not set');
  log(`using the Vault at ${address} (VAULT_ADDR; token from VAULT_TOKEN): the client secret must be field ` +
    `"${VAULT_CLIENT_SECRET_FIELD}" of the KV v2 secret ${vaultSecretLocation(environment)}`);
  // A plain copy: createSecrets({ env }) wants a plain record, which process.env is not.
  return { address, loopback: false, env: { ...env }, close: async () => {} };
}

/** What the loopback Vault was seeded with; given to {@link StartLoopbackVaultOptions.onSeeded}. */
export interface LoopbackVaultSeed {
  /** The generated client secret stored in Vault. */
  readonly clientSecret: Secret<string>;
  /** The token created for the demo. */
  readonly token: Secret<string>;
}

/** Options of {@link startLoopbackVault}. */
export interface StartLoopbackVaultOptions {
  readonly environment: string;
  readonly log: Log;
  /**
   * The variables the demo would otherwise read. VAULT_* variables are dropped (the loopback
   * server has no namespace and no TLS); VAULT_ADDR and VAULT_TOKEN are set to the loopback ones.
   */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Called with the seeded values; tests use it to check that none of them leaks. */
  readonly onSeeded?: (seed: LoopbackVaultSeed) => void;
}

/**
 * Starts the loopback Vault test server and sets it up the way an operator would set up a real
 * one: a KV v2 mount `kv`, the secret `kv/<environment>/orders-api` with a freshly generated
 * client secret and `custom_metadata` (environment, owner, purpose, sensitivity, rotation), a
 * policy that may only read it, and a token with that policy.
 *
 * The test server is loaded here, with `await import()`, so a demo run without `--vault` never
 * loads it. It is a test fixture: fine for a local try, not something to deploy.
 */
export async function startLoopbackVault(options: StartLoopbackVaultOptions): Promise<DemoVault> {
  const { environment, log } = options;
  const { startVaultServer } = await import('../../test/fixtures/vault-server/index.js');
  const server = await startVaultServer();
  try {
    const path = vaultSecretPath(environment);
    // The fixture's admin API, as the tests in test/vault use it; against a real Vault these are
    // `vault secrets enable`, `vault kv put`, `vault kv metadata put`, `vault policy write` and
    // `vault token create` (README: "Vault mode").
    const kv = server.enableKv(VAULT_KV_MOUNT, 2);
    const spec = ordersSecrets.specs.clientSecret;
    const metadata = { environment, owner: spec.owner, purpose: spec.purpose, sensitivity: spec.sensitivity ?? 'high', rotation: spec.rotation ?? '30d' };
    const clientSecret = new Secret(randomBytes(32).toString('base64url'));
    const version = kv.put(path, { [VAULT_CLIENT_SECRET_FIELD]: clientSecret.reveal() }, metadata);
    server.policy(VAULT_DEMO_POLICY, { [`${VAULT_KV_MOUNT}/data/${path}`]: ['read'] });
    const token = new Secret(server.createToken({ policies: [VAULT_DEMO_POLICY], ttlMs: 3_600_000, displayName: 'orders-sync-demo' }).id);
    options.onSeeded?.({ clientSecret, token });

    log(`started the loopback Vault test server (test/fixtures/vault-server) on ${server.url}`);
    log(`seeded KV v2 secret ${VAULT_KV_MOUNT}/${path} (version ${version}): field "${VAULT_CLIENT_SECRET_FIELD}" holds a freshly generated client secret; ` +
      `custom_metadata ${Object.entries(metadata).map(([k, v]) => `${k}=${v}`).join(', ')}`);
    log(`created a Vault token for the demo (policy "${VAULT_DEMO_POLICY}": read ${VAULT_KV_MOUNT}/data/${path}, TTL 1h), passed to the providers as VAULT_TOKEN`);

    const env: Record<string, string | undefined> = {};
    for (const [name, value] of Object.entries(options.env)) if (!name.startsWith('VAULT_')) env[name] = value;
    env['VAULT_ADDR'] = server.url;
    env['VAULT_TOKEN'] = token.reveal();
    return { address: server.url, loopback: true, env, close: () => server.close() };
  } catch (err) {
    await server.close();
    throw err;
  }
}
