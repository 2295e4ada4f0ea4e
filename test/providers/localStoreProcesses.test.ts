/**
 * The local store across processes: writers in several processes (the library and the CLI)
 * lose no acknowledged write, a SIGKILLed lock holder's lock is taken over, and a writer
 * SIGKILLed at a random point leaves nothing behind once the store is opened again.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ResolveContext } from '../../src/provider.js';
import { fromLocalStore } from '../../src/providers/fromLocalStore.js';
import { parseRef } from '../../src/ref/parseRef.js';

const ROOT = resolve(import.meta.dirname, '../..');
const WRITER = join(ROOT, 'test/fixtures/local-store/writer.ts');
const CLI = join(ROOT, 'src/cli/main.ts');

let dir: string;
let path: string;
let key: Buffer;
let env: Record<string, string>;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cs-store-procs-'));
  path = join(dir, 'dev.enc.json');
  key = randomBytes(32);
  env = { ...(process.env as Record<string, string>), CONNECTOR_SECRETS_KEY: key.toString('base64'), CONNECTOR_SECRETS_STORE: path };
  await fromLocalStore({ path, key, environment: 'dev' }).init();
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

function ctx(): ResolveContext {
  return { signal: new AbortController().signal, env: {}, environment: 'dev', identity: undefined, now: Date.now };
}

const sha256 = (value: string) => createHash('sha256').update(value).digest('hex');

interface Child {
  readonly child: ChildProcess;
  /** Complete stdout lines so far. */
  readonly lines: string[];
  /** Resolves once a line equal to `text` was printed. */
  line(text: string): Promise<void>;
  readonly exit: Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>;
}

function start(args: string[], options: { stdin?: string } = {}): Child {
  const child = spawn(process.execPath, ['--import', 'tsx', ...args], { cwd: ROOT, env, stdio: ['pipe', 'pipe', 'pipe'] });
  const lines: string[] = [];
  const waiters: { text: string; done: () => void }[] = [];
  let partial = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    const parts = (partial + chunk).split('\n');
    partial = parts.pop()!;
    for (const l of parts) {
      lines.push(l);
      for (const w of waiters.filter((w) => w.text === l)) w.done();
    }
  });
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  child.stdin!.end(options.stdin ?? '');
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>((done) =>
    child.on('close', (code, signal) => done({ code, signal, stderr })),
  );
  return {
    child,
    lines,
    exit,
    line: (text) =>
      lines.includes(text)
        ? Promise.resolve()
        : new Promise<void>((done, fail) => {
            waiters.push({ text, done });
            void exit.then(() => fail(new Error(`child exited before printing ${text}: ${stderr}`)));
          }),
  };
}

/** The `ack <entry> <sha256>` lines of a child: entry name → hash of the value it stored. */
function acks(lines: readonly string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const l of lines) {
    const m = /^ack (\S+) ([0-9a-f]{64})$/.exec(l);
    if (m !== null) out.set(m[1]!, m[2]!);
  }
  return out;
}

/** Every acknowledged entry that the store does not hold with the acknowledged value. */
async function lost(acknowledged: Map<string, string>): Promise<string[]> {
  const reader = fromLocalStore({ path, key });
  const names = new Set((await reader.list()).map((e) => e.name));
  const missing: string[] = [];
  for (const [name, hash] of acknowledged) {
    if (!names.has(name)) {
      missing.push(name);
      continue;
    }
    const { value } = await reader.resolve(parseRef(`local://${name}`), ctx());
    if (sha256(value as string) !== hash) missing.push(name);
  }
  return missing;
}

