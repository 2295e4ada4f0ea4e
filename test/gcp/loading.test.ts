import { execFile } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '../..');
const run = promisify(execFile);

// Runs in a fresh process: import the core and the gcp subpath, make a token and a provider,
// then one request (to a closed port).
const SCRIPT = `
import { createRequire } from 'node:module';
const require = createRequire(import.meta.url);
const loaded = () => Object.keys(require.cache).some((k) => k.includes('/node_modules/google-auth-library/'));
await import('./src/index.ts');
const { fromGcpSecretManager, gcpAccessToken } = await import('./src/gcp/index.ts');
const { parseRef } = await import('./src/ref/parseRef.ts');
const afterImport = loaded();
const token = gcpAccessToken({ credentials: { type: 'external_account', audience: 'a', subject_token_type: 'urn:ietf:params:oauth:token-type:jwt', token_url: 'http://127.0.0.1:9/v1/token', credential_source: { file: '/nonexistent' } } });
const p = fromGcpSecretManager({ projectId: 'test-project', apiEndpoint: 'http://127.0.0.1:9', auth: token, retry: { maxAttempts: 1 } });
const afterCreate = loaded();
const ctx = { signal: new AbortController().signal, env: {}, environment: 'dev', identity: undefined, now: Date.now };
const err = await p.resolve(parseRef('gcp-sm://a'), ctx).catch((e) => e);
await p.close(); await token.close();
console.log(JSON.stringify({ afterImport, afterCreate, afterRequest: loaded(), code: err.code }));
`;

describe('google-auth-library is loaded lazily', () => {
  it('neither the core nor connector-secrets/gcp loads google-auth-library before the first token', async () => {
    const { stdout } = await run(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', SCRIPT], { cwd: ROOT, timeout: 60_000 });
    expect(JSON.parse(stdout.trim().split('\n').at(-1)!)).toEqual({ afterImport: false, afterCreate: false, afterRequest: true, code: 'CONFIG_INVALID' });
  });

  it('only loadGoogleAuth.ts imports google-auth-library at run time; the core imports nothing from src/gcp', async () => {
    const files = (await readdir(path.join(ROOT, 'src'), { recursive: true })).filter((f) => f.endsWith('.ts'));
    for (const f of files) {
      const text = await readFile(path.join(ROOT, 'src', f), 'utf8');
      const runtime = [...text.matchAll(/(?:^|\n)\s*import\s+(?!type\b)[^;]*?from\s+'google-auth-library'|import\('google-auth-library'\)/g)];
      if (f !== path.join('gcp', 'loadGoogleAuth.ts')) expect(runtime, f).toHaveLength(0);
      if (!f.startsWith(`gcp${path.sep}`)) expect(text, f).not.toMatch(/from '\.{1,2}\/(?:\.\.\/)*gcp\//);
    }
  });
});
