// The catch-up read loop both fleet buses use: reads run one at a time and no kick is ever lost.
import { describe, expect, it } from 'vitest';
import { CatchUp } from '../../src/fleet/catchUp.js';

function deferred<T>() {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => ((resolve = res), (reject = rej)));
  return { promise, resolve, reject };
}

const turn = () => new Promise((r) => setImmediate(r));

describe('CatchUp', () => {
  it('a kick while a read fails (a reconnect kicking while the dead connection reports) gets its own read', async () => {
    const reads: ReturnType<typeof deferred<boolean>>[] = [];
    const c = new CatchUp(
      () => {
        const d = deferred<boolean>();
        reads.push(d);
        return d.promise;
      },
      () => true,
      () => undefined,
    );
    c.kick();
    expect(reads).toHaveLength(1);
    c.kick(); // arrives while the first read runs: no second read at once
    expect(reads).toHaveLength(1);
    reads[0]!.resolve(false); // the first read ends early (its connection was lost)
    await turn();
    expect(reads).toHaveLength(2); // the kick that came meanwhile was not dropped
    reads[1]!.resolve(false);
    await turn();
    expect(reads).toHaveLength(2); // and nothing more without a kick
  });

  it('reads again at once after a full batch, stops when closed, and reports a rejected read without losing later kicks', async () => {
    let open = true;
    const errors: unknown[] = [];
    const results = [true, true, false];
    let n = 0;
    const c = new CatchUp(
      async () => results[n++] ?? false,
      () => open,
      (e) => errors.push(e),
    );
    c.kick();
    await turn();
    expect(n).toBe(3);

    const failing = new CatchUp(
      async () => {
        throw new Error('boom');
      },
      () => open,
      (e) => errors.push(e),
    );
    failing.kick();
    await turn();
    expect(errors).toHaveLength(1);
    failing.kick(); // the loop is not wedged by the rejection
    await turn();
    expect(errors).toHaveLength(2);

    open = false;
    c.kick();
    await turn();
    expect(n).toBe(3);
  });
});
