import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { fromVaultKvFields } from '../../examples/orders-sync/fromVaultKvFields.js';
import { DEMO_ENVIRONMENT, DEMO_ORDER_COUNT, DEMO_PAGE_SIZE, runDemo, type DemoResult } from '../../examples/orders-sync/main.js';
import { generateOrders } from '../../examples/orders-sync/source-api.js';
import { VAULT_CLIENT_SECRET_FIELD, VAULT_KV_MOUNT, vaultSecretPath, type LoopbackVaultSeed } from '../../examples/orders-sync/vault-mode.js';
import { createSecrets, type Secret } from '../../src/index.js';
import { fromVault } from '../../src/vault/index.js';
import { startVaultServer, type VaultServer } from '../fixtures/vault-server/index.js';
import { auditKeyLeaks, expectDeniedReadAndVerifiedAudit, forms } from './orders-sync-audit.js';
import { rejection } from '../helpers.js';

const PAGES = Math.ceil(DEMO_ORDER_COUNT / DEMO_PAGE_SIZE);
const PATH = vaultSecretPath(DEMO_ENVIRONMENT); // dev/orders-api
const OWNER = 'data-platform';

/**
 * A Vault set up the way README's "Vault mode" tells an operator to: a KV v2 mount `kv`, the
 * secret `kv/dev/orders-api` with field `client-secret` and custom_metadata, a read-only policy
 * and a token with it.
 */
async function operatorVault(metadata: Record<string, string> = { environment: DEMO_ENVIRONMENT, owner: OWNER, purpose: 'orders API client secret' }) {
  const server = await startVaultServer();
  const kv = server.enableKv(VAULT_KV_MOUNT, 2);
  const clientSecret = randomBytes(32).toString('base64url');
  kv.put(PATH, { [VAULT_CLIENT_SECRET_FIELD]: randomBytes(32).toString('base64url') }); // version 1, replaced
  kv.put(PATH, { [VAULT_CLIENT_SECRET_FIELD]: clientSecret, other: randomBytes(8).toString('hex') }, metadata); // version 2
  server.policy('orders-sync', { [`${VAULT_KV_MOUNT}/data/${PATH}`]: ['read'] });
  const token = server.createToken({ policies: ['orders-sync'], ttlMs: 3_600_000 }).id;
  return { server, clientSecret, token };
}

/** A Vault-mode run synced every row with mid-run token rotation and no refused request. */
function expectSynced(run: DemoResult) {
  expect(run.rows).toBe(DEMO_ORDER_COUNT);
  expect(run.pages).toBe(PAGES);
  expect(run.provider).toBe('vault');
  expect(run.tokenProvider).toBe('orders-api');
  expect(run.store).toBeUndefined();
  expect(run.rotations.length).toBeGreaterThanOrEqual(1);
  expect(run.requests).toMatchObject({ served: PAGES, refused: 1, refusedDuringSync: 0, tokenRequestsRefused: 0 });
}

