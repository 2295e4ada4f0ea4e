import { AccessDeniedError, ProviderError } from '../errors.js';
import type { SecretRef } from '../ref/types.js';
import type { CredentialSource } from './credentials.js';
import { parseEnvelope } from './envelope.js';
import type { VaultTransport } from './transport.js';
import { toSecretsError, VaultHttpFailure } from './VaultHttpFailure.js';

/**
 * Log in with a Vault token read from a SecretRef (re-read at every refresh, so a token file
 * written by Vault Agent is picked up).
 *
 * @example
 * ```ts
 * fromVault({ auth: { method: 'token', token: 'file:///run/secrets/vault-token' } });
 * ```
 */
export interface VaultTokenAuth {
  /** Selects this auth method. */
  readonly method: 'token';
  /**
   * Where the token is read from.
   * @default 'env://VAULT_TOKEN'
   */
  readonly token?: string | SecretRef;
}

/**
 * Log in with AppRole (`auth/<mount>/login`).
 *
 * @example
 * ```ts
 * fromVault({ auth: { method: 'approle', roleId: 'file:///run/secrets/role-id', secretId: 'file:///run/secrets/secret-id' } });
 * ```
 */
export interface VaultAppRoleAuth {
  /** Selects this auth method. */
  readonly method: 'approle';
  /** The role_id: a SecretRef, or the role ID itself (it is an identifier, not a secret). */
  readonly roleId: string | SecretRef;
  /** The secret_id, as a SecretRef (never a literal); read again at every login. */
  readonly secretId: string | SecretRef;
  /**
   * The auth mount path.
   * @default 'approle'
   */
  readonly mount?: string;
}

/**
 * Log in with a Kubernetes service-account token (`auth/<mount>/login`). The token file is read
 * again at every login, so the kubelet's rotated projected tokens are used.
 *
 * @example
 * ```ts
 * fromVault({ auth: { method: 'kubernetes', role: 'etl-orders' } });
 * ```
 */
export interface VaultKubernetesAuth {
  /** Selects this auth method. */
  readonly method: 'kubernetes';
  /** The Vault role bound to the service account. */
  readonly role: string;
  /**
   * The service-account token file.
   * @default '/var/run/secrets/kubernetes.io/serviceaccount/token'
   */
  readonly tokenPath?: string;
  /**
   * The auth mount path.
   * @default 'kubernetes'
   */
  readonly mount?: string;
}

/**
 * Log in with a JWT (workload identity: GitHub Actions, GCP, SPIFFE, OIDC providers) through
 * the JWT/OIDC auth method (`auth/<mount>/login`). The JWT ref is resolved at every login.
 *
 * @example
 * ```ts
 * fromVault({ auth: { method: 'jwt', role: 'etl', jwt: 'file:///var/run/secrets/tokens/vault' } });
 * ```
 */
export interface VaultJwtAuth {
  /** Selects this auth method. */
  readonly method: 'jwt';
  /** The JWT, as a SecretRef (a projected token file, an env var …). */
  readonly jwt: string | SecretRef;
  /**
   * The Vault role.
   * @default the mount's default_role
   */
  readonly role?: string;
  /**
   * The auth mount path (`jwt`, `oidc`, …).
   * @default 'jwt'
   */
  readonly mount?: string;
}

/** How a Vault provider authenticates. */
export type VaultAuth = VaultTokenAuth | VaultAppRoleAuth | VaultKubernetesAuth | VaultJwtAuth;

/** A Vault token as a login or lookup reports it. */
export interface TokenGrant {
  readonly token: string;
  /** Remaining life in ms; 0 for a token that never expires. */
  readonly ttlMs: number;
  readonly renewable: boolean;
  readonly accessor: string | undefined;
  /** The token's explicit max TTL, ms, when Vault reports one. */
  readonly maxTtlMs: number | undefined;
  /** What renew-self asks for, ms: the token's creation TTL when lookup-self reports it, else `ttlMs`. */
  readonly renewIncrementMs?: number;
}

