import { mkdtemp, rm } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createSecrets } from '../../src/client.js';
import { callbackAuditSink } from '../../src/audit/callbackAuditSink.js';
import type { AuditEvent } from '../../src/audit/event.js';
import { fromLocalStore } from '../../src/providers/fromLocalStore.js';
import { fromMock } from '../../src/testing/fromMock.js';
import { createTestClock } from '../../src/testing/testClock.js';
import { generateSecretValue, DEFAULT_ALPHABET } from '../../src/rotation/generate.js';
import type { Secret } from '../../src/secret.js';
import { errorText, generated, rejection, scripted } from '../helpers.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cs-rotate-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A local store (real encrypted file, no `watch`) holding one entry, and a client on it that records audit events. */
async function localClient(options: { identity?: string } = {}) {
  const store = fromLocalStore({ path: join(dir, 'dev.enc.json'), key: randomBytes(32), environment: 'dev' });
  await store.init();
  const first = generated();
  await store.set('orders-api', first);
  const events: AuditEvent[] = [];
  const clock = createTestClock({ now: Date.now() });
  const secrets = createSecrets({ environment: 'dev', providers: [store], clock, identity: options.identity ?? 'orders-sync', audit: callbackAuditSink((e) => void events.push(e)) });
  return { store, first, events, secrets, clock };
}

/** Random bytes from a fixed sequence, so a generated value is known to the test. */
function counting(): (size: number) => Uint8Array {
  let n = 0;
  return (size) => Uint8Array.from({ length: size }, () => n++ % 256);
}

