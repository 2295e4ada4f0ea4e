import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fromAwsSecretsManager } from '../../src/aws/fromAwsSecretsManager.js';
import { createSecrets } from '../../src/client.js';
import { formatRef } from '../../src/ref/formatRef.js';
import { parseRef } from '../../src/ref/parseRef.js';
import type { SecretsManagerDouble } from '../fixtures/aws/secrets-manager.js';
import type { IssuedKey } from '../fixtures/aws/sigv4.js';
import { errorText, generated, rejection } from '../helpers.js';
import { pointAt, resolveContext, secretsManager } from './helpers.js';

let sm: SecretsManagerDouble;
let key: IssuedKey;

beforeAll(async () => {
  ({ sm, key } = await secretsManager());
});
afterAll(() => sm.close());

function client(options: Parameters<typeof fromAwsSecretsManager>[0] = {}) {
  return createSecrets({ environment: 'dev', strictEnvironment: false, providers: [fromAwsSecretsManager({ ...pointAt(sm, key), ...options })] });
}

describe('fromAwsSecretsManager: reads through the real SDK, every request SigV4-verified by the double', () => {
  it('reads SecretString as text, a JSON #field, and SecretBinary as bytes; VersionId is the version', async () => {
    const password = generated();
    const { versionId } = sm.create('orders/db', { string: JSON.stringify({ username: 'etl-reader', password }) }, { tags: { environment: 'dev' } });
    const bytes = Uint8Array.from(Buffer.from(generated(32), 'base64url'));
    sm.create('orders/tls-key', { binary: bytes }, { tags: { environment: 'dev' } });
    const secrets = client();
    const whole = await secrets.get('aws-sm://orders/db');
    expect(JSON.parse(whole.reveal())).toEqual({ username: 'etl-reader', password });
    expect(whole.version).toBe(versionId);
    expect(whole.provider).toBe('aws-sm');
    expect((await secrets.get('aws-sm://orders/db#password')).reveal()).toBe(password);
    expect(Buffer.from((await secrets.getBytes('aws-sm://orders/tls-key')).reveal()).equals(Buffer.from(bytes))).toBe(true);
    expect(sm.count('GetSecretValue')).toBeGreaterThanOrEqual(2);
    await secrets.close();
  });

  it('reads stages and version ids: AWSCURRENT by default, AWSPREVIOUS and a pinned versionId on request', async () => {
    const [v1, v2] = [generated(), generated()];
    const { versionId: first } = sm.create('orders/api', { string: v1 }, { tags: { environment: 'dev' } });
    const second = sm.put('orders/api', { string: v2 });
    const secrets = client();
    expect((await secrets.get('aws-sm://orders/api')).reveal()).toBe(v2);
    expect((await secrets.get('aws-sm://orders/api?versionStage=AWSCURRENT')).version).toBe(second);
    const previous = await secrets.get('aws-sm://orders/api?versionStage=AWSPREVIOUS');
    expect([previous.reveal(), previous.version]).toEqual([v1, first]);
    expect((await secrets.get(`aws-sm://orders/api?versionId=${first}`)).reveal()).toBe(v1);
    const pending = await rejection(secrets.get('aws-sm://orders/api?versionStage=AWSPENDING'));
    expect(pending.code).toBe('SECRET_NOT_FOUND');
    const both = await rejection(secrets.get(`aws-sm://orders/api?versionStage=AWSPREVIOUS&versionId=${first}`));
    expect(both.code).toBe('INVALID_REF');
    const reserved = await rejection(secrets.get('aws-sm://orders/api?version=2'));
    expect([reserved.code, reserved.message]).toEqual(['INVALID_REF', expect.stringContaining('versionId')]);
    await secrets.close();
  });

  it('reads a full ARN ref, colons and all, which round-trips through formatRef', async () => {
    const value = generated();
    const { arn } = sm.create('billing/stripe', { string: JSON.stringify({ key: value }) }, { tags: { environment: 'dev' } });
    const text = `aws-sm://${arn}?versionStage=AWSCURRENT#key`;
    const ref = parseRef(text);
    expect(ref.path).toBe(arn);
    expect(formatRef(ref)).toBe(text);
    expect(formatRef(parseRef(formatRef(ref)))).toBe(text);
    const secrets = client();
    const got = await secrets.get(text);
    expect(got.reveal()).toBe(value);
    expect(got.ref).toBe(text);
    expect(sm.calls.at(-1)?.body['SecretId'] ?? sm.calls.at(-2)?.body['SecretId']).toBe(arn);
    const notSm = await rejection(secrets.get('aws-sm://arn:aws:s3:::bucket/key'));
    expect(notSm.code).toBe('INVALID_REF');
    await secrets.close();
  });

  it('turns tags into metadata and rotation facts, and the environment guard denies a prod secret in dev without the value', async () => {
    const value = generated();
    const lastRotated = Date.UTC(2026, 10, 1);
    sm.create('prod/orders-db', { string: value }, {
      tags: { environment: 'prod', owner: 'data-platform', purpose: 'orders sync', sensitivity: 'critical', rotation: '30d', sensitivityNote: 'x' },
      rotation: { lastRotated, nextRotation: lastRotated + 30 * 86_400_000 },
    });
    sm.create('dev/orders-db', { string: generated() }, { tags: { environment: 'dev', owner: 'data-platform', sensitivity: 'very' } });
    const secrets = createSecrets({ environment: 'dev', providers: [fromAwsSecretsManager(pointAt(sm, key))] });
    const dev = await secrets.get('aws-sm://dev/orders-db');
    expect(dev.metadata).toMatchObject({ environment: 'dev', owner: 'data-platform', rotationEnabled: 'false' });
    expect(dev.metadata?.sensitivity).toBeUndefined();
    const denied = await rejection(secrets.get('aws-sm://prod/orders-db'));
    expect(denied.code).toBe('ENVIRONMENT_MISMATCH');
    expect(errorText(denied)).not.toContain(value);
    expect(secrets.redactor.redact(value)).toBe(value); // dropped before the redactor ever saw it
    await secrets.close();

    const prod = createSecrets({ environment: 'prod', audit: false, providers: [fromAwsSecretsManager(pointAt(sm, key))] });
    const got = await prod.get('aws-sm://prod/orders-db');
    expect(got.metadata).toMatchObject({
      environment: 'prod',
      owner: 'data-platform',
      purpose: 'orders sync',
      sensitivity: 'critical',
      rotation: '30d',
      rotationEnabled: 'true',
      lastRotatedAt: new Date(lastRotated).toISOString(),
      nextRotationAt: new Date(lastRotated + 30 * 86_400_000).toISOString(),
      arn: expect.stringMatching(/^arn:aws:secretsmanager:eu-west-1:123456789012:secret:prod\/orders-db-.{6}$/),
    });
    await prod.close();
  });

  it('serves logical secret:// refs below logicalPrefix, and none without it', async () => {
    const value = generated();
    sm.create('team/orders-api/client-secret', { string: value }, { tags: { environment: 'dev' } });
    const secrets = createSecrets({ environment: 'dev', providers: [fromAwsSecretsManager({ ...pointAt(sm, key), logicalPrefix: 'team/' })] });
    expect((await secrets.get('secret://orders-api/client-secret')).reveal()).toBe(value);
    await secrets.close();
    const plain = createSecrets({ environment: 'dev', providers: [fromAwsSecretsManager(pointAt(sm, key))] });
    expect((await rejection(plain.get('secret://orders-api/client-secret'))).code).toBe('CONFIG_INVALID');
    await plain.close();
  });

  it('reuses tags for metadataTtlMs (one DescribeSecret), and skips them with tags: false', async () => {
    sm.create('cache/one', { string: generated() }, { tags: { environment: 'dev' } });
    const before = sm.count('DescribeSecret');
    const provider = fromAwsSecretsManager(pointAt(sm, key));
    const ctx = resolveContext();
    await provider.resolve(parseRef('aws-sm://cache/one'), ctx);
    await provider.resolve(parseRef('aws-sm://cache/one'), ctx);
    expect(sm.count('DescribeSecret') - before).toBe(1);
    const untagged = fromAwsSecretsManager({ ...pointAt(sm, key), tags: false });
    const got = await untagged.resolve(parseRef('aws-sm://cache/one'), ctx);
    expect(got.metadata).toBeUndefined();
    expect(sm.count('DescribeSecret') - before).toBe(1);
    await provider.close?.();
    await untagged.close?.();
  });
});

