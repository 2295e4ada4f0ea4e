import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { fromOrdersApiTokens } from '../../examples/orders-sync/fromOrdersApiTokens.js';
import { generateOrders, startSourceApi, type SourceApi } from '../../examples/orders-sync/source-api.js';
import { Secret, createSecrets, type SecretsClient } from '../../src/index.js';
import { rejection } from '../helpers.js';

const clientId = 'orders-sync-test';
const LIFETIME_MS = 1500;

/** A loopback server that answers every request with `status` and a JSON body. */
async function answering(status: number, body: unknown): Promise<{ url: string; close: () => Promise<void> }> {
  const server = createServer((req, res) => {
    req.resume();
    res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/oauth/token`,
    close: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
}

describe('examples/orders-sync fromOrdersApiTokens', () => {
  const cleanup: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const fn of cleanup.splice(0).reverse()) await fn();
  });

  async function setup(secretFor: (registered: string) => string = (s) => s) {
    const registered = randomBytes(32).toString('base64url');
    const issued: string[] = [];
    const api: SourceApi = await startSourceApi({
      clientId,
      clientSecret: new Secret(registered),
      orders: generateOrders(3),
      tokenLifetimeMs: LIFETIME_MS,
      onTokenIssued: (t) => void issued.push(t.reveal()),
    });
    cleanup.push(() => api.close());
    const clientSecret = new Secret(secretFor(registered));
    const secrets: SecretsClient = createSecrets({
      environment: 'test',
      providers: [fromOrdersApiTokens({ tokenUrl: api.tokenUrl, clientId, clientSecret, environment: 'test' })],
    });
    cleanup.push(() => secrets.close());
    return { api, secrets, issued, registered, clientSecret };
  }

  it('exchanges the client secret for an access token with its expiry and a version', async () => {
    const { secrets, issued, api } = await setup();
    const before = Date.now();
    const token = await secrets.get('orders-api://access-token');
    const after = Date.now();

    expect(token.reveal()).toBe(issued[0]);
    expect(token.provider).toBe('orders-api');
    expect(token.version).toBe('1');
    expect(token.metadata).toMatchObject({ environment: 'test', tokenType: 'Bearer', clientId });
    const expiresAt = token.expiresAt!.getTime();
    expect(expiresAt).toBeGreaterThanOrEqual(before + LIFETIME_MS);
    expect(expiresAt).toBeLessThanOrEqual(after + LIFETIME_MS);
    // Every issued token is known to the client's redactor.
    expect(secrets.redactor.redact(`token=${issued[0]}`)).not.toContain(issued[0]);
    expect(api.stats.tokensIssued).toBe(1);
  });

  it('gives a handle a new token, with a new version, before the current one expires', async () => {
    const { secrets, issued } = await setup();
    const handle = secrets.handle('orders-api://access-token', { refreshWindowMs: 500, safetyMarginMs: 300 });
    const rotated = new Promise<[string | undefined, string | undefined]>((resolve) => {
      handle.onRotate((next, previous) => resolve([previous.version, next.version]));
    });
    const first = await handle.get();
    expect(await rotated).toEqual(['1', '2']);
    const second = await handle.get();
    expect(second).not.toBe(first);
    expect(second.reveal()).toBe(issued[1]);
    expect(Date.now()).toBeLessThan(first.expiresAt!.getTime());
    await handle.close();
  });

  it('maps a refused client secret to ACCESS_DENIED without quoting it', async () => {
    const { secrets, clientSecret, issued, api } = await setup(() => randomBytes(32).toString('base64url'));
    const err = await rejection(secrets.get('orders-api://access-token'));
    expect(err).toMatchObject({ name: 'AccessDeniedError', code: 'ACCESS_DENIED', provider: 'orders-api' });
    expect(err.message).toContain('invalid_client');
    expect(err.message).not.toContain(clientSecret.reveal());
    expect(issued).toEqual([]);
    expect(api.stats.tokenRequestsRefused).toBe(1);
  });

  it('maps an unreachable endpoint, 5xx and 429 to PROVIDER_UNAVAILABLE, and a malformed answer to PROVIDER_ERROR', async () => {
    const clientSecret = new Secret(randomBytes(32).toString('base64url'));
    const cases: [string, Record<string, unknown>][] = [];

    const gone = await answering(200, {});
    await gone.close(); // nothing listens on this port any more
    cases.push([gone.url, { code: 'PROVIDER_UNAVAILABLE' }]);
    for (const [status, body, expected] of [
      [503, { error: 'temporarily_unavailable' }, { code: 'PROVIDER_UNAVAILABLE', throttled: false }],
      [429, {}, { code: 'PROVIDER_UNAVAILABLE', throttled: true }],
      [400, { error: 'invalid_scope' }, { code: 'PROVIDER_ERROR' }],
      [200, { access_token: randomBytes(32).toString('base64url'), token_type: 'mac', expires_in: 60 }, { code: 'PROVIDER_ERROR' }],
    ] as const) {
      const server = await answering(status, body);
      cleanup.push(server.close);
      cases.push([server.url, expected]);
    }

    for (const [tokenUrl, expected] of cases) {
      const secrets = createSecrets({ environment: 'test', providers: [fromOrdersApiTokens({ tokenUrl, clientId, clientSecret, timeoutMs: 2000 })] });
      try {
        const err = await rejection(secrets.get('orders-api://access-token'));
        expect(err, tokenUrl).toMatchObject(expected);
        expect(err.message).not.toContain(clientSecret.reveal());
      } finally {
        await secrets.close();
      }
    }
  });

  it('serves only orders-api://access-token', async () => {
    const { secrets } = await setup();
    await expect(secrets.get('orders-api://refresh-token')).rejects.toMatchObject({ code: 'SECRET_NOT_FOUND' });
  });
});
