import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { LoopbackAzureSeed } from '../../examples/orders-sync/azure-mode.js';
import { DEMO_ORDER_COUNT, DEMO_PAGE_SIZE, runDemo } from '../../examples/orders-sync/main.js';
import { generateOrders } from '../../examples/orders-sync/source-api.js';
import type { Secret } from '../../src/index.js';
import { auditKeyLeaks, expectDeniedReadAndVerifiedAudit, forms } from './orders-sync-audit.js';

const PAGES = Math.ceil(DEMO_ORDER_COUNT / DEMO_PAGE_SIZE);

describe('examples/orders-sync in Azure mode', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(os.tmpdir(), 'orders-sync-azure-test-'));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('--azure: reads the client secret from the Key Vault double with a certificate-authenticated Entra token, syncs, and prints no secret', { timeout: 60_000 }, async () => {
    const lines: string[] = [];
    const issued: string[] = [];
    const seeds: LoopbackAzureSeed[] = [];
    const run = await runDemo({ dir, log: (line) => void lines.push(line), azure: true, onTokenIssued: (t: Secret<string>) => void issued.push(t.reveal()), onAzureSeeded: (s) => void seeds.push(s) });
    expect(run.rows).toBe(DEMO_ORDER_COUNT);
    expect(run.pages).toBe(PAGES);
    expect(run.provider).toBe('azure-kv');
    expect(run.store).toBeUndefined();
    expect(run.clientSecretVersion).toMatch(/^[0-9a-f]{32}$/);
    expect(run.clientSecretMetadata).toMatchObject({ environment: 'dev', owner: 'data-platform', sensitivity: 'high' });
    expect(run.requests).toMatchObject({ served: PAGES, refusedDuringSync: 0, tokenRequestsRefused: 0 });
    expect((await readdir(dir)).sort()).toEqual(['audit', 'audit.key', 'out']); // no local store
    const sink = await readFile(run.sinkPath, 'utf8');
    expect(sink.trimEnd().split('\n').map((l) => (JSON.parse(l) as { id: string }).id)).toEqual(generateOrders(DEMO_ORDER_COUNT).map((o) => o.id));

    const output = lines.join('\n');
    expect(output).toContain('client secret secret://orders-api/client-secret resolved by provider "azure-kv" (providers asked in order: env → azure-kv)');
    expect(output).toContain('with a client certificate');
    expect(seeds).toHaveLength(1);
    await expectDeniedReadAndVerifiedAudit(run, lines, { provider: 'azure-kv', leaks: [seeds[0]!.clientSecret.reveal(), ...issued], dir });
    const leaks = [...forms(seeds[0]!.clientSecret.reveal()), ...issued.flatMap((t) => forms(t)), ...(await auditKeyLeaks(run))];
    for (const leaked of leaks) {
      expect(output).not.toContain(leaked);
      expect(sink).not.toContain(leaked);
    }
  });
});
