import type { AuthClient, Credentials } from 'google-auth-library';
import { ConfigError, SecretExpiredError, ConnectorSecretsError } from '../errors.js';
import { systemClock } from '../handles/clock.js';
import { createCredentialHandle, type CredentialHandle, type IssuedCredential } from '../handles/CredentialHandle.js';
import { Secret } from '../secret.js';
import { handleAuthClient } from './authClient.js';
import { readCredentials, type GcpCredentialsJson } from './credentials.js';
import { loadGoogleAuth, type GoogleAuthLibrary } from './loadGoogleAuth.js';
import { mintError } from './tokenErrors.js';
import { tokenHandleOptions, type TokenHandleOptions } from '../handles/tokenHandleOptions.js';

/** The scope of every Google Cloud API. */
export const CLOUD_PLATFORM_SCOPE = 'https://www.googleapis.com/auth/cloud-platform';
/** google-auth-library's fixed token URL for service-account keys. */
const GOOGLE_TOKEN_URL = 'https://oauth2.googleapis.com/token';

/**
 * Service-account impersonation through IAM Credentials `generateAccessToken`.
 *
 * @example
 * ```ts
 * impersonate: { targetPrincipal: 'etl-loader@prod-data.iam.gserviceaccount.com', delegates: ['broker@ops.iam.gserviceaccount.com'], lifetimeMs: 3_600_000 }
 * ```
 */
export interface GcpImpersonation {
  /** The service account whose token is wanted. */
  readonly targetPrincipal: string;
  /**
   * The chain between the source credential and the target: each may create tokens for the next.
   * @default []
   */
  readonly delegates?: readonly string[];
  /**
   * How long each impersonated token lives (Google allows up to 1 h, 12 h with an org policy).
   * @default 3_600_000
   */
  readonly lifetimeMs?: number;
}

/**
 * Endpoint overrides: Private Service Connect names, or loopback test servers.
 *
 * @example
 * ```ts
 * endpoints: { token: 'https://oauth2-myendpoint.p.googleapis.com/token', iamCredentials: 'https://iamcredentials-myendpoint.p.googleapis.com' }
 * ```
 */
export interface GcpEndpoints {
  /**
   * The OAuth token endpoint that service-account keys are traded at.
   * @default 'https://oauth2.googleapis.com/token'
   */
  readonly token?: string;
  /**
   * The IAM Credentials API (impersonation).
   * @default 'https://iamcredentials.googleapis.com'
   */
  readonly iamCredentials?: string;
}

/**
 * Options of {@link gcpAccessToken}.
 *
 * @example
 * ```ts
 * gcpAccessToken({ scopes: ['https://www.googleapis.com/auth/bigquery'], credentials: '/run/secrets/wif.json' });
 * ```
 */
export interface GcpAccessTokenInit extends TokenHandleOptions {
  /**
   * OAuth scopes of the tokens.
   * @default ['https://www.googleapis.com/auth/cloud-platform']
   */
  readonly scopes?: readonly string[];
  /**
   * Where the identity comes from: a credential file path (service-account key,
   * `external_account` for workload identity federation, `authorized_user`) or its parsed JSON.
   * @default Application Default Credentials (GOOGLE_APPLICATION_CREDENTIALS, gcloud, the metadata server)
   */
  readonly credentials?: string | GcpCredentialsJson;
  /**
   * With a service-account key: sign a self-signed JWT locally (no token endpoint call) instead
   * of trading it at the token endpoint. Most Google APIs accept it; Cloud SQL IAM login does not.
   * @default false
   */
  readonly selfSignedJwt?: boolean;
  /** Impersonate a service account with the credential above as the source. */
  readonly impersonate?: GcpImpersonation;
  /**
   * Endpoint overrides (Private Service Connect, tests).
   * @default Google's public endpoints
   */
  readonly endpoints?: GcpEndpoints;
}

/**
 * An auto-refreshing Google OAuth access token: a {@link CredentialHandle} of the token text,
 * plus a google-auth-library client over it.
 *
 * @example
 * ```ts
 * const token = gcpAccessToken({ impersonate: { targetPrincipal: 'loader@p.iam.gserviceaccount.com' } });
 * const bigquery = new BigQuery({ authClient: await token.toGoogleAuthClient() });
 * ```
 */
export interface GcpAccessToken extends CredentialHandle<string> {
  /**
   * A google-auth-library `AuthClient` that hands out this handle's token, for any Google client
   * library that takes `authClient`. A request refused with 401 forces one refresh and is retried once.
   */
  toGoogleAuthClient(): Promise<AuthClient>;
  /** The project of the credentials (key file, external account, ADC), when they name one. */
  projectId(): Promise<string | undefined>;
}

