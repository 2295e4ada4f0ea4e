import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startVaultServer, type VaultServer } from '../fixtures/vault-server/index.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const run = promisify(execFile);
let vault: VaultServer;

beforeAll(async () => {
  vault = await startVaultServer();
  vault.enableKv('kv', 2).put('etl/db', { password: 'lifecycle-value' });
});
afterAll(() => vault.close());

// The script awaits one read whose first request is refused with 503: the retry pause (~0.8 s)
// is the only thing left to wait for. If that timer did not keep the process alive, Node would
// exit with code 0 before printing.
const body = (load: string) => `
${load}
const p = fromVault({ address: process.env.VAULT_ADDR, auth: { method: 'token', token: 'env://VAULT_TOKEN' }, kvVersions: { kv: 2 }, retry: { baseDelayMs: 800, maxDelayMs: 800 }, random: () => 0.999 });
const ctx = { signal: new AbortController().signal, env: process.env, environment: 'dev', identity: undefined, now: Date.now };
p.resolve(parseRef('vault://kv/etl/db'), ctx).then((r) => console.log('read ' + JSON.parse(r.value).password.length + ' chars'), (e) => console.log('failed ' + e.code));
`;
const ESM = body(`const { fromVault } = await import('./src/vault/index.ts');
const { parseRef } = await import('./src/ref/parseRef.ts');`);
const CJS = body(`const { fromVault } = require('./src/vault/index.ts');
const { parseRef } = require('./src/ref/parseRef.ts');`);

describe('fromVault: a retry pause a caller awaits keeps the process alive', () => {
  for (const [system, script] of [['ESM', ESM], ['CommonJS', CJS]] as const) {
    it(`${system}: a script awaiting a read retried after 503 prints its result and exits 0`, async () => {
      vault.failNext(1, 503);
      const { stdout } = await run(process.execPath, ['--import', 'tsx', `--input-type=${system === 'ESM' ? 'module' : 'commonjs'}`, '-e', script], {
        cwd: ROOT,
        timeout: 60_000,
        env: { ...process.env, VAULT_ADDR: vault.url, VAULT_TOKEN: vault.rootToken },
      });
      expect(stdout.trim()).toBe('read 15 chars');
    });
  }
});
