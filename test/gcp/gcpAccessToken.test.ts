import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { gcpAccessToken } from '../../src/gcp/index.js';
import { parseRef } from '../../src/ref/parseRef.js';
import { startGoogleDoubles, type GoogleDoubles, type ServiceAccountKey } from '../fixtures/gcp/index.js';
import { errorText, generated, rejection, until } from '../helpers.js';
import { Closer, keyToken, ManualClock, PROJECT, READER, resolveContext, smProvider } from './helpers.js';

let doubles: GoogleDoubles;
let key: ServiceAccountKey;
let dir: string;
const closer = new Closer();
const TARGET = `loader@${PROJECT}.iam.gserviceaccount.com`;
const BROKER = `broker@${PROJECT}.iam.gserviceaccount.com`;
const ONLY_TARGET = `projects/${PROJECT}/secrets/loader-only`;
const value = generated();

beforeAll(async () => {
  doubles = await startGoogleDoubles();
  key = doubles.serviceAccount(READER);
  doubles.serviceAccount(TARGET);
  doubles.serviceAccount(BROKER);
  doubles.createSecret(ONLY_TARGET, { accessors: [TARGET], labels: { environment: 'dev' } });
  doubles.addVersion(ONLY_TARGET, value);
  dir = await mkdtemp(path.join(tmpdir(), 'gcp-token-test-'));
});
afterEach(() => closer.closeAll());
afterAll(() => doubles.close());

/** Reads the secret only TARGET may read, with `token` as the provider's credential. */
async function readAsTarget(token: Parameters<typeof smProvider>[1]): Promise<unknown> {
  const p = closer.add(smProvider(doubles, token));
  return (await p.resolve(parseRef(`gcp-sm://${ONLY_TARGET}`), resolveContext())).value;
}

describe('gcpAccessToken from a service-account key', () => {
  it('trades the key at the token endpoint: one call, a token the API accepts, its expiry', async () => {
    const token = closer.add(keyToken(doubles, key));
    const before = doubles.count('token');
    const t0 = Date.now();
    const secret = await token.get();
    expect(doubles.count('token') - before).toBe(1);
    expect(secret.reveal()).toMatch(/^ya29\./);
    expect(token.expiresAt! - t0).toBeGreaterThan(3_590_000);
    expect(token.expiresAt! - t0).toBeLessThanOrEqual(3_601_000);
    expect(String(secret)).toBe('[REDACTED]');
    await token.get();
    expect(doubles.count('token') - before).toBe(1);
  });

  it('refreshes ahead of expiry at a jittered point of the lifetime, on the injected clock', async () => {
    const clock = new ManualClock();
    const start = clock.now();
    // random() = 0 puts the refresh at the start of the range: 2/3 of the ~1 h lifetime.
    const token = closer.add(keyToken(doubles, key, { clock, random: () => 0 }));
    const first = await token.get();
    const rotated: string[] = [];
    token.onRotate((next) => rotated.push(next.version!));
    const due = [...clock.timers.values()].map((t) => t.at - start);
    expect(due).toHaveLength(1);
    expect(due[0]).toBeGreaterThan(2_398_000);
    expect(due[0]).toBeLessThanOrEqual(2_400_000);
    const before = doubles.count('token');
    clock.advance(2_395_000);
    expect(clock.timers.size).toBe(1);
    clock.advance(5_000);
    await until(() => rotated.length === 1, 'a rotation');
    expect(doubles.count('token') - before).toBe(1);
    expect((await token.get()).reveal()).not.toBe(first.reveal());
  });

  it('a key the token endpoint does not know → ACCESS_DENIED (invalid_grant), nothing secret in the error', async () => {
    const stranger = await startGoogleDoubles().then(async (d) => {
      const k = d.serviceAccount(READER);
      await d.close();
      return k;
    });
    const token = closer.add(keyToken(doubles, stranger));
    const err = await rejection(token.get());
    expect([err.code, err.message]).toEqual(['ACCESS_DENIED', 'the token request: refused (invalid_grant) (ref: gcp-token://default)']);
    expect(errorText(err)).not.toContain(stranger.private_key.slice(40, 80));
    expect(errorText(err)).not.toMatch(/assertion|eyJ/);
  });

  it('token endpoint unavailable → PROVIDER_UNAVAILABLE', async () => {
    doubles.failNext('token', 503, 'UNAVAILABLE', 10);
    const token = closer.add(keyToken(doubles, key));
    try {
      const err = await rejection(token.get());
      expect([err.code, err.message]).toEqual(['PROVIDER_UNAVAILABLE', 'the token request: the endpoint is unavailable (HTTP 503) (ref: gcp-token://default)']);
    } finally {
      doubles.clearFailures();
    }
  });

  it('selfSignedJwt: no token endpoint call; the JWT states its lifetime', async () => {
    const token = closer.add(keyToken(doubles, key, { selfSignedJwt: true }));
    const before = doubles.count('token');
    const jwt = (await token.get()).reveal();
    expect(jwt.split('.')).toHaveLength(3);
    expect(doubles.count('token')).toBe(before);
    expect(token.expiresAt! - Date.now()).toBeGreaterThan(3_500_000);
  });
});

