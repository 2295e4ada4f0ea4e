import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fromAwsSecretsManager } from '../../src/aws/fromAwsSecretsManager.js';
import { createSecrets } from '../../src/client.js';
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

describe('fromAwsSecretsManager: rotate with PutSecretValue', () => {
  it('writes a new AWSCURRENT version with a ClientRequestToken; the old value stays readable as AWSPREVIOUS', async () => {
    const [old, next] = [generated(), generated()];
    const { versionId: first } = sm.create('rot/api-token', { string: old }, { tags: { environment: 'dev' } });
    const provider = fromAwsSecretsManager(pointAt(sm, key));
    const rotated = await provider.rotate!(parseRef('aws-sm://rot/api-token'), next, resolveContext());
    const put = sm.calls.filter((c) => c.op === 'PutSecretValue').at(-1)!;
    expect(put.body['ClientRequestToken']).toMatch(/^[0-9a-f-]{36}$/);
    expect(rotated.version).toBe(put.body['ClientRequestToken']);
    expect(sm.stagesOf('rot/api-token')).toEqual({ [first]: ['AWSPREVIOUS'], [rotated.version!]: ['AWSCURRENT'] });
    const secrets = createSecrets({ environment: 'dev', providers: [provider] });
    expect((await secrets.get('aws-sm://rot/api-token')).reveal()).toBe(next);
    const previous = await secrets.get('aws-sm://rot/api-token?versionStage=AWSPREVIOUS');
    expect([previous.reveal(), previous.version]).toEqual([old, first]);
    await secrets.close();
  });

  it('is idempotent on retry: an answer lost after the write is retried with the same token and writes one version', async () => {
    const { versionId: first } = sm.create('rot/idem', { string: generated() });
    const provider = fromAwsSecretsManager({ ...pointAt(sm, key, 3), tags: false });
    sm.fail('PutSecretValue', 'InternalServiceError', { status: 500, after: true });
    const before = sm.count('PutSecretValue');
    const rotated = await provider.rotate!(parseRef('aws-sm://rot/idem'), generated(), resolveContext());
    const puts = sm.calls.filter((c) => c.op === 'PutSecretValue').slice(before);
    expect(puts).toHaveLength(2);
    expect(puts[0]!.body['ClientRequestToken']).toBe(puts[1]!.body['ClientRequestToken']);
    expect(Object.keys(sm.stagesOf('rot/idem'))).toEqual([first, rotated.version]);
    await provider.close?.();
  });

  it('refuses pinned or field refs, and a refused write never shows the value', async () => {
    sm.create('rot/refused', { string: generated() });
    const provider = fromAwsSecretsManager({ ...pointAt(sm, key), tags: false });
    const ctx = resolveContext();
    expect((await rejection(provider.rotate!(parseRef('aws-sm://rot/refused?versionStage=AWSPREVIOUS'), 'x', ctx))).code).toBe('CONFIG_INVALID');
    expect((await rejection(provider.rotate!(parseRef('aws-sm://rot/refused#field'), 'x', ctx))).code).toBe('CONFIG_INVALID');
    const value = generated();
    sm.fail('PutSecretValue', 'InvalidParameterException', { message: `SecretString ${value} is not valid` });
    const err = await rejection(provider.rotate!(parseRef('aws-sm://rot/refused'), value, ctx));
    expect(err.code).toBe('PROVIDER_ERROR');
    expect(errorText(err)).not.toContain(value);
    sm.deny('rot/refused');
    expect((await rejection(provider.rotate!(parseRef('aws-sm://rot/refused'), value, ctx))).code).toBe('ACCESS_DENIED');
    await provider.close?.();
  });
});
