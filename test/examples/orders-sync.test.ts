import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, readdir, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DEMO_ORDER_COUNT, DEMO_PAGE_SIZE, runDemo, type DemoResult } from '../../examples/orders-sync/main.js';
import { CLIENT_SECRET_ENTRY, type DemoStore } from '../../examples/orders-sync/setup.js';
import { generateOrders, startSourceApi, type TokenResponse } from '../../examples/orders-sync/source-api.js';
import { auditKeyPath, auditLogPath } from '../../examples/orders-sync/guards-and-audit.js';
import { Secret, createSecrets, fromLocalStore, verifyAuditLog } from '../../src/index.js';
import { auditKeyLeaks, expectDeniedReadAndVerifiedAudit, forms } from './orders-sync-audit.js';
import { rejection } from '../helpers.js';

/** The client secret and key the demo generated, read back the way the connector reads them. */
async function demoSecrets(store: DemoStore) {
  const keyText = (await readFile(store.keyFile, 'utf8')).trim();
  const key = Buffer.from(keyText, 'base64');
  const secrets = createSecrets({
    environment: store.environment,
    providers: [fromLocalStore({ path: store.storePath, keyFile: store.keyFile, environment: store.environment })],
  });
  try {
    const clientSecret = (await secrets.get(`local://${CLIENT_SECRET_ENTRY}`)).reveal();
    return { clientSecret, key, keyText };
  } finally {
    await secrets.close();
  }
}

const PAGES = Math.ceil(DEMO_ORDER_COUNT / DEMO_PAGE_SIZE);

/** The local store of a run without Vault mode. */
function storeOf(run: DemoResult): DemoStore {
  expect(run.vault).toBeUndefined();
  if (run.store === undefined) throw new Error('the run did not use the local store');
  return run.store;
}

/** A run rotated its token between pages and every request of the sync was served. */
function expectRotationWithoutRefusal(run: DemoResult, lines: readonly string[]) {
  expect(run.rows).toBe(DEMO_ORDER_COUNT);
  expect(run.pages).toBe(PAGES);
  expect(run.provider).toBe('local');
  expect(run.tokenProvider).toBe('orders-api');
  expect(run.unauthenticatedStatus).toBe(401);

  // At least one rotation, each strictly between the first and the last page.
  expect(run.rotations.length).toBeGreaterThanOrEqual(1);
  for (const r of run.rotations) {
    expect(r.afterPage).toBeGreaterThanOrEqual(1);
    expect(r.afterPage).toBeLessThan(PAGES);
    if (r.duringPage !== undefined) expect(r.duringPage).toBe(r.afterPage + 1);
    expect(r.to).not.toBe(r.from);
  }
  // The pages were fetched with more than one token, each version in one contiguous run.
  const versions = run.pageTokenVersions;
  expect(versions).toHaveLength(PAGES);
  expect(versions[0]).toBe('1');
  expect(versions.at(-1)).not.toBe(versions[0]);
  const order = versions.filter((v, i) => i === 0 || v !== versions[i - 1]);
  expect(new Set(order).size).toBe(order.length);

  // The only refusal is the demo's own probe without a token; no page request was refused
  // (a retried request would count here), and the token endpoint refused nothing.
  expect(run.requests).toMatchObject({ served: PAGES, refused: 1, refusedDuringSync: 0, tokenRequestsRefused: 0 });
  expect(run.requests.tokensIssued).toBeGreaterThanOrEqual(run.rotations.length + 1);

  // The rotation is logged between two page lines, by version only.
  const firstPage = lines.findIndex((l) => l.startsWith('page 1:'));
  const lastPage = lines.findIndex((l) => l.startsWith(`page ${PAGES}:`));
  const rotated = lines.findIndex((l) =>
    /^access token rotated \(version 1 → 2\) (between page \d+ and page \d+|while page \d+ was in flight)$/.test(l));
  expect(firstPage).toBeGreaterThanOrEqual(0);
  expect(rotated).toBeGreaterThan(firstPage);
  expect(rotated).toBeLessThan(lastPage);
  expect(lines.some((l) => l.includes('0 during the sync') && l.includes('1 refused'))).toBe(true);
}

