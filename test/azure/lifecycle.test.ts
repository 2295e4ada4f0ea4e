import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startAzureDoubles, type AzureDoubles } from '../fixtures/azure/index.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const run = promisify(execFile);
let d: AzureDoubles;
let app: { clientId: string; clientSecret: string };

beforeAll(async () => {
  d = await startAzureDoubles(inject('azureTls'));
  app = d.entra.addClientSecret();
  d.kv.put('life', 'cycle', 'lifecycle-value', { tags: { environment: 'dev' } });
});
afterAll(() => d.close());

// The script awaits one read whose first authorized attempt is throttled (429, Retry-After: 1):
// the SDK's retry pause is the only thing left to wait for. If that timer did not keep the
// process alive, Node would exit with code 0 before printing. The child trusts the test CA
// through the NODE_EXTRA_CA_CERTS it inherits.
const body = (load: string) => `
${load}
const { ClientSecretCredential } = require('@azure/identity');
const credential = new ClientSecretCredential(process.env.TENANT, process.env.CLIENT_ID, process.env.CLIENT_SECRET, { authorityHost: process.env.AUTHORITY, disableInstanceDiscovery: true });
const p = fromAzureKeyVault({ vaultUrl: process.env.VAULT_URL, credential, clientOptions: { agent: loopbackAgent(), retryOptions: { maxRetries: 1 } } });
const ctx = { signal: new AbortController().signal, env: {}, environment: 'dev', identity: undefined, now: Date.now };
p.resolve(parseRef('azure-kv://life/cycle'), ctx).then((r) => console.log('read ' + r.value.length + ' chars'), (e) => console.log('failed ' + e.code));
`;
const ESM = body(`import { createRequire } from 'node:module';
const require = createRequire(import.meta.url);
const { fromAzureKeyVault } = await import('./src/azure/index.ts');
const { parseRef } = await import('./src/ref/parseRef.ts');
const { loopbackAgent } = await import('./test/fixtures/azure/tls.ts');`);
const CJS = body(`const { fromAzureKeyVault } = require('./src/azure/index.ts');
const { parseRef } = require('./src/ref/parseRef.ts');
const { loopbackAgent } = require('./test/fixtures/azure/tls.ts');`);

describe('a retry pause a caller awaits keeps the process alive', () => {
  for (const [system, script] of [['ESM', ESM], ['CommonJS', CJS]] as const) {
    it(`${system}: a script awaiting a read retried after 429 prints its result and exits 0`, async () => {
      d.kv.fail({ status: 429, code: 'Throttled', retryAfter: 1, secret: 'cycle' });
      const before = d.kv.authorizedRequests;
      const { stdout } = await run(process.execPath, ['--import', 'tsx', `--input-type=${system === 'ESM' ? 'module' : 'commonjs'}`, '-e', script], {
        cwd: ROOT,
        timeout: 60_000,
        env: { ...process.env, TENANT: d.entra.tenantId, CLIENT_ID: app.clientId, CLIENT_SECRET: app.clientSecret, AUTHORITY: d.entra.url, VAULT_URL: d.kv.vaultUrl('life') },
      });
      expect(stdout.trim()).toBe('read 15 chars');
      expect(d.kv.authorizedRequests - before).toBe(2);
    });
  }
});
