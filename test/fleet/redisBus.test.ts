/**
 * The Redis fleet bus against the machine's Redis (127.0.0.1:6379) through the real ioredis
 * client. Each test uses its own channel and stream (deleted afterwards); processes are real
 * child processes; the only fake is the clock of the ready-timeout tests.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { resolve } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { FleetEvent, FleetEventBody } from '../../src/fleet/bus.js';
import { redisBus, type RedisBusOptions, type RedisFleetBus, type RedisFleetGap } from '../../src/fleet/redisBus.js';
import type { Clock } from '../../src/handles/clock.js';
import { until } from '../helpers.js';

const ROOT = resolve(import.meta.dirname, '../..');
/** The commands the Redis bus needs (the guide's ACL), besides `~<stream>` and `&<channel>`. */
const LEAST_PRIVILEGE = '+eval +exists +xadd +xinfo|stream +publish +multi +exec +xrange +subscribe +info +client|setname';
const WORKER = resolve(ROOT, 'test/fixtures/fleet/redis-worker.ts');

let admin: Redis;
const buses: RedisFleetBus[] = [];
const keys: string[] = [];
const users: string[] = [];
const children: ChildProcess[] = [];

beforeAll(async () => {
  admin = new Redis('redis://127.0.0.1:6379', { lazyConnect: true });
  await admin.connect();
});
afterEach(async () => {
  for (const child of children.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await Promise.all(buses.splice(0).map((b) => b.close()));
  if (keys.length > 0) await admin.del(...keys.splice(0));
  for (const user of users.splice(0)) await admin.call('ACL', 'DELUSER', user);
});
afterAll(async () => {
  await admin.quit();
});

/** A channel and stream no other test uses; the stream is deleted after the test. */
function names(): { channel: string; stream: string; tag: string } {
  const tag = `cs-test-${randomBytes(5).toString('hex')}`;
  keys.push(`${tag}:events`);
  return { channel: `${tag}:ch`, stream: `${tag}:events`, tag };
}

function bus(options: RedisBusOptions): RedisFleetBus {
  const b = redisBus(options);
  buses.push(b);
  return b;
}

function collect(b: RedisFleetBus): FleetEvent[] {
  const got: FleetEvent[] = [];
  b.subscribe((e) => got.push(e));
  return got;
}

/** Stream ids compare as numbers, ms then seq: '10-0' > '9-5'. */
function cmp(a: string, b: string): number {
  const [am, as] = a.split('-').map(BigInt) as [bigint, bigint];
  const [bm, bs] = b.split('-').map(BigInt) as [bigint, bigint];
  return am !== bm ? (am < bm ? -1 : 1) : as === bs ? 0 : as < bs ? -1 : 1;
}

function rotated(n: number): FleetEventBody {
  return { type: 'rotated', ref: 'vault://kv/orders-db', version: String(n) };
}

/** A loopback port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as { port: number };
  await new Promise<void>((done) => server.close(() => done()));
  return port;
}

/** A clock whose timers fire only when the test says so; `now` is real. */
function manualClock(): Clock & { fire(): void; pending(): number } {
  const timers = new Map<number, () => void>();
  let next = 0;
  return {
    now: () => Date.now(),
    setTimeout: (fn) => {
      timers.set(++next, fn);
      return next;
    },
    clearTimeout: (id) => void timers.delete(id as number),
    fire() {
      const all = [...timers.values()];
      timers.clear();
      for (const fn of all) fn();
    },
    pending: () => timers.size,
  };
}

/** An ACL user that may be switched off and on; deleted after the test. */
async function aclUser(): Promise<{ name: string; password: string; url: string; set(on: boolean): Promise<void> }> {
  const name = `cs-test-user-${randomBytes(4).toString('hex')}`;
  const password = randomBytes(12).toString('hex');
  users.push(name);
  await admin.call('ACL', 'SETUSER', name, 'on', `>${password}`, '~*', '&*', '+@all');
  return {
    name,
    password,
    url: `redis://${name}:${password}@127.0.0.1:6379`,
    set: async (on) => void (await admin.call('ACL', 'SETUSER', name, on ? 'on' : 'off')),
  };
}

/** The ids of the server's connections named `name`. */
async function connectionsNamed(name: string): Promise<string[]> {
  const list = String(await admin.call('CLIENT', 'LIST'));
  return list
    .split('\n')
    .filter((l) => l.includes(` name=${name} `))
    .map((l) => /\bid=(\d+)/.exec(l)![1]!);
}

interface Worker {
  readonly child: ChildProcess;
  readonly lines: string[];
  stderr(): string;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  events(): FleetEvent[];
}

function worker(env: Record<string, string>): Worker {
  const child = spawn(process.execPath, ['--import', 'tsx', WORKER], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  const lines: string[] = [];
  let partial = '';
  let err = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    const parts = (partial + chunk).split('\n');
    partial = parts.pop()!;
    lines.push(...parts);
  });
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => void (err += chunk));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) => child.on('close', (code, signal) => done({ code, signal })));
  return {
    child,
    lines,
    stderr: () => err,
    exited,
    events: () => lines.filter((l) => l.startsWith('event ')).map((l) => JSON.parse(l.split(' ').slice(2).join(' ')) as FleetEvent),
  };
}

