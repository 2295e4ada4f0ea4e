// Azure mode of the demo (`npm run demo -- --azure`): the OAuth client secret comes from Azure Key
// Vault instead of the local encrypted store. The demo starts the loopback Entra ID and Key Vault
// doubles (test/fixtures/azure, over TLS with a CA made for the run), registers an app with a
// client certificate, and stores the client secret with its tags. The connector authenticates with
// the certificate (ClientCertificateCredential; the double checks the assertion's signature)
// through an auto-refreshing azureAccessToken handle.
//
// The connector itself does not change: its manifest still names `secret://orders-api/client-secret`,
// which fromAzureKeyVaultLogical maps to the Key Vault secret `orders-api-client-secret`.
import { randomBytes } from 'node:crypto';
import type { Agent } from 'node:https';
import { formatRef, parseRef, Secret, type ResolveContext, type ResolvedSecret, type SecretProvider, type SecretRef } from '../../src/index.js';
import { azureAccessToken, fromAzureKeyVault, type AzureAccessToken } from '../../src/azure/index.js';
import { ordersSecrets, type Log } from './connector.js';

/** The vault the demo reads (`https://orders-kv.vault.localhost:<port>` on loopback). */
export const AZURE_DEMO_VAULT = 'orders-kv';

/** The Key Vault secret name of a logical ref: `secret://orders-api/client-secret` → `orders-api-client-secret`. */
export function azureSecretName(ref: SecretRef): string {
  return ref.segments.join('-');
}

/** The Key Vault the demo reads from, and the token handle it authenticates with. */
export interface DemoAzure {
  readonly vaultUrl: string;
  readonly token: AzureAccessToken;
  /** A fromAzureKeyVault provider over the vault, with the handle as its credential. */
  provider(): SecretProvider;
  close(): Promise<void>;
}

/**
 * Serves the connector's logical refs from the vault: `secret://a/b` reads `azure-kv://<vault>/a-b`
 * (Key Vault names allow letters, digits and dashes only). `azure-kv://` refs go through unchanged.
 */
export function fromAzureKeyVaultLogical(kv: SecretProvider, vault: string): SecretProvider {
  return {
    name: kv.name,
    schemes: kv.schemes,
    logical: true,
    async resolve(ref: SecretRef, ctx: ResolveContext): Promise<ResolvedSecret> {
      if (!ref.logical) return kv.resolve(ref, ctx);
      const name = azureSecretName(ref);
      return kv.resolve(parseRef(formatRef({ scheme: 'azure-kv', path: `${vault}/${name}`, segments: [vault, name], params: {} })), ctx);
    },
    close: () => kv.close?.() ?? Promise.resolve(),
  };
}

/** What the loopback vault was seeded with (tests check it never leaks). */
export interface LoopbackAzureSeed {
  readonly clientSecret: Secret<string>;
}

/**
 * Starts the Entra ID and Key Vault doubles and sets them up as an operator would: an app with a
 * client certificate, and the secret `orders-api-client-secret` with a generated value and tags
 * (environment, owner, purpose, sensitivity, rotation). The doubles are loaded with
 * `await import()`, so a demo run without `--azure` never loads them. They are test fixtures:
 * fine for a local try, nothing to deploy.
 */
export async function startLoopbackAzure(options: { environment: string; log: Log; onSeeded?: (seed: LoopbackAzureSeed) => void }): Promise<DemoAzure> {
  const { environment, log } = options;
  const { makeTestTls, startAzureDoubles, loopbackAgent } = await import('../../test/fixtures/azure/index.js');
  const { ClientCertificateCredential } = await import('@azure/identity');
  const tls = makeTestTls();
  const doubles = await startAzureDoubles(tls);
  // This process did not start with NODE_EXTRA_CA_CERTS: the agent trusts the run's CA and
  // reaches `<vault>.vault.localhost` (tests trust the CA through the variable instead).
  const agent: Agent = loopbackAgent(tls.caPem);
  try {
    const spec = ordersSecrets.specs.clientSecret;
    const tags = { environment, owner: spec.owner, purpose: spec.purpose, sensitivity: spec.sensitivity ?? 'high', rotation: spec.rotation ?? '30d' };
    const clientSecret = new Secret(randomBytes(32).toString('base64url'));
    const name = azureSecretName(parseRef(spec.ref));
    const version = doubles.kv.put(AZURE_DEMO_VAULT, name, clientSecret.reveal(), { tags });
    const app = doubles.entra.addClientCertificate();
    options.onSeeded?.({ clientSecret });
    const vaultUrl = doubles.kv.vaultUrl(AZURE_DEMO_VAULT);
    log(`started the loopback Entra ID (${doubles.entra.url}) and Key Vault (${vaultUrl}) doubles over TLS (test/fixtures/azure)`);
    log(`seeded Key Vault secret ${name} (version ${version}) with tags ${Object.entries(tags).map(([k, v]) => `${k}=${v}`).join(', ')}; ` +
      `registered app ${app.clientId} with a client certificate`);
    const token = azureAccessToken({
      scopes: [`https://vault.localhost/.default`],
      credential: () => new ClientCertificateCredential(doubles.entra.tenantId, app.clientId, { certificate: app.combinedPem }, { authorityHost: doubles.entra.url, disableInstanceDiscovery: true, agent }),
    });
    return {
      vaultUrl,
      token,
      provider: () => fromAzureKeyVaultLogical(fromAzureKeyVault({ vaultUrl, credential: token, clientOptions: { agent } }), AZURE_DEMO_VAULT),
      async close() {
        await token.close();
        agent.destroy();
        await doubles.close();
      },
    };
  } catch (err) {
    agent.destroy();
    await doubles.close();
    throw err;
  }
}