describe('examples/orders-sync in Vault mode', () => {
  let dir: string;
  const servers: VaultServer[] = [];
  beforeEach(async () => {
    dir = await mkdtemp(join(os.tmpdir(), 'orders-sync-vault-test-'));
  });
  afterEach(async () => {
    vi.unstubAllEnvs();
    await Promise.all(servers.splice(0).map((s) => s.close()));
    await rm(dir, { recursive: true, force: true });
  });

  it('--vault: starts and seeds the loopback Vault, reads the client secret from it, syncs, and prints no secret', { timeout: 30_000 }, async () => {
    const lines: string[] = [];
    const issued: string[] = [];
    const seeds: LoopbackVaultSeed[] = [];
    const run = await runDemo({
      dir,
      log: (line) => void lines.push(line),
      env: { VAULT_ADDR: 'http://127.0.0.1:9', VAULT_TOKEN: randomBytes(16).toString('hex'), VAULT_NAMESPACE: 'elsewhere' }, // ignored with --vault
      vault: 'loopback',
      onTokenIssued: (t: Secret<string>) => void issued.push(t.reveal()),
      onVaultSeeded: (seed) => void seeds.push(seed),
    });

    expectSynced(run);
    expect(run.vault).toMatchObject({ loopback: true, address: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+$/) });
    expect(run.clientSecretVersion).toBe('1');
    expect(run.clientSecretMetadata).toMatchObject({ environment: 'dev', owner: OWNER, purpose: expect.stringContaining('orders API') });
    expect((await readdir(dir)).sort()).toEqual(['audit', 'audit.key', 'out']); // no local store was created

    const sink = await readFile(run.sinkPath, 'utf8');
    const rows = sink.trimEnd().split('\n').map((line) => JSON.parse(line) as { id: string });
    expect(rows.map((r) => r.id)).toEqual(generateOrders(DEMO_ORDER_COUNT).map((o) => o.id));

    const output = lines.join('\n');
    expect(output).toContain('started the loopback Vault test server');
    expect(output).toContain('seeded KV v2 secret kv/dev/orders-api (version 1)');
    expect(output).toContain('client secret secret://orders-api/client-secret resolved by provider "vault" (providers asked in order: env → vault)');
    expect(output).toMatch(/non-secret facts from Vault KV vault:\/\/kv\/dev\/orders-api#client-secret: version 1; metadata environment=dev, owner=data-platform, purpose=/);
    expect(output).toContain('`${clientSecret}`: [REDACTED]');

    expect(seeds).toHaveLength(1);
    await expectDeniedReadAndVerifiedAudit(run, lines, {
      provider: 'vault',
      leaks: [seeds[0]!.clientSecret.reveal(), seeds[0]!.token.reveal(), ...issued],
      dir,
    });
    const leaks = [...forms(seeds[0]!.clientSecret.reveal()), ...forms(seeds[0]!.token.reveal()), ...issued.flatMap((t) => forms(t)), ...(await auditKeyLeaks(run))];
    expect(leaks.length).toBeGreaterThan(8);
    for (const leaked of leaks) {
      expect(output).not.toContain(leaked);
      expect(sink).not.toContain(leaked);
    }
  });

  it('with VAULT_ADDR and VAULT_TOKEN set in process.env (as `npm run demo` sees them): reads kv/dev/orders-api#client-secret from that Vault, latest version, with its metadata', { timeout: 30_000 }, async () => {
    const { server, clientSecret, token } = await operatorVault();
    servers.push(server);
    const lines: string[] = [];
    const issued: string[] = [];
    vi.stubEnv('VAULT_ADDR', server.url);
    vi.stubEnv('VAULT_TOKEN', token);
    vi.stubEnv('ORDERS_API_CLIENT_SECRET', undefined);
    // How many requests Vault had seen when the cross-environment read started, and when its denial was printed.
    const vaultRequestsAt: Record<string, number> = {};
    const log = (line: string) => {
      if (line.startsWith('cross-environment read:')) vaultRequestsAt['asked'] = server.requests.length;
      if (line.startsWith('  no value was fetched')) vaultRequestsAt['denied'] = server.requests.length;
      lines.push(line);
    };
    const run = await runDemo({ dir, log, onTokenIssued: (t) => void issued.push(t.reveal()) });

    expectSynced(run);
    expect(run.vault).toEqual({ address: server.url, loopback: false });
    expect(run.clientSecretVersion).toBe('2');
    expect(run.clientSecretMetadata).toEqual({ environment: 'dev', owner: OWNER, purpose: 'orders API client secret' });
    // Read with the token, by the logical path (never kv/data/… in a ref).
    expect(server.requests.filter((r) => r.path === `kv/data/${PATH}` && r.status === 200).length).toBeGreaterThanOrEqual(2);
    expect(server.requests.every((r) => r.hadToken || r.path === 'sys/health')).toBe(true);
    // The denied read of the prod secret never reached Vault.
    expect(vaultRequestsAt['asked']).toBeGreaterThan(0);
    expect(vaultRequestsAt['denied']).toBe(vaultRequestsAt['asked']);
    await expectDeniedReadAndVerifiedAudit(run, lines, { provider: 'vault', leaks: [clientSecret, token, ...issued], dir });

    const output = lines.join('\n');
    expect(output).toContain(`using the Vault at ${server.url}`);
    expect(output).toContain('resolved by provider "vault"');
    expect(output).toContain('version 2; metadata environment=dev');
    expect(output).not.toContain('started the loopback Vault');
    const sink = await readFile(run.sinkPath, 'utf8');
    for (const leaked of [...forms(clientSecret), ...forms(token), ...issued.flatMap(forms)]) {
      expect(output).not.toContain(leaked);
      expect(sink).not.toContain(leaked);
    }
  });

  it('refuses a Vault secret tagged for another environment (custom_metadata), without printing it', async () => {
    const { server, clientSecret, token } = await operatorVault({ environment: 'prod', owner: OWNER });
    servers.push(server);
    const lines: string[] = [];
    const err = await rejection(runDemo({ dir, log: (line) => void lines.push(line), env: { VAULT_ADDR: server.url, VAULT_TOKEN: token } }));
    expect(err).toMatchObject({ code: 'ENVIRONMENT_MISMATCH' });
    for (const leaked of forms(clientSecret)) {
      expect(lines.join('\n')).not.toContain(leaked);
      expect(err.message).not.toContain(leaked);
    }
    expect((await readdir(dir)).sort()).toEqual(['audit', 'audit.key']); // no sink written, no store created: only the audit trail of the denial
  });

  it('says where the secret must live when the Vault does not have it', async () => {
    const server = await startVaultServer();
    servers.push(server);
    server.enableKv(VAULT_KV_MOUNT, 2);
    server.policy('orders-sync', { [`${VAULT_KV_MOUNT}/data/${PATH}`]: ['read'] });
    const token = server.createToken({ policies: ['orders-sync'] }).id;
    const lines: string[] = [];
    const err = await rejection(runDemo({ dir, log: (line) => void lines.push(line), env: { VAULT_ADDR: server.url, VAULT_TOKEN: token } }));
    expect(err).toMatchObject({ code: 'SECRET_NOT_FOUND' });
    expect(lines.join('\n')).toContain('it must be field "client-secret" of the KV v2 secret kv/dev/orders-api');
  });
});