describe('redisBus: delivery', () => {
  it('delivers an event to every bus on the stream, its publisher included, under the id Redis stored it with', async () => {
    const { channel, stream } = names();
    const a = bus({ channel, stream });
    const b = bus({ channel, stream });
    const [gotA, gotB] = [collect(a), collect(b)];
    await Promise.all([a.ready(), b.ready()]);
    const sent = await a.publish(rotated(7));
    await until(() => gotA.length === 1 && gotB.length === 1, 'both buses to hear the event');
    expect(gotA).toEqual([sent]);
    expect(gotB).toEqual([sent]);
    expect(sent).toMatchObject({ type: 'rotated', ref: 'vault://kv/orders-db', version: '7', origin: a.origin });
    expect(a.name).toBe('redis');
    expect(a.origin).not.toBe(b.origin);
    expect(new Date(sent.at).toISOString()).toBe(sent.at);
    const stored = await admin.xrange(stream, sent.id, sent.id);
    expect(stored).toHaveLength(1);
    expect(JSON.parse(stored[0]![1][1]!)).toEqual({ type: 'rotated', ref: 'vault://kv/orders-db', version: '7' });
    expect(b.position).toBe(sent.id);
  });

  it('a new bus without `after` starts at the stream tail: it hears what comes after ready(), not history', async () => {
    const { channel, stream } = names();
    const a = bus({ channel, stream });
    const old = await a.publish(rotated(1));
    const c = bus({ channel, stream });
    const got = collect(c);
    await c.ready();
    expect(c.position).toBe(old.id);
    const fresh = await a.publish(rotated(2));
    await until(() => got.length >= 1, 'the new event');
    const sentinel = await a.publish(rotated(3));
    await until(() => got.length >= 2, 'the sentinel');
    expect(got.map((e) => e.id)).toEqual([fresh.id, sentinel.id]);
  });

  it('concurrent publishers: each listener hears every event exactly once, in stream-id order', async () => {
    const { channel, stream } = names();
    const publishers = [bus({ channel, stream }), bus({ channel, stream }), bus({ channel, stream })];
    const listeners = [bus({ channel, stream }), bus({ channel, stream }), publishers[0]!];
    const got = listeners.map(collect);
    await Promise.all([...publishers, ...listeners].map((b) => b.ready()));
    const sent = await Promise.all(publishers.flatMap((p, i) => Array.from({ length: 40 }, (_, n) => p.publish(rotated(i * 100 + n)))));
    // A sentinel after everything: any duplicate of the 120 would arrive before it.
    const sentinel = await publishers[1]!.publish({ type: 'revoked', leaseId: 'sentinel' });
    await until(() => got.every((g) => g.some((e) => e.id === sentinel.id)), 'the sentinel on every listener');
    const expected = [...sent, sentinel].map((e) => e.id).sort(cmp);
    expect(new Set(expected).size).toBe(121);
    for (const g of got) {
      const ids = g.map((e) => e.id);
      expect(ids).toEqual(expected);
      for (let i = 1; i < ids.length; i++) expect(cmp(ids[i - 1]!, ids[i]!)).toBe(-1);
    }
    // Each event arrives as it was published (same body, origin and at).
    const byId = new Map([...sent, sentinel].map((e) => [e.id, e]));
    for (const e of got[0]!) expect(e).toEqual(byId.get(e.id));
  });

  it('stores before it notifies: every announcement names an id the stream already holds', async () => {
    const { channel, stream } = names();
    const a = bus({ channel, stream });
    const raw = admin.duplicate();
    const lookups: Promise<[string, string[]][]>[] = [];
    const reader = admin.duplicate();
    raw.on('message', (_ch: string, id: string) => lookups.push(reader.xrange(stream, id, id)));
    await raw.subscribe(channel);
    try {
      const sent: FleetEvent[] = [];
      for (let i = 0; i < 20; i++) sent.push(await a.publish(rotated(i)));
      await until(() => lookups.length === 20, '20 announcements');
      const found = await Promise.all(lookups);
      expect(found.map((r) => r.map(([id]) => id))).toEqual(sent.map((e) => [e.id]));
    } finally {
      raw.disconnect();
      reader.disconnect();
    }
  });

  it('a publish whose store fails announces nothing and rejects with PROVIDER_UNAVAILABLE', async () => {
    const { channel, stream } = names();
    await admin.set(stream, 'not a stream');
    const raw = admin.duplicate();
    const heard: string[] = [];
    raw.on('message', (_ch: string, m: string) => heard.push(m));
    await raw.subscribe(channel);
    try {
      const a = bus({ channel, stream });
      const err = await a.publish(rotated(1)).then(
        () => undefined,
        (e: unknown) => e as { code?: string; cause?: { message?: string } },
      );
      expect(err?.code).toBe('PROVIDER_UNAVAILABLE');
      expect(err?.cause?.message).toMatch(/WRONGTYPE/);
      await admin.publish(channel, 'sentinel');
      await until(() => heard.length >= 1, 'the sentinel');
      expect(heard).toEqual(['sentinel']);
    } finally {
      raw.disconnect();
    }
  });

  it('works for a Redis user limited to the documented commands, its stream key and its channel', async () => {
    const { channel, stream, tag } = names();
    const name = `${tag}-least`;
    const password = randomBytes(12).toString('hex');
    users.push(name);
    // The ACL the guide documents; a command the bus needs beyond it fails this test.
    await admin.call('ACL', 'SETUSER', name, 'on', `>${password}`, `~${stream}`, `&${channel}`, ...LEAST_PRIVILEGE.split(' '));
    const url = `redis://${name}:${password}@127.0.0.1:6379`;
    const errors: unknown[] = [];
    const a = bus({ url, channel, stream, onError: (e) => errors.push(e) });
    const b = bus({ url, channel, stream, from: 'start', connectionName: tag, onError: (e) => errors.push(e) });
    const got = collect(b);
    await Promise.all([a.ready(), b.ready()]);
    const e1 = await a.publish(rotated(1));
    await until(() => got.length === 1, 'the event');
    const [sub] = await connectionsNamed(`${tag}:sub`);
    await admin.call('CLIENT', 'KILL', 'ID', sub!);
    const e2 = await a.publish(rotated(2));
    await until(() => got.length === 2, 'the event after a reconnect');
    expect(got.map((e) => e.id)).toEqual([e1.id, e2.id]);
    expect(errors.filter((e) => /NOPERM/.test(String((e as { cause?: Error }).cause?.message)))).toEqual([]);
    // The same user cannot touch another key: the ACL really is that narrow.
    const other = new Redis(url);
    try {
      await expect(other.set(`${tag}:elsewhere`, 'x')).rejects.toThrow(/NOPERM/);
    } finally {
      other.disconnect();
    }
  });

  it('hostile identities, reasons and versions round-trip exactly; a body with a value field is refused and never stored', async () => {
    const { channel, stream } = names();
    const a = bus({ channel, stream });
    const b = bus({ channel, stream });
    const got = collect(b);
    await Promise.all([a.ready(), b.ready()]);
    const hostile = [
      'wörker-☃-🔑-\u202eevil\u202c-"quoted" \'single\'',
      'line1\nline2\r\nline3\ttab\\backslash',
      '*1\r\n$4\r\nPING\r\n',
      '{"type":"rotated","ref":"x"}',
      'e\u0301 zero\u200bwidth \ufeffbom 𝕏',
      "'; DROP TABLE events; --",
      'x'.repeat(200) + '🔑'.repeat(20),
    ];
    const bodies: FleetEventBody[] = [
      ...hostile.map((h, i): FleetEventBody => ({ type: 'quarantined', identity: h, reason: hostile[(i + 1) % hostile.length]! })),
      { type: 'lifted', identity: hostile[1]!, reason: '' },
      { type: 'lifted', identity: hostile[0]! },
      { type: 'rotated', ref: 'vault://kv/orders-db', version: hostile[2]! },
      { type: 'rotated', ref: 'vault://kv/orders-db', version: null },
      { type: 'revoked', leaseId: hostile[3]! },
    ];
    for (const body of bodies) await a.publish(body);
    await until(() => got.length === bodies.length, 'every hostile event');
    expect(got.map(({ id: _id, at: _at, origin: _origin, ...body }) => body)).toEqual(bodies);
    expect(got.every((e) => e.origin === a.origin)).toBe(true);

    const secret = randomBytes(16).toString('hex');
    const refused = await a.publish({ type: 'rotated', ref: 'vault://kv/orders-db', version: '2', value: secret } as unknown as FleetEventBody).catch((e: unknown) => e as Error & { code: string });
    expect(refused).toMatchObject({ code: 'CONFIG_INVALID' });
    expect(String((refused as Error).message)).not.toContain(secret);
    expect(await admin.xlen(stream)).toBe(bodies.length);
  });

  it('an entry written by hand that is not a valid event is skipped and reported; the events after it arrive', async () => {
    const { channel, stream } = names();
    const errors: unknown[] = [];
    const a = bus({ channel, stream });
    const b = bus({ channel, stream, onError: (e) => errors.push(e) });
    const got = collect(b);
    await Promise.all([a.ready(), b.ready()]);
    const secret = randomBytes(16).toString('hex');
    const bad1 = await admin.xadd(stream, '*', 'body', 'not json', 'at', 'x', 'origin', 'y');
    const bad2 = await admin.xadd(stream, '*', 'body', JSON.stringify({ type: 'rotated', ref: 'vault://kv/a', version: '1', value: secret }), 'at', 'x', 'origin', 'y');
    const bad3 = await admin.xadd(stream, '*', 'only', 'one-field');
    const good = await a.publish(rotated(2));
    await until(() => got.length === 1, 'the valid event');
    expect(got.map((e) => e.id)).toEqual([good.id]);
    const reported = errors.filter((e) => (e as { code?: string }).code === 'CONFIG_INVALID').map((e) => (e as Error).message);
    expect(reported).toHaveLength(3);
    for (const [i, id] of [bad1, bad2, bad3].entries()) expect(reported[i]).toContain(id!);
    expect(JSON.stringify(errors.map((e) => [(e as Error).message, String((e as Error).cause)]))).not.toContain(secret);
  });
});

