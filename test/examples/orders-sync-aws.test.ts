import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { LoopbackAwsSeed } from '../../examples/orders-sync/aws-mode.js';
import { DEMO_ORDER_COUNT, DEMO_PAGE_SIZE, runDemo } from '../../examples/orders-sync/main.js';
import type { Secret } from '../../src/index.js';
import { auditKeyLeaks, expectDeniedReadAndVerifiedAudit, forms } from './orders-sync-audit.js';

const PAGES = Math.ceil(DEMO_ORDER_COUNT / DEMO_PAGE_SIZE);

describe('examples/orders-sync in AWS mode (--aws)', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(os.tmpdir(), 'orders-sync-aws-test-'));
    vi.stubEnv('ORDERS_API_CLIENT_SECRET', undefined);
  });
  afterEach(async () => {
    vi.unstubAllEnvs();
    await rm(dir, { recursive: true, force: true });
  });

  it('reads the client secret from aws-sm:// with assumed-role credentials, syncs, and prints no secret', { timeout: 30_000 }, async () => {
    const lines: string[] = [];
    const issued: string[] = [];
    const seeds: LoopbackAwsSeed[] = [];
    const run = await runDemo({
      dir,
      log: (line) => void lines.push(line),
      aws: true,
      onTokenIssued: (t: Secret<string>) => void issued.push(t.reveal()),
      onAwsSeeded: (seed) => void seeds.push(seed),
    });
    expect(run.rows).toBe(DEMO_ORDER_COUNT);
    expect(run.pages).toBe(PAGES);
    expect(run.provider).toBe('aws-sm');
    expect(run.store).toBeUndefined();
    expect(run.vault).toBeUndefined();
    expect(run.aws).toMatchObject({ secretsManagerUrl: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+$/), roleArn: 'arn:aws:iam::123456789012:role/orders-sync' });
    expect(run.clientSecretVersion).toMatch(/^[0-9a-f-]{36}$/);
    expect(run.clientSecretMetadata).toMatchObject({ environment: 'dev', owner: 'data-platform', sensitivity: 'high', rotation: '30d' });
    expect(run.rotations.length).toBeGreaterThanOrEqual(1);
    expect(run.requests).toMatchObject({ served: PAGES, refused: 1, refusedDuringSync: 0, tokenRequestsRefused: 0 });
    expect((await readdir(dir)).sort()).toEqual(['audit', 'audit.key', 'out']); // no local store was created

    const output = lines.join('\n');
    expect(output).toContain('started the loopback AWS doubles');
    expect(output).toContain('client secret secret://orders-api/client-secret resolved by provider "aws-sm" (providers asked in order: env → aws-sm)');
    expect(output).toContain('assumed with sts:AssumeRole');
    expect(output).toContain('`${clientSecret}`: [REDACTED]');

    expect(seeds).toHaveLength(1);
    const seed = seeds[0]!;
    await expectDeniedReadAndVerifiedAudit(run, lines, { provider: 'aws-sm', leaks: [seed.clientSecret.reveal(), seed.baseSecretKey.reveal(), ...issued], dir });
    const sink = await readFile(run.sinkPath, 'utf8');
    const leaks = [...forms(seed.clientSecret.reveal()), ...forms(seed.baseSecretKey.reveal()), ...issued.flatMap((t) => forms(t)), ...(await auditKeyLeaks(run))];
    expect(leaks.length).toBeGreaterThan(8);
    for (const leaked of leaks) {
      expect(output).not.toContain(leaked);
      expect(sink).not.toContain(leaked);
    }
  });
});
