import type { ResolveContext } from '../../src/provider.js';
import { startSecretsManager, type SecretsManagerDouble } from '../fixtures/aws/secrets-manager.js';
import type { IssuedKey } from '../fixtures/aws/sigv4.js';

/** A resolve context for calling a provider directly. */
export function resolveContext(overrides: Partial<ResolveContext> = {}): ResolveContext {
  return { signal: new AbortController().signal, env: {}, environment: 'dev', identity: undefined, now: Date.now, ...overrides };
}

/** A Secrets Manager double and a long-term key it accepts. */
export async function secretsManager(): Promise<{ sm: SecretsManagerDouble; key: IssuedKey }> {
  const sm = await startSecretsManager();
  return { sm, key: sm.keys.longTerm() };
}

/** SDK options pointing at a double, with few attempts so error paths stay quick. */
export function pointAt(sm: SecretsManagerDouble, credentials: IssuedKey, maxAttempts = 1) {
  return { region: sm.region, endpoint: sm.url, credentials: { accessKeyId: credentials.accessKeyId, secretAccessKey: credentials.secretAccessKey, ...(credentials.sessionToken ? { sessionToken: credentials.sessionToken } : {}) }, maxAttempts };
}
