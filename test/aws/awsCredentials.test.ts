import { SecretsManagerClient, GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import type { AwsCredentialIdentityProvider as SmithyProvider } from '@smithy/types';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, expectTypeOf, it, vi } from 'vitest';
import { awsCredentials } from '../../src/aws/awsCredentials.js';
import { fromAwsSecretsManager } from '../../src/aws/fromAwsSecretsManager.js';
import type { AwsCredentialIdentityProvider } from '../../src/aws/types.js';
import { createSecrets } from '../../src/client.js';
import { createRedactor } from '../../src/redact/redactor.js';
import { ContainerCredentialsDouble } from '../fixtures/aws/container.js';
import { AwsKeyRegistry } from '../fixtures/aws/keys.js';
import { startSecretsManager, type SecretsManagerDouble } from '../fixtures/aws/secrets-manager.js';
import { startSts, type StsDouble } from '../fixtures/aws/sts.js';
import { SimClock } from '../vault/helpers.js';
import { errorText, generated, rejection, until } from '../helpers.js';

const keys = new AwsKeyRegistry();
let sts: StsDouble;
let sm: SecretsManagerDouble;
let dir: string;

beforeAll(async () => {
  sts = await startSts({ keys });
  sm = await startSecretsManager({ keys });
  dir = await mkdtemp(path.join(tmpdir(), 'cs-aws-'));
});
afterAll(async () => {
  await Promise.all([sts.close(), sm.close(), rm(dir, { recursive: true, force: true })]);
});

const base = () => ({ region: 'eu-west-1', stsEndpoint: sts.url, maxAttempts: 1 });

