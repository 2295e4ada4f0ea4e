import { execFile } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '../..');
const run = promisify(execFile);

// Runs in a fresh process: import the core and the azure subpath, make a token handle and a
// provider, then one request (to a closed port).
const SCRIPT = `
import { createRequire } from 'node:module';
const require = createRequire(import.meta.url);
const loaded = () => Object.keys(require.cache).filter((k) => /\\/node_modules\\/@azure\\/(identity|keyvault-secrets)\\//.test(k)).map((k) => k.match(/@azure\\/[a-z-]+/)[0]);
await import('./src/index.ts');
const { fromAzureKeyVault, azureAccessToken } = await import('./src/azure/index.ts');
const { parseRef } = await import('./src/ref/parseRef.ts');
const afterImport = loaded().length;
const token = azureAccessToken({ scopes: ['https://vault.azure.net/.default'] });
const p = fromAzureKeyVault({ vaultUrl: 'https://orders.vault.azure.net', credential: token, clientOptions: { retryOptions: { maxRetries: 0 } } });
const afterCreate = loaded().length;
const ctx = { signal: new AbortController().signal, env: {}, environment: 'dev', identity: undefined, now: Date.now };
await p.resolve(parseRef('azure-kv://other/a'), ctx).catch((e) => e);
const afterForeignRef = loaded().length;
await token.close();
console.log(JSON.stringify({ afterImport, afterCreate, afterForeignRef }));
`;

describe('the Azure SDK is loaded lazily', () => {
  it('neither the core nor connector-secrets/azure loads @azure/identity or @azure/keyvault-secrets before the first request', async () => {
    const { stdout } = await run(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', SCRIPT], { cwd: ROOT, timeout: 60_000 });
    expect(JSON.parse(stdout.trim().split('\n').at(-1)!)).toEqual({ afterImport: 0, afterCreate: 0, afterForeignRef: 0 });
  });

  it('only loadAzureSdk.ts imports @azure/* at run time; the core imports nothing from src/azure', async () => {
    const files = (await readdir(path.join(ROOT, 'src'), { recursive: true })).filter((f) => f.endsWith('.ts'));
    for (const f of files) {
      const text = await readFile(path.join(ROOT, 'src', f), 'utf8');
      const runtime = [...text.matchAll(/(?:^|\n)\s*import\s+(?!type\b)[^;]*?from\s+'@azure\/[^']+'|import\('@azure\/[^']+'\)/g)];
      if (f !== path.join('azure', 'loadAzureSdk.ts')) expect(runtime, f).toHaveLength(0);
      if (!f.startsWith(`azure${path.sep}`)) expect(text, f).not.toMatch(/from '\.{1,2}\/(?:\.\.\/)*azure\//);
    }
  });

  it('loads them on first use and a request then reaches the SDK', async () => {
    const script = `
const { fromAzureKeyVault } = await import('./src/azure/index.ts');
const { parseRef } = await import('./src/ref/parseRef.ts');
const p = fromAzureKeyVault({ vaultUrl: 'https://orders.vault.azure.net:9', credential: { getToken: async () => ({ token: 't', expiresOnTimestamp: Date.now() + 3600000 }) }, clientOptions: { retryOptions: { maxRetries: 0 } } });
const ctx = { signal: new AbortController().signal, env: {}, environment: 'dev', identity: undefined, now: Date.now };
const err = await p.resolve(parseRef('azure-kv://orders/a'), ctx).catch((e) => e);
console.log(JSON.stringify({ code: err.code }));
`;
    const { stdout } = await run(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: ROOT, timeout: 60_000 });
    expect(JSON.parse(stdout.trim().split('\n').at(-1)!)).toEqual({ code: 'PROVIDER_UNAVAILABLE' });
  });
});
