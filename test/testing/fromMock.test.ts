import { afterEach, describe, expect, it, vi } from 'vitest';
import { createSecrets } from '../../src/client.js';
import { fromMock } from '../../src/testing/fromMock.js';
import { fakeClock, generated } from '../helpers.js';

afterEach(() => {
  vi.useRealTimers();
});

describe('fromMock', () => {
  it('answers any scheme by default, with versions that grow on set and rotate', async () => {
    const mock = fromMock();
    const [a, b] = [generated(), generated()];
    mock.set('vault://kv/dev/orders-db#ignored', a);
    const secrets = createSecrets({ environment: 'dev', providers: [mock], cache: false });
    const first = await secrets.get('vault://kv/dev/orders-db');
    expect([first.reveal(), first.version]).toEqual([a, '1']);
    await mock.rotate('vault://kv/dev/orders-db', b);
    const second = await secrets.get('vault://kv/dev/orders-db');
    expect([second.reveal(), second.version]).toEqual([b, '2']);
  });

  it('fails as told, for a number of times, per ref or everywhere', async () => {
    const mock = fromMock();
    mock.set('secret://a', generated());
    mock.set('secret://b', generated());
    mock.fail('secret://a', 'denied', { times: 1 });
    mock.fail('*', 'throttled', { times: 1 });
    const secrets = createSecrets({ environment: 'dev', providers: [mock], cache: false });
    await expect(secrets.get('secret://a')).rejects.toMatchObject({ code: 'ACCESS_DENIED' });
    await expect(secrets.get('secret://a')).rejects.toMatchObject({ code: 'PROVIDER_UNAVAILABLE', throttled: true });
    await expect(secrets.get('secret://b')).resolves.toBeDefined();
    mock.fail('secret://b', 'not-found');
    await expect(secrets.get('secret://b')).rejects.toMatchObject({ code: 'SECRET_NOT_FOUND' });
    mock.clearFailures();
    await expect(secrets.get('secret://b')).resolves.toBeDefined();
  });

  it('counts calls per ref', async () => {
    const mock = fromMock();
    mock.set('secret://a', generated());
    const secrets = createSecrets({ environment: 'dev', providers: [mock], cache: false });
    await secrets.get('secret://a');
    await secrets.get('secret://a#x').catch(() => {});
    await secrets.get('secret://b').catch(() => {});
    expect([mock.calls, mock.callsFor('secret://a'), mock.callsFor('secret://b')]).toEqual([3, 2, 1]);
    mock.resetCalls();
    expect(mock.calls).toBe(0);
  });

  it('delays answers with setTimeout, so fake timers control them', async () => {
    vi.useFakeTimers();
    const mock = fromMock();
    mock.set('secret://a', generated());
    mock.delay(1000);
    const secrets = createSecrets({ environment: 'dev', providers: [mock] });
    let done = false;
    const p = secrets.get('secret://a').then(() => (done = true));
    await vi.advanceTimersByTimeAsync(999);
    expect(done).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    await p;
    expect(done).toBe(true);
  });

  it('issues values with expiresAt from the client clock when given a ttl', async () => {
    const clock = fakeClock();
    const mock = fromMock();
    mock.set('secret://a', generated(), { ttlMs: 60_000, metadata: { environment: 'dev' } });
    const s = await createSecrets({ environment: 'dev', providers: [mock], now: clock.now }).get('secret://a');
    expect(s.expiresAt?.getTime()).toBe(clock.now() + 60_000);
    expect(s.metadata.environment).toBe('dev');
  });
});
