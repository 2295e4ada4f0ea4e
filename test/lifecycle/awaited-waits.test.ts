import { execFile } from 'node:child_process';
import { createServer } from 'node:net';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startVaultServer, type KvV2Engine, type VaultServer } from '../fixtures/vault-server/index.js';
import { generated } from '../helpers.js';
import { allUnder } from '../vault/helpers.js';

// A wait that a caller's promise depends on must keep the process alive. Each case runs a
// script in a fresh process (CommonJS and ESM with top-level await) that awaits the library
// through a retry, backoff or pause, prints its result or its error code, then `done`. Were the
// wait on an unref'd timer, the process would exit mid-operation: code 0 (CommonJS) or 13
// (unsettled top-level await), nothing printed.

const ROOT = path.resolve(import.meta.dirname, '../..');

interface Outcome {
  readonly code: number | null;
  readonly lines: string[];
}

/** Runs `body` (an async function body that returns a string) in a child process. */
function runChild(kind: 'cjs' | 'esm', body: string, env: Record<string, string>): Promise<Outcome> {
  const script =
    kind === 'esm'
      ? `
const core = await import('./src/index.ts');
const vault = await import('./src/vault/index.ts');
const testing = await import('./src/testing/index.ts');
try {
  const result = await (async () => { ${body} })();
  console.log('result ' + result);
} catch (err) {
  console.log('error ' + (err?.code ?? err?.name));
  process.exitCode = 2;
}
console.log('done');
`
      : `
const core = require('./src/index.ts');
const vault = require('./src/vault/index.ts');
const testing = require('./src/testing/index.ts');
(async () => { ${body} })().then(
  (result) => console.log('result ' + result),
  (err) => { console.log('error ' + (err?.code ?? err?.name)); process.exitCode = 2; },
).then(() => console.log('done'));
`;
  const args = ['--import', 'tsx', `--input-type=${kind === 'esm' ? 'module' : 'commonjs'}`, '-e', script];
  return new Promise((resolve) => {
    execFile(process.execPath, args, { cwd: ROOT, timeout: 60_000, env: { ...process.env, ...env } }, (err, stdout) => {
      const code = err === null ? 0 : typeof (err as { code?: unknown }).code === 'number' ? ((err as { code: number }).code) : null;
      resolve({ code, lines: stdout.split('\n').filter((l) => l !== '') });
    });
  });
}

/** A loopback port with nothing listening on it. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

let vault: VaultServer;
let kv: KvV2Engine;
let roleId: string;
let secretId: string;
const value = generated();

beforeAll(async () => {
  vault = await startVaultServer();
  kv = vault.enableKv('kv', 2);
  vault.policy('etl', allUnder('kv/'));
  const approle = vault.enableAppRole();
  roleId = approle.addRole('etl', { policies: ['etl'], tokenTtlMs: 3_600_000 });
  secretId = approle.newSecretId(roleId);
  kv.put('app/db', { password: value });
});

afterAll(async () => {
  await vault.close();
});

afterEach(() => {
  vault.mode = 'active';
});

/** A Vault client in the child: AppRole login, the KV version known (no mount lookup), small real backoff. */
const readVault = (address: string, extra = '') => `
  const secrets = core.createSecrets({
    environment: 'dev',
    audit: false,
    // No optional import racing the wait: only the wait under test can keep the process alive.
    openTelemetry: false,
    env: process.env,
    providers: [vault.fromVault({
      address: ${JSON.stringify(address)},
      auth: { method: 'approle', roleId: 'env://ROLE_ID', secretId: 'env://SECRET_ID' },
      kvVersions: { kv: 2 },
      random: () => 0.5,
      retry: { maxAttempts: 3, baseDelayMs: 200, deadlineMs: 30_000 },
      ${extra}
    })],
  });
  try {
    const got = await secrets.get('vault://kv/app/db#password');
    return got.reveal() === process.env.EXPECTED ? 'value' : 'wrong value';
  } finally {
    await secrets.close();
  }
`;