describe('gcpAccessToken from Application Default Credentials', () => {
  it('uses the key file GOOGLE_APPLICATION_CREDENTIALS names, and its project', async () => {
    const file = path.join(dir, 'adc.json');
    await writeFile(file, JSON.stringify(key));
    vi.stubEnv('GOOGLE_APPLICATION_CREDENTIALS', file);
    try {
      const token = closer.add(gcpAccessToken({ endpoints: { token: doubles.tokenUrl } }));
      const before = doubles.count('token');
      const p = closer.add(smProvider(doubles, token, { projectId: undefined as never }));
      expect(await token.projectId()).toBe(PROJECT);
      const name = `projects/${PROJECT}/secrets/adc`;
      doubles.createSecret(name, { labels: { environment: 'dev' } });
      doubles.addVersion(name, 'adc-value');
      expect((await p.resolve(parseRef('gcp-sm://adc'), resolveContext())).value).toBe('adc-value');
      expect(doubles.count('token') - before).toBe(1);
    } finally {
      vi.unstubAllEnvs();
    }
  });
});

describe('gcpAccessToken from a gcloud user login (authorized_user)', () => {
  it('trades the refresh token at the token endpoint; a revoked login → ACCESS_DENIED without the refresh token', async () => {
    const user = 'analyst@example.com';
    const name = `projects/${PROJECT}/secrets/user-only`;
    doubles.createSecret(name, { accessors: [user], labels: { environment: 'dev' } });
    doubles.addVersion(name, 'user-value');
    const login = doubles.userLogin(user);
    const token = closer.add(gcpAccessToken({ credentials: login, endpoints: { token: doubles.tokenUrl } }));
    const before = doubles.count('token');
    const p = closer.add(smProvider(doubles, token));
    expect((await p.resolve(parseRef(`gcp-sm://${name}`), resolveContext())).value).toBe('user-value');
    expect(doubles.count('token') - before).toBe(1);

    const revoked = { ...login, refresh_token: `1//${generated(32)}` };
    const err = await rejection(closer.add(gcpAccessToken({ credentials: revoked, endpoints: { token: doubles.tokenUrl } })).get());
    expect([err.code, err.message]).toEqual(['ACCESS_DENIED', 'the token request: refused (invalid_grant) (ref: gcp-token://default)']);
    expect(errorText(err)).not.toContain(revoked.refresh_token);
    expect(errorText(err)).not.toContain(revoked.client_secret);
  });
});