describe('redisBus: reconnects and restarts', () => {
  it('a subscriber whose connection is killed (and kept out) catches up, once and in order, on what was published meanwhile', async () => {
    const { channel, stream, tag } = names();
    const user = await aclUser();
    const errors: unknown[] = [];
    const a = bus({ channel, stream });
    const b = bus({ channel, stream, url: user.url, connectionName: tag, reconnect: { baseDelayMs: 20, maxDelayMs: 100 }, onError: (e) => errors.push(e) });
    const got = collect(b);
    await Promise.all([a.ready(), b.ready()]);
    const first = await a.publish(rotated(1));
    await until(() => got.length === 1, 'the first event');

    const [before] = await connectionsNamed(`${tag}:sub`);
    expect(before).toBeDefined();
    // Switched off, the user cannot log in again: everything below is published while b is out.
    await user.set(false);
    await admin.call('CLIENT', 'KILL', 'ID', before!);
    const meanwhile: FleetEvent[] = [];
    for (let i = 2; i <= 6; i++) meanwhile.push(await a.publish(rotated(i)));
    const refusedBefore = () => errors.filter((e) => /WRONGPASS/.test(String((e as { cause?: Error }).cause?.message))).length;
    await until(() => refusedBefore() >= 2, 'b to be refused on reconnect');
    expect(got.map((e) => e.id)).toEqual([first.id]);

    await user.set(true);
    await until(() => got.length === 6, 'the catch-up');
    const live = await a.publish(rotated(7));
    await until(() => got.length >= 7, 'the live event after the catch-up');
    expect(got.map((e) => e.id)).toEqual([first, ...meanwhile, live].map((e) => e.id));
    const [after] = await connectionsNamed(`${tag}:sub`);
    expect(after).toBeDefined();
    expect(after).not.toBe(before);
  });

  it('a CLIENT KILL of the subscriber connection alone loses nothing either (no ACL games)', async () => {
    const { channel, stream, tag } = names();
    const a = bus({ channel, stream });
    const b = bus({ channel, stream, connectionName: tag });
    const got = collect(b);
    await Promise.all([a.ready(), b.ready()]);
    const sent: FleetEvent[] = [];
    for (let round = 0; round < 3; round++) {
      let ids = await connectionsNamed(`${tag}:sub`);
      // The previous round's reconnect must be done before this round's kill.
      for (let i = 0; i < 500 && ids.length === 0; i++) {
        await new Promise((r) => setTimeout(r, 10));
        ids = await connectionsNamed(`${tag}:sub`);
      }
      await admin.call('CLIENT', 'KILL', 'ID', ids[0]!);
      for (let i = 0; i < 5; i++) sent.push(await a.publish(rotated(round * 10 + i)));
    }
    await until(() => got.length >= 15, 'all 15 events');
    const sentinel = await a.publish({ type: 'revoked', leaseId: 'sentinel' });
    await until(() => got.some((e) => e.id === sentinel.id), 'the sentinel');
    expect(got.map((e) => e.id)).toEqual([...sent, sentinel].map((e) => e.id));
  });

  it('a worker process SIGKILLed and restarted with `from` = its last position catches up on what it missed, and nothing before', { timeout: 60_000 }, async () => {
    const { channel, stream } = names();
    const a = bus({ channel, stream });
    await a.ready();
    const env = { FLEET_CHANNEL: channel, FLEET_STREAM: stream };
    const w1 = worker(env);
    await until(() => w1.lines.some((l) => l.startsWith('ready ')), 'worker 1 ready', 30_000);
    const e1 = await a.publish(rotated(1));
    const e2 = await a.publish(rotated(2));
    await until(() => w1.events().length === 2, 'worker 1 to hear 2 events');
    expect(w1.events().map((e) => e.id)).toEqual([e1.id, e2.id]);
    w1.child.kill('SIGKILL');
    expect(await w1.exited).toMatchObject({ signal: 'SIGKILL' });

    const e3 = await a.publish(rotated(3));
    const e4 = await a.publish({ type: 'quarantined', identity: 'worker-7', reason: 'leaked "token"\nin a log' });
    const last = w1.events().at(-1)!.id;
    const w2 = worker({ ...env, FLEET_AFTER: last });
    await until(() => w2.lines.some((l) => l.startsWith('ready ')), 'worker 2 ready', 30_000);
    await until(() => w2.events().length >= 2, 'worker 2 to catch up');
    const e5 = await a.publish(rotated(5));
    await until(() => w2.events().length >= 3, 'worker 2 to hear the live event');
    expect(w2.events()).toEqual([e3, e4, e5]);
    expect(w2.stderr()).toBe('');
  });
});