describe('examples/orders-sync fromVaultKvFields', () => {
  it('maps secret://<path>/<field> to a field of a KV secret, and passes vault:// refs through', async () => {
    const { server, clientSecret, token } = await operatorVault();
    const kv = server.enableKv('kv2', 2);
    kv.put('dev/orders-api', { 'client-secret': { nested: true } });
    const mk = (mount: string) => fromVaultKvFields({ vault: fromVault({ address: server.url, auth: { method: 'token', token: 'env://VAULT_TOKEN' } }), mount });
    server.policy('orders-sync', { 'kv/data/*': ['read'], 'kv2/data/*': ['read'] });
    const secrets = createSecrets({ environment: 'dev', providers: [mk('kv/dev')], env: { VAULT_TOKEN: token }, cache: false });
    const other = createSecrets({ environment: 'dev', providers: [mk('kv2/dev')], env: { VAULT_TOKEN: token }, cache: false });
    try {
      const got = await secrets.get('secret://orders-api/client-secret');
      expect(got.reveal()).toBe(clientSecret);
      expect(got.provider).toBe('vault');
      expect(got.version).toBe('2');
      expect((await secrets.get('secret://orders-api/client-secret?version=1')).version).toBe('1');
      expect((await secrets.get('vault://kv/dev/orders-api#client-secret')).reveal()).toBe(clientSecret);

      await expect(secrets.get('secret://orders-api/missing')).rejects.toMatchObject({ code: 'SECRET_NOT_FOUND', message: expect.stringContaining('has no field "missing"') });
      await expect(secrets.get('secret://orders-api')).rejects.toMatchObject({ code: 'SECRET_NOT_FOUND' });
      const notString = await rejection(other.get('secret://orders-api/client-secret'));
      expect(notString).toMatchObject({ code: 'SECRET_FORMAT', message: expect.stringContaining('is not a string') });
    } finally {
      await secrets.close();
      await other.close();
      await server.close();
    }
  });
});