/** What one mint gives: the token and how long it lives. */
interface Minted {
  readonly token: string;
  readonly lifetimeMs: number;
}

/**
 * An auto-refreshing Google access token from Application Default Credentials, a
 * service-account key (traded at the token endpoint, or signed locally with `selfSignedJwt`), an
 * `external_account` file (workload identity federation through STS, with the file's own
 * impersonation URL if it has one) or IAM impersonation (`generateAccessToken`, with delegates).
 *
 * The handle replaces each token at a jittered point of its lifetime (default 2/3–3/4) rather
 * than google-auth-library's fixed five-minute eager window, so a fleet started together does not
 * stampede the token endpoint. google-auth-library (an optional peer dependency) is loaded on the
 * first mint; each mint uses a fresh library client, so no second cache sits under the handle.
 *
 * @example
 * ```ts
 * import { gcpAccessToken } from 'connector-secrets/gcp';
 *
 * const token = gcpAccessToken({ credentials: '/var/run/secrets/wif/credentials.json' });
 * const pool = new pg.Pool({ host, user: 'etl-loader@p.iam', password: async () => (await token.get()).reveal() });
 * ```
 */
export function gcpAccessToken(init: GcpAccessTokenInit = {}): GcpAccessToken {
  const scopes = [...(init.scopes ?? [CLOUD_PLATFORM_SCOPE])];
  if (scopes.length === 0) throw new ConfigError('gcpAccessToken: scopes must name at least one scope');
  const lifetimeMs = init.impersonate?.lifetimeMs ?? 3_600_000;
  if (init.impersonate !== undefined && !(lifetimeMs >= 1000 && lifetimeMs <= 43_200_000)) {
    throw new ConfigError('gcpAccessToken: impersonate.lifetimeMs must be between 1 s and 12 h');
  }
  const clock = init.clock ?? systemClock;
  const random = init.random ?? Math.random;
  const ref = init.impersonate === undefined ? 'gcp-token://default' : `gcp-token://${init.impersonate.targetPrincipal}`;
  const ids = { ref, provider: 'gcp' };
  let credentials: Promise<GcpCredentialsJson | undefined> | undefined;
  const readCreds = (): Promise<GcpCredentialsJson | undefined> => {
    credentials ??= (init.credentials === undefined ? Promise.resolve(undefined) : readCredentials(init.credentials)).catch((err: unknown) => {
      credentials = undefined;
      throw err;
    });
    return credentials;
  };
  // The source of an impersonated token is itself a handle: its token is reused while it lives.
  const source =
    init.impersonate === undefined
      ? undefined
      : gcpAccessToken(withoutImpersonation(init));
  let counter = 0;

  const mint = async (): Promise<Minted> => {
    const lib = await loadGoogleAuth();
    const json = await readCreds();
    try {
      if (source !== undefined) return await impersonate(lib, source, init.impersonate!, scopes, lifetimeMs, init.endpoints);
      return await direct(lib, json, scopes, init);
    } catch (err) {
      throw mintError(err, ids, source !== undefined ? 'impersonation (generateAccessToken)' : 'the token request');
    }
  };

  const handle = createCredentialHandle<string>(
    {
      ref,
      async fetch(): Promise<IssuedCredential<string>> {
        const minted = await mint();
        const expiresAt = clock.now() + minted.lifetimeMs;
        init.redactor?.add(minted.token);
        const secret = new Secret(minted.token, { ref, provider: 'gcp', version: `token-${++counter}`, expiresAt: new Date(expiresAt) });
        return { secret, expiresAt };
      },
    },
    tokenHandleOptions(init, clock, random),
  );

  /** The handle wraps a failed replacement as SECRET_EXPIRED; its cause says what went wrong. */
  const unwrap = (err: unknown): unknown => (err instanceof SecretExpiredError && err.cause instanceof ConnectorSecretsError ? err.cause : err);

  return {
    get ref() {
      return handle.ref;
    },
    get expiresAt() {
      return handle.expiresAt;
    },
    get: () => handle.get().catch((err: unknown) => Promise.reject(unwrap(err))),
    refresh: () => handle.refresh(),
    withCredential: (fn, options) => handle.withCredential(fn, options).catch((err: unknown) => Promise.reject(unwrap(err))),
    on: (event, listener) => handle.on(event, listener),
    onRotate: (listener) => handle.onRotate(listener),
    async close() {
      await handle.close();
      await source?.close();
    },
    async [Symbol.asyncDispose]() {
      await this.close();
    },
    async toGoogleAuthClient() {
      return handleAuthClient(await loadGoogleAuth(), this);
    },
    async projectId() {
      const json = await readCreds();
      if (json !== undefined) {
        const id = json.project_id ?? json['quota_project_id'];
        return typeof id === 'string' ? id : undefined;
      }
      const lib = await loadGoogleAuth();
      return (await new lib.GoogleAuth().getProjectId().catch(() => null)) ?? undefined;
    },
  };
}

