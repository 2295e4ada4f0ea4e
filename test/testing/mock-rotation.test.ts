import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createSecrets } from '../../src/client.js';
import { fromMock } from '../../src/testing/fromMock.js';
import { generated } from '../helpers.js';

const REF = 'vault://kv/dev/orders-api';

describe('mock.rotate and mock.set reach running handles and the cache', () => {
  it('a handle emits rotated and serves the new value at once, long before its ttlMs', async () => {
    const mock = fromMock();
    const first = generated();
    mock.set(REF, first);
    const secrets = createSecrets({ environment: 'dev', providers: [mock] });
    const handle = secrets.handle(REF, { ttlMs: 300_000 });
    const rotations: [string, string][] = [];
    handle.onRotate((next, prev) => rotations.push([next.reveal(), prev.reveal()]));
    expect((await handle.get()).reveal()).toBe(first);
    const second = generated();
    await mock.rotate(REF, second);
    expect((await handle.get()).reveal()).toBe(second);
    expect(rotations).toEqual([[second, first]]);
    // The client's cache was told too.
    expect((await secrets.get(REF)).reveal()).toBe(second);
    await secrets.close();
  });

  it('set notifies as well, and rotate takes objects like set (JSON secrets with a schema)', async () => {
    const mock = fromMock();
    const schema = z.object({ username: z.string(), password: z.string() });
    mock.set(REF, { username: 'etl', password: generated() });
    const secrets = createSecrets({ environment: 'dev', providers: [mock] });
    const handle = secrets.handle(REF, { schema });
    await handle.get();
    const password = generated();
    await mock.rotate(REF, { username: 'etl', password });
    expect((await handle.get()).reveal().password).toBe(password);
    const again = generated();
    mock.set(REF, { username: 'etl', password: again });
    expect((await handle.get()).reveal().password).toBe(again);
    await secrets.close();
  });

  it('a rotation the handle cannot read yet (outage) keeps serving the current value and reports refresh-error', async () => {
    const mock = fromMock();
    const first = generated();
    mock.set(REF, first);
    const secrets = createSecrets({ environment: 'dev', providers: [mock] });
    const handle = secrets.handle(REF, { random: () => 0.5 });
    const errors: unknown[] = [];
    handle.on('refresh-error', (e) => errors.push(e));
    await handle.get();
    mock.fail(REF, 'unavailable', { times: 1 });
    await mock.rotate(REF, generated());
    expect((await handle.get()).reveal()).toBe(first);
    expect(errors).toMatchObject([{ code: 'PROVIDER_UNAVAILABLE' }]);
    await secrets.close();
  });

  it('a closed client stops listening', async () => {
    const mock = fromMock();
    mock.set(REF, generated());
    const secrets = createSecrets({ environment: 'dev', providers: [mock] });
    await secrets.get(REF);
    await secrets.close();
    mock.resetCalls();
    await mock.rotate(REF, generated());
    expect(mock.calls).toBe(0);
  });
});
