import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { createSecrets } from '../src/client.js';
import { AbortedError } from '../src/errors.js';
import type { ResolvedSecret } from '../src/provider.js';
import { fromMock } from '../src/testing/fromMock.js';
import { errorText, generated, rejection, scripted } from './helpers.js';

const ROOT = path.resolve(import.meta.dirname, '..');
const run = promisify(execFile);

/** A provider whose answers the test releases by hand. */
function gated() {
  const waiting: ((r: ResolvedSecret) => void)[] = [];
  const provider = scripted('gated', () => new Promise<ResolvedSecret>((resolve) => waiting.push(resolve)));
  return { provider, waiting, release: (value: string) => waiting.splice(0).forEach((w) => w({ value })) };
}

describe('await using', () => {
  it('closes the client when the block ends (Symbol.asyncDispose)', async () => {
    const mock = fromMock();
    mock.lease('secret://db', { ttlMs: 3_600_000, issue: () => generated() });
    let handleClosed: unknown;
    {
      await using secrets = createSecrets({ environment: 'dev', providers: [mock] });
      const handle = secrets.handle('secret://db');
      await handle.get();
      handleClosed = handle;
      expect(secrets[Symbol.asyncDispose]).toBeTypeOf('function');
    }
    // The handle was closed with the client, and its lease revoked.
    await expect((handleClosed as { get(): Promise<unknown> }).get()).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
    expect(mock.leases.map((l) => l.revoked)).toEqual([true]);
  });
});

describe('get(ref, { signal, timeoutMs })', () => {
  it('an already aborted signal rejects with ABORTED before asking any provider', async () => {
    const { provider } = gated();
    const secrets = createSecrets({ environment: 'dev', providers: [provider] });
    const err = await rejection(secrets.get('test://a', { signal: AbortSignal.abort(new Error('cancelled run')) }));
    expect(err).toBeInstanceOf(AbortedError);
    expect(err).toMatchObject({ code: 'ABORTED', cause: expect.objectContaining({ message: 'cancelled run' }) });
    expect(provider.calls).toEqual([]);
    await secrets.close();
  });

  it('aborting one caller leaves the shared single-flight fetch to the others, and caches its answer', async () => {
    const { provider, release } = gated();
    const secrets = createSecrets({ environment: 'dev', providers: [provider] });
    const controller = new AbortController();
    const leaving = secrets.get('test://a', { signal: controller.signal });
    const staying = secrets.get('test://a');
    await new Promise((r) => setImmediate(r));
    controller.abort();
    const err = await rejection(leaving);
    expect(err).toMatchObject({ name: 'AbortedError', code: 'ABORTED' });
    const value = generated();
    release(value);
    expect((await staying).reveal()).toBe(value);
    expect(provider.calls).toHaveLength(1);
    expect((await secrets.get('test://a')).reveal()).toBe(value);
    expect(provider.calls).toHaveLength(1);
    expect(errorText(err)).not.toContain(value);
    await secrets.close();
  });

  it('a timeout rejects with ABORTED and timeoutMs; the value that arrives later is not handed out', async () => {
    const { provider, release } = gated();
    const secrets = createSecrets({ environment: 'dev', providers: [provider] });
    const err = await rejection(secrets.get('test://a', { timeoutMs: 5 }));
    expect(err).toMatchObject({ code: 'ABORTED', timeoutMs: 5, message: 'the call timed out after 5 ms' });
    release(generated());
    await secrets.close();
  });

  it('a call that settles first is unaffected by a later abort, and validates its options', async () => {
    const mock = fromMock();
    const value = generated();
    mock.set('secret://a', value);
    const secrets = createSecrets({ environment: 'dev', providers: [mock] });
    const controller = new AbortController();
    const got = await secrets.get('secret://a', { signal: controller.signal, timeoutMs: 60_000 });
    controller.abort();
    expect(got.reveal()).toBe(value);
    expect((await secrets.getBytes('secret://a', { timeoutMs: 60_000 })).reveal()).toEqual(new Uint8Array(Buffer.from(value)));
    await expect(secrets.get('secret://a', { timeoutMs: -1 })).rejects.toMatchObject({ code: 'CONFIG_INVALID', message: expect.stringMatching(/timeoutMs/) });
    await expect(secrets.get('secret://a', { signal: {} as AbortSignal })).rejects.toMatchObject({ code: 'CONFIG_INVALID', message: expect.stringMatching(/signal/) });
    await secrets.close();
  });
});

// The timer a caller awaits keeps the process alive: a script whose only pending work is a get
// with timeoutMs against a provider that never answers must print the timeout and exit 3, not
// exit 0 silently. The 200 ms limit is a behaviour (the timer fires), not a speed assertion.
const CHILD = (esm: boolean) => `
${esm ? "const { createSecrets } = await import('./src/index.ts');" : "const { createSecrets } = require('./src/index.ts');"}
const never = { name: 'never', schemes: ['test'], logical: true, resolve: () => new Promise(() => {}) };
const secrets = createSecrets({ environment: 'dev', providers: [never] });
${esm ? '' : '(async () => {'}
try {
  await secrets.get('test://a', { timeoutMs: 200 });
  console.log('resolved');
} catch (err) {
  console.log('rejected ' + err.code);
  process.exitCode = 3;
}
${esm ? '' : '})();'}
`;

describe('the timeout timer keeps the process alive while awaited', () => {
  it.each([
    ['ESM', ['--input-type=module']],
    ['CommonJS', ['--input-type=commonjs']],
  ])('%s', async (kind, flags) => {
    const result = await run(process.execPath, ['--import', 'tsx', ...flags, '-e', CHILD(kind === 'ESM')], { cwd: ROOT, timeout: 60_000 }).then(
      (r) => ({ code: 0, stdout: r.stdout }),
      (e: { code: number; stdout: string }) => ({ code: e.code, stdout: e.stdout }),
    );
    expect(result).toEqual({ code: 3, stdout: 'rejected ABORTED\n' });
  });
});