describe('awsCredentials: assumed roles through the real credential providers against a strict STS double', () => {
  it('assumes a role with signed AssumeRole; the temporary key carries its real expiry and works on Secrets Manager', async () => {
    const roleArn = sts.role('etl-orders');
    const user = keys.longTerm();
    const redactor = createRedactor();
    const handle = awsCredentials({ ...base(), redactor, assumeRole: { roleArn, sessionName: 'orders-sync', durationSeconds: 1800, sessionTags: { team: 'data' }, source: { static: user } } });
    const before = sts.count('AssumeRole');
    const cred = await handle.get();
    const id = cred.reveal();
    expect(id.accessKeyId).toMatch(/^ASIA/);
    expect(keys.principalOf(id.accessKeyId)).toBe('arn:aws:sts::123456789012:assumed-role/etl-orders/orders-sync');
    expect(Math.abs(id.expiration!.getTime() - (Date.now() + 1800_000))).toBeLessThan(5000);
    expect(handle.expiresAt).toBe(id.expiration!.getTime());
    const call = sts.calls.at(-1)!;
    expect([call.params['RoleArn'], call.params['DurationSeconds'], call.params['Tags.member.1.Key'], call.callerKey]).toEqual([roleArn, '1800', 'team', user.accessKeyId]);
    expect(redactor.redact(`key=${id.secretAccessKey}`)).not.toContain(id.secretAccessKey);
    expect(String(cred)).not.toContain(id.secretAccessKey);
    // Fifty concurrent gets: one AssumeRole.
    await Promise.all(Array.from({ length: 50 }, () => handle.get()));
    expect(sts.count('AssumeRole') - before).toBe(1);

    const value = generated();
    sm.create('creds/check', { string: value }, { tags: { environment: 'dev' } });
    const secrets = createSecrets({ environment: 'dev', providers: [fromAwsSecretsManager({ region: sm.region, endpoint: sm.url, credentials: handle, maxAttempts: 1 })] });
    expect((await secrets.get('aws-sm://creds/check')).reveal()).toBe(value);
    expect(sm.calls.at(-1)!.accessKeyId).toBe(id.accessKeyId);
    await secrets.close();
    await handle.close();
  });

  it('chains roles: the second AssumeRole is signed with the first role session; STS refuses a chained session over one hour', async () => {
    const first = sts.role('hop-one');
    const second = sts.role('hop-two', { maxSessionSeconds: 7200 });
    const user = keys.longTerm();
    const hop1 = awsCredentials({ ...base(), assumeRole: { roleArn: first, sessionName: 'hop1', source: { static: user } } });
    const hop2 = awsCredentials({ ...base(), assumeRole: { roleArn: second, sessionName: 'hop2', source: hop1 } });
    const id = (await hop2.get()).reveal();
    expect(keys.principalOf(id.accessKeyId)).toBe('arn:aws:sts::123456789012:assumed-role/hop-two/hop2');
    const hop1Key = (await hop1.get()).reveal().accessKeyId;
    expect(sts.calls.at(-1)!.callerKey).toBe(hop1Key);
    const tooLong = awsCredentials({ ...base(), assumeRole: { roleArn: second, sessionName: 'hop2', durationSeconds: 7200, source: hop1 } });
    const err = await rejection(tooLong.get());
    expect([err.code, (err.cause as { awsCode?: string }).awsCode]).toEqual(['PROVIDER_ERROR', 'ValidationError']);
    for (const h of [tooLong, hop2, hop1]) await h.close();
  });

  it('a trust policy refusal (wrong ExternalId) is ACCESS_DENIED without the STS message', async () => {
    const roleArn = sts.role('partner', { externalId: 'partner-42' });
    const handle = awsCredentials({ ...base(), assumeRole: { roleArn, sessionName: 'partner-session', externalId: 'partner-41', source: { static: keys.longTerm() } } });
    const err = await rejection(handle.get());
    expect(err.code).toBe('ACCESS_DENIED');
    expect(errorText(err)).not.toContain('is not authorized to perform');
    const ok = awsCredentials({ ...base(), assumeRole: { roleArn, sessionName: 'partner-session', externalId: 'partner-42', source: { static: keys.longTerm() } } });
    expect((await ok.get()).reveal().accessKeyId).toMatch(/^ASIA/);
    await handle.close();
    await ok.close();
  });

  it('web identity re-reads the token file at each refresh', async () => {
    const [t1, t2] = [`eyJ${generated(40)}`, `eyJ${generated(40)}`];
    const roleArn = sts.role('irsa', { webIdentityTokens: [t1, t2] });
    const tokenFile = path.join(dir, 'token');
    await writeFile(tokenFile, `${t1}\n`);
    const handle = awsCredentials({ ...base(), webIdentity: { roleArn, tokenFile, sessionName: 'pod-1' } });
    const first = (await handle.get()).reveal();
    expect(sts.calls.at(-1)!.params['WebIdentityToken']).toBe(t1);
    expect(sts.calls.at(-1)!.callerKey).toBeUndefined(); // AssumeRoleWithWebIdentity is unsigned
    await writeFile(tokenFile, t2);
    const second = (await handle.refresh()).reveal();
    expect(sts.calls.at(-1)!.params['WebIdentityToken']).toBe(t2);
    expect(second.accessKeyId).not.toBe(first.accessKeyId);
    await writeFile(tokenFile, `eyJ${generated(40)}`);
    const refused = await rejection(handle.refresh());
    expect([refused.code, (refused.cause as { awsCode?: string }).awsCode]).toEqual(['ACCESS_DENIED', 'InvalidIdentityTokenException']);
    await handle.close();
  });

  it('reads container credentials with the authorization token file, re-read at each refresh', async () => {
    const token = generated();
    const tokenFile = path.join(dir, 'container-token');
    await writeFile(tokenFile, token);
    const container = await new ContainerCredentialsDouble(keys, token).start();
    const handle = awsCredentials({ container: { fullUri: container.uri, authorizationTokenFile: tokenFile } });
    const id = (await handle.get()).reveal();
    expect(id.accessKeyId).toMatch(/^ASIA/);
    expect(id.expiration).toBeInstanceOf(Date);
    expect(container.calls.at(-1)!.authorized).toBe(true);
    await writeFile(tokenFile, generated());
    await rejection(handle.refresh());
    expect(container.calls.at(-1)!.authorized).toBe(false);
    await handle.close();
    await container.close();
  });

  it('toAwsCredentialProvider gives SDK clients the handle’s current credential after each refresh (no SDK memo)', async () => {
    const roleArn = sts.role('shared');
    const handle = awsCredentials({ ...base(), assumeRole: { roleArn, sessionName: 'shared', source: { static: keys.longTerm() } } });
    const provider = handle.toAwsCredentialProvider();
    expectTypeOf(provider).toMatchTypeOf<SmithyProvider>();
    expectTypeOf<AwsCredentialIdentityProvider>().toMatchTypeOf<SmithyProvider>();
    sm.create('shared/one', { string: generated() });
    const client = new SecretsManagerClient({ region: sm.region, endpoint: sm.url, credentials: provider, maxAttempts: 1 });
    await client.send(new GetSecretValueCommand({ SecretId: 'shared/one' }));
    const k1 = sm.calls.at(-1)!.accessKeyId;
    await handle.refresh();
    await client.send(new GetSecretValueCommand({ SecretId: 'shared/one' }));
    const k2 = sm.calls.at(-1)!.accessKeyId;
    expect(k2).not.toBe(k1);
    expect(k2).toBe((await handle.get()).reveal().accessKeyId);
    client.destroy();
    await handle.close();
  });

  it('recovers expired STS credentials with one refresh: ExpiredTokenException → refresh → the call retried once', async () => {
    const roleArn = sts.role('expiring');
    const handle = awsCredentials({ ...base(), assumeRole: { roleArn, sessionName: 'exp', source: { static: keys.longTerm() } } });
    sm.create('exp/a', { string: generated() });
    const b = generated();
    sm.create('exp/b', { string: b });
    const provider = fromAwsSecretsManager({ region: sm.region, endpoint: sm.url, credentials: handle, maxAttempts: 1, tags: false });
    const secrets = createSecrets({ environment: 'dev', strictEnvironment: false, providers: [provider] });
    await secrets.get('aws-sm://exp/a');
    const old = (await handle.get()).reveal().accessKeyId;
    keys.expire(old);
    const [stsBefore, getsBefore] = [sts.count('AssumeRole'), sm.count('GetSecretValue')];
    expect((await secrets.get('aws-sm://exp/b')).reveal()).toBe(b);
    expect(sts.count('AssumeRole') - stsBefore).toBe(1);
    const gets = sm.calls.filter((c) => c.op === 'GetSecretValue').slice(getsBefore);
    expect(gets.map((c) => c.accessKeyId === old)).toEqual([true, false]);
    await secrets.close();
    await handle.close();
  });

  it('while STS is down, serves the credential it holds until that one really expires, then fails', async () => {
    const clock = new SimClock(Date.now());
    const simSts = await startSts({ keys, now: () => clock.now() });
    const roleArn = simSts.role('flaky');
    const handle = awsCredentials({ region: 'eu-west-1', stsEndpoint: simSts.url, maxAttempts: 1, clock, random: () => 0.5, assumeRole: { roleArn, sessionName: 'flaky', source: { static: keys.longTerm() } } });
    const held = await handle.get();
    const expiresAt = held.reveal().expiration!.getTime();
    simSts.goDown(1000);
    const errors: unknown[] = [];
    handle.on('refresh-error', (e) => errors.push(e));
    clock.advance(50 * 60_000); // past the jittered refresh point (2/3–3/4 of an hour)
    await until(() => errors.length > 0, 'the refused refresh');
    expect((errors[0] as { code?: string }).code).toBe('PROVIDER_UNAVAILABLE');
    expect(await handle.get()).toBe(held);
    clock.advance(expiresAt - clock.now() - 2000);
    expect(await handle.get()).toBe(held);
    clock.advance(3000);
    const err = await rejection(handle.get());
    expect(err.code).toBe('SECRET_EXPIRED');
    await handle.close();
    await simSts.close();
  });

  it('an STS call that gets no answer fails after requestTimeoutMs instead of holding the refresh forever', async () => {
    const roleArn = sts.role('silent');
    const handle = awsCredentials({ ...base(), requestTimeoutMs: 300, assumeRole: { roleArn, sessionName: 'silent', source: { static: keys.longTerm() } } });
    sts.goSilent(1);
    const err = await rejection(handle.get());
    expect(err.code).toBe('PROVIDER_UNAVAILABLE');
    // The next refresh is not stuck behind the silent one.
    expect((await handle.get()).reveal().accessKeyId).toMatch(/^ASIA/);
    await handle.close();
  });

  it('with no kind, resolves the SDK default chain afresh at each refresh (here: the environment)', async () => {
    const first = keys.longTerm();
    vi.stubEnv('AWS_ACCESS_KEY_ID', first.accessKeyId);
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', first.secretAccessKey);
    vi.stubEnv('AWS_SESSION_TOKEN', undefined);
    try {
      const handle = awsCredentials({ region: 'eu-west-1' });
      expect((await handle.get()).reveal().accessKeyId).toBe(first.accessKeyId);
      const second = keys.longTerm();
      vi.stubEnv('AWS_ACCESS_KEY_ID', second.accessKeyId);
      vi.stubEnv('AWS_SECRET_ACCESS_KEY', second.secretAccessKey);
      expect((await handle.refresh()).reveal().accessKeyId).toBe(second.accessKeyId);
      expect(handle.ref).toBe('aws-credentials://default');
      await handle.close();
    } finally {
      vi.unstubAllEnvs();
    }
  });

  it('takes one credential kind; two is a ConfigError naming them', () => {
    expect(() => awsCredentials({ static: { accessKeyId: 'AKIA', secretAccessKey: 'x' }, container: true })).toThrow(/static and container|container and static/);
  });
});