describe('redisBus: trimming and gaps', () => {
  async function trimmedStream(): Promise<{ channel: string; stream: string; sent: FleetEvent[] }> {
    const { channel, stream } = names();
    const a = bus({ channel, stream, maxLen: Infinity });
    const sent: FleetEvent[] = [];
    for (let i = 1; i <= 10; i++) sent.push(await a.publish(rotated(i)));
    // Exact trim: keeps the last 3 (events 8, 9, 10); events 1..7 are gone.
    await admin.xtrim(stream, 'MAXLEN', 3);
    return { channel, stream, sent };
  }

  it('a worker resuming from a trimmed position is told of the gap once, then goes on from the oldest retained event', async () => {
    const { channel, stream, sent } = await trimmedStream();
    const gaps: RedisFleetGap[] = [];
    const b = bus({ channel, stream, from: sent[1]!.id, onGap: (g) => gaps.push(g) });
    const got = collect(b);
    await b.ready();
    await until(() => got.length === 3, 'the retained events');
    expect(got.map((e) => e.id)).toEqual(sent.slice(7).map((e) => e.id));
    expect(gaps).toEqual([{ after: sent[1]!.id, through: sent[6]!.id, firstRetained: sent[7]!.id }]);
    await bus({ channel, stream }).publish(rotated(11));
    await until(() => got.length === 4, 'a later event');
    expect(gaps).toHaveLength(1);
  });

  it('no gap when nothing after the position was trimmed (its own entry may be), nor when starting from 0-0', async () => {
    for (const pick of [6, 7, 'start'] as const) {
      const { channel, stream, sent } = await trimmedStream();
      const after = pick === 'start' ? '0-0' : sent[pick]!.id;
      const gaps: RedisFleetGap[] = [];
      const b = bus({ channel, stream, from: after, onGap: (g) => gaps.push(g) });
      const got = collect(b);
      await b.ready();
      // A sentinel: whatever the catch-up would have done wrong, it has done by then.
      const s = await bus({ channel, stream }).publish({ type: 'revoked', leaseId: 'sentinel' });
      await until(() => got.some((e) => e.id === s.id), 'the sentinel');
      const expected = (pick === 7 ? sent.slice(8) : sent.slice(7)).map((e) => e.id);
      expect(got.map((e) => e.id)).toEqual([...expected, s.id]);
      expect(gaps).toEqual([]);
    }
  });

  it('everything after the position trimmed: a gap through the last generated id, then new events arrive without another', async () => {
    const { channel, stream, sent } = await trimmedStream();
    await admin.xtrim(stream, 'MAXLEN', 0);
    const gaps: RedisFleetGap[] = [];
    const b = bus({ channel, stream, from: sent[1]!.id, onGap: (g) => gaps.push(g) });
    const got = collect(b);
    await b.ready();
    await until(() => gaps.length === 1, 'the gap');
    expect(gaps).toEqual([{ after: sent[1]!.id, through: sent[9]!.id, firstRetained: null }]);
    expect(b.position).toBe(sent[9]!.id);
    const fresh = await bus({ channel, stream }).publish(rotated(11));
    await until(() => got.length === 1, 'the new event');
    expect(got.map((e) => e.id)).toEqual([fresh.id]);
    expect(gaps).toHaveLength(1);
  });

  it('an entry deleted (XDEL) after a live listener\'s position is reported as a gap when the listener reads on', async () => {
    const { channel, stream, tag } = names();
    const user = await aclUser();
    const a = bus({ channel, stream });
    const gaps: RedisFleetGap[] = [];
    const b = bus({ channel, stream, url: user.url, connectionName: tag, reconnect: { baseDelayMs: 20, maxDelayMs: 100 }, onGap: (g) => gaps.push(g) });
    const got = collect(b);
    await Promise.all([a.ready(), b.ready()]);
    const e1 = await a.publish(rotated(1));
    await until(() => got.length === 1, 'e1');
    await user.set(false);
    const [sub] = await connectionsNamed(`${tag}:sub`);
    await admin.call('CLIENT', 'KILL', 'ID', sub!);
    const e2 = await a.publish(rotated(2));
    const e3 = await a.publish(rotated(3));
    await admin.xdel(stream, e2.id);
    await user.set(true);
    await until(() => got.length === 2, 'e3 after the reconnect');
    expect(got.map((e) => e.id)).toEqual([e1.id, e3.id]);
    expect(gaps).toEqual([{ after: e1.id, through: e2.id, firstRetained: e3.id }]);
  });

  it('without onGap, a gap is a process warning with a stable code', async () => {
    const { channel, stream, sent } = await trimmedStream();
    const warnings: (Error & { code?: string })[] = [];
    const onWarning = (w: Error) => warnings.push(w);
    process.on('warning', onWarning);
    try {
      const b = bus({ channel, stream, from: sent[0]!.id });
      await b.ready();
      await until(() => warnings.some((w) => w.code === 'CONNECTOR_SECRETS_FLEET_GAP'), 'the gap warning');
      expect(warnings.find((w) => w.code === 'CONNECTOR_SECRETS_FLEET_GAP')!.message).toContain(sent[0]!.id);
    } finally {
      process.off('warning', onWarning);
    }
  });

  it('a stream deleted whole behind a worker is a gap; events of the new stream are delivered', async () => {
    const { channel, stream, sent } = await trimmedStream();
    const gaps: RedisFleetGap[] = [];
    await admin.del(stream);
    const b = bus({ channel, stream, from: sent[9]!.id, onGap: (g) => gaps.push(g) });
    const got = collect(b);
    await b.ready();
    const fresh = await bus({ channel, stream }).publish(rotated(12));
    await until(() => got.length === 1, 'the new stream event');
    expect(got.map((e) => e.id)).toEqual([fresh.id]);
    expect(gaps).toEqual([{ after: sent[9]!.id, through: null, firstRetained: null }]);
  });

  it('maxLen trims the stream (approximately, never below maxLen); Infinity never trims', async () => {
    const { channel, stream } = names();
    const trimmed = bus({ channel, stream, maxLen: 100 });
    for (let batch = 0; batch < 5; batch++) await Promise.all(Array.from({ length: 50 }, (_, i) => trimmed.publish(rotated(batch * 50 + i))));
    const len = await admin.xlen(stream);
    expect(len).toBeLessThan(250);
    expect(len).toBeGreaterThanOrEqual(100);

    const other = names();
    const untrimmed = bus({ channel: other.channel, stream: other.stream, maxLen: Infinity });
    for (let batch = 0; batch < 5; batch++) await Promise.all(Array.from({ length: 50 }, (_, i) => untrimmed.publish(rotated(batch * 50 + i))));
    expect(await admin.xlen(other.stream)).toBe(250);
  });
});

