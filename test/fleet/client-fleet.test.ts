// createSecrets({ fleet }): two clients, each on its own bus and pool, sharing a local store file
// and the machine's PostgreSQL; what one does, the other hears and applies.
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { callbackAuditSink } from '../../src/audit/callbackAuditSink.js';
import type { AuditEvent } from '../../src/audit/event.js';
import { createSecrets, type SecretsClient } from '../../src/client.js';
import type { FleetBus, FleetEvent } from '../../src/fleet/bus.js';
import { postgresBus } from '../../src/fleet/postgresBus.js';
import type { SecretProvider } from '../../src/provider.js';
import { fromLocalStore } from '../../src/providers/fromLocalStore.js';
import { fromMock } from '../../src/testing/fromMock.js';
import { until } from '../helpers.js';
import { dropTable, PG_URL, uniqueNames } from './helpers.js';

const cleanup: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step().catch(() => undefined);
});
const REF = 'local://orders-api';

async function setup() {
  const n = uniqueNames('client');
  cleanup.push(() => dropTable(n.table));
  const dir = await mkdtemp(join(tmpdir(), 'cs-fleet-client-'));
  cleanup.push(() => rm(dir, { recursive: true, force: true }));
  const key = randomBytes(32);
  const path = join(dir, 'dev.enc.json');
  const seed = fromLocalStore({ path, key, environment: 'dev' });
  await seed.init();
  const first = randomBytes(18).toString('base64url');
  await seed.set('orders-api', first);
  const make = (identity: string, extra: { provider?: (p: SecretProvider) => SecretProvider; audit?: AuditEvent[] } = {}) => {
    const pool = new pg.Pool({ connectionString: PG_URL, max: 3 });
    const bus = postgresBus({ pool, ...n });
    const store = fromLocalStore({ path, key, environment: 'dev' });
    const secrets = createSecrets({
      environment: 'dev',
      identity,
      providers: [extra.provider ? extra.provider(store) : store],
      fleet: bus,
      ...(extra.audit ? { audit: callbackAuditSink((e) => void extra.audit!.push(e)) } : {}),
    });
    cleanup.push(() => pool.end());
    cleanup.push(() => bus.close());
    cleanup.push(() => secrets.close());
    const heard: FleetEvent[] = [];
    secrets.on('fleet', (e) => heard.push(e));
    return { bus, secrets, heard };
  };
  return { n, first, make };
}

/** Resolves with the next event the client applied. */
function nextApplied(secrets: SecretsClient): Promise<FleetEvent> {
  return new Promise((resolve) => {
    const off = secrets.on('fleet', (e) => {
      off();
      resolve(e);
    });
  });
}

