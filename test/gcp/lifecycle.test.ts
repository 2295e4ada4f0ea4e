import { execFile } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGoogleDoubles, type GoogleDoubles } from '../fixtures/gcp/index.js';
import { PROJECT, READER } from './helpers.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const run = promisify(execFile);
let doubles: GoogleDoubles;
let keyFile: string;

beforeAll(async () => {
  doubles = await startGoogleDoubles();
  const dir = await mkdtemp(path.join(tmpdir(), 'gcp-lifecycle-'));
  keyFile = path.join(dir, 'key.json');
  await writeFile(keyFile, JSON.stringify(doubles.serviceAccount(READER)));
  doubles.createSecret(`projects/${PROJECT}/secrets/lifecycle`);
  doubles.addVersion(`projects/${PROJECT}/secrets/lifecycle`, 'lifecycle-value');
});
afterAll(() => doubles.close());

// The script awaits one read whose first attempt is refused with 503: the retry pause (~0.8 s)
// is the only thing left to wait for. If that timer did not keep the process alive, Node would
// exit with code 0 before printing.
const body = (load: string) => `
${load}
const token = gcpAccessToken({ credentials: process.env.KEY_FILE, endpoints: { token: process.env.TOKEN_URL } });
const p = fromGcpSecretManager({ projectId: '${PROJECT}', apiEndpoint: process.env.API, auth: token, retry: { baseDelayMs: 800, maxDelayMs: 800 }, random: () => 0.999 });
const ctx = { signal: new AbortController().signal, env: {}, environment: 'dev', identity: undefined, now: Date.now };
p.resolve(parseRef('gcp-sm://lifecycle'), ctx).then((r) => console.log('read ' + r.value.length + ' chars'), (e) => console.log('failed ' + e.code));
`;
const ESM = body(`const { fromGcpSecretManager, gcpAccessToken } = await import('./src/gcp/index.ts');
const { parseRef } = await import('./src/ref/parseRef.ts');`);
const CJS = body(`const { fromGcpSecretManager, gcpAccessToken } = require('./src/gcp/index.ts');
const { parseRef } = require('./src/ref/parseRef.ts');`);

// The script's token is refused (a self-signed JWT from a key the doubles do not know): the
// read forces one refresh after the handle's jittered cooldown (~250 ms), is refused again, and
// fails with ACCESS_DENIED. The cooldown is awaited by the read, so it must keep the process alive.
const forgedBody = (load: string) => `
${load}
const { generateKeyPairSync } = require('node:crypto');
const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const key = { type: 'service_account', client_email: '${READER}', private_key: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() };
const token = gcpAccessToken({ credentials: key, selfSignedJwt: true, random: () => 0.99 });
const p = fromGcpSecretManager({ projectId: '${PROJECT}', apiEndpoint: process.env.API, auth: token });
const ctx = { signal: new AbortController().signal, env: {}, environment: 'dev', identity: undefined, now: Date.now };
p.resolve(parseRef('gcp-sm://lifecycle'), ctx).then(() => console.log('read (unexpected)'), (e) => console.log('failed ' + e.code));
`;
const FORGED_ESM = forgedBody(`const { createRequire } = await import('node:module');
const require = createRequire(import.meta.url);
const { fromGcpSecretManager, gcpAccessToken } = await import('./src/gcp/index.ts');
const { parseRef } = await import('./src/ref/parseRef.ts');`);
const FORGED_CJS = forgedBody(`const { fromGcpSecretManager, gcpAccessToken } = require('./src/gcp/index.ts');
const { parseRef } = require('./src/ref/parseRef.ts');`);

describe('the cooldown before the forced refresh after UNAUTHENTICATED keeps the process alive', () => {
  for (const [system, script] of [['ESM', FORGED_ESM], ['CommonJS', FORGED_CJS]] as const) {
    it(`${system}: a script awaiting a read whose token is refused prints ACCESS_DENIED and exits 0`, async () => {
      const before = doubles.count('access');
      const { stdout } = await run(process.execPath, ['--import', 'tsx', `--input-type=${system === 'ESM' ? 'module' : 'commonjs'}`, '-e', script], {
        cwd: ROOT,
        timeout: 60_000,
        env: { ...process.env, API: doubles.url },
      });
      expect(stdout.trim()).toBe('failed ACCESS_DENIED');
      expect(doubles.count('access') - before).toBe(2);
    });
  }
});

describe('a retry pause a caller awaits keeps the process alive', () => {
  for (const [system, script] of [['ESM', ESM], ['CommonJS', CJS]] as const) {
    it(`${system}: a script awaiting a read retried after 503 prints its result and exits 0`, async () => {
      // Only the read is refused; the token call before it succeeds.
      doubles.failNext('access', 503, 'UNAVAILABLE');
      const before = doubles.count('access');
      const { stdout } = await run(process.execPath, ['--import', 'tsx', `--input-type=${system === 'ESM' ? 'module' : 'commonjs'}`, '-e', script], {
        cwd: ROOT,
        timeout: 60_000,
        env: { ...process.env, KEY_FILE: keyFile, TOKEN_URL: doubles.tokenUrl, API: doubles.url },
      });
      expect(stdout.trim()).toBe('read 15 chars');
      expect(doubles.count('access') - before).toBe(2);
    });
  }
});
