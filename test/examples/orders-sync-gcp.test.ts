import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { gcpRefFor } from '../../examples/orders-sync/fromGcpSecretIds.js';
import type { LoopbackGcpSeed } from '../../examples/orders-sync/gcp-mode.js';
import { DEMO_ORDER_COUNT, DEMO_PAGE_SIZE, runDemo } from '../../examples/orders-sync/main.js';
import { generateOrders } from '../../examples/orders-sync/source-api.js';
import { parseRef, type Secret } from '../../src/index.js';
import { auditKeyLeaks, expectDeniedReadAndVerifiedAudit, forms } from './orders-sync-audit.js';

const PAGES = Math.ceil(DEMO_ORDER_COUNT / DEMO_PAGE_SIZE);

describe('examples/orders-sync in GCP mode (--gcp)', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(os.tmpdir(), 'orders-sync-gcp-test-'));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('maps logical refs to Secret Manager ids', () => {
    expect(String(gcpRefFor(parseRef('secret://orders-api/client-secret#x')))).toBe('gcp-sm://orders-api-client-secret');
  });

  it('starts and seeds the loopback Google doubles, reads the client secret from Secret Manager with its labels, syncs, and prints no secret', { timeout: 30_000 }, async () => {
    const lines: string[] = [];
    const issued: string[] = [];
    const googleTokens: string[] = [];
    const seeds: LoopbackGcpSeed[] = [];
    const run = await runDemo({
      dir,
      log: (line) => void lines.push(line),
      env: {},
      gcp: 'loopback',
      onTokenIssued: (t: Secret<string>) => void issued.push(t.reveal()),
      onGcpSeeded: (seed) => void seeds.push(seed),
      onGcpAccessToken: (t) => void googleTokens.push(t),
    });

    expect(run.rows).toBe(DEMO_ORDER_COUNT);
    expect(run.pages).toBe(PAGES);
    expect(run.provider).toBe('gcp');
    expect(run.gcp).toMatchObject({ address: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+$/) });
    expect(run.vault).toBeUndefined();
    expect(run.store).toBeUndefined();
    expect(run.clientSecretVersion).toBe('1');
    expect(run.clientSecretMetadata).toMatchObject({ environment: 'dev', owner: 'data-platform', sensitivity: 'high', rotation: '30d' });
    expect(run.rotations.length).toBeGreaterThanOrEqual(1);
    expect(run.requests).toMatchObject({ served: PAGES, refused: 1, refusedDuringSync: 0, tokenRequestsRefused: 0 });
    expect((await readdir(dir)).sort()).toEqual(['audit', 'audit.key', 'out']);
    const sink = await readFile(run.sinkPath, 'utf8');
    expect(sink.trimEnd().split('\n').map((l) => (JSON.parse(l) as { id: string }).id)).toEqual(generateOrders(DEMO_ORDER_COUNT).map((o) => o.id));

    const output = lines.join('\n');
    expect(output).toContain('started the loopback Google doubles');
    expect(output).toContain('client secret secret://orders-api/client-secret resolved by provider "gcp" (providers asked in order: env → gcp)');
    expect(output).toMatch(/non-secret facts from Secret Manager gcp-sm:\/\/projects\/orders-demo\/secrets\/orders-api-client-secret \(labels as metadata\): version 1; metadata environment=dev, owner=data-platform/);

    expect(seeds).toHaveLength(1);
    // The API's client and the connector's client each got one Google token.
    expect(googleTokens).toHaveLength(2);
    await expectDeniedReadAndVerifiedAudit(run, lines, { provider: 'gcp', leaks: [seeds[0]!.clientSecret.reveal(), ...googleTokens, ...issued], dir });
    const key = seeds[0]!.privateKey.reveal();
    const keyBody = key.split('\n').filter((l) => !l.startsWith('-----')).join('');
    const leaks = [...forms(seeds[0]!.clientSecret.reveal()), ...googleTokens.flatMap((t) => forms(t)), ...issued.flatMap((t) => forms(t)), keyBody.slice(0, 64), ...(await auditKeyLeaks(run))];
    for (const leaked of leaks) {
      expect(output).not.toContain(leaked);
      expect(sink).not.toContain(leaked);
    }
  });
});