describe('gcpAccessToken from Application Default Credentials on Google Cloud (the metadata server)', () => {
  it('takes the default service account\'s token and the project from the metadata server', async () => {
    const account = `runtime@${PROJECT}.iam.gserviceaccount.com`;
    doubles.metadataIdentity = { email: account, project: PROJECT };
    vi.stubEnv('GOOGLE_APPLICATION_CREDENTIALS', undefined);
    vi.stubEnv('GCE_METADATA_HOST', doubles.url.replace(/^http:\/\//, ''));
    vi.stubEnv('METADATA_SERVER_DETECTION', 'ping-only');
    try {
      const name = `projects/${PROJECT}/secrets/runtime-only`;
      doubles.createSecret(name, { accessors: [account], labels: { environment: 'dev' } });
      doubles.addVersion(name, 'runtime-value');
      const token = closer.add(gcpAccessToken());
      expect(await token.projectId()).toBe(PROJECT);
      const p = closer.add(smProvider(doubles, token, { projectId: undefined as never }));
      expect((await p.resolve(parseRef('gcp-sm://runtime-only'), resolveContext())).value).toBe('runtime-value');
      expect(token.expiresAt! - Date.now()).toBeGreaterThan(3_500_000);
      expect(doubles.count('metadata')).toBeGreaterThan(0);
    } finally {
      vi.unstubAllEnvs();
      doubles.metadataIdentity = undefined;
    }
  });
});

describe('gcpAccessToken with impersonation (generateAccessToken)', () => {
  it('mints a token of the target from the key of the source', async () => {
    doubles.grantTokenCreator(READER, TARGET);
    const token = closer.add(keyToken(doubles, key, { impersonate: { targetPrincipal: TARGET, lifetimeMs: 600_000 } }));
    const before = { gen: doubles.count('generateAccessToken'), token: doubles.count('token') };
    expect(await readAsTarget(token)).toBe(value);
    expect([doubles.count('generateAccessToken') - before.gen, doubles.count('token') - before.token]).toEqual([1, 1]);
    // The lifetime asked for, in whole seconds as Google sends it.
    expect(token.expiresAt! - Date.now()).toBeGreaterThan(590_000);
    expect(token.expiresAt! - Date.now()).toBeLessThanOrEqual(600_000);
    // The source itself may not read the secret: the token really is the target's.
    const direct = closer.add(keyToken(doubles, key));
    expect((await rejection(readAsTarget(direct))).code).toBe('ACCESS_DENIED');
  });

  it('chains through delegates; a missing link → ACCESS_DENIED (PERMISSION_DENIED)', async () => {
    const other = `other@${PROJECT}.iam.gserviceaccount.com`;
    const otherKey = doubles.serviceAccount(other);
    doubles.grantTokenCreator(other, BROKER);
    const broken = closer.add(keyToken(doubles, otherKey, { impersonate: { targetPrincipal: TARGET, delegates: [BROKER] } }));
    const err = await rejection(broken.get());
    expect([err.code, err.message]).toEqual(['ACCESS_DENIED', `impersonation (generateAccessToken): refused (PERMISSION_DENIED) (ref: gcp-token://${TARGET})`]);
    doubles.grantTokenCreator(BROKER, TARGET);
    const chained = closer.add(keyToken(doubles, otherKey, { impersonate: { targetPrincipal: TARGET, delegates: [`projects/-/serviceAccounts/${BROKER}`] } }));
    expect(await readAsTarget(chained)).toBe(value);
  });

  it('the source token is reused while it lives: a second impersonated mint costs one generateAccessToken only', async () => {
    doubles.grantTokenCreator(READER, TARGET);
    const token = closer.add(keyToken(doubles, key, { impersonate: { targetPrincipal: TARGET } }));
    await token.get();
    const before = { gen: doubles.count('generateAccessToken'), token: doubles.count('token') };
    await token.refresh();
    expect([doubles.count('generateAccessToken') - before.gen, doubles.count('token') - before.token]).toEqual([1, 0]);
  });
});

describe('gcpAccessToken from an external_account file (workload identity federation)', () => {
  const audience = '//iam.googleapis.com/projects/123456/locations/global/workloadIdentityPools/ci/providers/github';
  const principal = 'principal://iam.googleapis.com/projects/123456/locations/global/workloadIdentityPools/ci/subject/repo:acme/etl';

  async function federationFile(extra: Record<string, unknown> = {}): Promise<string> {
    const subjectToken = generated(48);
    const subjectFile = path.join(dir, `subject-${generated(6)}.jwt`);
    await writeFile(subjectFile, subjectToken);
    doubles.federate(subjectToken, audience, principal);
    const file = path.join(dir, `wif-${generated(6)}.json`);
    await writeFile(file, JSON.stringify({
      type: 'external_account',
      audience,
      subject_token_type: 'urn:ietf:params:oauth:token-type:jwt',
      token_url: doubles.stsUrl,
      credential_source: { file: subjectFile },
      ...extra,
    }));
    return file;
  }

  it('exchanges the subject token at STS for a federated token the API accepts', async () => {
    const name = `projects/${PROJECT}/secrets/federated`;
    doubles.createSecret(name, { accessors: [principal], labels: { environment: 'dev' } });
    doubles.addVersion(name, 'federated-value');
    const token = closer.add(gcpAccessToken({ credentials: await federationFile() }));
    const before = doubles.count('sts');
    const p = closer.add(smProvider(doubles, token));
    expect((await p.resolve(parseRef(`gcp-sm://${name}`), resolveContext())).value).toBe('federated-value');
    expect(doubles.count('sts') - before).toBe(1);
  });

  it('with service_account_impersonation_url: STS, then generateAccessToken as the federated principal', async () => {
    doubles.grantTokenCreator(principal, TARGET);
    const file = await federationFile({ service_account_impersonation_url: `${doubles.url}/v1/projects/-/serviceAccounts/${TARGET}:generateAccessToken` });
    const token = closer.add(gcpAccessToken({ credentials: file }));
    const before = { sts: doubles.count('sts'), gen: doubles.count('generateAccessToken') };
    expect(await readAsTarget(token)).toBe(value);
    expect([doubles.count('sts') - before.sts, doubles.count('generateAccessToken') - before.gen]).toEqual([1, 1]);
  });

  it('an unknown subject token → ACCESS_DENIED', async () => {
    const file = path.join(dir, 'unknown.json');
    const subjectFile = path.join(dir, 'unknown.jwt');
    await writeFile(subjectFile, generated(48));
    await writeFile(file, JSON.stringify({ type: 'external_account', audience, subject_token_type: 'urn:ietf:params:oauth:token-type:jwt', token_url: doubles.stsUrl, credential_source: { file: subjectFile } }));
    const err = await rejection(closer.add(gcpAccessToken({ credentials: file })).get());
    expect(err.code).toBe('ACCESS_DENIED');
  });

  it('a credentials file that is not JSON → CONFIG_INVALID without its content', async () => {
    const file = path.join(dir, 'broken.json');
    const content = generated();
    await writeFile(file, `{"type": "service_account", "private_key": "${content}`);
    const err = await rejection(closer.add(gcpAccessToken({ credentials: file })).get());
    expect([err.code, err.message]).toEqual(['CONFIG_INVALID', 'the Google credentials file is not JSON']);
    expect(errorText(err)).not.toContain(content);
  });
});

describe('handle.toGoogleAuthClient()', () => {
  it('is a google-auth-library AuthClient that hands out the handle\'s token, and recovers a 401 with one refresh', async () => {
    const { AuthClient } = await import('google-auth-library');
    doubles.grantTokenCreator(READER, TARGET);
    const token = closer.add(keyToken(doubles, key, { impersonate: { targetPrincipal: TARGET } }));
    const client = await token.toGoogleAuthClient();
    expect(client).toBeInstanceOf(AuthClient);
    expect((await client.getAccessToken()).token).toBe((await token.get()).reveal());
    const url = `${doubles.url}/v1/${ONLY_TARGET}/versions/latest:access`;
    const res = await client.request<{ payload: { data: string } }>({ url });
    expect(Buffer.from(res.data.payload.data, 'base64').toString('utf8')).toBe(value);

    doubles.book.revokeAll();
    const before = { gen: doubles.count('generateAccessToken'), token: doubles.count('token'), access: doubles.count('access') };
    const again = await client.request<{ payload: { data: string } }>({ url });
    expect(Buffer.from(again.data.payload.data, 'base64').toString('utf8')).toBe(value);
    // The read is refused once and repeated once. Its refresh finds the source token revoked as
    // well: generateAccessToken is refused once, the source is refreshed once (one token call)
    // through its own AuthClient, and generateAccessToken repeated once.
    expect([doubles.count('access') - before.access, doubles.count('generateAccessToken') - before.gen, doubles.count('token') - before.token]).toEqual([2, 2, 1]);
  });
});
