import {
  ConfigError,
  InvalidSecretRefError,
  ProviderError,
  ProviderUnavailableError,
  SecretNotFoundError,
  isConnectorSecretsError,
  type ProviderAttempt,
} from './errors.js';
import type { ResolveContext, ResolvedSecret, SecretDescription, SecretProvider } from './provider.js';
import { RESERVED_PARAMS, type SecretRef } from './ref/types.js';

/** The provider that answered and what it returned. */
export interface ChainResult {
  readonly provider: SecretProvider;
  readonly resolved: ResolvedSecret;
}

const RESERVED = new Set<string>(RESERVED_PARAMS);
const ENVIRONMENT_TAG = /^[a-z][a-z0-9_-]*$/;

/**
 * The providers that may answer `ref`, in the user's order: every logical-capable provider for
 * `secret://`, else those serving its scheme. Rejects params no candidate declares.
 */
export function candidatesFor(ref: SecretRef, providers: readonly SecretProvider[]): SecretProvider[] {
  const candidates = providers.filter((p) =>
    ref.logical ? p.logical === true : p.schemes.includes(ref.scheme) || p.schemes.includes('*'),
  );
  if (candidates.length === 0) {
    const names = providers.map((p) => p.name).join(', ');
    // No `ref`: a string no provider serves may be a pasted URL (a webhook, a token in a query).
    throw new ConfigError(
      ref.logical
        ? `no provider resolves logical secret:// refs (providers: ${names})`
        : `no provider serves ${ref.scheme}:// refs (providers: ${names})`,
    );
  }
  const unknown = Object.keys(ref.params).filter((param) => !RESERVED.has(param) && !candidates.some((p) => p.params?.includes(param)));
  if (unknown.length > 0) {
    // Neither the names nor the ref are repeated: `?<token>=…` puts a secret where a name would be.
    throw new InvalidSecretRefError(
      `${unknown.length} param(s) of the ref are understood by no provider of ${ref.scheme}:// refs (understood: ${[...RESERVED, ...new Set(candidates.flatMap((p) => p.params ?? []))].join(', ')})`,
    );
  }
  // `?env=` is read by the guard and named in its denials: it must be a tag, not any text.
  const env = ref.params['env'];
  if (env !== undefined && !ENVIRONMENT_TAG.test(env)) {
    throw new InvalidSecretRefError('the env param must be a lowercase environment tag such as dev or prod');
  }
  return candidates;
}

/**
 * Asks each candidate in turn (through `ask`, which a bulk read answers for its provider). Falls through only on `SECRET_NOT_FOUND` and
 * `PROVIDER_UNAVAILABLE`; any other error stops the walk, so a denial never falls back to
 * another provider's value. When all fail, one error carries every provider's reason.
 */
export async function resolveChain(
  ref: SecretRef,
  candidates: readonly SecretProvider[],
  ctx: ResolveContext,
  ask: (provider: SecretProvider) => Promise<ResolvedSecret> = (provider) => provider.resolve(ref, ctx),
): Promise<ChainResult> {
  const failures: ChainFailure[] = [];
  for (const provider of candidates) {
    let resolved: ResolvedSecret;
    try {
      resolved = await ask(provider);
    } catch (err) {
      const error = classify(err, provider, ref);
      if (error.code !== 'SECRET_NOT_FOUND' && error.code !== 'PROVIDER_UNAVAILABLE') throw error;
      failures.push({ provider: provider.name, error: error as ProviderUnavailableError | SecretNotFoundError });
      continue;
    }
    if (typeof resolved?.value !== 'string' && !(resolved?.value instanceof Uint8Array)) {
      throw new ProviderError(`provider "${provider.name}" returned no string or Uint8Array value`, {
        ref: String(ref),
        provider: provider.name,
      });
    }
    return { provider, resolved };
  }
  throw chainFailure(ref, failures);
}

/**
 * Asks each candidate that can `describe` in turn, falling through exactly as {@link resolveChain}
 * does. A provider without `describe` counts as unavailable for the ref (another may answer).
 */
export async function describeChain(
  ref: SecretRef,
  candidates: readonly SecretProvider[],
  ctx: ResolveContext,
): Promise<{ readonly provider: SecretProvider; readonly description: SecretDescription }> {
  const failures: ChainFailure[] = [];
  for (const provider of candidates) {
    if (provider.describe === undefined) {
      const error = new ProviderUnavailableError(`provider "${provider.name}" cannot describe secrets`, { ref: String(ref), provider: provider.name });
      failures.push({ provider: provider.name, error });
      continue;
    }
    let description: SecretDescription;
    try {
      description = await provider.describe(ref, ctx);
    } catch (err) {
      const error = classify(err, provider, ref);
      if (error.code !== 'SECRET_NOT_FOUND' && error.code !== 'PROVIDER_UNAVAILABLE') throw error;
      failures.push({ provider: provider.name, error: error as ProviderUnavailableError | SecretNotFoundError });
      continue;
    }
    if (typeof description !== 'object' || description === null || 'value' in description) {
      // A description that carries a value would leak it into inventories and JSON output.
      throw new ProviderError(`provider "${provider.name}" returned a description that is not a plain facts object`, { ref: String(ref), provider: provider.name });
    }
    return { provider, description };
  }
  throw chainFailure(ref, failures);
}

interface ChainFailure {
  readonly provider: string;
  readonly error: ProviderUnavailableError | SecretNotFoundError;
}

/** The one error for a walk where every candidate fell through. */
function chainFailure(ref: SecretRef, failures: readonly ChainFailure[]): Error {
  if (failures.length === 1) return failures[0]!.error;
  const attempts: ProviderAttempt[] = failures.map((f) => ({ provider: f.provider, code: f.error.code, message: f.error.message }));
  const summary = attempts.map((a) => `${a.provider}: ${a.message}`).join('; ');
  const options = { ref: String(ref), attempts, cause: new AggregateError(failures.map((f) => f.error)) };
  if (attempts.some((a) => a.code === 'PROVIDER_UNAVAILABLE')) {
    return new ProviderUnavailableError(`no provider could resolve ${String(ref)} (${summary})`, options);
  }
  return new SecretNotFoundError(`no provider has ${String(ref)} (${summary})`, options);
}

/** Our errors pass as they are; anything else stops the chain as PROVIDER_ERROR. */
function classify(err: unknown, provider: SecretProvider, ref: SecretRef) {
  if (isConnectorSecretsError(err)) return err;
  // A foreign message may quote a value, so only its name and code are repeated here.
  const name = err instanceof Error ? err.name : typeof err;
  const code = (err as { code?: unknown } | null)?.code;
  return new ProviderError(
    `provider "${provider.name}" failed with ${name}${typeof code === 'string' ? ` (${code})` : ''}`,
    { ref: String(ref), provider: provider.name, cause: err },
  );
}
