// doctor's clock-skew check against a real loopback HTTP server that answers GET /v1/sys/health
// with a Date header skewed by a chosen amount (the Vault endpoint doctor reads).
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { measureSkew, SKEW_FAIL_MS, SKEW_WARN_MS, skewStatus } from '../../src/cli/clockSkew.js';
import { runDoctorCommand } from '../../src/cli/doctor.js';

const ROOT = resolve(import.meta.dirname, '../..');
let dir: string;
let server: Server;
let port: number;
/** The skew the server's Date header carries; null sends no Date header. */
let skewMs: number | null = 0;
const paths: string[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cs-doctor-clock-'));
  server = createServer((req, res) => {
    paths.push(req.url ?? '');
    res.sendDate = false;
    if (skewMs !== null) res.setHeader('Date', new Date(Date.now() + skewMs).toUTCString());
    res.setHeader('content-type', 'application/json');
    res.end(req.url === '/v1/sys/health' ? '{"initialized":true,"sealed":false,"standby":false}' : '{"errors":[]}');
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  port = (server.address() as AddressInfo).port;
  await writeFile(
    join(dir, 'orders.mjs'),
    `import { defineSecrets } from ${JSON.stringify(pathToFileURL(join(ROOT, 'src/manifest.ts')).href)};
export const orders = defineSecrets({ db: { ref: 'env://ORDERS_DB_PASSWORD', owner: 'data-platform', purpose: 'write orders' } });
`,
  );
  await writeFile(
    join(dir, 'connector-secrets.config.yaml'),
    `environments: [prod]
providers:
  - type: env
  - type: vault
    address: http://127.0.0.1:${port}
    token: env://VAULT_TOKEN
manifests: [orders.mjs]
`,
  );
});
afterAll(async () => {
  server.close();
  await rm(dir, { recursive: true, force: true });
});

async function doctor() {
  let stdout = '';
  let stderr = '';
  const code = await runDoctorCommand(['--env', 'prod', '--json'], { stdout: (s) => void (stdout += s), stderr: (s) => void (stderr += s), env: { VAULT_TOKEN: 'unused' }, cwd: dir });
  expect(stderr).toBe('');
  const report = JSON.parse(stdout) as { checks: { check: string; status: string; detail: string; fix?: string }[] };
  const clock = report.checks.filter((c) => c.check.startsWith('clock'));
  expect(clock).toHaveLength(1);
  return { code, clock: clock[0]!, others: report.checks.filter((c) => !c.check.startsWith('clock')) };
}

describe('doctor: clock skew against the provider Date header', () => {
  it('in step: ok, read from GET /v1/sys/health', async () => {
    skewMs = 0;
    paths.length = 0;
    const r = await doctor();
    expect(r.clock).toMatchObject({ check: `clock vs vault 127.0.0.1:${port}`, status: 'ok' });
    expect(r.clock.detail).toMatch(/warn above 30 s, fail above 5 min/);
    expect(paths).toEqual(['/v1/sys/health']);
    // The other checks do not fail, so the exit code below is the clock's.
    expect(r.others.filter((c) => c.status === 'fail')).toEqual([]);
    expect(r.code).toBe(0);
  });

  it('90 s ahead: warn with the fix, exit 0', async () => {
    skewMs = 90_000;
    const r = await doctor();
    expect(r.clock.status).toBe('warn');
    expect(r.clock.detail).toMatch(/clock is (89|90|91)\.\d s ahead of ours/);
    expect(r.clock.fix).toMatch(/synchronise/);
    expect(r.code).toBe(0);
  });

  it('4 min behind: still a warning; 10 min behind: FAIL, exit 1', async () => {
    skewMs = -4 * 60_000;
    expect((await doctor()).clock.status).toBe('warn');
    skewMs = -10 * 60_000;
    const r = await doctor();
    expect(r.clock.status).toBe('fail');
    expect(r.clock.detail).toMatch(/clock is (9\.9|10\.0) min behind ours/);
    expect(r.code).toBe(1);
  });

  it('an answer without a Date header, or no answer: a warning naming why', async () => {
    skewMs = null;
    expect((await doctor()).clock).toMatchObject({ status: 'warn', detail: expect.stringContaining('no Date header') });
    skewMs = 0;
    await expect(measureSkew('http://127.0.0.1:9/v1/sys/health')).rejects.toThrow(/ECONNREFUSED/);
  });
});

describe('doctor: clock skew against the cloud entries', () => {
  it('aws and gcp entries are checked at their service endpoint; an aws entry with no region known is not', async () => {
    const base = `http://127.0.0.1:${port}`;
    await writeFile(
      join(dir, 'cloud.yaml'),
      `environments: [prod]
providers:
  - type: env
  - { type: aws, endpoint: "${base}/aws/" }
  - { type: gcp, apiEndpoint: "${base}/gcp/" }
  - { type: aws }
manifests: [orders.mjs]
`,
    );
    skewMs = 10 * 60_000;
    paths.length = 0;
    let stdout = '';
    let stderr = '';
    const code = await runDoctorCommand(['--env', 'prod', '--json', '--config', join(dir, 'cloud.yaml')], { stdout: (s) => void (stdout += s), stderr: (s) => void (stderr += s), env: {}, cwd: dir });
    expect(stderr).toBe('');
    const clock = (JSON.parse(stdout) as { checks: { check: string; status: string }[] }).checks.filter((c) => c.check.startsWith('clock'));
    expect(clock).toEqual(['aws', 'gcp'].map((type) => expect.objectContaining({ check: `clock vs ${type} 127.0.0.1:${port}`, status: 'fail' })));
    expect(paths.sort()).toEqual(['/aws/', '/gcp/']);
    expect(code).toBe(1);
    skewMs = 0;
  });
});

describe('skewStatus: the thresholds, with the measurement uncertainty (half the round trip + 0.5 s) given to the clock', () => {
  it('boundaries', () => {
    expect(SKEW_WARN_MS).toBe(30_000);
    expect(SKEW_FAIL_MS).toBe(300_000);
    expect(skewStatus({ skewMs: 30_500, rttMs: 0 })).toBe('ok');
    expect(skewStatus({ skewMs: 30_502, rttMs: 0 })).toBe('warn');
    expect(skewStatus({ skewMs: -30_502, rttMs: 0 })).toBe('warn');
    expect(skewStatus({ skewMs: 30_502, rttMs: 10 })).toBe('ok');
    expect(skewStatus({ skewMs: 300_500, rttMs: 0 })).toBe('warn');
    expect(skewStatus({ skewMs: -300_502, rttMs: 0 })).toBe('fail');
  });
});