describe('examples/orders-sync', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(os.tmpdir(), 'orders-sync-test-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('rotates the access token mid-run without a refused request, on a first and a reuse run, and never prints or writes a credential', { timeout: 30_000 }, async () => {
    const issued: string[] = [];
    const onTokenIssued = (token: Secret<string>) => void issued.push(token.reveal());
    const firstLines: string[] = [];
    const secondLines: string[] = [];

    const first = await runDemo({ dir, log: (line) => void firstLines.push(line), env: {}, onTokenIssued });
    const store = storeOf(first);
    const { clientSecret, key, keyText } = await demoSecrets(store);
    // Each run ends with one denied cross-environment read and a verified audit log without a secret.
    const secretsOfRun = () => [clientSecret, key.toString('base64'), keyText, ...issued];
    await expectDeniedReadAndVerifiedAudit(first, firstLines, { provider: 'local', leaks: secretsOfRun(), dir });
    expect(first.audit).toMatchObject({ keyCreated: true, recordsBefore: 0 });
    expect(firstLines).toContain(`created a random audit HMAC key in ${first.audit.keyFile} (mode 0600)`);

    const second = await runDemo({ dir, log: (line) => void secondLines.push(line), env: {}, onTokenIssued });
    await expectDeniedReadAndVerifiedAudit(second, secondLines, { provider: 'local', leaks: secretsOfRun(), dir });
    // The second run reuses the key and continues the same log, which still verifies as a whole.
    expect(second.audit).toMatchObject({ keyCreated: false, recordsBefore: first.audit.verification.count, path: first.audit.path });
    expect(second.audit.verification.count).toBeGreaterThan(first.audit.verification.count);
    expect(secondLines).toContain(`continuing audit log ${first.audit.path} (${first.audit.verification.count} records from earlier runs, verified)`);

    expect(store.created).toBe(true);
    expect(storeOf(second).created).toBe(false);
    expectRotationWithoutRefusal(first, firstLines);
    expectRotationWithoutRefusal(second, secondLines);
    expect(issued.length).toBe(first.requests.tokensIssued + second.requests.tokensIssued);
    expect(new Set(issued).size).toBe(issued.length);

    const sink = await readFile(first.sinkPath, 'utf8');
    const rows = sink.trimEnd().split('\n').map((line) => JSON.parse(line) as { id: string });
    expect(rows).toHaveLength(DEMO_ORDER_COUNT);
    expect(rows.map((r) => r.id)).toEqual(generateOrders(DEMO_ORDER_COUNT).map((o) => o.id));
    expect(await readdir(join(dir, 'out'))).toEqual(['orders.jsonl']); // no partial file left

    expect(key).toHaveLength(32);
    expect(clientSecret.length).toBeGreaterThanOrEqual(32);
    const output = [...firstLines, ...secondLines].join('\n');
    const leaks = [...forms(clientSecret), ...forms(key), keyText, ...issued.flatMap((t) => forms(t)), ...(await auditKeyLeaks(first))];
    expect(leaks.length).toBeGreaterThan(10);
    for (const leaked of leaks) {
      expect(output).not.toContain(leaked);
      expect(sink).not.toContain(leaked);
    }
    expect(output).toContain('`${clientSecret}`: [REDACTED]');
    expect(output).toContain('{"clientSecret":"[REDACTED]"}');
    expect(output).toContain('resolved by provider "local"');

    if (process.platform !== 'win32') {
      expect((await stat(store.keyFile)).mode & 0o777).toBe(0o600);
      expect((await stat(store.storePath)).mode & 0o777).toBe(0o600);
    }
  });

  it('asks the env provider first: a wrong client secret there is refused by the token endpoint, and is not printed', async () => {
    const wrong = randomBytes(24).toString('base64url');
    const lines: string[] = [];
    const issued: unknown[] = [];
    const run = runDemo({ dir, log: (line) => void lines.push(line), env: { ORDERS_API_CLIENT_SECRET: wrong }, onTokenIssued: (t) => void issued.push(t) });

    await expect(run).rejects.toMatchObject({ name: 'AccessDeniedError', code: 'ACCESS_DENIED', ref: 'orders-api://access-token' });
    const err = await rejection(run);
    const output = lines.join('\n');
    expect(output).toContain('resolved by provider "env"');
    expect(output).toContain('ORDERS_API_CLIENT_SECRET');
    for (const leaked of forms(wrong)) {
      expect(output).not.toContain(leaked);
      expect(err.message).not.toContain(leaked);
    }
    expect(issued).toEqual([]);
    expect(await readdir(dir)).not.toContain('out'); // the run failed before writing anything

    // A failed run still closes its audit log: it verifies, and records the refused token request.
    const logPath = auditLogPath(dir);
    const hmacKey = (await readFile(auditKeyPath(dir), 'utf8')).trimEnd();
    expect(await verifyAuditLog(logPath, { hmacKey })).toMatchObject({ ok: true });
    const text = await readFile(logPath, 'utf8');
    expect(text).toContain('"code":"ACCESS_DENIED"');
    expect(text).toContain('"ref":"orders-api://access-token"');
    for (const leaked of forms(wrong)) expect(text).not.toContain(leaked);
  });
});

