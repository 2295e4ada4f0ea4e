// A change notice that arrives while a handle's refresh is in flight: that refresh read the
// value before the change, so joining it would leave the handle on the old credential until its
// next scheduled refresh. The handle must read again once it ends, however many notices came.
import { describe, expect, it } from 'vitest';
import { createSecrets } from '../../src/client.js';
import type { SecretProvider } from '../../src/provider.js';
import { generated } from '../helpers.js';

/** A provider that reads its value when asked and answers only when released; it announces changes. */
function slowProvider(first: string) {
  let value = first;
  const gates: (() => void)[] = [];
  const listeners = new Set<(ref: string) => void>();
  let reads = 0;
  const provider: SecretProvider = {
    name: 'slow',
    schemes: ['slow'],
    async resolve() {
      reads += 1;
      const read = value; // read at once, answered later: a fetch that straddles a change
      await new Promise<void>((release) => gates.push(release));
      return { value: read, version: read.slice(0, 6) };
    },
    watch(onChange) {
      listeners.add(onChange);
      return () => void listeners.delete(onChange);
    },
  };
  return {
    provider,
    /** Changes the value; `announce: false` tells no one (the change is learnt some other way). */
    change(next: string, { announce = true } = {}) {
      value = next;
      if (announce) for (const l of listeners) l('slow://svc/token');
    },
    release: () => gates.shift()?.(),
    pending: () => gates.length,
    reads: () => reads,
  };
}

const turn = () => new Promise((r) => setImmediate(r));

async function until(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 1000 && !cond(); i++) await turn();
  expect(cond()).toBe(true);
}

/** A client over a slow provider and a handle on it that holds its first value. */
async function holding(first: string, options: { random?: () => number } = {}) {
  const slow = slowProvider(first);
  const secrets = createSecrets({ environment: 'dev', providers: [slow.provider] });
  const handle = secrets.handle('slow://svc/token', { ttlMs: 3_600_000, ...options });
  const got = handle.get();
  await until(() => slow.pending() === 1);
  slow.release();
  expect((await got).reveal()).toBe(first);
  return { slow, secrets, handle };
}

describe('a handle told of a change while it refreshes', () => {
  it('reads again after the refresh in flight, instead of keeping what that refresh read before the change', async () => {
    const first = generated();
    const { slow, secrets, handle } = await holding(first);

    // A refresh starts and reads the current value; then the value changes and is announced.
    const refreshing = handle.refresh();
    await until(() => slow.pending() === 1);
    const second = generated();
    slow.change(second);
    slow.release(); // the refresh in flight answers with what it read: the old value
    expect((await refreshing).reveal()).toBe(first);
    // The notice is not absorbed by that refresh: one more read follows it.
    await until(() => slow.pending() === 1);
    slow.release();
    await until(() => slow.pending() === 0);
    expect((await handle.get()).reveal()).toBe(second);
    expect(slow.reads()).toBe(3);
    await secrets.close();
  });

  it('a second notice during the re-read gets a read of its own', async () => {
    const { slow, secrets, handle } = await holding(generated());

    slow.change(generated()); // the re-read starts and reads this value
    await until(() => slow.pending() === 1);
    const third = generated();
    slow.change(third); // announced while that re-read is in flight
    slow.release();
    await until(() => slow.pending() === 1);
    slow.release();
    await until(() => slow.pending() === 0);
    expect((await handle.get()).reveal()).toBe(third);
    await secrets.close();
  });

  it('refresh() called while a refresh is in flight gets a read that began after the call; callers meanwhile share it', async () => {
    const { slow, secrets, handle } = await holding(generated());
    const before = slow.reads();

    const early = handle.refresh(); // reads the value of now
    await until(() => slow.pending() === 1);
    const next = generated();
    slow.change(next, { announce: false });
    // Told out of band (say, an authentication failure elsewhere), two callers ask for a new one.
    const asked = [handle.refresh(), handle.refresh()];
    slow.release();
    await early;
    await until(() => slow.pending() === 1);
    slow.release();
    const answers = await Promise.all(asked);
    expect(answers.map((s) => s.reveal())).toEqual([next, next]);
    // One read after the early one, shared by both callers.
    expect(slow.reads() - before).toBe(2);
    await secrets.close();
  });

  it('withCredential: a refused credential is not replaced by a refresh that was already reading when it was refused', async () => {
    const first = generated();
    // No cooldown jitter (random 0): the retry reads as soon as it may.
    const { slow, secrets, handle } = await holding(first, { random: () => 0 });

    const early = handle.refresh(); // reads the credential of now
    await until(() => slow.pending() === 1);
    const next = generated();
    slow.change(next, { announce: false }); // the service now accepts only the new one
    const refused = Object.assign(new Error('authentication failed'), { code: '28P01' });
    const used: string[] = [];
    const query = handle.withCredential((c) => {
      used.push(c.reveal());
      if (c.reveal() !== next) throw refused;
      return 'rows';
    });
    await until(() => used.length === 1);
    slow.release(); // the early refresh answers with what it read before the change
    await early;
    await until(() => slow.pending() === 1);
    slow.release();
    await expect(query).resolves.toBe('rows');
    expect(used).toEqual([first, next]);
    await secrets.close();
  });
});