describe.each(['cjs', 'esm'] as const)('awaited waits keep the process alive (%s)', (kind) => {
  const env = () => ({ ROLE_ID: roleId, SECRET_ID: secretId, EXPECTED: value });

  it("withCredential's jittered pause before the retry after an authentication failure", async () => {
    const body = `
      const secrets = core.createSecrets({ environment: 'dev', audit: false, openTelemetry: false, providers: [core.fromEnv()], env: { APP_TOKEN: process.env.EXPECTED } });
      const handle = secrets.handle('env://APP_TOKEN', { authRetryCooldownMs: 300, random: () => 0.9 });
      let calls = 0;
      try {
        return await handle.withCredential(() => {
          calls += 1;
          if (calls === 1) throw Object.assign(new Error('password authentication failed'), { code: '28P01' });
          return 'retried after ' + calls + ' calls';
        });
      } finally {
        await secrets.close();
      }
    `;
    expect(await runChild(kind, body, env())).toEqual({ code: 0, lines: ['result retried after 2 calls', 'done'] });
  });

  it('the approval timeout, when the approve hook never answers', async () => {
    const body = `
      const mock = testing.fromMock();
      mock.set('secret://db', process.env.EXPECTED, { metadata: { sensitivity: 'critical' } });
      const policy = { version: 1, rules: [{ name: 'crit', identity: '*', allow: ['secret://db'], requireApproval: 'critical' }] };
      const secrets = core.createSecrets({ environment: 'dev', audit: false, openTelemetry: false, providers: [mock], policy, approve: () => new Promise(() => {}), approvalTimeoutMs: 300 });
      try {
        return await secrets.get('secret://db');
      } finally {
        await secrets.close();
      }
    `;
    expect(await runChild(kind, body, env())).toEqual({ code: 2, lines: ['error POLICY_DENIED', 'done'] });
  });

  it("a mock provider's answer delay (connector-secrets/testing)", async () => {
    const body = `
      const mock = testing.fromMock();
      mock.set('secret://db', process.env.EXPECTED);
      mock.delay(300);
      const secrets = core.createSecrets({ environment: 'dev', audit: false, openTelemetry: false, providers: [mock] });
      try {
        return (await secrets.get('secret://db')).reveal() === process.env.EXPECTED ? 'value' : 'wrong value';
      } finally {
        await secrets.close();
      }
    `;
    expect(await runChild(kind, body, env())).toEqual({ code: 0, lines: ['result value', 'done'] });
  });

  it('the backoff between retries when Vault is unreachable', async () => {
    const address = `http://127.0.0.1:${await closedPort()}`;
    expect(await runChild(kind, readVault(address), env())).toEqual({ code: 2, lines: ['error PROVIDER_UNAVAILABLE', 'done'] });
  });

  it('the backoff between retries while Vault is sealed (503)', async () => {
    vault.mode = 'sealed';
    expect(await runChild(kind, readVault(vault.url), env())).toEqual({ code: 2, lines: ['error PROVIDER_UNAVAILABLE', 'done'] });
    expect(vault.requests.filter((r) => r.status === 503).length).toBeGreaterThanOrEqual(3);
  });

  it('the wait after a 429, then the answer', async () => {
    vault.failNext(1, 429, { path: 'kv/data/app/db' });
    expect(await runChild(kind, readVault(vault.url), env())).toEqual({ code: 0, lines: ['result value', 'done'] });
  });

  it('the retry after a hung request times out', async () => {
    vault.failNext(1, 'hang', { path: 'kv/data/app/db' });
    expect(await runChild(kind, readVault(vault.url, 'requestTimeoutMs: 300,'), env())).toEqual({ code: 0, lines: ['result value', 'done'] });
  });

  it("the token handle's pause after a read refused with 403 whose token lookup-self also answers 403", async () => {
    vault.failNext(1, 403, { path: 'kv/data/app/db' });
    vault.failNext(1, 403, { path: 'auth/token/lookup-self' });
    const before = vault.requests.length;
    expect(await runChild(kind, readVault(vault.url), env())).toEqual({ code: 0, lines: ['result value', 'done'] });
    // The path taken: read refused, token refused, a new login, the read again; close revokes
    // both tokens (the injected refusal left the first one alive in the double).
    const seen = vault.requests.slice(before).map((r) => `${r.path} ${r.status}`);
    expect(seen).toEqual([
      'auth/approle/login 200',
      'kv/data/app/db 403',
      'auth/token/lookup-self 403',
      'auth/approle/login 200',
      'kv/data/app/db 200',
      'auth/token/revoke-self 204',
      'auth/token/revoke-self 204',
    ]);
  });
});