describe('examples/orders-sync source API', () => {
  const clientId = 'orders-sync-test';

  async function start(now: () => number = Date.now) {
    const clientSecret = randomBytes(32).toString('base64url');
    const issued: string[] = [];
    const api = await startSourceApi({
      clientId,
      clientSecret: new Secret(clientSecret),
      orders: generateOrders(3),
      tokenLifetimeMs: 1500,
      onTokenIssued: (t) => void issued.push(t.reveal()),
      now,
    });
    const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`;
    const form = { 'content-type': 'application/x-www-form-urlencoded' };
    const requestToken = (init: { headers?: Record<string, string>; body?: string }) =>
      fetch(api.tokenUrl, { method: 'POST', headers: { ...form, ...init.headers }, body: init.body ?? 'grant_type=client_credentials' });
    return { api, clientSecret, issued, basic, requestToken };
  }

  it('issues short-lived bearer tokens for the client credentials grant (RFC 6749 §4.4) and refuses everything else', async () => {
    const { api, clientSecret, issued, basic, requestToken } = await start();
    try {
      const ok = await requestToken({ headers: { authorization: basic(clientId, clientSecret) } });
      expect(ok.status).toBe(200);
      expect(ok.headers.get('cache-control')).toBe('no-store');
      expect(ok.headers.get('pragma')).toBe('no-cache');
      const body = (await ok.json()) as TokenResponse;
      expect(body).toEqual({ access_token: issued[0], token_type: 'Bearer', expires_in: 1, expires_in_ms: 1500 });
      expect(body.access_token.length).toBeGreaterThanOrEqual(32);

      // Credentials in the body are allowed too (§2.3.1), and each request gets a new token.
      const inBody = await requestToken({
        body: new URLSearchParams({ grant_type: 'client_credentials', client_id: clientId, client_secret: clientSecret }).toString(),
      });
      expect(inBody.status).toBe(200);
      expect(((await inBody.json()) as TokenResponse).access_token).toBe(issued[1]);
      expect(issued[1]).not.toBe(issued[0]);

      const refusals: [Promise<Response>, number, string][] = [
        [requestToken({ headers: { authorization: basic(clientId, randomBytes(32).toString('base64url')) } }), 401, 'invalid_client'],
        [requestToken({ headers: { authorization: basic('someone-else', clientSecret) } }), 401, 'invalid_client'],
        [requestToken({}), 401, 'invalid_client'],
        [requestToken({ headers: { authorization: `Bearer ${clientSecret}` } }), 401, 'invalid_client'],
        [
          requestToken({
            headers: { authorization: basic(clientId, clientSecret) },
            body: new URLSearchParams({ grant_type: 'client_credentials', client_id: clientId, client_secret: clientSecret }).toString(),
          }),
          400,
          'invalid_request',
        ],
        [requestToken({ headers: { authorization: basic(clientId, clientSecret) }, body: 'grant_type=password' }), 400, 'unsupported_grant_type'],
        [requestToken({ headers: { authorization: basic(clientId, clientSecret) }, body: '' }), 400, 'invalid_request'],
        [
          fetch(api.tokenUrl, {
            method: 'POST',
            headers: { authorization: basic(clientId, clientSecret), 'content-type': 'application/json' },
            body: JSON.stringify({ grant_type: 'client_credentials' }),
          }),
          400,
          'invalid_request',
        ],
      ];
      for (const [pending, status, error] of refusals) {
        const res = await pending;
        expect(res.status).toBe(status);
        if (status === 401) expect(res.headers.get('www-authenticate')).toMatch(/^Basic/);
        const text = await res.text();
        expect(JSON.parse(text)).toEqual({ error });
        expect(text).not.toContain(clientSecret);
      }
      const get = await fetch(api.tokenUrl);
      expect(get.status).toBe(405);
      await get.body?.cancel();

      expect(issued).toHaveLength(2);
      expect(api.stats).toEqual({ served: 0, refused: 0, tokensIssued: 2, tokenRequestsRefused: refusals.length });
    } finally {
      await api.close();
    }
  });

  it('serves orders only for a token it issued, until the token expires (RFC 6750)', async () => {
    let clock = Date.now();
    const { api, clientSecret, issued, basic, requestToken } = await start(() => clock);
    try {
      const url = new URL('/v1/orders', api.url);
      const res = await requestToken({ headers: { authorization: basic(clientId, clientSecret) } });
      await res.body?.cancel();
      const token = issued[0]!;

      const none = await fetch(url);
      expect(none.status).toBe(401);
      expect(none.headers.get('www-authenticate')).toBe('Bearer realm="orders"');
      await none.body?.cancel();

      for (const authorization of [`Bearer ${randomBytes(32).toString('base64url')}`, `Bearer ${clientSecret}`, `Basic ${token}`]) {
        const refused = await fetch(url, { headers: { authorization } });
        expect(refused.status).toBe(401);
        expect(refused.headers.get('www-authenticate')).toMatch(/^Bearer realm="orders"/);
        await refused.body?.cancel();
      }

      const ok = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
      expect(ok.status).toBe(200);
      const body = (await ok.json()) as { data: unknown[]; nextPage: number | null; total: number };
      expect(body).toMatchObject({ total: 3, nextPage: null });
      expect(body.data).toHaveLength(3);

      clock += 1499;
      const late = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
      expect(late.status).toBe(200);
      await late.body?.cancel();

      clock += 1;
      const expired = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
      expect(expired.status).toBe(401);
      expect(expired.headers.get('www-authenticate')).toBe('Bearer realm="orders", error="invalid_token"');
      expect(await expired.text()).not.toContain(token);

      expect(api.stats).toEqual({ served: 2, refused: 5, tokensIssued: 1, tokenRequestsRefused: 0 });
    } finally {
      await api.close();
    }
  });
});
