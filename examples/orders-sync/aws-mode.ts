// AWS mode of the demo (`npm run demo -- --aws`): the OAuth client secret comes from AWS Secrets
// Manager, read with credentials of an assumed role, both served by the loopback AWS doubles of
// the tests (test/fixtures/aws: Secrets Manager and STS, every request SigV4-verified).
//
// The connector itself does not change: its manifest still names
// `secret://orders-api/client-secret`, and the chain becomes
// fromEnv → fromAwsSecretsManager({ logicalPrefix: 'dev/', credentials: awsCredentials({ assumeRole }) }).
import { randomBytes } from 'node:crypto';
import { fromAwsSecretsManager, awsCredentials, type AwsCredentialsHandle } from '../../src/aws/index.js';
import { Secret, type SecretProvider } from '../../src/index.js';
import { ordersSecrets, type Log } from './connector.js';

/** The region the doubles claim to be. */
export const AWS_DEMO_REGION = 'eu-west-1';
/** The role the demo assumes. */
export const AWS_DEMO_ROLE = 'orders-sync';

/** The secret name prefix of an environment: logical refs are read below it. */
export function awsSecretPrefix(environment: string): string {
  return `${environment}/`;
}

/** The client secret as a plain ref: `aws-sm://<environment>/orders-api/client-secret`. */
export function awsClientSecretRef(environment: string): string {
  return `aws-sm://${awsSecretPrefix(environment)}orders-api/client-secret`;
}

/** What the loopback AWS was seeded with; given to {@link StartLoopbackAwsOptions.onSeeded}. */
export interface LoopbackAwsSeed {
  /** The generated client secret stored in Secrets Manager. */
  readonly clientSecret: Secret<string>;
  /** The long-term key of the demo's base identity (it may only assume the role). */
  readonly baseSecretKey: Secret<string>;
}

/** The loopback AWS a demo run reads from. */
export interface DemoAws {
  /** The Secrets Manager endpoint. */
  readonly secretsManagerUrl: string;
  /** The STS endpoint. */
  readonly stsUrl: string;
  /** The role the credentials are assumed from. */
  readonly roleArn: string;
  /** The assumed-role credentials every AWS client of the run shares. */
  readonly credentials: AwsCredentialsHandle;
  /** Stops the doubles and the credential handle. */
  close(): Promise<void>;
}

/** Options of {@link startLoopbackAws}. */
export interface StartLoopbackAwsOptions {
  readonly environment: string;
  readonly log: Log;
  /** Called with the seeded values; tests use it to check that none of them leaks. */
  readonly onSeeded?: (seed: LoopbackAwsSeed) => void;
}

/**
 * Starts the loopback Secrets Manager and STS doubles and sets them up the way an operator would
 * set up an account: the secret `<environment>/orders-api/client-secret` with a freshly generated
 * value and tags (environment, owner, purpose, sensitivity, rotation), a role `orders-sync`, and
 * a base identity whose key may assume it. The doubles are test fixtures, loaded here with
 * `await import()` so a demo run without `--aws` never loads them.
 */
export async function startLoopbackAws(options: StartLoopbackAwsOptions): Promise<DemoAws> {
  const { environment, log } = options;
  const [{ AwsKeyRegistry }, { startSecretsManager }, { startSts }] = await Promise.all([
    import('../../test/fixtures/aws/keys.js'),
    import('../../test/fixtures/aws/secrets-manager.js'),
    import('../../test/fixtures/aws/sts.js'),
  ]);
  const keys = new AwsKeyRegistry();
  const sm = await startSecretsManager({ keys, region: AWS_DEMO_REGION });
  const sts = await startSts({ keys });
  const spec = ordersSecrets.specs.clientSecret;
  const tags = { environment, owner: spec.owner, purpose: spec.purpose, sensitivity: spec.sensitivity ?? 'high', rotation: spec.rotation ?? '30d' };
  const clientSecret = new Secret(randomBytes(32).toString('base64url'));
  const name = `${awsSecretPrefix(environment)}orders-api/client-secret`;
  const { arn } = sm.create(name, { string: clientSecret.reveal() }, { tags });
  const roleArn = sts.role(AWS_DEMO_ROLE);
  const base = keys.longTerm(`arn:aws:iam::${sts.account}:user/orders-sync-ci`);
  const baseSecretKey = new Secret(base.secretAccessKey);
  options.onSeeded?.({ clientSecret, baseSecretKey });

  log(`started the loopback AWS doubles (test/fixtures/aws): Secrets Manager on ${sm.url}, STS on ${sts.url}`);
  log(`seeded secret ${arn}: a freshly generated client secret; tags ${Object.entries(tags).map(([k, v]) => `${k}=${v}`).join(', ')}`);
  const credentials = awsCredentials({
    region: AWS_DEMO_REGION,
    stsEndpoint: sts.url,
    assumeRole: { roleArn, sessionName: 'orders-sync-demo', durationSeconds: 900, source: { static: base } },
  });
  log(`credentials: role ${roleArn} assumed with sts:AssumeRole (15-minute sessions, refreshed ahead of expiry) from a base key ${base.accessKeyId}`);
  return {
    secretsManagerUrl: sm.url,
    stsUrl: sts.url,
    roleArn,
    credentials,
    async close() {
      await credentials.close();
      await Promise.all([sm.close(), sts.close()]);
    },
  };
}

/** A Secrets Manager provider on the loopback doubles; logical refs are read below `<environment>/`. */
export function awsProvider(aws: DemoAws, environment: string): SecretProvider {
  return fromAwsSecretsManager({ region: AWS_DEMO_REGION, endpoint: aws.secretsManagerUrl, credentials: aws.credentials, logicalPrefix: awsSecretPrefix(environment) });
}
