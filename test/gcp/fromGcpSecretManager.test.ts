import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createSecrets } from '../../src/client.js';
import { GcpApiError, gcpAccessToken, type GcpAccessToken } from '../../src/gcp/index.js';
import { parseRef } from '../../src/ref/parseRef.js';
import { startGoogleDoubles, type GoogleDoubles, type ServiceAccountKey } from '../fixtures/gcp/index.js';
import { errorText, generated, rejection } from '../helpers.js';
import { Closer, keyToken, ManualClock, PROJECT, READER, resolveContext, smProvider } from './helpers.js';

let doubles: GoogleDoubles;
let key: ServiceAccountKey;
const closer = new Closer();
const DB = `projects/${PROJECT}/secrets/orders-db`;
const password = generated();
const v1 = generated();
const binary = Uint8Array.from([0xff, 0xfe, 0x00, 0x80, ...randomBytes(16)]);

beforeAll(async () => {
  doubles = await startGoogleDoubles();
  key = doubles.serviceAccount(READER);
  doubles.createSecret(DB, { labels: { environment: 'dev', owner: 'data-platform', purpose: 'read-orders', sensitivity: 'high', rotation: '30d' }, rotation: { nextRotationTime: '2027-01-01T00:00:00Z', rotationPeriod: '2592000s' } });
  doubles.addVersion(DB, JSON.stringify({ username: 'etl-reader', password: v1 }));
  doubles.addVersion(DB, JSON.stringify({ username: 'etl-reader', password }));
  doubles.createSecret(`projects/${PROJECT}/secrets/signing-key`, { labels: { env: 'dev' } });
  doubles.addVersion(`projects/${PROJECT}/secrets/signing-key`, binary);
  doubles.createSecret(`projects/${PROJECT}/secrets/prod-only`, { labels: { environment: 'prod' } });
  doubles.addVersion(`projects/${PROJECT}/secrets/prod-only`, generated());
  doubles.createSecret(`projects/${PROJECT}/locations/europe-west1/secrets/regional`, { labels: { environment: 'dev' } });
  doubles.addVersion(`projects/${PROJECT}/locations/europe-west1/secrets/regional`, 'regional-value');
});
afterEach(() => closer.closeAll());
afterAll(() => doubles.close());

function client(init: Parameters<typeof smProvider>[2] = {}, token?: GcpAccessToken, env?: Record<string, string>) {
  const auth = token ?? closer.add(keyToken(doubles, key));
  const provider = closer.add(smProvider(doubles, auth, init));
  return closer.add(createSecrets({ environment: 'dev', providers: [provider], cache: false, ...(env ? { env } : {}) }));
}

