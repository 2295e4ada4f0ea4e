// The PostgreSQL fleet bus against the machine's PostgreSQL (127.0.0.1:5432, trust, db `test`).
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import type { FleetBus, FleetEvent } from '../../src/fleet/bus.js';
import { fleetBusFromUrl } from '../../src/fleet/fromUrl.js';
import { postgresBus, type PostgresFleetBus } from '../../src/fleet/postgresBus.js';
import { until } from '../helpers.js';
import { dropTable, PG_URL, uniqueNames } from './helpers.js';

const ROOT = resolve(import.meta.dirname, '../..');
const cleanup: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step().catch(() => undefined);
});

function track<T extends FleetBus | pg.Pool | pg.Client>(thing: T): T {
  cleanup.push(() => ('close' in thing ? thing.close() : thing.end()));
  return thing;
}

function names() {
  const n = uniqueNames();
  cleanup.push(() => dropTable(n.table));
  return n;
}

function collect(bus: FleetBus): FleetEvent[] {
  const seen: FleetEvent[] = [];
  bus.subscribe((e) => seen.push(e));
  return seen;
}

const rotated = (i: number) => ({ type: 'rotated' as const, ref: `local://svc-${i}`, version: String(i) });

describe('postgresBus', { timeout: 90_000 }, () => {
  it('carries events between two pools: every listener hears every event once, in id order, its own included', async () => {
    const n = names();
    const poolA = track(new pg.Pool({ connectionString: PG_URL, max: 3 }));
    const poolB = track(new pg.Pool({ connectionString: PG_URL, max: 3 }));
    const errors: unknown[] = [];
    const a = track(postgresBus({ pool: poolA, ...n, origin: 'A', onError: (e) => errors.push(e) }));
    const b = track(postgresBus({ pool: poolB, ...n, origin: 'B', onError: (e) => errors.push(e) }));
    const seenA = collect(a);
    const seenB = collect(b);
    await Promise.all([a.ready(), b.ready()]);
    // Two publishers at once, 30 events each: ids are assigned and committed in turn. (The wait is
    // a safety net for a loaded machine: each publish is a transaction with a commit flush.)
    const published = (await Promise.all([...Array.from({ length: 30 }, (_, i) => a.publish(rotated(i))), ...Array.from({ length: 30 }, (_, i) => b.publish(rotated(100 + i)))])).map((e) => e.id);
    await until(
      () => seenA.length >= 60 && seenB.length >= 60,
      () => `60 events on both (A has ${seenA.length} at ${a.position}, B ${seenB.length} at ${b.position}; errors: ${errors.map(String).join('; ') || 'none'})`,
      60_000,
    );
    await new Promise((r) => setTimeout(r, 200)); // anything extra (a duplicate) would arrive by now
    for (const seen of [seenA, seenB]) {
      expect(seen).toHaveLength(60);
      const ids = seen.map((e) => BigInt(e.id));
      for (let i = 1; i < ids.length; i++) expect(ids[i]! > ids[i - 1]!).toBe(true);
      expect(new Set(seen.map((e) => e.id))).toEqual(new Set(published));
    }
    expect(seenB.filter((e) => e.origin === 'A')).toHaveLength(30);
    const one = seenB.find((e) => e.type === 'rotated' && e.ref === 'local://svc-7')!;
    expect(one).toMatchObject({ type: 'rotated', ref: 'local://svc-7', version: '7', origin: 'A' });
    expect(Number.isNaN(Date.parse(one.at))).toBe(false);
    expect(a.position).toBe(seenA.at(-1)!.id);
  }, 90_000);

  it('stores the event before anyone hears it: the row is readable when the notification arrives', async () => {
    const n = names();
    const bus = track(postgresBus({ connectionString: PG_URL, ...n }));
    await bus.ready();
    const spy = track(new pg.Client({ connectionString: PG_URL }));
    await spy.connect();
    const reader = track(new pg.Client({ connectionString: PG_URL }));
    await reader.connect();
    await spy.query(`LISTEN "${n.channel}"`);
    const checks: Promise<{ payload: string; rows: number }>[] = [];
    spy.on('notification', (msg) => {
      checks.push(reader.query(`SELECT 1 FROM "${n.table}" WHERE id = $1`, [msg.payload]).then((r) => ({ payload: msg.payload!, rows: r.rowCount ?? 0 })));
    });
    const events = [];
    for (let i = 0; i < 20; i++) events.push(await bus.publish(rotated(i)));
    await until(() => checks.length === 20, '20 notifications', 10_000);
    const results = await Promise.all(checks);
    // The payload is the id only, and the row exists at notification time.
    expect(results.map((r) => r.payload)).toEqual(events.map((e) => e.id));
    expect(results.every((r) => r.rows === 1)).toBe(true);
  });

  it('reconnects after pg_terminate_backend of its listening connection and catches up on what was published meanwhile', async () => {
    const n = names();
    const app = `fleet_listener_${n.channel.slice(-10)}`;
    const pool = track(new pg.Pool({ connectionString: PG_URL, application_name: app, max: 2 }));
    const errors: unknown[] = [];
    // A fixed jitter: the reconnect waits 400 ms, so the events below are published while it is down.
    const listener = track(postgresBus({ pool, ...n, reconnect: { baseDelayMs: 800 }, random: () => 0.5, onError: (e) => errors.push(e) }));
    const publisher = track(postgresBus({ connectionString: PG_URL, ...n }));
    const seen = collect(listener);
    await Promise.all([listener.ready(), publisher.ready()]);
    await publisher.publish(rotated(1));
    await until(() => seen.length === 1);

    const admin = track(new pg.Client({ connectionString: PG_URL }));
    await admin.connect();
    const { rows } = await admin.query(`SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity WHERE application_name = $1 AND query LIKE '%LISTEN%' OR application_name = $1 AND state = 'idle'`, [app]);
    expect(rows.length).toBeGreaterThanOrEqual(1);
    await until(() => errors.length >= 1, 'the loss to be reported', 10_000);
    expect((errors[0] as { code?: string }).code).toBe('PROVIDER_UNAVAILABLE');
    for (let i = 2; i <= 6; i++) await publisher.publish(rotated(i));
    await until(() => seen.length === 6, 'catch-up', 15_000);
    expect(seen.map((e) => (e.type === 'rotated' ? e.version : ''))).toEqual(['1', '2', '3', '4', '5', '6']);
    // And it listens again: a new event arrives by notification.
    await publisher.publish(rotated(7));
    await until(() => seen.length === 7);
    expect(seen.at(-1)).toMatchObject({ version: '7' });
  });

  it('a listener process killed with SIGKILL and restarted resumes after the last id it handled', async () => {
    const n = names();
    const dir = await mkdtemp(join(tmpdir(), 'cs-fleet-'));
    cleanup.push(() => rm(dir, { recursive: true, force: true }));
    const positionFile = join(dir, 'position');
    const publisher = track(postgresBus({ connectionString: PG_URL, ...n }));
    await publisher.ready();
    await publisher.publish(rotated(0)); // before the listener ever ran: not for it

    const start = () => {
      const child = spawn(process.execPath, ['--import', 'tsx', 'test/fixtures/fleet/listener.ts', PG_URL, n.table, n.channel, positionFile], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
      const out = { text: '', err: '' };
      child.stdout.on('data', (c: Buffer) => (out.text += c.toString()));
      child.stderr.on('data', (c: Buffer) => (out.err += c.toString()));
      cleanup.push(async () => void child.kill('SIGKILL'));
      return { child, out };
    };
    const lines = (text: string) => text.split('\n').filter((l) => l.startsWith('event '));
    const first = start();
    await until(() => first.out.text.includes('ready '), 'child ready', 30_000);
    const sent1: FleetEvent[] = [];
    for (let i = 1; i <= 3; i++) sent1.push(await publisher.publish(rotated(i)));
    await until(() => lines(first.out.text).length === 3);
    const savedOk = async () => (await readFile(positionFile, 'utf8')) === sent1[2]!.id;
    for (let i = 0; i < 200 && !(await savedOk()); i++) await new Promise((r) => setTimeout(r, 10));
    first.child.kill('SIGKILL');
    const status = await new Promise<NodeJS.Signals | null>((r) => (first.child as ChildProcess).once('exit', (_c, s) => r(s)));
    expect(status).toBe('SIGKILL');

    const sent2: FleetEvent[] = [];
    for (let i = 4; i <= 7; i++) sent2.push(await publisher.publish(rotated(i)));
    const second = start();
    await until(() => lines(second.out.text).length === 4, 'catch-up after restart', 30_000);
    expect(lines(first.out.text)).toEqual(sent1.map((e) => `event ${e.id} rotated`));
    expect(lines(second.out.text)).toEqual(sent2.map((e) => `event ${e.id} rotated`));
    const last = await publisher.publish(rotated(8));
    await until(() => lines(second.out.text).length === 5);
    expect(lines(second.out.text).at(-1)).toBe(`event ${last.id} rotated`);
    second.child.kill('SIGTERM');
  }, 60_000);

  it('carries hostile identities and reasons intact, and refuses bodies that are not events', async () => {
    const n = names();
    const bus = track(postgresBus({ connectionString: PG_URL, ...n }));
    const seen = collect(bus);
    await bus.ready();
    const identity = `o'rders"; DROP TABLE "${n.table}"; -- ü🔑\\x00`;
    const reason = `INC-1 'quoted' "double" $$dollar$$ \u202e rtl`;
    await bus.publish({ type: 'quarantined', identity, reason });
    await bus.publish({ type: 'lifted', identity });
    await until(() => seen.length === 2);
    expect(seen[0]).toMatchObject({ type: 'quarantined', identity, reason });
    expect(seen[1]).toMatchObject({ type: 'lifted', identity });
    expect(seen[1]).not.toHaveProperty('reason');

    const refused = async (body: unknown) => (await bus.publish(body as never).catch((e: unknown) => e)) as { code?: string; message?: string };
    const value = 'hunter2-not-to-be-echoed';
    for (const body of [
      { type: 'rotated', ref: 'local://a', version: '2', value },
      { type: 'rotated', ref: value, version: '2' },
      { type: 'rotated', ref: 'local://a#password', version: '2' },
      { type: 'revoked', leaseId: '' },
      { type: 'quarantined', identity: 'a\u0000b', reason: 'x' },
      { type: 'quarantined', identity: 'x', reason: '\ud800' },
      { type: 'policy-updated', policy: { version: 1, rules: [{ name: 'r', identity: 'x', allow: ['local://a'], password: value }] } },
      { type: 'secret-value', value },
      null,
    ]) {
      const err = await refused(body);
      expect(err.code).toBe('CONFIG_INVALID');
      expect(err.message).not.toContain(value);
    }
    // A valid policy travels whole.
    const policy = { version: 1, rules: [{ name: 'orders', identity: 'orders-sync', allow: ['local://orders/*'] }] };
    await bus.publish({ type: 'policy-updated', policy });
    await until(() => seen.length === 3);
    expect(seen[2]).toMatchObject({ type: 'policy-updated', policy });
  });

  it('skips (and reports) a row written by hand that is not a valid event, and delivers the next', async () => {
    const n = names();
    const errors: unknown[] = [];
    const bus = track(postgresBus({ connectionString: PG_URL, ...n, onError: (e) => errors.push(e) }));
    const seen = collect(bus);
    await bus.ready();
    const admin = track(new pg.Client({ connectionString: PG_URL }));
    await admin.connect();
    await admin.query(`INSERT INTO "${n.table}" (type, body, at, origin) VALUES ('rotated', $1, now(), 'hand')`, [JSON.stringify({ type: 'rotated', ref: 'local://a', version: '1', value: 'leaked' })]);
    await admin.query(`NOTIFY "${n.channel}"`);
    await bus.publish(rotated(2));
    await until(() => seen.length === 1);
    expect(seen[0]).toMatchObject({ version: '2' });
    expect(errors.some((e) => (e as Error).message.includes('not a valid event'))).toBe(true);
  });

  it('creates its table once when many buses start at the same moment', async () => {
    const n = names();
    const buses = Array.from({ length: 6 }, () => track(postgresBus({ connectionString: PG_URL, ...n })));
    await Promise.all(buses.map((b) => b.ready()));
    const seen = buses.map(collect);
    await buses[0]!.publish(rotated(1));
    await until(() => seen.every((s) => s.length === 1));
  });

  it('a read of many events across a digit boundary (9 to 10, 99 to 100) delivers them in numeric id order, none skipped', async () => {
    const n = names();
    const first = track(postgresBus({ connectionString: PG_URL, ...n }));
    await first.ready();
    for (let i = 0; i < 105; i++) await first.publish(rotated(i));
    // One catch-up read takes them all: sorted as text, "10" would come before "9" and 2..9 be skipped.
    const late = track(postgresBus({ connectionString: PG_URL, ...n, from: 'start' }));
    const seen = collect(late);
    await late.ready();
    await until(() => late.position === '105');
    await new Promise((r) => setTimeout(r, 100));
    expect(seen.map((e) => e.id)).toEqual(Array.from({ length: 105 }, (_, i) => String(i + 1)));
  });

  it("from 'start' replays the table; a bad option is a ConfigError; close is idempotent and never leaks the URL", async () => {
    const n = names();
    const first = track(postgresBus({ connectionString: PG_URL, ...n }));
    await first.ready();
    await first.publish(rotated(1));
    await first.publish(rotated(2));
    const late = track(postgresBus({ connectionString: PG_URL, ...n, from: 'start' }));
    const seen = collect(late);
    await late.ready();
    await until(() => seen.length === 2);
    await late.close();
    await late.close();
    await expect(late.publish(rotated(3))).rejects.toMatchObject({ code: 'CONFIG_INVALID' });

    expect(() => postgresBus({ connectionString: PG_URL, table: 'a"; drop' })).toThrow(/table must be/);
    expect(() => postgresBus({ connectionString: PG_URL, channel: '1x' })).toThrow(/channel must be/);
    expect(() => postgresBus({ connectionString: PG_URL, from: '-1' })).toThrow(/from must be/);
    expect(() => postgresBus({} as never)).toThrow(/exactly one/);
    const secretUrl = 'redis2://user:s3cr3t-pw@host/0';
    expect(() => fleetBusFromUrl(secretUrl)).toThrow(/redis2/);
    try {
      fleetBusFromUrl(secretUrl);
    } catch (err) {
      expect((err as Error).message).not.toContain('s3cr3t');
    }
    expect(() => fleetBusFromUrl('not a url s3cr3t')).toThrow(/not a URL/);
    // A wrong login never connects: ready() rejects instead of retrying forever.
    const bad = track(fleetBusFromUrl(`postgres://no_such_role_x@127.0.0.1:5432/no_such_db_x?table=${n.table}`) as PostgresFleetBus);
    await expect(bad.ready()).rejects.toMatchObject({ code: 'PROVIDER_UNAVAILABLE' });
  });

  it('fleetBusFromUrl takes channel and table from the URL', async () => {
    const n = names();
    const a = track(fleetBusFromUrl(`${PG_URL}?channel=${n.channel}&table=${n.table}`));
    const b = track(postgresBus({ connectionString: PG_URL, ...n }));
    const seen = collect(b);
    await Promise.all([a.ready(), b.ready()]);
    expect(a.name).toBe('postgres');
    await a.publish(rotated(5));
    await until(() => seen.length === 1);
  });
});
