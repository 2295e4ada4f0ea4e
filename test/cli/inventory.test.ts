/**
 * `connector-secrets inventory` as an operator runs it: a child process, a temp config, manifest
 * modules in .mjs and .cjs, a local store for dev and environment variables for prod.
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fromLocalStore } from '../../src/providers/fromLocalStore.js';
import { generateKeyFile } from '../../src/providers/local-store/keys.js';
import { generated } from '../helpers.js';

const ROOT = resolve(import.meta.dirname, '../..');
const DAY = 86_400_000;
let dir: string;
const values = { ordersDb: generated(), ordersApi: generated(), prodDb: generated(), billing: generated() };

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cs-inventory-'));
  await mkdir(join(dir, '.secrets'), { mode: 0o700 });
  await generateKeyFile(join(dir, '.secrets/dev.key'));
  // The store's clock is set back: orders-db was rotated 40 days ago (cadence 30d: overdue),
  // orders-api created 10 days ago (cadence 90d: ok).
  let t = Date.now() - 60 * DAY;
  const store = fromLocalStore({ path: join(dir, '.secrets/dev.enc.json'), keyFile: join(dir, '.secrets/dev.key'), environment: 'dev', now: () => t });
  await store.init();
  await store.set('orders-db/password', generated(), { owner: 'data-platform' });
  t += 20 * DAY;
  await store.rotate('orders-db/password', values.ordersDb, { signal: new AbortController().signal, env: {}, environment: 'dev', identity: undefined, now: () => t });
  t += 30 * DAY;
  await store.set('orders-api/token', values.ordersApi);
  await store.close();
  const src = (file: string) => pathToFileURL(join(ROOT, 'src', file)).href;
  await writeFile(
    join(dir, 'orders.mjs'),
    `import { defineSecrets } from ${JSON.stringify(src('manifest.ts'))};
export const orders = defineSecrets({
  db: { ref: 'secret://orders-db/password', owner: 'data-platform', purpose: 'write orders', rotation: '30d' },
  api: { ref: 'secret://orders-api/token', owner: 'data-platform', purpose: 'read orders', rotation: '90d', sensitivity: 'medium' },
});
`,
  );
  await writeFile(
    join(dir, 'billing.cjs'),
    `const { defineSecrets } = require(${JSON.stringify(join(ROOT, 'src/manifest.ts'))});
module.exports.billing = defineSecrets({
  token: { ref: 'env://BILLING_TOKEN', owner: 'tbd', purpose: 'post invoices' },
  ghost: { ref: 'secret://ghost/key', owner: 'data-platform', purpose: 'nobody created it' },
});
`,
  );
  await writeFile(
    join(dir, 'connector-secrets.config.json'),
    JSON.stringify({
      environments: ['dev', 'prod'],
      providers: [{ type: 'env', environments: ['prod'] }, { type: 'local', environments: ['dev'] }],
      manifests: ['orders.mjs', 'billing.cjs'],
    }),
  );
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function cli(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return promisify(execFile)(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { cwd: ROOT, timeout: 60_000, env: { PATH: process.env['PATH'] ?? '', ...env } }).then(
    ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
    (err: { code: number; stdout: string; stderr: string }) => ({ code: err.code, stdout: err.stdout, stderr: err.stderr }),
  );
}

const prodEnv = () => ({ ORDERS_DB_PASSWORD: values.prodDb, BILLING_TOKEN: values.billing });

describe('connector-secrets inventory', () => {
  it('--json: rotation status from the store dates, resolving environments, flags; exit 1 on the default --fail-on (overdue, unowned); no value anywhere', async () => {
    const r = await cli(['inventory', '--env', 'dev', '--config', join(dir, 'connector-secrets.config.json'), '--json'], prodEnv());
    expect(r.code).toBe(1);
    const doc = JSON.parse(r.stdout) as { environment: string; entries: Record<string, unknown>[]; counts: Record<string, number> };
    const by = Object.fromEntries(doc.entries.map((e) => [e['name'], e]));
    expect(by['db']).toMatchObject({ ref: 'secret://orders-db/password', provider: 'local', version: '2', rotation: '30d', rotationStatus: 'overdue', resolvesIn: ['dev', 'prod'], flags: ['overdue'] });
    expect(by['api']).toMatchObject({ version: '1', rotationStatus: 'ok', resolvesIn: ['dev'], sensitivity: 'medium', flags: [] });
    expect(by['token']).toMatchObject({ owner: 'tbd', resolvesIn: ['prod'], provider: null, flags: ['unowned'] });
    expect(by['ghost']).toMatchObject({ resolvesIn: [], failures: { dev: 'SECRET_NOT_FOUND', prod: 'SECRET_NOT_FOUND' }, flags: ['unresolved'] });
    expect(doc.counts).toMatchObject({ overdue: 1, unowned: 1, unresolved: 1 });
    for (const v of Object.values(values)) expect(r.stdout + r.stderr).not.toContain(v);
  });

  it('table and --csv, and --fail-on chooses what fails: none → 0, unresolved → 1', async () => {
    const config = join(dir, 'connector-secrets.config.json');
    const table = await cli(['inventory', '--env', 'dev', '--config', config, '--fail-on', 'none'], prodEnv());
    expect(table.code).toBe(0);
    expect(table.stdout.split('\n')[0]).toMatch(/^NAME\s+REF\s+OWNER\s+PURPOSE\s+SENSITIVITY\s+ROTATION\s+LAST ROTATED\s+STATUS\s+EXPIRES\s+RESOLVES IN\s+FLAGS$/);
    expect(table.stdout).toMatch(/\bdb\s+secret:\/\/orders-db\/password\s.*overdue \(\d{4}-\d{2}-\d{2}\)\s.*dev,prod\s+overdue/);
    expect(table.stdout).toContain('4 secret(s) for dev: 1 overdue, 1 unowned, 1 unresolved');
    const csv = await cli(['inventory', '--env', 'dev', '--config', config, '--csv', '--fail-on', 'unresolved'], prodEnv());
    expect(csv.code).toBe(1);
    const lines = csv.stdout.trim().split('\n');
    expect(lines[0]).toBe('manifest,name,ref,owner,purpose,sensitivity,rotation,provider,version,lastRotated,nextRotation,dueAt,rotationStatus,expiresAt,resolvesIn,flags');
    expect(lines).toHaveLength(5);
    expect(lines.find((l) => l.startsWith('orders.mjs#orders,db,'))).toContain(',overdue,');
    for (const v of Object.values(values)) expect(csv.stdout).not.toContain(v);
  });

  it('a secret tagged for another environment is flagged mistagged', async () => {
    const tagged = join(dir, 'tagged');
    await mkdir(join(tagged, '.secrets'), { recursive: true, mode: 0o700 });
    await generateKeyFile(join(tagged, '.secrets/dev.key'));
    // A prod store read as the dev environment's store: every entry is tagged prod.
    const store = fromLocalStore({ path: join(tagged, '.secrets/dev.enc.json'), keyFile: join(tagged, '.secrets/dev.key'), environment: 'prod' });
    await store.init();
    await store.set('orders-db/password', generated());
    await store.close();
    await writeFile(join(tagged, 'orders.mjs'), `export { orders } from ${JSON.stringify(pathToFileURL(join(dir, 'orders.mjs')).href)};\n`);
    await writeFile(join(tagged, 'c.json'), JSON.stringify({ environments: ['dev'], providers: [{ type: 'local' }], manifests: ['orders.mjs'] }));
    const r = await cli(['inventory', '--env', 'dev', '--config', join(tagged, 'c.json'), '--json', '--fail-on', 'mistagged']);
    expect(r.code).toBe(1);
    const db = (JSON.parse(r.stdout) as { entries: { name: string; flags: string[]; failures: Record<string, string> }[] }).entries.find((e) => e.name === 'db')!;
    expect(db.failures).toEqual({ dev: 'ENVIRONMENT_MISMATCH' });
    expect(db.flags).toEqual(['unresolved', 'mistagged']);
  });

  it('configuration errors exit 2 with one line naming the field, never the value', async () => {
    const bad = join(dir, 'bad.json');
    const pasted = generated();
    await writeFile(bad, JSON.stringify({ environments: ['dev'], providers: [{ type: 'vault', address: 'https://vault.example:8200', token: pasted }], manifests: ['orders.mjs'] }));
    const r = await cli(['inventory', '--env', 'dev', '--config', bad]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^error \[CONFIG_INVALID\]: the configuration .*bad\.json is invalid: providers\.0\.token: must be a ref to the token/);
    expect(r.stderr).not.toContain(pasted);
    await writeFile(bad, JSON.stringify({ environments: ['dev'], providers: [{ type: 'env' }], manifests: ['nothing-here.mjs'] }));
    const missing = await cli(['inventory', '--env', 'dev', '--config', bad]);
    expect([missing.code, missing.stderr]).toEqual([2, expect.stringMatching(/manifests\.0 \(.*nothing-here\.mjs\) cannot be imported: not found/)]);
    const env = await cli(['inventory', '--env', 'staging', '--config', join(dir, 'connector-secrets.config.json')]);
    expect([env.code, env.stderr]).toEqual([2, expect.stringContaining('--env names an environment the configuration does not list')]);
    const usage = await cli(['inventory', '--env', 'dev', '--fail-on', 'late']);
    expect([usage.code, usage.stderr]).toEqual([2, expect.stringContaining('--fail-on item 1 is not one of')]);
  });

  it('--help shows the flags and examples', async () => {
    const r = await cli(['inventory', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('--fail-on LIST');
    expect(r.stdout).toContain('examples:');
    expect(r.stdout).toContain('connector-secrets inventory --env prod --fail-on overdue,unowned,unresolved');
  });
});