describe('fromGcpSecretManager: reads through google-auth-library tokens against the loopback Secret Manager', () => {
  it('reads a full ref at latest, with the version number and the labels as metadata', async () => {
    const s = await client().get(`gcp-sm://${DB}#password`);
    expect(s.reveal()).toBe(password);
    expect(s.version).toBe('2');
    expect(s.provider).toBe('gcp');
    expect(s.metadata).toEqual({ environment: 'dev', owner: 'data-platform', purpose: 'read-orders', sensitivity: 'high', rotation: '30d', nextRotationTime: '2027-01-01T00:00:00Z', rotationPeriod: '2592000s' });
  });

  it('reads pinned versions in the path or as ?version=, and versions/latest', async () => {
    const c = client();
    expect((await c.get(`gcp-sm://${DB}/versions/1#password`)).reveal()).toBe(v1);
    expect((await c.get(`gcp-sm://${DB}?version=1#password`)).reveal()).toBe(v1);
    const latest = await c.get(`gcp-sm://${DB}/versions/latest#password`);
    expect([latest.reveal(), latest.version]).toEqual([password, '2']);
  });

  it('resolves short refs against projectId, GOOGLE_CLOUD_PROJECT, or the key file project', async () => {
    expect((await client().get('gcp-sm://orders-db/versions/1#username')).reveal()).toBe('etl-reader');
    const fromEnv = client({ projectId: undefined as never }, undefined, { GOOGLE_CLOUD_PROJECT: PROJECT });
    expect((await fromEnv.get('gcp-sm://orders-db#password')).reveal()).toBe(password);
    const fromKey = client({ projectId: undefined as never });
    expect((await fromKey.get('gcp-sm://orders-db#password')).reveal()).toBe(password);
  });

  it('reads regional secrets through location', async () => {
    const c = client({ location: 'europe-west1' });
    expect((await c.get('gcp-sm://regional')).reveal()).toBe('regional-value');
    expect((await c.get(`gcp-sm://projects/${PROJECT}/locations/europe-west1/secrets/regional`)).reveal()).toBe('regional-value');
  });

  it('hands out bytes for getBytes and refuses them as text', async () => {
    const c = client();
    expect(Buffer.from((await c.getBytes('gcp-sm://signing-key')).reveal()).equals(Buffer.from(binary))).toBe(true);
    expect((await rejection(c.get('gcp-sm://signing-key'))).code).toBe('SECRET_FORMAT');
    // `env` labels count as the environment tag too.
    expect((await c.getBytes('gcp-sm://signing-key')).metadata.environment).toBe('dev');
  });

  it('a principal without secrets.get (labels) gets the value without metadata; strictEnvironment then refuses it', async () => {
    const name = `projects/${PROJECT}/secrets/accessor-only`;
    const value = generated();
    doubles.createSecret(name, { labels: { environment: 'dev' }, viewers: ['someone-else@x.iam.gserviceaccount.com'] });
    doubles.addVersion(name, value);
    const s = await client().get('gcp-sm://accessor-only');
    expect([s.reveal(), s.metadata]).toEqual([value, {}]);
    const strict = closer.add(createSecrets({ environment: 'dev', strictEnvironment: true, cache: false, providers: [closer.add(smProvider(doubles, closer.add(keyToken(doubles, key))))] }));
    expect((await rejection(strict.get('gcp-sm://accessor-only'))).code).toBe('ENVIRONMENT_MISMATCH');
  });

  it('labels drive the environment guard: a prod-labelled secret is refused in dev', async () => {
    const err = await rejection(client().get('gcp-sm://prod-only'));
    expect(err.code).toBe('ENVIRONMENT_MISMATCH');
  });

  it('refuses a value whose CRC32C does not match, without showing it', async () => {
    const name = `projects/${PROJECT}/secrets/tampered`;
    const value = generated();
    doubles.createSecret(name, { labels: { environment: 'dev' } });
    doubles.addVersion(name, value);
    doubles.tamper(name);
    const err = await rejection(client().get('gcp-sm://tampered'));
    expect(err.code).toBe('SECRET_FORMAT');
    expect(err.message).toMatch(/CRC32C/);
    expect(errorText(err)).not.toContain(value);
    expect(errorText(err)).not.toContain(value.slice(1));
    doubles.tamper(name, false);
    expect((await client().get('gcp-sm://tampered')).reveal()).toBe(value);
  });

  it('a warm get makes no request; a cold one exactly one :access (labels known), a first one adds one GetSecret', async () => {
    const token = closer.add(keyToken(doubles, key));
    await token.get();
    const provider = closer.add(smProvider(doubles, token));
    const cached = closer.add(createSecrets({ environment: 'dev', providers: [provider] }));
    const before = { access: doubles.count('access'), get: doubles.count('getSecret'), token: doubles.count('token') };
    await cached.get(`gcp-sm://${DB}#password`);
    expect([doubles.count('access') - before.access, doubles.count('getSecret') - before.get, doubles.count('token') - before.token]).toEqual([1, 1, 0]);
    await cached.get(`gcp-sm://${DB}#password`);
    await cached.get(`gcp-sm://${DB}#username`);
    expect([doubles.count('access') - before.access, doubles.count('getSecret') - before.get]).toEqual([1, 1]);
    // A second client over the same provider has a cold cache: one :access, labels reused.
    const cold = closer.add(createSecrets({ environment: 'dev', providers: [provider] }));
    await cold.get(`gcp-sm://${DB}#password`);
    expect([doubles.count('access') - before.access, doubles.count('getSecret') - before.get, doubles.count('token') - before.token]).toEqual([2, 1, 0]);
  });
});

