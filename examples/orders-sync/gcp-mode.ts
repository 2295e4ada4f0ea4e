// GCP mode of the demo (`npm run demo -- --gcp`): the OAuth client secret comes from Google Cloud
// Secret Manager instead of the local encrypted store. No Google project is needed: the demo
// starts the loopback Google doubles of the test suite (test/fixtures/gcp: token endpoint and
// Secret Manager REST), creates a service account with a fresh key, and a secret readable only by
// that service account, labelled with its environment and owner.
//
// The connector itself does not change: its manifest still names
// `secret://orders-api/client-secret`, and the chain becomes
// fromEnv → fromGcpSecretIds(fromGcpSecretManager), authorized by a gcpAccessToken handle.
import { randomBytes } from 'node:crypto';
import { Secret, type SecretProvider } from '../../src/index.js';
import { fromGcpSecretManager, gcpAccessToken, type GcpAccessToken } from '../../src/gcp/index.js';
import { ordersSecrets, type Log } from './connector.js';
import { fromGcpSecretIds } from './fromGcpSecretIds.js';

/** The demo's Google Cloud project. */
export const GCP_PROJECT = 'orders-demo';
/** The service account the connector runs as. */
export const GCP_SERVICE_ACCOUNT = `orders-sync@${GCP_PROJECT}.iam.gserviceaccount.com`;

/** The Secret Manager secret id of the client secret: the logical ref's segments joined by `-`. */
export function gcpSecretId(): string {
  return 'orders-api-client-secret';
}

/** The client secret as a plain Secret Manager ref. */
export function gcpClientSecretRef(): string {
  return `gcp-sm://projects/${GCP_PROJECT}/secrets/${gcpSecretId()}`;
}

/** The Google Cloud the demo reads from. */
export interface DemoGcp {
  /** The loopback doubles' address (not secret). */
  readonly address: string;
  /** A provider over Secret Manager, authorized as the demo's service account. */
  provider(): SecretProvider;
  /** Stops the token handles and the doubles. */
  close(): Promise<void>;
}

/** What the loopback Google doubles were seeded with (tests check none of it leaks). */
export interface LoopbackGcpSeed {
  readonly clientSecret: Secret<string>;
  /** The service account's private key (PEM). */
  readonly privateKey: Secret<string>;
}

/** Options of {@link startLoopbackGcp}. */
export interface StartLoopbackGcpOptions {
  readonly environment: string;
  readonly log: Log;
  readonly onSeeded?: (seed: LoopbackGcpSeed) => void;
  /** Called with every access token the token double issues. */
  readonly onAccessToken?: (token: string) => void;
}

/** The connector's chain entry: logical refs read as Secret Manager ids. */
export function connectorGcpProvider(gcp: DemoGcp): SecretProvider {
  return fromGcpSecretIds({ gcp: gcp.provider() });
}

/**
 * Starts the loopback Google doubles and sets them up the way an operator would set up a project:
 * a service account with a key, the secret `orders-api-client-secret` with labels (environment,
 * owner, purpose, sensitivity, rotation) and one version holding a freshly generated client
 * secret, readable only by that service account (roles/secretmanager.secretAccessor).
 *
 * The doubles are loaded here, with `await import()`, so a demo run without `--gcp` never loads
 * them. They are test fixtures: fine for a local try, not something to deploy.
 */
export async function startLoopbackGcp(options: StartLoopbackGcpOptions): Promise<DemoGcp> {
  const { environment, log } = options;
  const { startGoogleDoubles } = await import('../../test/fixtures/gcp/index.js');
  const doubles = await startGoogleDoubles();
  const tokens: GcpAccessToken[] = [];
  try {
    if (options.onAccessToken !== undefined) doubles.onTokenIssued = (_principal, token) => options.onAccessToken!(token);
    const key = doubles.serviceAccount(GCP_SERVICE_ACCOUNT, GCP_PROJECT);
    const spec = ordersSecrets.specs.clientSecret;
    // Label values allow lowercase letters, digits, `-` and `_` only.
    const labels = { environment, owner: spec.owner ?? 'data-platform', purpose: 'orders-api-client-credentials', sensitivity: spec.sensitivity ?? 'high', rotation: spec.rotation ?? '30d' };
    const name = `projects/${GCP_PROJECT}/secrets/${gcpSecretId()}`;
    doubles.createSecret(name, { labels, accessors: [GCP_SERVICE_ACCOUNT] });
    const clientSecret = new Secret(randomBytes(32).toString('base64url'));
    const version = doubles.addVersion(name, clientSecret.reveal());
    options.onSeeded?.({ clientSecret, privateKey: new Secret(key.private_key) });

    log(`started the loopback Google doubles (test/fixtures/gcp: token endpoint, Secret Manager REST) on ${doubles.url}`);
    log(`created service account ${GCP_SERVICE_ACCOUNT} with a fresh key, and secret ${name} (version ${version}) readable only by it; ` +
      `labels ${Object.entries(labels).map(([k, v]) => `${k}=${v}`).join(', ')}`);
    return {
      address: doubles.url,
      provider() {
        const token = gcpAccessToken({ credentials: key, endpoints: { token: doubles.tokenUrl } });
        tokens.push(token);
        return fromGcpSecretManager({ projectId: GCP_PROJECT, apiEndpoint: doubles.url, auth: token });
      },
      async close() {
        await Promise.all(tokens.splice(0).map((t) => t.close()));
        await doubles.close();
      },
    };
  } catch (err) {
    await doubles.close();
    throw err;
  }
}
