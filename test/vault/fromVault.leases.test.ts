import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SecretProvider } from '../../src/provider.js';
import { fromVault } from '../../src/vault/index.js';
import { startVaultServer, type VaultServer } from '../fixtures/vault-server/index.js';
import { requestsTo, resolveContext } from './helpers.js';

let vault: VaultServer;
let p: SecretProvider;

beforeAll(async () => {
  vault = await startVaultServer();
  p = fromVault({ address: vault.url, auth: { method: 'token', token: 'env://T' }, retry: { maxAttempts: 3, baseDelayMs: 1 } });
});
afterAll(async () => {
  await p.close?.();
  await vault.close();
});
const ctx = () => resolveContext({ env: { T: vault.rootToken } });

describe('fromVault: sys/leases/revoke', () => {
  it('a revocation that fails on the server (500) is retried and really runs again', async () => {
    let attempts = 0;
    let dropped = false;
    const lease = vault.leases.create({
      prefix: 'database/creds/flaky',
      namespace: '',
      tokenId: vault.rootToken,
      ttlMs: 60_000,
      maxTtlMs: 120_000,
      renewable: true,
      hooks: {
        onRevoke: async () => {
          if (++attempts === 1) throw new Error('the database was briefly unreachable');
          dropped = true;
        },
      },
    });
    await p.revoke!({ id: lease.id, ttlMs: 60_000, renewable: true }, ctx());
    expect(requestsTo(vault, 'sys/leases/revoke').map((r) => r.status)).toEqual([500, 204]);
    expect(attempts).toBe(2);
    expect(dropped).toBe(true);
    expect(lease.revoked).toBe(true);
  });
});