describe('fromAwsSecretsManager: error mapping (AWS answers 400 for client errors)', () => {
  const ctx = resolveContext();

  it('ResourceNotFoundException and a secret marked for deletion are SECRET_NOT_FOUND (the chain may fall through)', async () => {
    const provider = fromAwsSecretsManager(pointAt(sm, key));
    const missing = await rejection(provider.resolve(parseRef('aws-sm://no/such-secret'), ctx));
    expect([missing.code, missing.message]).toEqual(['SECRET_NOT_FOUND', expect.stringContaining('ResourceNotFoundException')]);
    expect((missing.cause as { awsCode?: string; httpStatus?: number }).awsCode).toBe('ResourceNotFoundException');
    expect((missing.cause as { httpStatus?: number }).httpStatus).toBe(400);
    sm.create('gone/secret', { string: generated() });
    sm.markForDeletion('gone/secret');
    const gone = await rejection(provider.resolve(parseRef('aws-sm://gone/secret'), ctx));
    expect([gone.code, gone.message]).toEqual(['SECRET_NOT_FOUND', expect.stringContaining('marked for deletion')]);
    await provider.close?.();
  });

  it('AccessDeniedException and DecryptionFailure are ACCESS_DENIED, and AWS messages are not passed on', async () => {
    const provider = fromAwsSecretsManager(pointAt(sm, key));
    sm.create('locked/secret', { string: generated() });
    sm.deny('locked/secret');
    const denied = await rejection(provider.resolve(parseRef('aws-sm://locked/secret'), ctx));
    expect(denied.code).toBe('ACCESS_DENIED');
    expect(errorText(denied)).not.toContain('is not authorized to perform');
    sm.create('kms/broken', { string: generated() });
    sm.breakKms('kms/broken');
    const kms = await rejection(provider.resolve(parseRef('aws-sm://kms/broken'), ctx));
    expect([kms.code, kms.message]).toEqual(['ACCESS_DENIED', expect.stringContaining('DecryptionFailure')]);
    await provider.close?.();
  });

  it('a refused DescribeSecret fails the read: no value is handed out without its environment tag checked', async () => {
    const value = generated();
    sm.create('notags/prod-db', { string: value }, { tags: { environment: 'prod' } });
    const secrets = createSecrets({ environment: 'dev', strictEnvironment: false, providers: [fromAwsSecretsManager(pointAt(sm, key))] });
    // Scoped to this secret: a DescribeSecret of an earlier test may still be on its way.
    sm.fail('DescribeSecret', 'AccessDeniedException', { secretId: 'notags/prod-db' });
    const err = await rejection(secrets.get('aws-sm://notags/prod-db'));
    expect(err.code).toBe('ACCESS_DENIED');
    expect(errorText(err)).not.toContain(value);
    await secrets.close();
  });

  it('a wrong secret key, an unknown key and an expired session key are refused by the double and ACCESS_DENIED; no signature leaks', async () => {
    sm.create('auth/check', { string: generated() });
    const ref = parseRef('aws-sm://auth/check');
    const wrong = fromAwsSecretsManager(pointAt(sm, { accessKeyId: key.accessKeyId, secretAccessKey: generated(30) }));
    const bad = await rejection(wrong.resolve(ref, ctx));
    expect([bad.code, (bad.cause as { awsCode: string }).awsCode]).toEqual(['ACCESS_DENIED', 'InvalidSignatureException']);
    const shown = errorText(bad);
    expect(shown).not.toContain('Canonical String');
    expect(shown).not.toContain('String-to-Sign');
    expect(shown).not.toMatch(/[0-9a-f]{64}/);
    const unknown = fromAwsSecretsManager(pointAt(sm, { accessKeyId: 'AKIAUNKNOWNUNKNOWN00', secretAccessKey: generated(30) }));
    const u = await rejection(unknown.resolve(ref, ctx));
    expect([u.code, (u.cause as { awsCode: string }).awsCode]).toEqual(['ACCESS_DENIED', 'UnrecognizedClientException']);
    const session = sm.keys.session('arn:aws:sts::123456789012:assumed-role/etl/s', Date.now() - 1000);
    const expired = fromAwsSecretsManager(pointAt(sm, session));
    const e = await rejection(expired.resolve(ref, ctx));
    expect([e.code, (e.cause as { awsCode: string }).awsCode]).toEqual(['ACCESS_DENIED', 'ExpiredTokenException']);
    for (const p of [wrong, unknown, expired]) await p.close?.();
  });

  it('ThrottlingException and 5xx are PROVIDER_UNAVAILABLE after the SDK retried a bounded number of times', async () => {
    sm.create('busy/secret', { string: generated() }, { tags: { environment: 'dev' } });
    const provider = fromAwsSecretsManager({ ...pointAt(sm, key, 2), tags: false });
    const ref = parseRef('aws-sm://busy/secret');
    const before = sm.count('GetSecretValue');
    sm.fail('GetSecretValue', 'ThrottlingException', { count: 2, message: 'Rate exceeded' });
    const throttled = await rejection(provider.resolve(ref, ctx));
    expect([throttled.code, throttled.throttled]).toEqual(['PROVIDER_UNAVAILABLE', true]);
    expect(sm.count('GetSecretValue') - before).toBe(2);
    sm.fail('GetSecretValue', 'InternalServiceError', { count: 2, status: 500 });
    const down = await rejection(provider.resolve(ref, ctx));
    expect([down.code, down.throttled]).toEqual(['PROVIDER_UNAVAILABLE', false]);
    // After the faults, the same provider reads again.
    expect((await provider.resolve(ref, ctx)).value).toBeTypeOf('string');
    await provider.close?.();
  });

  it('a request that times out is PROVIDER_UNAVAILABLE, after the SDK retried it', async () => {
    sm.create('slow/secret', { string: generated() });
    const provider = fromAwsSecretsManager({ ...pointAt(sm, key, 2), requestTimeoutMs: 300, tags: false });
    const before = sm.count('GetSecretValue');
    sm.stall('GetSecretValue', 2);
    const err = await rejection(provider.resolve(parseRef('aws-sm://slow/secret'), ctx));
    expect(err.code).toBe('PROVIDER_UNAVAILABLE');
    expect(sm.count('GetSecretValue') - before).toBe(2);
    await provider.close?.();
  });

  it('a refused connection is PROVIDER_UNAVAILABLE', async () => {
    const provider = fromAwsSecretsManager({ ...pointAt(sm, key), endpoint: 'http://127.0.0.1:9' });
    const err = await rejection(provider.resolve(parseRef('aws-sm://any/secret'), ctx));
    expect([err.code, (err.cause as { awsCode: string }).awsCode]).toEqual(['PROVIDER_UNAVAILABLE', 'ECONNREFUSED']);
    await provider.close?.();
  });

  it('an AWS message quoting a value never reaches the error', async () => {
    const echoed = generated();
    sm.create('echo/secret', { string: generated() });
    sm.fail('GetSecretValue', 'InvalidParameterException', { message: `Invalid SecretString ${echoed}` });
    const provider = fromAwsSecretsManager(pointAt(sm, key));
    const err = await rejection(provider.resolve(parseRef('aws-sm://echo/secret'), ctx));
    expect(err.code).toBe('PROVIDER_ERROR');
    expect(errorText(err)).not.toContain(echoed);
    await provider.close?.();
  });

  it('no region is a ConfigError naming the option', async () => {
    const provider = fromAwsSecretsManager({ endpoint: sm.url, credentials: key });
    const err = await rejection(provider.resolve(parseRef('aws-sm://x'), ctx));
    expect([err.code, err.message]).toEqual(['CONFIG_INVALID', expect.stringContaining('AWS_REGION')]);
  });
});