const DEFAULT_K8S_TOKEN = '/var/run/secrets/kubernetes.io/serviceaccount/token';

function mountOf(auth: Exclude<VaultAuth, VaultTokenAuth>): string {
  return (auth.mount ?? auth.method).replace(/^\/+|\/+$/g, '').split('/').map(encodeURIComponent).join('/');
}

/** Obtains a token: a login for AppRole / Kubernetes / JWT, a read and lookup-self for tokens. */
export async function login(
  auth: VaultAuth,
  transport: VaultTransport,
  credentials: CredentialSource,
  provider: string,
  signal: AbortSignal | undefined,
): Promise<TokenGrant> {
  if (auth.method === 'token') {
    const token = await credentials.secret(auth.token ?? 'env://VAULT_TOKEN', 'auth.token');
    return lookupSelf(token, transport, provider, signal);
  }
  let body: Record<string, string>;
  switch (auth.method) {
    case 'approle':
      body = {
        role_id: await credentials.identifier(auth.roleId, 'auth.roleId'),
        secret_id: await credentials.secret(auth.secretId, 'auth.secretId'),
      };
      break;
    case 'kubernetes':
      body = { role: auth.role, jwt: await credentials.secret(`file://${auth.tokenPath ?? DEFAULT_K8S_TOKEN}`, 'auth.tokenPath') };
      break;
    case 'jwt':
      body = { jwt: await credentials.secret(auth.jwt, 'auth.jwt'), ...(auth.role === undefined ? {} : { role: auth.role }) };
      break;
  }
  const path = `auth/${mountOf(auth)}/login`;
  let response: unknown;
  try {
    response = await transport.send({ method: 'POST', path, body, signal });
  } catch (err) {
    if (err instanceof VaultHttpFailure && err.status >= 400 && err.status < 500 && err.status !== 412 && err.status !== 429) {
      const detail = err.api.errors.length > 0 ? `: ${err.api.errors.join('; ')}` : '';
      throw new AccessDeniedError(`Vault ${auth.method} login failed (${err.status})${detail}`, { provider, cause: err.api });
    }
    throw toSecretsError(err, { provider });
  }
  const env = parseEnvelope(response);
  const token = env.auth?.client_token;
  if (token === undefined || token === '') throw new ProviderError(`Vault ${auth.method} login answered without auth.client_token`, { provider });
  return {
    token,
    ttlMs: Math.max(0, (env.auth?.lease_duration ?? 0) * 1000),
    renewable: env.auth?.renewable ?? false,
    accessor: env.auth?.accessor,
    maxTtlMs: undefined,
  };
}

/** auth/token/lookup-self: validates a token and reads its TTL. */
export async function lookupSelf(token: string, transport: VaultTransport, provider: string, signal: AbortSignal | undefined): Promise<TokenGrant> {
  let response: unknown;
  try {
    response = await transport.send({ method: 'GET', path: 'auth/token/lookup-self', token, signal });
  } catch (err) {
    if (err instanceof VaultHttpFailure && err.status === 403) {
      throw new AccessDeniedError('Vault refused the token (invalid, expired or revoked)', { provider, cause: err.api });
    }
    throw toSecretsError(err, { provider });
  }
  const data = parseEnvelope(response).data ?? {};
  const ttl = typeof data['ttl'] === 'number' ? data['ttl'] : 0;
  const explicitMax = typeof data['explicit_max_ttl'] === 'number' && data['explicit_max_ttl'] > 0 ? data['explicit_max_ttl'] * 1000 : undefined;
  // A token read late in its life still renews by its full TTL, not by what was left of it.
  const creationTtl = typeof data['creation_ttl'] === 'number' && data['creation_ttl'] > 0 ? data['creation_ttl'] * 1000 : undefined;
  return {
    token,
    ttlMs: Math.max(0, ttl * 1000),
    ...(creationTtl === undefined ? {} : { renewIncrementMs: creationTtl }),
    renewable: data['renewable'] === true,
    accessor: typeof data['accessor'] === 'string' ? data['accessor'] : undefined,
    maxTtlMs: explicitMax,
  };
}
