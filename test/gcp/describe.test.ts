import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createSecrets } from '../../src/client.js';
import { parseRef } from '../../src/ref/parseRef.js';
import { startGoogleDoubles, type GoogleDoubles, type ServiceAccountKey } from '../fixtures/gcp/index.js';
import { errorText, generated, rejection } from '../helpers.js';
import { Closer, keyToken, PROJECT, READER, resolveContext, smProvider } from './helpers.js';

let doubles: GoogleDoubles;
let key: ServiceAccountKey;
const closer = new Closer();
const DB = `projects/${PROJECT}/secrets/describe-db`;
const SEALED = `projects/${PROJECT}/secrets/describe-sealed`;
const value = generated();

beforeAll(async () => {
  doubles = await startGoogleDoubles();
  key = doubles.serviceAccount(READER);
  doubles.createSecret(DB, { labels: { environment: 'dev', owner: 'data-platform', rotation: '30d' }, expireTime: '2027-06-01T00:00:00Z', rotation: { nextRotationTime: '2027-01-01T00:00:00Z', rotationPeriod: '2592000s' } });
  doubles.addVersion(DB, generated());
  doubles.addVersion(DB, value);
  // The reader may see this secret's resource but not access its versions' payloads.
  doubles.createSecret(SEALED, { labels: { environment: 'prod' }, accessors: ['someone-else@example.iam.gserviceaccount.com'] });
  doubles.addVersion(SEALED, generated());
});
afterEach(() => closer.closeAll());
afterAll(() => doubles.close());

describe('fromGcpSecretManager: describe (GetSecret + GetSecretVersion, no :access)', () => {
  it('reports the version number, creation/rotation/expiry times and labels without accessing the payload', async () => {
    const p = closer.add(smProvider(doubles, closer.add(keyToken(doubles, key))));
    const accesses = doubles.count('access');
    const facts = await p.describe!(parseRef(`gcp-sm://${DB}`), resolveContext());
    expect(facts).toMatchObject({
      version: '2',
      nextRotationAt: new Date('2027-01-01T00:00:00Z'),
      expiresAt: new Date('2027-06-01T00:00:00Z'),
      metadata: { environment: 'dev', owner: 'data-platform', rotation: '30d' },
    });
    expect(facts.createdAt).toBeInstanceOf(Date);
    expect(facts.lastRotatedAt).toEqual(facts.updatedAt);
    expect(doubles.count('access')).toBe(accesses);
    expect(JSON.stringify(facts)).not.toContain(value);
  });

  it('describes a secret whose payload the principal may not access; SECRET_NOT_FOUND for a missing one; the guard denies a prod secret in dev', async () => {
    const p = closer.add(smProvider(doubles, closer.add(keyToken(doubles, key))));
    const sealed = await p.describe!(parseRef(`gcp-sm://${SEALED}`), resolveContext());
    expect(sealed.metadata).toEqual({ environment: 'prod' });
    expect(sealed.version).toBeUndefined();
    expect((await rejection(p.describe!(parseRef(`gcp-sm://projects/${PROJECT}/secrets/describe-none`), resolveContext()))).code).toBe('SECRET_NOT_FOUND');
    const secrets = closer.add(createSecrets({ environment: 'dev', providers: [p], cache: false }));
    const denied = await rejection(secrets.describe(`gcp-sm://${SEALED}`));
    expect(denied.code).toBe('ENVIRONMENT_MISMATCH');
    expect(errorText(denied)).not.toContain(value);
  });
});
