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

describe('fromAwsSecretsManager: describe (DescribeSecret)', () => {
  it('reports the AWSCURRENT version id, created/rotation dates and tags, with no GetSecretValue', async () => {
    const value = generated();
    const lastRotated = Date.UTC(2026, 9, 1);
    const nextRotation = Date.UTC(2026, 9, 31);
    sm.create('orders/describe-db', { string: value }, { tags: { environment: 'dev', owner: 'data-platform', rotation: '30d' }, rotation: { lastRotated, nextRotation } });
    const current = sm.put('orders/describe-db', { string: generated() });
    const p = fromAwsSecretsManager(pointAt(sm, key));
    const reads = sm.count('GetSecretValue');
    const facts = await p.describe!(parseRef('aws-sm://orders/describe-db'), resolveContext());
    expect(facts.version).toBe(current);
    expect(facts.createdAt).toBeInstanceOf(Date);
    expect(facts.updatedAt).toBeInstanceOf(Date);
    expect(facts.lastRotatedAt).toEqual(new Date(lastRotated));
    expect(facts.nextRotationAt).toEqual(new Date(nextRotation));
    expect(facts.metadata).toMatchObject({ environment: 'dev', owner: 'data-platform', rotation: '30d', rotationEnabled: 'true' });
    expect(sm.count('GetSecretValue')).toBe(reads);
    expect(JSON.stringify(facts)).not.toContain(value);
    await p.close?.();
  });

  it('maps a missing secret to SECRET_NOT_FOUND and a refused one to ACCESS_DENIED; through the client the guard denies a prod-tagged secret in dev', async () => {
    sm.create('orders/describe-denied', { string: generated() }, { tags: { environment: 'dev' } });
    sm.deny('orders/describe-denied');
    sm.create('orders/describe-prod', { string: generated() }, { tags: { environment: 'prod' } });
    const secrets = createSecrets({ environment: 'dev', providers: [fromAwsSecretsManager(pointAt(sm, key))] });
    expect((await rejection(secrets.describe('aws-sm://orders/describe-missing'))).code).toBe('SECRET_NOT_FOUND');
    expect((await rejection(secrets.describe('aws-sm://orders/describe-denied'))).code).toBe('ACCESS_DENIED');
    const mismatch = await rejection(secrets.describe('aws-sm://orders/describe-prod'));
    expect(mismatch.code).toBe('ENVIRONMENT_MISMATCH');
    expect(errorText(mismatch)).toContain('prod');
    await secrets.close();
  });
});