describe('secrets.rotate', () => {
  it('writes a new version, drops the cached copy, makes handles emit rotated, and audits versions without values', async () => {
    const { first, events, secrets } = await localClient();
    const ref = 'local://orders-api';
    expect((await secrets.get(ref)).reveal()).toBe(first);
    const handle = secrets.handle(ref);
    expect((await handle.get()).reveal()).toBe(first);
    const rotated = new Promise<[Secret<string>, Secret<string>]>((resolve) => handle.onRotate((next, prev) => resolve([next, prev])));

    const result = await secrets.rotate(ref, { generate: { length: 24 } }, { random: counting() });
    const expected = generateSecretValue({ length: 24 }, counting());
    expect(result).toMatchObject({ ref, provider: 'local', previousVersion: '1', version: '2', retired: undefined });
    // The local store does not announce its own writes: only the client's notification reaches the cache and the handle.
    expect((await secrets.get(ref)).reveal()).toBe(expected);
    const [next, prev] = await rotated;
    expect(next.reveal()).toBe(expected);
    expect(prev.reveal()).toBe(first);

    const rotation = events.find((e) => e.action === 'rotate' && e.reason?.startsWith('rotated from'));
    expect(rotation).toMatchObject({ identity: 'orders-sync', ref, outcome: 'success', version: '2', reason: 'rotated from version 1' });
    const trail = JSON.stringify(events);
    expect(trail).not.toContain(first);
    expect(trail).not.toContain(expected);
    await secrets.close();
  });

  it('writes the previous value back when verify refuses the new one, and says so without values', async () => {
    const { first, events, secrets, store } = await localClient();
    const ref = 'local://orders-api';
    const fresh = generated();
    let seen: [string, string] | undefined;
    const err = await rejection(
      secrets.rotate(ref, { value: fresh }, { verify: (next, previous) => ((seen = [next.reveal(), previous.reveal()]), false) }),
    );
    expect(seen).toEqual([fresh, first]);
    expect(err).toMatchObject({ code: 'ROTATION_FAILED', name: 'RotationFailedError', rolledBack: true });
    expect((await secrets.get(ref)).reveal()).toBe(first);
    expect((await store.list()).find((e) => e.name === 'orders-api')).toMatchObject({ currentVersion: 3 });
    expect(events.find((e) => e.action === 'rotate')).toMatchObject({ outcome: 'failure', code: 'ROTATION_FAILED', version: '2' });
    for (const text of [errorText(err), JSON.stringify(events)]) {
      expect(text).not.toContain(fresh);
      expect(text).not.toContain(first);
    }
    await secrets.close();
  });

  it('reports rolledBack: false when the previous value cannot be written back', async () => {
    let writes = 0;
    const p = scripted('writable', () => ({ value: 'previous-value-xyz', version: '7' }), {
      async rotate(_ref, value) {
        writes += 1;
        if (writes > 1) throw new Error('backend down');
        return { value, version: '8' };
      },
    });
    const secrets = createSecrets({ environment: 'dev', providers: [p] });
    const err = await rejection(secrets.rotate('test://orders-api', { value: generated() }, { verify: () => { throw new Error('login refused'); } }));
    expect(err).toMatchObject({ code: 'ROTATION_FAILED', rolledBack: false });
    expect(err.message).toMatch(/writing the previous value back failed/);
    expect(writes).toBe(2);
    await secrets.close();
  });

  it('reaches running handles through the mock, whose rotate announces itself', async () => {
    const mock = fromMock();
    const ref = 'vault://kv/dev/orders-api';
    mock.set(ref, generated());
    const secrets = createSecrets({ environment: 'dev', providers: [mock] });
    const handle = secrets.handle(ref);
    await handle.get();
    const fresh = generated();
    const rotated = new Promise<string>((resolve) => handle.onRotate((next) => resolve(next.reveal())));
    await secrets.rotate(ref, { value: fresh });
    expect(await rotated).toBe(fresh);
    await secrets.close();
  });

  it('is guarded like a get: a policy denial is audited and nothing is written', async () => {
    let writes = 0;
    const events: AuditEvent[] = [];
    const p = scripted('writable', () => ({ value: 'x'.repeat(12), version: '1' }), {
      async rotate(_ref, value) {
        writes += 1;
        return { value };
      },
    });
    const secrets = createSecrets({
      environment: 'dev',
      providers: [p],
      identity: 'orders-sync',
      policy: { version: 1, rules: [{ name: 'orders', identity: 'orders-sync', allow: ['test://orders-db/*'] }] },
      audit: callbackAuditSink((e) => void events.push(e)),
    });
    const err = await rejection(secrets.rotate('test://billing-api', { generate: { length: 16 } }));
    expect(err).toMatchObject({ code: 'POLICY_DENIED' });
    expect(writes).toBe(0);
    expect(events.at(-1)).toMatchObject({ outcome: 'denied', code: 'POLICY_DENIED', ref: 'test://billing-api' });
    await secrets.close();
  });

  it('refuses a #field, ?version=, a bad overlap and a provider that cannot write, before any provider call', async () => {
    const p = scripted('readonly', () => ({ value: 'y'.repeat(12) }));
    const secrets = createSecrets({ environment: 'dev', providers: [p] });
    await expect(secrets.rotate('test://a#password', { value: generated() })).rejects.toMatchObject({ code: 'CONFIG_INVALID', message: expect.stringMatching(/#field/) });
    await expect(secrets.rotate('test://a?version=2', { value: generated() })).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
    await expect(secrets.rotate('test://a', { value: generated() }, { overlapMs: -1 })).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
    await expect(secrets.rotate('test://a', { value: generated() })).rejects.toMatchObject({ code: 'CONFIG_INVALID', message: expect.stringMatching(/can rotate/) });
    expect(p.calls).toEqual([]);
    await secrets.close();
  });

  it('retires the previous value only after the overlap, on the client clock', async () => {
    const { secrets, clock, first } = await localClient();
    const retiredWith: string[] = [];
    const result = await secrets.rotate('local://orders-api', { generate: { length: 20 } }, { overlapMs: 60_000, retire: (prev) => void retiredWith.push(prev.reveal()) });
    await clock.advance(59_999);
    expect(retiredWith).toEqual([]);
    await clock.advance(1);
    expect(await result.retired).toBe(true);
    expect(retiredWith).toEqual([first]);
    await secrets.close();
  });
});

describe('secrets.rotate retire on close', () => {
  it('closing the client before the overlap ends cancels retire: retired is false, audited', async () => {
    const { secrets, clock, events } = await localClient();
    let ran = false;
    const result = await secrets.rotate('local://orders-api', { generate: { length: 20 } }, { overlapMs: 60_000, retire: () => void (ran = true) });
    await secrets.close();
    expect(await result.retired).toBe(false);
    await clock.advance(60_000);
    expect(ran).toBe(false);
    expect(clock.pending()).toHaveLength(0);
    expect(events.at(-1)).toMatchObject({ action: 'rotate', outcome: 'failure', code: 'ABORTED', version: '1' });
  });
});

describe('generateSecretValue', () => {
  it('draws only from the alphabet and discards bytes that would bias the draw', () => {
    // 62 characters: bytes 248..255 are past the largest multiple (248) and must be skipped.
    const value = generateSecretValue({ length: 3 }, () => Uint8Array.from([250, 255, 0, 61, 248, 62]));
    expect(value).toBe(`${DEFAULT_ALPHABET[0]}${DEFAULT_ALPHABET[61]}${DEFAULT_ALPHABET[0]}`);
    expect(generateSecretValue({ length: 64, alphabet: 'ab' })).toMatch(/^[ab]{64}$/);
  });

  it('uses crypto randomness by default (two draws differ)', () => {
    expect(generateSecretValue({ length: 32 })).not.toBe(generateSecretValue({ length: 32 }));
  });

  it('refuses a bad length or alphabet without echoing it', () => {
    expect(() => generateSecretValue({ length: 0 })).toThrow(/generate.length/);
    const alphabet = 'zzzzzzzzz';
    const err = (() => {
      try {
        generateSecretValue({ length: 4, alphabet });
      } catch (e) {
        return e as Error;
      }
      throw new Error('expected a throw');
    })();
    expect(err.message).toMatch(/2 to 256 distinct/);
    expect(err.message).not.toContain(alphabet);
  });
});