describe('redisBus: readiness, failure and close', () => {
  it('an unreachable Redis: ready() keeps trying until the timeout, then rejects with PROVIDER_UNAVAILABLE, the URL password unsaid', async () => {
    const port = await closedPort();
    const password = randomBytes(12).toString('hex');
    const clock = manualClock();
    const errors: unknown[] = [];
    const b = bus({ url: `redis://user:${password}@127.0.0.1:${port}`, clock, readyTimeoutMs: 1_000, reconnect: { baseDelayMs: 10, maxDelayMs: 20 }, onError: (e) => errors.push(e) });
    let settled = false;
    const ready = b.ready().finally(() => void (settled = true));
    ready.catch(() => {});
    await until(() => errors.length >= 3, 'three refused connections');
    // Refused connections are retried, not given up on, until the timeout fires.
    expect(settled).toBe(false);
    expect(clock.pending()).toBe(1);
    clock.fire();
    const err = (await ready.then(() => undefined, (e: unknown) => e)) as Error & { code?: string };
    expect(err.code).toBe('PROVIDER_UNAVAILABLE');
    expect(err.message).toMatch(/not ready within 1000 ms/);
    expect(String((err.cause as Error | undefined)?.message)).toMatch(/ECONNREFUSED/);
    expect(JSON.stringify([err.message, String(err.cause), errors.map(String)])).not.toContain(password);
    await expect(b.publish(rotated(1))).rejects.toMatchObject({ code: 'PROVIDER_UNAVAILABLE' });
  });

  it('a bus that gave up on ready() makes no more connection attempts', async () => {
    // A server that accepts and hangs up at once: ioredis reconnects to it again and again.
    let accepted = 0;
    const server = createServer((socket) => {
      accepted += 1;
      socket.destroy();
    });
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    try {
      const { port } = server.address() as { port: number };
      const clock = manualClock();
      const b = bus({ url: `redis://127.0.0.1:${port}`, clock, reconnect: { baseDelayMs: 5, maxDelayMs: 10 } });
      const ready = b.ready().then(() => 'ready', (e: unknown) => (e as { code?: string }).code);
      await until(() => accepted >= 6, 'repeated connection attempts');
      clock.fire();
      expect(await ready).toBe('PROVIDER_UNAVAILABLE');
      // A connection whose handshake the kernel had begun when the bus gave up may still be
      // accepted just after; new attempts come every 5-10 ms, so the next 200 ms would show them.
      await new Promise((r) => setTimeout(r, 30));
      const seen = accepted;
      await new Promise((r) => setTimeout(r, 200));
      expect(accepted).toBe(seen);
    } finally {
      await new Promise<void>((done) => server.close(() => done()));
    }
  });

  it('a refused login fails ready() at once, before any timeout', async () => {
    const user = await aclUser();
    const clock = manualClock();
    const b = bus({ url: `redis://${user.name}:wrong-${randomBytes(6).toString('hex')}@127.0.0.1:6379`, clock, readyTimeoutMs: 60_000 });
    const err = (await b.ready().then(() => undefined, (e: unknown) => e)) as Error & { code?: string };
    expect(err.code).toBe('PROVIDER_UNAVAILABLE');
    expect(String((err.cause as Error | undefined)?.message)).toMatch(/WRONGPASS/);
    expect(clock.pending()).toBe(0);
  });

  it('a process awaiting ready() against a closed port exits non-zero with a message naming the error', async () => {
    const port = await closedPort();
    const password = randomBytes(12).toString('hex');
    const w = worker({ FLEET_MODE: 'await-ready', FLEET_REDIS_URL: `redis://u:${password}@127.0.0.1:${port}`, FLEET_READY_TIMEOUT_MS: '500' });
    const { code } = await w.exited;
    expect(code).not.toBe(0);
    expect(code).not.toBeNull();
    expect(w.stderr()).toMatch(/not ready within 500 ms/);
    expect(w.stderr()).toMatch(/PROVIDER_UNAVAILABLE/);
    expect(w.stderr() + w.lines.join('\n')).not.toContain(password);
    expect(w.lines).not.toContain('ready');
  }, 30_000);

  it('a process that catches the failed ready() ends by itself: the bus keeps nothing open', async () => {
    const port = await closedPort();
    const w = worker({ FLEET_MODE: 'catch-ready', FLEET_REDIS_URL: `redis://127.0.0.1:${port}`, FLEET_READY_TIMEOUT_MS: '300' });
    const exit = await w.exited;
    expect(exit).toEqual({ code: 0, signal: null });
    expect(w.lines).toEqual(['caught PROVIDER_UNAVAILABLE']);
  }, 30_000);

  it('a process that publishes and closes ends by itself, its event stored', async () => {
    const { channel, stream } = names();
    const w = worker({ FLEET_MODE: 'publish-close', FLEET_CHANNEL: channel, FLEET_STREAM: stream });
    const exit = await w.exited;
    expect(exit).toEqual({ code: 0, signal: null });
    const id = /^closed (\d+-\d+)$/.exec(w.lines[0] ?? '')?.[1];
    expect(id).toBeDefined();
    expect(await admin.xrange(stream, id!, id!)).toHaveLength(1);
  }, 30_000);

  it('close() is idempotent, quits both connections, refuses later publishes, and leaves a given client open', async () => {
    const { channel, stream, tag } = names();
    const b = bus({ channel, stream, connectionName: tag });
    await b.ready();
    expect((await connectionsNamed(tag)).length + (await connectionsNamed(`${tag}:sub`)).length).toBe(2);
    await Promise.all([b.close(), b.close()]);
    await b.close();
    const left = async () => (await connectionsNamed(tag)).length + (await connectionsNamed(`${tag}:sub`)).length;
    let n = await left();
    for (let i = 0; i < 100 && n > 0; i++) {
      await new Promise((r) => setTimeout(r, 20));
      n = await left();
    }
    expect(n).toBe(0);
    await expect(b.publish(rotated(1))).rejects.toMatchObject({ code: 'CONFIG_INVALID' });

    const client = new Redis('redis://127.0.0.1:6379', { connectionName: `${tag}-own` });
    try {
      await new Promise<void>((done) => client.once('ready', () => done()));
      const readyListeners = client.listenerCount('ready');
      const c = bus({ client, channel, stream, connectionName: `${tag}-c` });
      const got = collect(c);
      await c.ready();
      const e = await c.publish(rotated(2));
      await until(() => got.length === 1, 'the event through the given client');
      expect(got[0]!.id).toBe(e.id);
      await c.close();
      expect(await client.ping()).toBe('PONG');
      expect(client.listenerCount('ready')).toBe(readyListeners);
    } finally {
      client.disconnect();
    }
  });

  it('refuses bad options with CONFIG_INVALID', () => {
    const bad: RedisBusOptions[] = [
      { url: 'redis://127.0.0.1', client: new Redis({ lazyConnect: true }) },
      { url: 'http://127.0.0.1:6379' },
      { maxLen: 0 },
      { maxLen: 1.5 },
      { from: '12' },
      { from: 'abc-1' },
      { from: '$' },
      { readyTimeoutMs: 2 ** 31 },
      { connectionName: 'has space' },
      { channel: '' },
      { origin: '' },
    ];
    for (const options of bad) expect(() => redisBus(options), JSON.stringify(Object.keys(options))).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
  });
});
