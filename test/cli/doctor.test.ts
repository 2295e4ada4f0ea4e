/**
 * `connector-secrets doctor` as an operator runs it: a child process, a temp config, a local
 * store for dev, the loopback Vault server for prod, and a real HMAC-chained audit log.
 */
import { execFile } from 'node:child_process';
import { appendFile, chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fileAuditSink } from '../../src/audit/fileAuditSink.js';
import { fromLocalStore } from '../../src/providers/fromLocalStore.js';
import { generateKeyFile } from '../../src/providers/local-store/keys.js';
import { event, hmacKey } from '../audit/helpers.js';
import { startVaultServer, type VaultServer } from '../fixtures/vault-server/index.js';
import { generated } from '../helpers.js';

const ROOT = resolve(import.meta.dirname, '../..');
let dir: string;
let vault: VaultServer;
let token: string;
const values = { local: generated(), vault: generated() };

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cs-doctor-'));
  vault = await startVaultServer();
  const kv = vault.enableKv('kv', 2);
  vault.policy('etl', { 'kv/*': ['read', 'list'] });
  token = vault.createToken({ policies: ['etl'], ttlMs: 3_600_000 }).id;
  kv.put('prod/orders-db', { password: values.vault }, { environment: 'prod' });
  await mkdir(join(dir, '.secrets'), { mode: 0o700 });
  await generateKeyFile(join(dir, '.secrets/dev.key'));
  const store = fromLocalStore({ path: join(dir, '.secrets/dev.enc.json'), keyFile: join(dir, '.secrets/dev.key'), environment: 'dev' });
  await store.init();
  await store.set('orders-db/password', values.local);
  await store.close();
  await writeFile(
    join(dir, 'orders.mjs'),
    `import { defineSecrets } from ${JSON.stringify(pathToFileURL(join(ROOT, 'src/manifest.ts')).href)};
export const orders = defineSecrets({
  db: { ref: 'secret://orders-db/password', owner: 'data-platform', purpose: 'write orders' },
});
export const prodOnly = defineSecrets({
  vaultDb: { ref: 'vault://kv/{env}/orders-db#password', owner: 'data-platform', purpose: 'write orders' },
});
`,
  );
  const key = hmacKey();
  await writeFile(join(dir, 'audit.key'), `${key}\n`, { mode: 0o600 });
  const sink = fileAuditSink(join(dir, 'audit-dev.jsonl'), { hmacKey: key });
  await sink.write(event({ environment: 'dev' }));
  await sink.write(event({ environment: 'dev', outcome: 'denied', code: 'POLICY_DENIED' }));
  await sink.close();
  await writeFile(join(dir, 'policy.json'), JSON.stringify({ version: 1, rules: [{ name: 'all', identity: '*', allow: ['secret://**', 'vault://**'] }] }), { mode: 0o600 });
  await writeFile(
    join(dir, 'connector-secrets.config.json'),
    JSON.stringify({
      environments: ['dev', 'prod'],
      providers: [{ type: 'local', environments: ['dev'] }, { type: 'vault', address: vault.url, token: 'env://VAULT_TOKEN', environments: ['prod'] }],
      manifests: ['orders.mjs'],
      policy: 'policy.json',
      audit: { file: 'audit-{env}.jsonl', keyFile: 'audit.key' },
    }),
  );
});
afterAll(async () => {
  await vault.close();
  await rm(dir, { recursive: true, force: true });
});

async function cli(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return promisify(execFile)(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { cwd: ROOT, timeout: 60_000, env: { PATH: process.env['PATH'] ?? '', ...env } }).then(
    ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
    (err: { code: number; stdout: string; stderr: string }) => ({ code: err.code, stdout: err.stdout, stderr: err.stderr }),
  );
}
const config = () => join(dir, 'connector-secrets.config.json');
type Report = { environment: string; ok: boolean; checks: { check: string; status: string; detail: string; fix?: string }[] };
const statusOf = (report: Report) => Object.fromEntries(report.checks.map((c) => [c.check, c.status]));

