import { ClientSecretCredential } from '@azure/identity';
import type { ResolveContext } from '../../src/provider.js';
import { KEY_VAULT_RESOURCE, loopbackAgent, type AzureDoubles } from '../fixtures/azure/index.js';

/** The Key Vault scope of the double (its challenge names `https://vault.localhost`). */
export const KV_SCOPE = `${KEY_VAULT_RESOURCE}/.default`;

/** A resolve context for calling a provider directly. */
export function resolveContext(overrides: Partial<ResolveContext> = {}): ResolveContext {
  return { signal: new AbortController().signal, env: {}, environment: 'dev', identity: undefined, now: Date.now, ...overrides };
}

/** @azure/identity options that point a credential at the Entra double. */
export function identityOptions(d: AzureDoubles) {
  return { authorityHost: d.entra.url, disableInstanceDiscovery: true };
}

/** A new app with a client secret, and a credential for it. */
export function secretCredential(d: AzureDoubles): ClientSecretCredential {
  const app = d.entra.addClientSecret();
  return new ClientSecretCredential(d.entra.tenantId, app.clientId, app.clientSecret, identityOptions(d));
}

/** SecretClient options: reach `<vault>.vault.localhost` (the CA is trusted via NODE_EXTRA_CA_CERTS); retries without long pauses. */
export function kvClientOptions(maxRetries = 0) {
  return { agent: loopbackAgent(), retryOptions: { maxRetries, retryDelayInMs: 10, maxRetryDelayInMs: 50 } };
}
