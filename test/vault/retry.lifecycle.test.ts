import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '../..');
const run = promisify(execFile);

// The only pending work while the caller awaits: the Vault provider's pause between retries of a
// refused connection. The caller awaits it, so it must keep the process alive until the error.
const body = (load: string) => `
${load}
const p = fromVault({ address: 'http://127.0.0.1:9', auth: { method: 'token', token: 'env://T' }, retry: { maxAttempts: 3, baseDelayMs: 400, maxDelayMs: 400 }, random: () => 0.99 });
const ctx = { signal: new AbortController().signal, env: { T: 'x' }, environment: 'dev', identity: undefined, now: Date.now };
p.resolve(parseRef('vault://kv/a/b'), ctx).then(() => console.log('resolved?'), (e) => console.log('rejected ' + e.code));
`;
const ESM = body(`import { fromVault } from './src/vault/index.ts';\nimport { parseRef } from './src/ref/parseRef.ts';`);
const CJS = body(`const { fromVault } = require('./src/vault/index.ts');\nconst { parseRef } = require('./src/ref/parseRef.ts');`);

describe('the Vault retry pause keeps the process alive while a caller awaits it', () => {
  for (const [system, source] of [['ESM', ESM], ['CommonJS', CJS]] as const) {
    it(`${system}: the call ends in PROVIDER_UNAVAILABLE after its retries, not in a silent exit`, async () => {
      const { stdout } = await run(process.execPath, ['--import', 'tsx', `--input-type=${system === 'ESM' ? 'module' : 'commonjs'}`, '-e', source], { cwd: ROOT, timeout: 60_000 });
      expect(stdout.trim()).toBe('rejected PROVIDER_UNAVAILABLE');
    });
  }
});
