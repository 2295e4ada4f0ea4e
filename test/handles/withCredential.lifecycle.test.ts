import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '../..');
const run = promisify(execFile);

// A script whose only pending work is withCredential's pause before the forced refresh after an
// authentication failure. That pause is awaited by the caller, so it must keep the process alive.
const body = (load: string) => `
${load}
let n = 0;
const handle = createCredentialHandle({ ref: 'test://cred', async fetch() { n += 1; return { secret: new Secret('credential-' + n) }; } }, { random: () => 0.99, authRetryCooldownMs: 300 });
let first = true;
const used = handle.withCredential((c) => {
  if (first) { first = false; throw Object.assign(new Error('refused'), { name: 'ExpiredTokenException' }); }
  return c.version ?? c.reveal().length;
});
used.then((v) => { console.log('done ' + String(v) + ' after ' + n + ' fetches'); return handle.close(); }, (e) => { console.log('failed ' + e.name); process.exitCode = 2; });
`;

const ESM = body(`import { createCredentialHandle } from './src/handles/CredentialHandle.ts';\nimport { Secret } from './src/secret.ts';`);
const CJS = body(`const { createCredentialHandle } = require('./src/handles/CredentialHandle.ts');\nconst { Secret } = require('./src/secret.ts');`);

describe('withCredential keeps the process alive while the caller awaits its retry pause', () => {
  for (const [system, source] of [['ESM', ESM], ['CommonJS', CJS]] as const) {
    it(`${system}: the retried call completes and the process exits 0`, async () => {
      const { stdout } = await run(process.execPath, ['--import', 'tsx', `--input-type=${system === 'ESM' ? 'module' : 'commonjs'}`, '-e', source], { cwd: ROOT, timeout: 60_000 });
      expect(stdout.trim()).toBe('done 12 after 2 fetches');
    });
  }
});