describe('fromGcpSecretManager: errors', () => {
  const resolve = (p: ReturnType<typeof smProvider>, ref: string) => p.resolve(parseRef(ref), resolveContext());

  it('NOT_FOUND → SECRET_NOT_FOUND (unknown secret and unknown version)', async () => {
    const p = closer.add(smProvider(doubles, closer.add(keyToken(doubles, key))));
    const a = await rejection(resolve(p, 'gcp-sm://no-such-secret'));
    expect([a.code, a.name]).toEqual(['SECRET_NOT_FOUND', 'SecretNotFoundError']);
    expect(a.cause).toBeInstanceOf(GcpApiError);
    expect((a.cause as GcpApiError).status).toBe('NOT_FOUND');
    expect((await rejection(resolve(p, `gcp-sm://${DB}/versions/9`))).code).toBe('SECRET_NOT_FOUND');
  });

  it('disabled and destroyed versions → SECRET_NOT_FOUND with the reason', async () => {
    const name = `projects/${PROJECT}/secrets/states`;
    doubles.createSecret(name);
    doubles.addVersion(name, generated());
    doubles.addVersion(name, generated());
    doubles.setState(name, 1, 'DISABLED');
    doubles.setState(name, 2, 'DESTROYED');
    const p = closer.add(smProvider(doubles, closer.add(keyToken(doubles, key))));
    const disabled = await rejection(resolve(p, 'gcp-sm://states/versions/1'));
    expect([disabled.code, disabled.message]).toEqual(['SECRET_NOT_FOUND', 'the version named is disabled (FAILED_PRECONDITION) (ref: gcp-sm://states/versions/1)']);
    const destroyed = await rejection(resolve(p, 'gcp-sm://states/versions/latest'));
    expect([destroyed.code, destroyed.message]).toEqual(['SECRET_NOT_FOUND', 'the version named is destroyed (FAILED_PRECONDITION) (ref: gcp-sm://states/versions/latest)']);
  });

  it('PERMISSION_DENIED → ACCESS_DENIED, with no token refresh', async () => {
    const name = `projects/${PROJECT}/secrets/locked`;
    doubles.createSecret(name, { accessors: ['someone-else@x.iam.gserviceaccount.com'] });
    doubles.addVersion(name, generated());
    const token = closer.add(keyToken(doubles, key));
    const p = closer.add(smProvider(doubles, token));
    await token.get();
    const tokens = doubles.count('token');
    const err = await rejection(resolve(p, 'gcp-sm://locked'));
    expect(err.code).toBe('ACCESS_DENIED');
    expect(doubles.count('token')).toBe(tokens);
  });

  it('UNAVAILABLE and RESOURCE_EXHAUSTED are retried; after maxAttempts → PROVIDER_UNAVAILABLE', async () => {
    const token = closer.add(keyToken(doubles, key));
    await token.get();
    const p = closer.add(smProvider(doubles, token, { retry: { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 2 }, labelsTtlMs: 60_000 }));
    await resolve(p, `gcp-sm://${DB}`);
    doubles.failNext('access', 429, 'RESOURCE_EXHAUSTED');
    doubles.failNext('access', 503, 'UNAVAILABLE');
    const before = doubles.count('access');
    expect(JSON.parse((await resolve(p, `gcp-sm://${DB}`)).value as string).password).toBe(password);
    expect(doubles.count('access') - before).toBe(3);
    doubles.failNext('access', 503, 'UNAVAILABLE', 3);
    const err = await rejection(resolve(p, `gcp-sm://${DB}`));
    expect(err.code).toBe('PROVIDER_UNAVAILABLE');
    expect((err.cause as GcpApiError).attempts).toBe(3);
    doubles.failNext('access', 500, 'INTERNAL', 3);
    expect((await rejection(resolve(p, `gcp-sm://${DB}`))).code).toBe('PROVIDER_UNAVAILABLE');
  });

  it('a server that does not answer → PROVIDER_UNAVAILABLE after the retries', async () => {
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as { port: number }).port;
    await new Promise<void>((r) => closed.close(() => r()));
    const p = closer.add(smProvider(doubles, closer.add(keyToken(doubles, key)), { apiEndpoint: `http://127.0.0.1:${port}`, retry: { maxAttempts: 2, baseDelayMs: 1 } }));
    const err = await rejection(resolve(p, `gcp-sm://${DB}`));
    expect(err.code).toBe('PROVIDER_UNAVAILABLE');
    expect((err.cause as GcpApiError).networkCode).toBe('ECONNREFUSED');
  });

  it('UNAUTHENTICATED: an expired or revoked token is replaced once and the read repeated', async () => {
    const token = closer.add(keyToken(doubles, key));
    const p = closer.add(smProvider(doubles, token, { labelsTtlMs: 60_000 }));
    await resolve(p, `gcp-sm://${DB}`);
    doubles.book.revokeAll();
    const tokens = doubles.count('token');
    const access = doubles.count('access');
    expect(JSON.parse((await resolve(p, `gcp-sm://${DB}`)).value as string).password).toBe(password);
    expect(doubles.count('token') - tokens).toBe(1);
    expect(doubles.count('access') - access).toBe(2);
  });

  it('UNAUTHENTICATED again after the one refresh → ACCESS_DENIED (a forged token is never accepted)', async () => {
    // A key the doubles do not know: its self-signed JWTs carry a signature that does not check.
    const forged = { ...key, private_key: (await startGoogleDoubles().then(async (d) => { const k = d.serviceAccount(READER); await d.close(); return k; })).private_key };
    const token = closer.add(gcpAccessToken({ credentials: forged, selfSignedJwt: true }));
    const p = closer.add(smProvider(doubles, token));
    const access = doubles.count('access');
    const err = await rejection(resolve(p, `gcp-sm://${DB}`));
    expect(err.code).toBe('ACCESS_DENIED');
    expect(err.message).toMatch(/UNAUTHENTICATED/);
    expect(doubles.count('access') - access).toBe(2);
    expect(errorText(err)).not.toContain((await token.get()).reveal());
  });

  it('a token that expired and cannot be replaced reports why (here ACCESS_DENIED from the token endpoint), not SECRET_EXPIRED', async () => {
    const clock = new ManualClock();
    const token = closer.add(keyToken(doubles, key, { clock }));
    const p = closer.add(smProvider(doubles, token, { labelsTtlMs: 60_000 }));
    await resolve(p, `gcp-sm://${DB}`);
    doubles.failNext('token', 400, 'INVALID_ARGUMENT', 5);
    try {
      clock.advance(3_600_000);
      const err = await rejection(resolve(p, `gcp-sm://${DB}`));
      expect([err.code, err.message]).toEqual(['ACCESS_DENIED', 'the token request: refused (INVALID_ARGUMENT) (ref: gcp-token://default)']);
    } finally {
      doubles.clearFailures();
    }
  });

  it('INVALID_ARGUMENT and other 4xx → PROVIDER_ERROR, not retried', async () => {
    const token = closer.add(keyToken(doubles, key));
    const p = closer.add(smProvider(doubles, token, { labelsTtlMs: 60_000 }));
    await resolve(p, `gcp-sm://${DB}`);
    doubles.failNext('access', 400, 'INVALID_ARGUMENT');
    const before = doubles.count('access');
    expect((await rejection(resolve(p, `gcp-sm://${DB}`))).code).toBe('PROVIDER_ERROR');
    expect(doubles.count('access') - before).toBe(1);
  });

  it('bad refs are INVALID_REF and name the part that is wrong, never the text', async () => {
    const p = closer.add(smProvider(doubles, closer.add(keyToken(doubles, key))));
    for (const [ref, why] of [
      ['gcp-sm://projects/p', /full ref/],
      ['gcp-sm://projects/test-project/keys/x', /"secrets\/<secret>"/],
      ['gcp-sm://orders-db/versions/0', /positive integer/],
      ['gcp-sm://orders-db/versions/2?version=2', /once/],
      ['gcp-sm://orders-db/aliases/x', /versions/],
    ] as const) {
      const err = await rejection(resolve(p, ref));
      expect([err.code, err.message], ref).toEqual(['INVALID_REF', expect.stringMatching(why)]);
    }
  });
});

describe('fromGcpSecretManager with a self-signed JWT', () => {
  it('reads with no token-endpoint call: the double verifies the RS256 signature itself', async () => {
    const token = closer.add(gcpAccessToken({ credentials: key, selfSignedJwt: true }));
    const before = doubles.count('token');
    expect((await client({}, token).get(`gcp-sm://${DB}#password`)).reveal()).toBe(password);
    expect(doubles.count('token')).toBe(before);
  });
});

describe('fromGcpSecretManager: configuration', () => {
  it('refuses a retry duration Node cannot time (above 2^31 - 1 ms), naming the option', async () => {
    const { fromGcpSecretManager } = await import('../../src/gcp/index.js');
    for (const k of ['baseDelayMs', 'maxDelayMs', 'deadlineMs'] as const) {
      expect(() => fromGcpSecretManager({ projectId: PROJECT, retry: { [k]: 2 ** 31 } }), k).toThrow(
        expect.objectContaining({ code: 'CONFIG_INVALID', message: expect.stringContaining(`retry.${k}`) }),
      );
    }
  });
});
