// `connector-secrets rotate … --fleet` and `run … --fleet`, as real commands (node + tsx, src/cli/main.ts).
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runIncidentCommand } from '../../src/cli/incident.js';
import { runLocalCommand } from '../../src/cli/local.js';
import { createSecrets } from '../../src/client.js';
import { postgresBus } from '../../src/fleet/postgresBus.js';
import type { FleetEvent } from '../../src/fleet/bus.js';
import { fromLocalStore } from '../../src/providers/fromLocalStore.js';
import { until } from '../helpers.js';
import { dropTable, PG_URL, uniqueNames } from './helpers.js';

const ROOT = resolve(import.meta.dirname, '../..');
const REF = 'local://orders-api';
const cleanup: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step().catch(() => undefined);
});

const quiet = { stdin: process.stdin, stdout: () => {}, stderr: () => {}, env: {} };

async function store() {
  const dir = await mkdtemp(join(tmpdir(), 'cs-cli-fleet-'));
  cleanup.push(() => rm(dir, { recursive: true, force: true }));
  const path = join(dir, 'secrets', 'dev.enc.json');
  const keyFile = join(dir, 'secrets', 'dev.key');
  expect(await runLocalCommand(['init', '--env', 'dev', '--path', path], quiet)).toBe(0);
  const first = randomBytes(18).toString('base64url');
  const { Readable } = await import('node:stream');
  expect(await runLocalCommand(['set', 'orders-api', '--env', 'dev', '--path', path], { ...quiet, stdin: Readable.from([Buffer.from(first)]) })).toBe(0);
  return { dir, path, keyFile, first };
}

function cli(args: string[]) {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { cwd: ROOT, env: { PATH: process.env['PATH'] ?? '' }, stdio: ['ignore', 'pipe', 'pipe'] });
  const out = { stdout: '', stderr: '' };
  child.stdout.on('data', (c: Buffer) => (out.stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (out.stderr += c.toString()));
  cleanup.push(async () => void child.kill('SIGKILL'));
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => child.once('close', (code, signal) => r({ code, signal })));
  return { child, out, exit };
}