/** The source credential of an impersonation: the same identity, scoped to call IAM Credentials. */
function withoutImpersonation(init: GcpAccessTokenInit): GcpAccessTokenInit {
  const { impersonate: _, ...rest } = init;
  return { ...rest, scopes: [CLOUD_PLATFORM_SCOPE] };
}

/** Milliseconds until an absolute `expiry_date` (google-auth-library counts with Date.now). */
function lifetimeOf(c: Credentials): number {
  if (typeof c.expiry_date !== 'number') return 3_600_000;
  return Math.max(0, c.expiry_date - Date.now());
}

async function direct(lib: GoogleAuthLibrary, json: GcpCredentialsJson | undefined, scopes: string[], init: GcpAccessTokenInit): Promise<Minted> {
  if (json?.type === 'service_account') {
    const jwt = new lib.JWT({
      email: json.client_email!,
      key: json.private_key!,
      ...(typeof json.private_key_id === 'string' ? { keyId: json.private_key_id } : {}),
      scopes,
      transporter: tokenTransport(lib, init.endpoints?.token),
    });
    if (init.selfSignedJwt) {
      jwt.useJWTAccessWithScope = true;
      const headers = await jwt.getRequestHeaders();
      const token = (headers.get('authorization') ?? '').replace(/^Bearer /, '');
      return { token, lifetimeMs: jwtLifetime(token) };
    }
    const c = await jwt.authorize();
    return { token: c.access_token!, lifetimeMs: lifetimeOf(c) };
  }
  if (json?.type === 'external_account') {
    const client = lib.ExternalAccountClient.fromJSON({ ...(json as object), scopes } as Parameters<typeof lib.ExternalAccountClient.fromJSON>[0]);
    if (client === null) throw new ConfigError('the external_account credentials are not a supported kind', { provider: 'gcp' });
    const { token } = await client.getAccessToken();
    return { token: token!, lifetimeMs: lifetimeOf(client.credentials) };
  }
  // ADC (GOOGLE_APPLICATION_CREDENTIALS, gcloud, the metadata server) or an authorized_user file.
  const auth = new lib.GoogleAuth({
    scopes,
    clientOptions: { transporter: tokenTransport(lib, init.endpoints?.token) },
    ...(json === undefined ? {} : { credentials: json as object }),
  });
  const client = await auth.getClient();
  const { token } = await client.getAccessToken();
  return { token: token!, lifetimeMs: lifetimeOf(client.credentials) };
}

async function impersonate(lib: GoogleAuthLibrary, source: GcpAccessToken, imp: GcpImpersonation, scopes: string[], lifetimeMs: number, endpoints: GcpEndpoints | undefined): Promise<Minted> {
  const client = new lib.Impersonated({
    sourceClient: (await source.toGoogleAuthClient()) as InstanceType<GoogleAuthLibrary['OAuth2Client']>,
    targetPrincipal: imp.targetPrincipal,
    delegates: [...(imp.delegates ?? [])],
    lifetime: Math.round(lifetimeMs / 1000),
    targetScopes: scopes,
    ...(endpoints?.iamCredentials === undefined ? {} : { endpoint: endpoints.iamCredentials.replace(/\/+$/, '') }),
  });
  const { token } = await client.getAccessToken();
  return { token: token!, lifetimeMs: lifetimeOf(client.credentials) };
}

/**
 * google-auth-library posts service-account assertions to a fixed URL; with an override the
 * request is sent to the configured endpoint instead (Private Service Connect, tests).
 */
function tokenTransport(lib: GoogleAuthLibrary, tokenUrl: string | undefined) {
  const transporter = new lib.gaxios.Gaxios();
  if (tokenUrl !== undefined) {
    transporter.interceptors.request.add({
      resolved: async (config) => {
        if (String(config.url) === GOOGLE_TOKEN_URL) config.url = new URL(tokenUrl);
        return config;
      },
    });
  }
  return transporter;
}

/** The lifetime a self-signed JWT states (`exp − iat`); its claims are not secret. */
function jwtLifetime(jwt: string): number {
  try {
    const claims = JSON.parse(Buffer.from(jwt.split('.')[1] ?? '', 'base64url').toString('utf8')) as { iat?: unknown; exp?: unknown };
    if (typeof claims.iat === 'number' && typeof claims.exp === 'number') return (claims.exp - claims.iat) * 1000;
  } catch {
    // fall through: Google's own default
  }
  return 3_600_000;
}
