import { execFile } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '../..');
const run = promisify(execFile);

// Runs in a fresh process: import the core and the vault subpath, then make one request.
const SCRIPT = `
import { createRequire } from 'node:module';
const require = createRequire(import.meta.url);
const loaded = () => Object.keys(require.cache).some((k) => k.includes('/node_modules/node-vault/'));
await import('./src/index.ts');
const { fromVault } = await import('./src/vault/index.ts');
const { parseRef } = await import('./src/ref/parseRef.ts');
const afterImport = loaded();
const p = fromVault({ address: 'http://127.0.0.1:9', auth: { method: 'token', token: 'env://T' }, retry: { maxAttempts: 1 } });
const afterCreate = loaded();
const ctx = { signal: new AbortController().signal, env: { T: 'x' }, environment: 'dev', identity: undefined, now: Date.now };
const err = await p.resolve(parseRef('vault://kv/a/b'), ctx).catch((e) => e);
console.log(JSON.stringify({ afterImport, afterCreate, afterRequest: loaded(), code: err.code }));
`;

describe('node-vault is loaded lazily', () => {
  it('neither the core nor connector-secrets/vault loads node-vault before the first request', async () => {
    const { stdout } = await run(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', SCRIPT], { cwd: ROOT, timeout: 60_000 });
    expect(JSON.parse(stdout.trim().split('\n').at(-1)!)).toEqual({ afterImport: false, afterCreate: false, afterRequest: true, code: 'PROVIDER_UNAVAILABLE' });
  });

  it('only loadNodeVault.ts imports node-vault at run time; the core imports nothing from src/vault', async () => {
    const files = (await readdir(path.join(ROOT, 'src'), { recursive: true })).filter((f) => f.endsWith('.ts'));
    for (const f of files) {
      const text = await readFile(path.join(ROOT, 'src', f), 'utf8');
      const runtime = [...text.matchAll(/(?:^|\n)\s*import\s+(?!type\b)[^;]*?from\s+'node-vault'|import\('node-vault'\)/g)];
      if (f !== path.join('vault', 'loadNodeVault.ts')) expect(runtime, f).toHaveLength(0);
      if (!f.startsWith(`vault${path.sep}`)) expect(text, f).not.toMatch(/from '\.{1,2}\/(?:\.\.\/)*vault\//);
    }
  });
});