describe('connector-secrets doctor', () => {
  it('dev: policy, refs, provider, store and key permissions, audit log writable and verifying are ok; a ref no dev provider serves FAILs (exit 1)', async () => {
    const r = await cli(['doctor', '--env', 'dev', '--config', config(), '--json']);
    const report = JSON.parse(r.stdout) as Report;
    expect(statusOf(report)).toEqual({
      policy: 'ok',
      'ref db': 'ok',
      // vault://… is served by no dev provider.
      'ref vaultDb': 'fail',
      'provider local': 'ok',
      'store file': 'ok',
      'key file': 'ok',
      'audit log writable': 'ok',
      'audit chain': 'ok',
    });
    expect(report.checks.find((c) => c.check === 'audit chain')!.detail).toContain('2 records verified');
    expect(report.checks.find((c) => c.check === 'ref vaultDb')!.fix).toContain('configure a provider for it in dev');
    expect(r.code).toBe(1);
    expect(r.stdout).not.toContain(values.local);
  });

  it('prod against the loopback Vault: the provider answers with a good token and FAILs with a refused one; the text form has one line per check with the fix', async () => {
    const good = await cli(['doctor', '--env', 'prod', '--config', config(), '--json'], { VAULT_TOKEN: token });
    const report = JSON.parse(good.stdout) as Report;
    expect(statusOf(report)['provider vault']).toBe('ok');
    expect(statusOf(report)['audit log writable']).toBe('ok');
    // A prod audit log that does not exist yet is not verified.
    expect(statusOf(report)['audit chain']).toBeUndefined();
    const bad = await cli(['doctor', '--env', 'prod', '--config', config()], { VAULT_TOKEN: generated() });
    expect(bad.code).toBe(1);
    const line = bad.stdout.split('\n').find((l) => l.includes('provider vault'))!;
    expect(line).toMatch(/^FAIL  provider vault: describe of vault:\/\/kv\/prod\/orders-db#password failed with ACCESS_DENIED: .* — fix: check the credentials/);
    // The other failure: secret://orders-db/password is served by no prod provider.
    expect(bad.stdout).toMatch(/^FAIL  ref db: secret:\/\/orders-db\/password: /m);
    expect(bad.stdout).toMatch(/\n\d+ check\(s\) for prod: 2 failed, 0 warning\(s\)\n$/);
    expect(bad.stdout + good.stdout).not.toContain(values.vault);
  });

  it('WARNs about an audit log whose writer was once killed (a resumed session), naming the line', async () => {
    const file = join(dir, 'audit-dev.jsonl');
    const original = await readFile(file);
    const key = (await readFile(join(dir, 'audit.key'), 'utf8')).trim();
    try {
      // What a SIGKILL leaves (the checkpoint never written), then the next run continues the log.
      await writeFile(file, original.toString('utf8').split('\n').slice(0, -2).map((l) => `${l}\n`).join(''));
      const next = fileAuditSink(file, { hmacKey: key });
      await next.write(event({ environment: 'dev' }));
      await next.close();
      const r = await cli(['doctor', '--env', 'dev', '--config', config(), '--json']);
      const report = JSON.parse(r.stdout) as Report;
      const chain = report.checks.find((c) => c.check === 'audit chain')!;
      expect(chain).toMatchObject({ status: 'warn', detail: expect.stringContaining('3 records verified; 1 session(s) never closed (resumed at line(s) 3)') });
      expect(chain.fix).toContain('known kill or crash');
    } finally {
      await writeFile(file, original);
    }
  });

  it('FAILs a key file readable by others (with the chmod fix), a tampered audit log, and a policy that does not parse', async () => {
    await chmod(join(dir, '.secrets/dev.key'), 0o644);
    await appendFile(join(dir, 'audit-dev.jsonl'), '{"forged":true}\n');
    await writeFile(join(dir, 'policy.json'), '{ "version": 1, "rules": [ { "name": 5 } ] }', { mode: 0o600 });
    try {
      const r = await cli(['doctor', '--env', 'dev', '--config', config(), '--json']);
      expect(r.code).toBe(1);
      const report = JSON.parse(r.stdout) as Report;
      expect(statusOf(report)).toMatchObject({ policy: 'fail', 'key file': 'fail', 'audit chain': 'fail' });
      expect(report.checks.find((c) => c.check === 'key file')!.fix).toBe(`chmod 600 ${join(dir, '.secrets/dev.key')}`);
      expect(report.checks.find((c) => c.check === 'audit chain')!.detail).toMatch(/audit-dev\.jsonl: line 4: /); // two events, the closing checkpoint, then the forged line
      expect(r.stdout).not.toContain('forged');
    } finally {
      await chmod(join(dir, '.secrets/dev.key'), 0o600);
    }
  });

  it('exit 2 for a configuration error or a missing --env; --help has examples', async () => {
    const bad = join(dir, 'bad.json');
    await writeFile(bad, JSON.stringify({ environments: ['dev'], providers: [{ type: 'local', path: 7 }], manifests: ['orders.mjs'] }));
    const r = await cli(['doctor', '--env', 'dev', '--config', bad]);
    expect([r.code, r.stderr]).toEqual([2, expect.stringMatching(/^error \[CONFIG_INVALID\]: the configuration .*bad\.json is invalid: providers\.0\.path: /)]);
    const noEnv = await cli(['doctor', '--config', config()]);
    expect([noEnv.code, noEnv.stderr]).toEqual([2, expect.stringContaining('doctor needs --env <tag>')]);
    const help = await cli(['doctor', '--help']);
    expect([help.code, help.stdout]).toEqual([0, expect.stringContaining('connector-secrets doctor --env prod')]);
  });
});