describe('--fleet', () => {
  it('rotate publishes "rotated" after the rotation; a listening client serves the new value next', async () => {
    const s = await store();
    const n = uniqueNames('cli');
    cleanup.push(() => dropTable(n.table));
    const bus = postgresBus({ connectionString: PG_URL, ...n });
    cleanup.push(() => bus.close());
    const secrets = createSecrets({ environment: 'dev', providers: [fromLocalStore({ path: s.path, keyFile: s.keyFile, environment: 'dev' })], fleet: bus });
    cleanup.push(() => secrets.close());
    const heard: FleetEvent[] = [];
    secrets.on('fleet', (e) => heard.push(e));
    expect((await secrets.get(REF)).reveal()).toBe(s.first);

    const run = cli(['rotate', REF, '--env', 'dev', '--store', s.path, '--generate', '24', '--json', '--fleet', `${PG_URL}?channel=${n.channel}&table=${n.table}`]);
    const { code } = await run.exit;
    expect(run.out.stderr).toBe('');
    expect(code).toBe(0);
    const result = JSON.parse(run.out.stdout) as { ok: boolean; version: string; fleet: { id: string; at: string } };
    expect(result).toMatchObject({ ok: true, previousVersion: '1', version: '2' });
    expect(result.fleet.id).toMatch(/^\d+$/);
    await until(() => heard.length === 1, 'the rotated event', 10_000);
    expect(heard[0]).toMatchObject({ type: 'rotated', ref: REF, version: '2', id: result.fleet.id, at: result.fleet.at });
    const now = (await secrets.get(REF)).reveal();
    expect(now).not.toBe(s.first);
    expect(now).toHaveLength(24);
    expect(run.out.stdout).not.toContain(now);
  }, 30_000);

  it('rotate with a fleet bus it cannot reach changes nothing and exits 1, without echoing the URL', async () => {
    const s = await store();
    const run = cli(['rotate', REF, '--env', 'dev', '--store', s.path, '--generate', '24', '--fleet', 'postgres://no_such_role_z:pw-s3cr3t@127.0.0.1:5432/test?table=unused_cli']);
    const { code } = await run.exit;
    expect(code).toBe(1);
    expect(run.out.stderr).toMatch(/^error \[PROVIDER_UNAVAILABLE\]: fleet bus \(postgres\)/);
    expect(run.out.stderr).not.toContain('s3cr3t');
    const check = createSecrets({ environment: 'dev', providers: [fromLocalStore({ path: s.path, keyFile: s.keyFile, environment: 'dev' })] });
    cleanup.push(() => check.close());
    expect((await check.get(REF)).reveal()).toBe(s.first);
    const bad = cli(['rotate', REF, '--env', 'dev', '--store', s.path, '--generate', '24', '--fleet', 'amqp://user:s3cr3t@host/']);
    expect((await bad.exit).code).toBe(2);
    expect(bad.out.stderr).toContain('no fleet bus for the URL scheme "amqp"');
    expect(bad.out.stderr).not.toContain('s3cr3t');
  }, 30_000);

  it('run passes the bus to the command and stops it (SIGTERM) when its identity is quarantined on the bus', async () => {
    const s = await store();
    const n = uniqueNames('cli');
    cleanup.push(() => dropTable(n.table));
    const url = `${PG_URL}?channel=${n.channel}&table=${n.table}`;
    const script = 'process.stdout.write("fleet=" + (process.env.CONNECTOR_SECRETS_FLEET ? "set" : "unset") + " token=" + process.env.TOKEN + "\\n"); setInterval(() => {}, 1000);';
    const run = cli(['run', '--env', 'dev', '--store', s.path, '--identity', 'orders-sync', '--map', `TOKEN=${REF}`, '--fleet', url, '--', process.execPath, '-e', script]);
    await until(() => run.out.stdout.includes('fleet='), 'the command to start', 30_000);
    expect(run.out.stdout).toBe('fleet=set token=[REDACTED]\n');
    const publisher = postgresBus({ connectionString: PG_URL, ...n });
    cleanup.push(() => publisher.close());
    await publisher.publish({ type: 'quarantined', identity: 'someone-else', reason: 'not this one' });
    const e = await publisher.publish({ type: 'quarantined', identity: 'orders-sync', reason: 'INC-9' });
    const { code } = await run.exit;
    expect(code).toBe(143);
    expect(run.out.stderr).toContain(`identity orders-sync was quarantined (fleet event ${e.id}); stopping the command`);
  }, 40_000);

  it('incident quarantine --fleet publishes the quarantine: a worker client running as that identity is denied; lift --fleet undoes it', async () => {
    const s = await store();
    const n = uniqueNames('cli');
    cleanup.push(() => dropTable(n.table));
    const url = `${PG_URL}?channel=${n.channel}&table=${n.table}`;
    const bus = postgresBus({ connectionString: PG_URL, ...n });
    cleanup.push(() => bus.close());
    const worker = createSecrets({ environment: 'dev', identity: 'orders-sync', providers: [fromLocalStore({ path: s.path, keyFile: s.keyFile, environment: 'dev' })], fleet: bus });
    cleanup.push(() => worker.close());
    const heard: FleetEvent[] = [];
    worker.on('fleet', (e) => heard.push(e));
    expect((await worker.get(REF)).reveal()).toBe(s.first);
    const out = { stdout: '', stderr: '' };
    const io = { stdout: (t: string) => void (out.stdout += t), stderr: (t: string) => void (out.stderr += t), env: {} };
    const code = await runIncidentCommand(['quarantine', '--identity', 'orders-sync', '--reason', 'INC-5', '--env', 'dev', '--fleet', url, '--report', s.dir, '--json'], io);
    expect(out.stderr).toBe('');
    expect(code).toBe(0);
    expect(JSON.parse(out.stdout)).toMatchObject({ fleet: { published: true } });
    await until(() => heard.length === 1, 'the quarantine', 10_000);
    await expect(worker.get(REF)).rejects.toMatchObject({ code: 'IDENTITY_QUARANTINED' });
    out.stdout = '';
    expect(await runIncidentCommand(['lift', '--identity', 'orders-sync', '--reason', 'INC-5 closed', '--env', 'dev', '--fleet', url, '--report', s.dir, '--json'], io)).toBe(0);
    await until(() => heard.length === 2, 'the lift', 10_000);
    expect((await worker.get(REF)).reveal()).toBe(s.first);
  }, 40_000);
});