describe('createSecrets({ fleet })', { timeout: 90_000 }, () => {
  it("a rotation in A reaches B: B's next get returns the new value, B's handle emits rotated; A does not apply its own event", async () => {
    const { first, make } = await setup();
    const a = make('rotator');
    const b = make('worker');
    expect((await b.secrets.get(REF)).reveal()).toBe(first); // cached for 5 minutes
    const handle = b.secrets.handle(REF);
    expect((await handle.get()).reveal()).toBe(first);
    const rotations: string[] = [];
    handle.onRotate((next) => rotations.push(next.reveal()));

    const applied = nextApplied(b.secrets);
    const result = await a.secrets.rotate(REF, { generate: { length: 32 } });
    const event = await applied;
    expect(event).toMatchObject({ type: 'rotated', ref: REF, version: result.version, origin: a.bus.origin });
    const now = (await a.secrets.get(REF)).reveal();
    expect(now).not.toBe(first);
    expect((await b.secrets.get(REF)).reveal()).toBe(now);
    await until(() => rotations.length === 1, 'the handle to rotate', 10_000);
    expect(rotations).toEqual([now]);
    expect((await handle.get()).reveal()).toBe(now);
    expect(a.heard).toEqual([]);
  });

  it('never serves the old value after hearing rotated: not from the cache, not from a fetch that was in flight', async () => {
    const { first, make } = await setup();
    const a = make('rotator');
    // B's store answers only when the test lets it: a fetch can be held in flight across the event.
    let gate: (() => void) | undefined;
    const b = make('worker', {
      provider: (store) => ({
        ...store,
        name: store.name,
        schemes: store.schemes,
        resolve: async (ref, ctx) => {
          const answer = await store.resolve(ref, ctx);
          if (gate !== undefined) await new Promise<void>((r) => (gate = r));
          return answer;
        },
      }),
    });
    await b.secrets.get(REF); // warm the cache
    gate = () => {};
    b.secrets.invalidate(REF);
    const inFlight = b.secrets.get(REF); // reads the old value, then waits
    await until(() => gate !== undefined && gate.toString() !== '() => {}', 'the fetch to be held', 5_000);
    const release = gate;
    gate = undefined;
    // Read synchronously inside the bus delivery, after the client's own listener: the first
    // get that starts once the event is heard.
    let afterEvent: Promise<string> | undefined;
    b.bus.subscribe((e) => {
      if (e.type === 'rotated') afterEvent ??= b.secrets.get(REF).then((s) => s.reveal());
    });
    await a.secrets.rotate(REF, { generate: { length: 32 } });
    await until(() => afterEvent !== undefined, 'B to hear the rotation', 10_000);
    const now = (await a.secrets.get(REF)).reveal();
    expect(await afterEvent).toBe(now);
    release();
    // The fetch that began before the event hands its caller the old value, and does not cache it.
    expect((await inFlight).reveal()).toBe(first);
    expect((await b.secrets.get(REF)).reveal()).toBe(now);
  });

  it('a quarantine in A stops B when B runs as that identity: audited in B, not published again; lift undoes it', async () => {
    const { n, make } = await setup();
    const auditB: AuditEvent[] = [];
    const a = make('incident-responder');
    const b = make('orders-sync', { audit: auditB });
    await b.secrets.get(REF);
    const handle = b.secrets.handle(REF);
    await handle.get();

    const applied = nextApplied(b.secrets);
    await a.secrets.quarantine('orders-sync', { reason: "INC-7 'token in a paste'" });
    await applied;
    expect(b.secrets.isQuarantined('orders-sync')).toBe(true);
    await expect(b.secrets.get(REF)).rejects.toMatchObject({ code: 'IDENTITY_QUARANTINED' });
    await expect(handle.get()).rejects.toThrow(); // closed by the quarantine
    await until(() => auditB.some((e) => e.action === 'quarantine'), 'the audit record', 5_000);
    expect(auditB.find((e) => e.action === 'quarantine')!.reason).toMatch(/identity orders-sync quarantined \(fleet event \d+ from .+\): INC-7/);

    const lifted = nextApplied(b.secrets);
    await a.secrets.lift('orders-sync', { reason: 'INC-7 closed' });
    await lifted;
    expect((await b.secrets.get(REF)).reveal()).toBeTypeOf('string');

    // Exactly one quarantined and one lifted event: B applied them without publishing them again.
    const client = new pg.Client({ connectionString: PG_URL });
    await client.connect();
    const { rows } = await client.query(`SELECT type, origin FROM "${n.table}" ORDER BY id`);
    await client.end();
    expect(rows).toEqual([
      { type: 'quarantined', origin: a.bus.origin },
      { type: 'lifted', origin: a.bus.origin },
    ]);
  });

  it('policy-updated replaces the policy (audited); revoked(leaseId) drops the cache entry and the handle holding the lease', async () => {
    const { n, make } = await setup();
    const auditB: AuditEvent[] = [];
    const b = make('orders-sync', { audit: auditB });
    const publisher = postgresBus({ connectionString: PG_URL, ...n });
    cleanup.push(() => publisher.close());
    await publisher.ready();
    await b.secrets.get(REF);

    const denied = nextApplied(b.secrets);
    await publisher.publish({ type: 'policy-updated', policy: { version: 1, rules: [{ name: 'only-billing', identity: 'orders-sync', allow: ['local://billing/*'] }] } });
    await denied;
    await expect(b.secrets.get(REF)).rejects.toMatchObject({ code: 'POLICY_DENIED' });
    await until(() => auditB.some((e) => e.action === 'policy-update'));
    expect(auditB.find((e) => e.action === 'policy-update')).toMatchObject({ outcome: 'success' });
    const allowed = nextApplied(b.secrets);
    await publisher.publish({ type: 'policy-updated', policy: { version: 1, rules: [{ name: 'orders', identity: 'orders-sync', allow: ['local://orders-api'] }] } });
    await allowed;
    expect((await b.secrets.get(REF)).reveal()).toBeTypeOf('string');

    // Leases: a mock dynamic credential in a client of its own on the same bus.
    const mock = fromMock({ schemes: ['dyn'] });
    mock.lease('dyn://db/creds', { ttlMs: 3_600_000, issue: (i) => `cred-${i}-${randomBytes(8).toString('hex')}` });
    const pool = new pg.Pool({ connectionString: PG_URL, max: 2 });
    cleanup.push(() => pool.end());
    const bus = postgresBus({ pool, ...n });
    cleanup.push(() => bus.close());
    const c = createSecrets({ environment: 'dev', providers: [mock], fleet: bus });
    cleanup.push(() => c.close());
    const handle = c.handle('dyn://db/creds');
    const one = (await handle.get()).reveal();
    const got = (await c.get('dyn://db/creds')).reveal();
    expect(got).toBe(one); // the handle's fetch filled the cache
    const rotated: string[] = [];
    handle.onRotate((next) => rotated.push(next.reveal()));
    const lease = mock.leases[0]!.id;
    const revoked = nextApplied(c);
    await publisher.publish({ type: 'revoked', leaseId: lease });
    await revoked;
    const fresh = (await c.get('dyn://db/creds')).reveal();
    expect(fresh).not.toBe(one);
    await until(() => rotated.length === 1, 'the handle to replace the revoked credential', 10_000);
    expect(rotated[0]).not.toBe(one);
    // An unknown lease id changes nothing.
    const quiet = nextApplied(c);
    await publisher.publish({ type: 'revoked', leaseId: 'no-such-lease' });
    await quiet;
    expect((await c.get('dyn://db/creds')).reveal()).toBe(fresh);
  });

  it('close() leaves the bus open (the caller owns it); a bus that can never connect fails accesses', async () => {
    const { make } = await setup();
    const a = make('x');
    await a.secrets.get(REF);
    await a.secrets.close();
    const e = await a.bus.publish({ type: 'lifted', identity: 'x' });
    expect(e.id).toMatch(/^\d+$/);

    const bad: FleetBus = postgresBus({ connectionString: 'postgres://no_such_role_y@127.0.0.1:5432/test', table: 'unused_t' });
    cleanup.push(() => bad.close());
    const dir = await mkdtemp(join(tmpdir(), 'cs-fleet-bad-'));
    cleanup.push(() => rm(dir, { recursive: true, force: true }));
    const s = createSecrets({ environment: 'dev', providers: [fromMock({ schemes: ['m'] })], fleet: bad });
    cleanup.push(() => s.close());
    await expect(s.get('m://a')).rejects.toMatchObject({ code: 'PROVIDER_UNAVAILABLE' });
    expect(() => createSecrets({ environment: 'dev', providers: [fromMock()], fleet: {} as never })).toThrow(/fleet must be a fleet bus/);
  });
});