describe('local store: writers in several processes', () => {
  it('loses none of 200 acknowledged writes from 3 library processes and parallel CLI `local set`s', { timeout: 180_000 }, async () => {
    const writers = [0, 1, 2].map((n) => start([WRITER, 'write', path, `lib${n}`, '60']));
    // 20 CLI sets in 4 lanes that run alongside the library writers.
    const cliAcks = new Map<string, string>();
    const cliFailures: string[] = [];
    const lanes = [0, 1, 2, 3].map(async (lane) => {
      for (let i = 0; i < 5; i++) {
        const name = `cli${lane}/${i}`;
        const value = randomBytes(18).toString('base64url');
        const run = start([CLI, 'local', 'set', name], { stdin: `${value}\n` });
        const { code, stderr } = await run.exit;
        if (code === 0 && run.lines.some((l) => l.startsWith(`stored ${name} version 1 `))) cliAcks.set(name, sha256(value));
        else cliFailures.push(`${name}: exit ${code} ${stderr}`);
      }
    });
    const exits = await Promise.all(writers.map((w) => w.exit));
    await Promise.all(lanes);
    expect(exits.map((e) => [e.code, e.stderr])).toEqual([[0, ''], [0, ''], [0, '']]);
    expect(cliFailures).toEqual([]);
    const acknowledged = new Map([...writers.flatMap((w) => [...acks(w.lines)]), ...cliAcks]);
    expect(acknowledged.size).toBe(200);
    expect(await lost(acknowledged)).toEqual([]);
    expect((await readdir(dir)).sort()).toEqual(['dev.enc.json']);
  });

  it('takes over the lock of a holder that was SIGKILLed while holding it', { timeout: 60_000 }, async () => {
    const holder = start([WRITER, 'hold', path, 'x']);
    await holder.line('locked');
    const lock = JSON.parse(await readFile(`${path}.lock`, 'utf8')) as { pid: number };
    expect(lock.pid).toBe(holder.child.pid);
    holder.child.kill('SIGKILL');
    expect((await holder.exit).signal).toBe('SIGKILL');

    const value = randomBytes(18).toString('base64url');
    const store = fromLocalStore({ path, key, lockTimeoutMs: 5_000 });
    await expect(store.set('after-kill', value)).resolves.toMatchObject({ currentVersion: 1 });
    expect((await store.resolve(parseRef('local://after-kill'), ctx())).value).toBe(value);
    expect((await readdir(dir)).sort()).toEqual(['dev.enc.json']);
  });

  it('several processes racing to take over one stale lock lose no write', { timeout: 120_000 }, async () => {
    const dead = start(['-e', '']);
    await dead.exit;
    await writeFile(`${path}.lock`, JSON.stringify({ pid: dead.child.pid, hostname: hostname(), startedAt: Date.now(), token: 'dead' }) + '\n', { mode: 0o600 });
    const writers = [0, 1, 2].map((n) => start([WRITER, 'write', path, `race${n}`, '20']));
    const exits = await Promise.all(writers.map((w) => w.exit));
    expect(exits.map((e) => [e.code, e.stderr])).toEqual([[0, ''], [0, ''], [0, '']]);
    const acknowledged = new Map(writers.flatMap((w) => [...acks(w.lines)]));
    expect(acknowledged.size).toBe(60);
    expect(await lost(acknowledged)).toEqual([]);
    expect((await readdir(dir)).sort()).toEqual(['dev.enc.json']);
  });

  it('times out with StoreLockTimeoutError (PROVIDER_UNAVAILABLE) while a live process holds the lock, writing nothing', { timeout: 60_000 }, async () => {
    const holder = start([WRITER, 'hold', path, 'x']);
    try {
      await holder.line('locked');
      const before = await readFile(path, 'utf8');
      const store = fromLocalStore({ path, key, lockTimeoutMs: 300 });
      const err = await store.set('blocked', randomBytes(18).toString('base64url')).then(
        () => undefined,
        (e: unknown) => e as Error & Record<string, unknown>,
      );
      expect(err).toMatchObject({ name: 'StoreLockTimeoutError', code: 'PROVIDER_UNAVAILABLE', provider: 'local' });
      expect(err!.message).toContain(`pid ${holder.child.pid}`);
      expect(await readFile(path, 'utf8')).toBe(before);
    } finally {
      holder.child.kill('SIGKILL');
      await holder.exit;
    }
  });

  it('removes its lock file when the process exits while holding it (process.exit during a write)', { timeout: 60_000 }, async () => {
    const script = `const { acquireLock, lockPathOf } = await import(${JSON.stringify(join(ROOT, 'src/providers/local-store/lock.ts'))});
      await acquireLock(lockPathOf(process.env.CONNECTOR_SECRETS_STORE), { timeoutMs: 0 });
      console.log('locked');
      process.exit(3);`;
    const child = start(['--input-type=module', '-e', script]);
    const { code, stderr } = await child.exit;
    expect({ code, lines: child.lines, stderr }).toEqual({ code: 3, lines: ['locked'], stderr: '' });
    expect((await readdir(dir)).sort()).toEqual(['dev.enc.json']);
  });

  for (const flavour of ['commonjs', 'module'] as const) {
    it(`keeps a ${flavour} script alive while its awaited write waits for the lock`, { timeout: 60_000 }, async () => {
      const holder = start([WRITER, 'hold', path, 'x']);
      await holder.line('locked');
      const script =
        flavour === 'module'
          ? `const { fromLocalStore } = await import(${JSON.stringify(join(ROOT, 'src/providers/fromLocalStore.ts'))});
             const info = await fromLocalStore({ path: process.env.CONNECTOR_SECRETS_STORE }).set('waited', 'generated-' + process.pid);
             console.log('stored', info.currentVersion); console.log('done');`
          : `const { fromLocalStore } = require(${JSON.stringify(join(ROOT, 'src/providers/fromLocalStore.ts'))});
             fromLocalStore({ path: process.env.CONNECTOR_SECRETS_STORE }).set('waited', 'generated-' + process.pid)
               .then((info) => { console.log('stored', info.currentVersion); console.log('done'); }, (err) => { console.log('error', err.code); process.exitCode = 1; });`;
      const waiter = start([`--input-type=${flavour}`, '-e', script]);
      // The waiter polls the lock; release it by killing the holder only after the waiter has
      // been waiting for a while.
      await new Promise((r) => setTimeout(r, 1_500));
      holder.child.kill('SIGKILL');
      await holder.exit;
      const { code, stderr } = await waiter.exit;
      expect({ code, lines: waiter.lines, stderr }).toEqual({ code: 0, lines: ['stored 1', 'done'], stderr: '' });
    });
  }
});

describe('local store: writers SIGKILLed at random points', () => {
  it('30 kills leave no temp or lock file once the store is opened, and lose no acknowledged write', { timeout: 300_000 }, async () => {
    const acknowledged = new Map<string, string>();
    let tempsSeen = 0;
    for (let run = 0; run < 30; run++) {
      const writer = start([WRITER, 'loop', path, `k${run}`]);
      await writer.line('ready');
      await new Promise((r) => setTimeout(r, Math.floor(Math.random() * 120)));
      writer.child.kill('SIGKILL');
      await writer.exit;
      for (const [name, hash] of acks(writer.lines)) acknowledged.set(name, hash);
      tempsSeen = Math.max(tempsSeen, (await readdir(dir)).filter((f) => f.endsWith('.tmp')).length);
    }
    // Opening the store cleans up after the killed writers.
    const reader = fromLocalStore({ path, key });
    await reader.list();
    expect((await readdir(dir)).sort()).toEqual(['dev.enc.json']);
    expect(await lost(acknowledged)).toEqual([]);
    console.info(`random SIGKILLs: ${acknowledged.size} acknowledged writes, at most ${tempsSeen} orphaned temp files before the open`);
  });
});
