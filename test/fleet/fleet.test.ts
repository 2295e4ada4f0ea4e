/**
 * The fleet test: 20 worker processes run query loops against the scram-sha-256 PostgreSQL
 * cluster (passwords are really checked) with the login at one ref of a local store, each on a
 * client that listens on the fleet bus. One rotation through the CLI (`rotate --postgres
 * alternating --roles A,B --overlap 5s --fleet …`, which runs rotatePostgresPassword: the other
 * role gets a fresh password and is logged into before the store keeps it; the role left behind
 * works until the overlap ends, then is refused) must move every worker to the new login with
 * zero failed queries; one worker is killed (SIGKILL) before the rotation and restarted after it, and must
 * catch up from its last event id; a quarantine published on the bus must stop the quarantined
 * identity's workers and only those. Latencies (the rotation's `at` to each worker's first query
 * as the new role) are printed, not asserted: speed belongs to bench/fleet-propagation.ts.
 *
 * Runs once per bus URL in BUSES (the same test for every bus).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Readable } from 'node:stream';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { bundle } from '../bundle.js';
import { runLocalCommand } from '../../src/cli/local.js';
import { createSecrets } from '../../src/client.js';
import { fleetBusFromUrl } from '../../src/fleet/fromUrl.js';
import { fromLocalStore } from '../../src/providers/fromLocalStore.js';
import { Redis } from 'ioredis';
import { until } from '../helpers.js';
import { dropTable, PG_URL, uniqueNames } from './helpers.js';

const ROOT = resolve(import.meta.dirname, '../..');
const REF = 'local://orders-db';
const WORKERS = 20;
const BACKFILL = new Set([16, 17, 18, 19]); // identity orders-backfill; the rest run as orders-sync
const KILLED = 3;

/** Each bus the test runs over: a URL (unique channel and table or stream per run) and its cleanup. */
const BUSES: readonly { readonly name: string; readonly make: () => { url: string; cleanup: () => Promise<void> } }[] = [
  {
    name: 'postgres',
    make: () => {
      const n = uniqueNames('fleet');
      return { url: `${PG_URL}?channel=${n.channel}&table=${n.table}`, cleanup: () => dropTable(n.table) };
    },
  },
  {
    name: 'redis',
    make: () => {
      const n = `cs-fleet-${randomBytes(6).toString('hex')}`;
      return {
        url: `redis://127.0.0.1:6379?channel=${n}&stream=${n}:events`,
        cleanup: async () => {
          const redis = new Redis({ host: '127.0.0.1', port: 6379, lazyConnect: true });
          await redis.connect();
          await redis.del(`${n}:events`);
          redis.disconnect();
        },
      };
    },
  },
];

const cluster = inject('pgCluster');
const suffix = randomBytes(4).toString('hex');
const database = `fleet_${suffix}`;
const [ROLE_A, ROLE_B] = [`fleet_a_${suffix}`, `fleet_b_${suffix}`];
const superuser = (db: string) => ({ host: cluster.host, port: cluster.port, user: cluster.user, password: cluster.password, database: db });
let dir: string;
let bundled: { worker: string };

beforeAll(async () => {
  const root = new pg.Client(superuser('postgres'));
  await root.connect();
  await root.query(`CREATE DATABASE ${database}`);
  for (const role of [ROLE_A, ROLE_B]) await root.query(`CREATE ROLE ${role} LOGIN`);
  await root.end();
  dir = await mkdtemp(join(tmpdir(), 'cs-fleet-'));
  // Bundled once into plain JavaScript: 20 processes start at the cost of a bare node start.
  bundled = { worker: await bundle('test/fixtures/fleet/worker.ts', join(dir, 'worker.cjs'), { format: 'cjs', external: ['pg-native'] }) };
}, 60_000);

afterAll(async () => {
  const root = new pg.Client(superuser('postgres'));
  await root.connect();
  await root.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
  for (const role of [ROLE_A, ROLE_B]) await root.query(`DROP ROLE IF EXISTS ${role}`);
  await root.end();
  await rm(dir, { recursive: true, force: true });
});

interface Fact {
  readonly kind: string;
  readonly t: number;
  readonly [k: string]: unknown;
}

interface Worker {
  readonly index: number;
  readonly identity: string;
  child: ChildProcess;
  facts: Fact[];
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stderr: string;
}

