// The test suite of the example connector: copy it. It runs twice, under the library's test
// clock (`createTestClock()`, passed to createSecrets) and under vitest's fake timers (no clock
// passed: the library's timers are the globals vitest replaces). Both drive every wait the
// library makes: handle refreshes, expiry, retry pauses.
import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createSecrets, type SecretsClient } from '../../src/index.js';
import {
  collectRedactorWarnings,
  createTestClock,
  expectNoSecrets,
  fromMock,
  type CollectedWarnings,
  type MockProvider,
} from '../../src/testing/index.js';
import { ordersSecrets, syncOrders, type OrdersDeps } from './connector.js';

const START = Date.UTC(2026, 0, 1, 9, 0, 0);
const HOUR = 3_600_000;
const DB = 'vault://kv/dev/orders-db';
const API = 'vault://kv/dev/orders-api';
/** Test data is generated, never pasted. */
const generated = () => randomBytes(18).toString('base64url');

interface TimeMode {
  readonly name: string;
  /** Extra createSecrets options (the clock), after the mode is set up. */
  setup(): { clock?: ReturnType<typeof createTestClock> };
  advance(ms: number): Promise<void>;
  teardown(): void;
}

const testClock = (): TimeMode => {
  let clock = createTestClock({ now: START });
  return {
    name: 'createTestClock()',
    setup: () => ((clock = createTestClock({ now: START })), { clock }),
    advance: (ms) => clock.advance(ms),
    teardown: () => {},
  };
};

const fakeTimers = (): TimeMode => ({
  name: 'vi.useFakeTimers()',
  setup: () => (vi.useFakeTimers({ now: START }), {}),
  advance: async (ms) => void (await vi.advanceTimersByTimeAsync(ms)),
  teardown: () => vi.useRealTimers(),
});

describe.each([testClock(), fakeTimers()])('orders connector under $name', (mode) => {
  let mock: MockProvider;
  let secrets: SecretsClient;
  let logs: string[];
  let warnings: CollectedWarnings;
  let login: { username: string; password: string; host: string };
  let token: string;

  beforeEach(() => {
    const { clock } = mode.setup();
    warnings = collectRedactorWarnings();
    mock = fromMock();
    login = { username: 'etl_writer', password: generated(), host: 'db.internal' };
    token = generated();
    mock.set(DB, login);
    mock.set(API, { token }, { ttlMs: HOUR }); // a short-lived token: it expires an hour after each read
    logs = [];
    secrets = createSecrets({
      environment: 'dev',
      providers: [mock],
      ...(clock === undefined ? {} : { clock }),
      logger: { destination: { write: (line) => logs.push(line) } },
    });
  });

  afterEach(async () => {
    await secrets.close();
    warnings.stop();
    mode.teardown();
  });

  /** An API that accepts only `accepted()` and serves two pages. */
  function api(accepted: () => string): OrdersDeps & { seen: string[] } {
    const seen: string[] = [];
    return {
      seen,
      fetchPage: async (t, page) => {
        seen.push(t);
        if (t !== accepted()) throw Object.assign(new Error('401 Unauthorized'), { status: 401 });
        return { rows: [{ id: `o-${page}-1` }, { id: `o-${page}-2` }], next: page === 0 ? 1 : undefined };
      },
      writeRows: async () => {},
    };
  }

  it('syncs with the manifest’s login and token, and no secret reaches the logs', async () => {
    const deps = api(() => token);
    expect(await syncOrders(secrets, deps)).toBe(4);
    expect(logs).toHaveLength(2);
    // The leak assertion follows the redactor's rules: the username 'etl_writer' is masked too,
    // and the failure message would name the ref and position, never the value.
    const loaded = await secrets.load(ordersSecrets);
    expectNoSecrets(logs, [loaded.db, await secrets.get(`${API}#token`)]);
    expect(warnings.warnings).toEqual([]);
  });

  it('a rotation reaches the running handle at once', async () => {
    const handle = secrets.handle(ordersSecrets.specs.apiToken);
    const rotated: string[] = [];
    handle.onRotate((next) => rotated.push(next.reveal()));
    expect((await handle.get()).reveal()).toBe(token);
    const next = generated();
    await mock.rotate(API, { token: next });
    expect((await handle.get()).reveal()).toBe(next);
    expect(rotated).toEqual([next]);
    await handle.close();
  });

  it('a token the API refuses is re-read once and the page retried, after a pause the test advances', async () => {
    let refusals = 1; // the API revoked the session once (e.g. a restart): the first call is refused
    const deps = api(() => (refusals-- > 0 ? 'none' : token));
    const run = syncOrders(secrets, deps);
    // withCredential pauses up to authRetryCooldownMs (250 ms) before re-reading: a timer under
    // both clocks, so the test moves time (with authRetryCooldownMs: 0 there is no timer at all).
    await mode.advance(250);
    expect(await run).toBe(4);
    expect(deps.seen).toHaveLength(3);
    expect(mock.callsFor(API)).toBe(2); // the forced re-read past the cache
  });

  it('an outage: the token is served until it expires, then SECRET_EXPIRED names the ref', async () => {
    const handle = secrets.handle(ordersSecrets.specs.apiToken, { random: () => 0 });
    const events: string[] = [];
    handle.on('refresh-error', () => events.push('refresh-error'));
    handle.on('expired', () => events.push('expired'));
    await handle.get();
    mock.fail('*', 'unavailable');
    await mode.advance((2 * HOUR) / 3); // the refresh point: the refresh fails, the token is still valid
    expect(events[0]).toBe('refresh-error');
    expect((await handle.get()).reveal()).toBe(token);
    await mode.advance(HOUR / 3);
    expect(events.at(-1)).toBe('expired');
    const err = (await handle.get().then(
      () => undefined,
      (e: unknown) => e,
    )) as (Error & { code: string }) | undefined;
    expect(err?.code).toBe('SECRET_EXPIRED');
    expect(err?.message).toContain(`${API}#token`);
    mock.clearFailures();
    expect((await handle.get()).reveal()).toBe(token); // back once the provider is
    await handle.close();
  });

  it('the environment guard refuses a prod secret in a dev process', async () => {
    mock.set(DB, login, { metadata: { environment: 'prod' } });
    secrets.invalidate(DB);
    const err = await secrets.load(ordersSecrets).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'ENVIRONMENT_MISMATCH' });
  });
});
