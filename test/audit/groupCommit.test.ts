import { describe, expect, it } from 'vitest';
import { GroupCommit } from '../../src/audit/groupCommit.js';

/** A flush that records each batch and can be held open until released. */
function recorder() {
  const batches: number[][] = [];
  const gates: (() => void)[] = [];
  let hold = false;
  const flush = async (items: number[]) => {
    batches.push(items);
    if (hold) await new Promise<void>((release) => gates.push(release));
  };
  return {
    batches,
    flush,
    hold: () => void (hold = true),
    release: () => {
      hold = false;
      for (const g of gates.splice(0)) g();
    },
  };
}

const tick = () => new Promise<void>((r) => setImmediate(r));

describe('GroupCommit', () => {
  it('pushes of one turn share the first flush; pushes during a flush share the next, in order', async () => {
    const r = recorder();
    const gc = new GroupCommit(r.flush);
    r.hold();
    const first = [1, 2, 3].map((n) => gc.push(n));
    await tick();
    expect(r.batches).toEqual([[1, 2, 3]]);
    const second = [4, 5, 6, 7].map((n) => gc.push(n));
    await tick();
    expect(r.batches).toHaveLength(1); // one flush at a time
    r.release();
    await Promise.all(first);
    await tick();
    r.release();
    await Promise.all(second);
    expect(r.batches).toEqual([[1, 2, 3], [4, 5, 6, 7]]);
  });

  it('a pusher waits for the flush holding its item, not for later ones', async () => {
    const r = recorder();
    const gc = new GroupCommit(r.flush);
    r.hold();
    let firstDone = false;
    const first = gc.push(1).then(() => void (firstDone = true));
    await tick();
    const second = gc.push(2);
    r.release(); // releases the first flush only
    r.hold();
    await first;
    expect(firstDone).toBe(true);
    await tick();
    expect(r.batches).toEqual([[1], [2]]);
    r.release();
    await second;
  });

  it('a failed flush rejects every pusher of that batch and no other', async () => {
    const batches: number[][] = [];
    const gates: (() => void)[] = [];
    const gc = new GroupCommit<number>(async (items) => {
      batches.push(items);
      await new Promise<void>((open) => gates.push(open));
      if (items.includes(3)) throw new Error('flush failed');
    });
    const a = gc.push(1);
    await tick();
    const failed = Promise.allSettled([2, 3, 4].map((n) => gc.push(n)));
    gates.shift()!(); // [1] ends; [2, 3, 4] starts a turn later
    await a;
    await tick();
    const later = gc.push(5); // arrives while [2, 3, 4] is in flight
    gates.shift()!();
    expect((await failed).map((s) => s.status)).toEqual(['rejected', 'rejected', 'rejected']);
    await tick();
    gates.shift()!();
    await later;
    expect(batches).toEqual([[1], [2, 3, 4], [5]]);
  });

  it('callers released by a flush share the next one with what arrived during it (no half-size batches taking turns)', async () => {
    // Each of 8 callers awaits its item, then pushes its next one at once, as audited gets do.
    const r = recorder();
    const gc = new GroupCommit(r.flush);
    r.hold();
    let next = 0;
    const caller = async (rounds: number) => {
      for (let k = 0; k < rounds; k++) await gc.push(next++);
    };
    const callers = [caller(3), caller(3), caller(3), caller(3)];
    await tick();
    // Four more arrive while the first flush is held.
    const late = [caller(2), caller(2), caller(2), caller(2)];
    await tick();
    r.release();
    await Promise.all([...callers, ...late]);
    // Batch 1: the first four; then the late four and the four just released, together, twice.
    expect(r.batches.map((b) => b.length)).toEqual([4, 8, 8]);
  });

  it('back-pressure: a flush takes at most maxBatch items; the rest wait in order', async () => {
    const r = recorder();
    const gc = new GroupCommit(r.flush, 2);
    await Promise.all([1, 2, 3, 4, 5].map((n) => gc.push(n)));
    expect(r.batches).toEqual([[1, 2], [3, 4], [5]]);
    expect(() => new GroupCommit(r.flush, 0)).toThrow(/maxBatch/);
  });

  it('drain settles once everything pushed so far is flushed', async () => {
    const r = recorder();
    const gc = new GroupCommit(r.flush);
    await gc.drain();
    void gc.push(1);
    void gc.push(2);
    await gc.drain();
    expect(r.batches).toEqual([[1, 2]]);
  });

  describe('with a sync stage (fdatasync)', () => {
    /** A write and a sync that log what they did, in order; syncs are held until released one by one. */
    function stages() {
      const log: string[] = [];
      const syncGates: ((err?: Error) => void)[] = [];
      let n = 0;
      return {
        log,
        write: async (items: number[]) => {
          log.push(`write ${items.join(',')}`);
        },
        sync: () =>
          new Promise<void>((resolve, reject) => {
            const id = ++n;
            log.push(`sync ${id}`);
            syncGates.push((err) => {
              log.push(`synced ${id}${err ? ' (failed)' : ''}`);
              if (err) reject(err);
              else resolve();
            });
          }),
        release: (err?: Error) => syncGates.shift()!(err),
        pending: () => syncGates.length,
      };
    }

    it('a pusher settles only after a sync that began once its batch was written; the next batch is written while that sync runs', async () => {
      const s = stages();
      const gc = new GroupCommit(s.write, undefined, s.sync);
      const settled: number[] = [];
      const all = [1, 2, 3, 4].map((n) => gc.push(n).then(() => void settled.push(n)));
      await tick();
      // Half first, so that the halves take turns; the other half is written while the first syncs.
      expect(s.log).toEqual(['write 1,2', 'sync 1', 'write 3,4']);
      expect(settled).toEqual([]);
      s.release();
      await tick();
      expect(settled).toEqual([1, 2]); // 3 and 4 were written after sync 1 began: they wait for sync 2
      expect(s.log.slice(3)).toEqual(['synced 1', 'sync 2']);
      s.release();
      await Promise.all(all);
      expect(settled).toEqual([1, 2, 3, 4]);
    });

    it('callers released by one sync push while the other half syncs: two batches take turns, at most two in flight', async () => {
      const s = stages();
      const gc = new GroupCommit(s.write, undefined, s.sync);
      let next = 0;
      const caller = async (rounds: number) => {
        for (let k = 0; k < rounds; k++) await gc.push(next++);
      };
      const callers = Array.from({ length: 8 }, () => caller(3));
      // Release syncs one at a time, checking that no third batch is written before one settles.
      for (let i = 0; i < 6; i++) {
        await tick();
        await tick();
        const writes = s.log.filter((l) => l.startsWith('write')).length;
        const synced = s.log.filter((l) => l.startsWith('synced')).length;
        expect(writes - synced).toBeLessThanOrEqual(2);
        s.release();
      }
      await Promise.all(callers);
      const batches = s.log.filter((l) => l.startsWith('write')).map((l) => l.slice(6).split(',').length);
      expect(batches).toEqual([4, 4, 4, 4, 4, 4]);
      // Every write after the first happens while the other batch's sync is in flight.
      let open = 0;
      for (const [i, line] of s.log.entries()) {
        if (line.startsWith('sync ')) open += 1;
        if (line.startsWith('synced')) open -= 1;
        if (line.startsWith('write') && i > 0) expect(open, `${line} at ${i}`).toBe(1);
      }
    });

    it('a failed sync rejects every pusher of the batches it covered, and no other', async () => {
      const s = stages();
      const gc = new GroupCommit(s.write, undefined, s.sync);
      const states: Record<number, string> = {};
      const track = (n: number) =>
        gc.push(n).then(
          () => void (states[n] = 'ok'),
          () => void (states[n] = 'rejected'),
        );
      const all = [1, 2, 3, 4].map(track);
      await tick();
      expect(s.log).toEqual(['write 1,2', 'sync 1', 'write 3,4']);
      s.release(new Error('fdatasync failed'));
      await tick();
      expect(states).toEqual({ 1: 'rejected', 2: 'rejected' }); // 3 and 4 were written after sync 1 began: sync 2 decides
      s.release();
      await Promise.all(all);
      expect(states).toEqual({ 1: 'rejected', 2: 'rejected', 3: 'ok', 4: 'ok' });
    });

    it('drain waits for the sync of everything pushed so far', async () => {
      const s = stages();
      const gc = new GroupCommit(s.write, undefined, s.sync);
      void gc.push(1);
      let drained = false;
      const d = gc.drain().then(() => void (drained = true));
      await tick();
      expect(drained).toBe(false);
      s.release();
      await d;
      expect(drained).toBe(true);
    });
  });
});