/** Logs in once; the SQLSTATE of a refusal, or 'ok'. */
async function loginCode(user: string, password: string): Promise<string> {
  const client = new pg.Client({ host: cluster.host, port: cluster.port, database, user, password });
  client.on('error', () => {});
  try {
    await client.connect();
    return 'ok';
  } catch (err) {
    return (err as { code?: string }).code ?? 'error';
  } finally {
    await client.end().catch(() => undefined);
  }
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

describe.each(BUSES)('fleet of $name', ({ make }) => {
  it('20 workers: one CLI rotation moves all to the new login with zero failed queries; a killed worker catches up; a quarantine stops its identity', async () => {
    const bus = make();
    const run = `${suffix}_${randomBytes(3).toString('hex')}`;
    const storePath = join(dir, run, 'secrets', 'dev.enc.json');
    const keyFile = join(dir, run, 'secrets', 'dev.key');
    const quiet = { stdin: Readable.from([]), stdout: () => {}, stderr: () => {}, env: {} };
    expect(await runLocalCommand(['init', '--env', 'dev', '--path', storePath], quiet)).toBe(0);
    const password = randomBytes(18).toString('base64url');
    const admin = new pg.Client(superuser(database));
    await admin.connect();
    await admin.query(`ALTER ROLE ${ROLE_A} PASSWORD ${admin.escapeLiteral(password)}`);
    await admin.query(`ALTER ROLE ${ROLE_B} PASSWORD NULL`);
    await admin.end();
    const login = JSON.stringify({ username: ROLE_A, password });
    expect(await runLocalCommand(['set', 'orders-db', '--env', 'dev', '--path', storePath], { ...quiet, stdin: Readable.from([Buffer.from(login)]) })).toBe(0);

    const workers: Worker[] = [];
    const start = (w: Pick<Worker, 'index' | 'identity'>): Worker => {
      const config = {
        busUrl: bus.url,
        storePath,
        keyFile,
        ref: REF,
        identity: w.identity,
        db: { host: cluster.host, port: cluster.port, database },
        positionFile: join(dir, run, `worker-${w.index}.position`),
      };
      const child = spawn(process.execPath, [bundled.worker, JSON.stringify(config)], { stdio: ['ignore', 'pipe', 'pipe'] });
      const worker: Worker = { ...w, child, facts: [], stderr: '', exit: new Promise((r) => child.once('close', (code, signal) => r({ code, signal }))) };
      let buffer = '';
      child.stdout!.on('data', (c: Buffer) => {
        buffer += c.toString();
        const lines = buffer.split('\n');
        buffer = lines.pop()!;
        for (const line of lines) worker.facts.push(JSON.parse(line) as Fact);
      });
      child.stderr!.on('data', (c: Buffer) => (worker.stderr += c.toString()));
      return worker;
    };
    const has = (w: Worker, kind: string, pred: (f: Fact) => boolean = () => true) => w.facts.some((f) => f.kind === kind && pred(f));
    try {
      for (let i = 0; i < WORKERS; i++) workers.push(start({ index: i, identity: BACKFILL.has(i) ? 'orders-backfill' : 'orders-sync' }));
      await until(() => workers.every((w) => has(w, 'user', (f) => f.user === ROLE_A)), 'every worker to query as the first role', 45_000);

      // One worker dies hard before the rotation; it comes back after it.
      const killed = workers[KILLED]!;
      killed.child.kill('SIGKILL');
      expect((await killed.exit).signal).toBe('SIGKILL');

      const adminUrl = `postgres://${encodeURIComponent(cluster.user)}:${encodeURIComponent(cluster.password)}@${cluster.host}:${cluster.port}/${database}`;
      const cli = spawn(
        process.execPath,
        ['--import', 'tsx', 'src/cli/main.ts', 'rotate', REF, '--env', 'dev', '--store', storePath, '--key-file', keyFile, '--json', '--fleet', bus.url, '--postgres', 'alternating', '--roles', `${ROLE_A},${ROLE_B}`, '--overlap', '5s'],
        { cwd: ROOT, env: { PATH: process.env['PATH'] ?? '', CONNECTOR_SECRETS_PG_ADMIN_URL: adminUrl }, stdio: ['ignore', 'pipe', 'pipe'] },
      );
      let cliOut = '';
      let cliErr = '';
      cli.stdout.on('data', (c: Buffer) => (cliOut += c.toString()));
      cli.stderr.on('data', (c: Buffer) => (cliErr += c.toString()));
      const cliCode = await new Promise<number | null>((r) => cli.once('close', r));
      expect(cliErr).toBe('');
      expect(cliCode).toBe(0);
      const rotation = JSON.parse(cliOut) as { ok: boolean; verified: boolean; fleet: { id: string; at: string } };
      expect(rotation).toMatchObject({ ok: true, verified: true });
      expect(cliOut).not.toContain(cluster.password);
      const committedAt = Date.parse(rotation.fleet.at);
      // The CLI waited for the overlap: the role left behind is refused now, its sessions aside.
      expect(await loginCode(ROLE_A, password)).toBe('28P01');

      const restarted = start({ index: KILLED, identity: killed.identity });
      workers[KILLED] = restarted;
      const live = workers.filter((w) => w !== restarted);
      await until(() => workers.every((w) => has(w, 'user', (f) => f.user === ROLE_B)), 'every worker to query as the new role', 45_000);

      // Every uninterrupted worker heard the event, and only then queried as the new role.
      const latencies: number[] = [];
      for (const w of live) {
        const heard = w.facts.findIndex((f) => f.kind === 'event' && f.id === rotation.fleet.id && f.type === 'rotated');
        const switched = w.facts.findIndex((f) => f.kind === 'user' && f.user === ROLE_B);
        expect(heard).toBeGreaterThanOrEqual(0);
        expect(switched).toBeGreaterThan(heard);
        latencies.push(w.facts[switched]!.t - committedAt);
      }
      // The restarted worker resumed after its last id: it caught up on the rotation it missed.
      await until(() => has(restarted, 'event', (f) => f.id === rotation.fleet.id), 'the restarted worker to catch up', 15_000);
      // …from a saved position (a table id, or a Redis stream id `ms-seq`), not from 'now'.
      expect(restarted.facts.find((f) => f.kind === 'ready')).toMatchObject({ from: expect.stringMatching(/^\d+(-\d+)?$/) });
      expect(restarted.facts.filter((f) => f.kind === 'event' && f.id === rotation.fleet.id)).toHaveLength(1);

      // A quarantine on the bus stops the orders-backfill workers, and only them.
      const responder = fleetBusFromUrl(bus.url);
      const secrets = createSecrets({ environment: 'dev', identity: 'incident-responder', providers: [fromLocalStore({ path: storePath, keyFile, environment: 'dev' })], fleet: responder });
      await responder.ready();
      const before = Date.now();
      await secrets.quarantine('orders-backfill', { reason: 'INC-42 fleet test' });
      await secrets.close();
      await responder.close();
      const stopped = workers.filter((w) => w.identity === 'orders-backfill');
      const results = await Promise.all(stopped.map((w) => w.exit));
      expect(results.map((r) => r.code)).toEqual([3, 3, 3, 3]);
      const quarantineLatencies = stopped.map((w) => w.facts.find((f) => f.kind === 'quarantined')!.t - before);
      const running = workers.filter((w) => w.identity === 'orders-sync');
      // The others go on: each still running, and querying (more queries after the quarantine).
      await new Promise((r) => setTimeout(r, 300));
      expect(running.every((w) => w.child.exitCode === null)).toBe(true);
      for (const w of running) w.child.kill('SIGTERM');
      const ends = await Promise.all(running.map((w) => w.exit));
      expect(ends.map((e) => e.code)).toEqual(running.map(() => 0));
      for (const w of running) expect(has(w, 'quarantined')).toBe(false);

      // Zero failed queries anywhere, including the killed worker's first life.
      const all = [...workers, killed];
      expect(all.flatMap((w) => w.facts.filter((f) => f.kind === 'failed' || f.kind === 'access-error'))).toEqual([]);
      const done = workers.map((w) => w.facts.find((f) => f.kind === 'done') as (Fact & { ok: number; failed: number }) | undefined);
      expect(done.every((d) => d !== undefined && d.failed === 0 && d.ok > 0)).toBe(true);
      expect(all.map((w) => w.stderr).join('')).toBe('');

      const sorted = [...latencies].sort((a, b) => a - b);
      const q = [...quarantineLatencies].sort((a, b) => a - b);
      console.log(
        `fleet test: rotation commit -> first query as the new role, ${sorted.length} workers: p50 ${percentile(sorted, 50)} ms, max ${sorted.at(-1)} ms; ` +
          `quarantine -> worker stopped, ${q.length} workers: max ${q.at(-1)} ms; queries ${done.reduce((n, d) => n + (d?.ok ?? 0), 0)}, failed 0`,
      );
    } finally {
      for (const w of workers) if (w.child.exitCode === null && w.child.signalCode === null) w.child.kill('SIGKILL');
      await bus.cleanup().catch(() => undefined);
    }
  }, 120_000);
});
