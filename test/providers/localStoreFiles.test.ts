/**
 * The local store's files beyond the store itself: a symlinked store path, the lock file, and
 * temp files left by writers that died. Cross-process behaviour is in localStoreProcesses.test.ts.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { lstat, mkdir, mkdtemp, readdir, readFile, readlink, rm, stat, symlink, utimes, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError, ProviderError } from '../../src/errors.js';
import type { ResolveContext } from '../../src/provider.js';
import { fromLocalStore } from '../../src/providers/fromLocalStore.js';
import { writeFileAtomic } from '../../src/providers/local-store/file.js';
import { acquireLock, lockPathOf } from '../../src/providers/local-store/lock.js';
import { parseRef } from '../../src/ref/parseRef.js';
import { errorText, generated, rejection } from '../helpers.js';

const posix = process.platform !== 'win32';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cs-store-files-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

function ctx(): ResolveContext {
  return { signal: new AbortController().signal, env: {}, environment: 'dev', identity: undefined, now: Date.now };
}

async function newStore() {
  const key = randomBytes(32);
  const path = join(dir, 'dev.enc.json');
  const store = fromLocalStore({ path, key, environment: 'dev' });
  await store.init();
  return { store, key, path };
}

/** The pid of a process that has exited (and been reaped). */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '']);
  await new Promise((done) => child.on('close', done));
  return child.pid!;
}

describe('local store: a symlinked store path', () => {
  it.runIf(posix)('writes through the link to its target: the link stays, the target gets every write, mode 0600', async () => {
    const key = randomBytes(32);
    const realDir = join(dir, 'real');
    await mkdir(realDir, { mode: 0o700 });
    const target = join(realDir, 'dev.enc.json');
    await fromLocalStore({ path: target, key, environment: 'dev' }).init();
    const link = join(dir, 'link.enc.json');
    await symlink('real/dev.enc.json', link); // relative, as dotfile managers make them

    const viaLink = fromLocalStore({ path: link, key });
    const first = generated();
    await viaLink.set('a', first);
    const second = generated();
    await viaLink.rotate('a', second);
    await viaLink.rotateKey({ key: randomBytes(32) });
    const third = generated();
    await viaLink.set('b', third);

    expect((await lstat(link)).isSymbolicLink()).toBe(true);
    expect(await readlink(link)).toBe('real/dev.enc.json');
    expect((await stat(target)).mode & 0o777).toBe(0o600);
    expect(await readdir(dir)).toEqual(expect.arrayContaining(['link.enc.json', 'real']));
    expect((await readdir(dir)).length).toBe(2);
    expect(await readdir(realDir)).toEqual(['dev.enc.json']);
    // The target file itself holds what was written through the link.
    const text = await readFile(target, 'utf8');
    expect(JSON.parse(text).entries.a.versions).toHaveLength(2);
    expect(await readFile(link, 'utf8')).toBe(text);
    expect((await viaLink.resolve(parseRef('local://a?version=1'), ctx())).value).toBe(first);
    expect((await viaLink.resolve(parseRef('local://a'), ctx())).value).toBe(second);
    expect((await viaLink.resolve(parseRef('local://b'), ctx())).value).toBe(third);
  });

  it.runIf(posix)('init never follows a link: a symlinked path, even a dangling one, already exists', async () => {
    const dangling = join(dir, 'dangling.enc.json');
    await symlink(join(dir, 'nowhere.enc.json'), dangling);
    const err = await rejection(fromLocalStore({ path: dangling, key: randomBytes(32), environment: 'dev' }).init());
    expect(err).toBeInstanceOf(ConfigError);
    expect(err.message).toMatch(/already exists/);
    expect((await lstat(dangling)).isSymbolicLink()).toBe(true);
    expect((await readdir(dir)).sort()).toEqual(['dangling.enc.json']);
  });

  it.runIf(posix)('shares one lock between writers through the link and through the target: no write is lost', async () => {
    const { key, path } = await newStore();
    const link = join(dir, 'link.enc.json');
    await symlink(path, link);
    const direct = fromLocalStore({ path, key });
    const linked = fromLocalStore({ path: link, key });
    const writes = Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? direct : linked).set(`e${i}`, generated()));
    await Promise.all(writes);
    expect((await fromLocalStore({ path, key }).list()).map((e) => e.name).sort()).toEqual(Array.from({ length: 20 }, (_, i) => `e${i}`).sort());
    expect((await lstat(link)).isSymbolicLink()).toBe(true);
  });
});

describe('local store: the lock file', () => {
  it('takes over a lock left by a dead process at once, and removes it when done', async () => {
    const { store, key, path } = await newStore();
    const pid = await deadPid();
    await writeFile(`${path}.lock`, JSON.stringify({ pid, hostname: hostname(), startedAt: Date.now(), token: 'dead' }) + '\n', { mode: 0o600 });
    const writer = fromLocalStore({ path, key, lockTimeoutMs: 0 });
    await writer.set('a', generated());
    expect(await readdir(dir)).toEqual(['dev.enc.json']);
    await store.close();
  });

  it('waits for a live holder, then fails with StoreLockTimeoutError and writes nothing', async () => {
    const { key, path } = await newStore();
    // A live holder: this very process, under another lock token.
    await writeFile(`${path}.lock`, JSON.stringify({ pid: process.pid, hostname: hostname(), startedAt: Date.now(), token: 'live' }) + '\n', { mode: 0o600 });
    const before = await readFile(path, 'utf8');
    const err = await rejection(fromLocalStore({ path, key, lockTimeoutMs: 50 }).set('a', generated()));
    expect(err).toMatchObject({ name: 'StoreLockTimeoutError', code: 'PROVIDER_UNAVAILABLE', provider: 'local', lockPath: `${path}.lock` });
    expect(err['holder']).toMatchObject({ pid: process.pid, hostname: hostname() });
    expect(await readFile(path, 'utf8')).toBe(before);
    expect(await readdir(dir)).toEqual(['dev.enc.json', 'dev.enc.json.lock']);
  });

  it('does not echo what a lock file holds besides a pid and a plain hostname', async () => {
    const { key, path } = await newStore();
    const pasted = generated();
    await writeFile(`${path}.lock`, JSON.stringify({ pid: process.pid, hostname: `db:${pasted}@x`, startedAt: Date.now(), token: pasted }) + '\n', { mode: 0o600 });
    const err = await rejection(fromLocalStore({ path, key, lockTimeoutMs: 0 }).set('a', generated()));
    expect(err).toMatchObject({ name: 'StoreLockTimeoutError', holder: { pid: process.pid } });
    expect(errorText(err)).not.toContain(pasted);
  });

  it('takes over a lock older than 30 s even when its pid runs (reused pid, other host)', async () => {
    const { key, path } = await newStore();
    for (const host of [hostname(), 'another-host']) {
      await writeFile(`${path}.lock`, JSON.stringify({ pid: process.pid, hostname: host, startedAt: Date.now() - 31_000, token: 'old' }) + '\n', { mode: 0o600 });
      await fromLocalStore({ path, key, lockTimeoutMs: 0 }).set('a', generated());
      expect(await readdir(dir)).toEqual(['dev.enc.json']);
    }
  });

  it('treats an empty lock file as being written, and as stale once it is 2 s old', async () => {
    const { key, path } = await newStore();
    const lock = `${path}.lock`;
    await writeFile(lock, '', { mode: 0o600 });
    await expect(fromLocalStore({ path, key, lockTimeoutMs: 50 }).set('a', generated())).rejects.toMatchObject({ name: 'StoreLockTimeoutError' });
    const past = new Date(Date.now() - 5_000);
    await utimes(lock, past, past);
    await fromLocalStore({ path, key, lockTimeoutMs: 0 }).set('a', generated());
    expect(await readdir(dir)).toEqual(['dev.enc.json']);
  });

  it('a holder whose lock was taken over writes nothing, and its release leaves the new holder\'s lock alone', async () => {
    const { path } = await newStore();
    const before = await readFile(path, 'utf8');
    const lock = await acquireLock(lockPathOf(path), { timeoutMs: 0 });
    // What a takeover leaves: the lock file now carries another holder's token.
    const other = JSON.stringify({ pid: process.pid, hostname: hostname(), startedAt: Date.now(), token: 'newer' }) + '\n';
    await writeFile(lockPathOf(path), other, { mode: 0o600 });
    const err = await rejection(writeFileAtomic(path, 'not written', () => lock.assertHeld()));
    expect(err).toBeInstanceOf(ProviderError);
    expect(err.message).toMatch(/taken over/);
    expect(await readFile(path, 'utf8')).toBe(before);
    await lock.release();
    expect(await readFile(lockPathOf(path), 'utf8')).toBe(other);
    expect((await readdir(dir)).sort()).toEqual(['dev.enc.json', 'dev.enc.json.lock']);
  });

  it('refuses a lockTimeoutMs that is not an integer from 0 to 2^31-1 (Node would fire a larger timer at once)', () => {
    for (const lockTimeoutMs of [-1, 1.5, Number.NaN, 2 ** 31, Number.POSITIVE_INFINITY]) {
      expect(() => fromLocalStore({ path: join(dir, 'x.enc.json'), lockTimeoutMs })).toThrow(ConfigError);
    }
    expect(() => fromLocalStore({ path: join(dir, 'x.enc.json'), lockTimeoutMs: 2 ** 31 - 1 })).not.toThrow();
  });
});

describe('local store: temp files left by writers that died', () => {
  it('on open, removes the store\'s temp files of dead pids and old ones, and nothing else', async () => {
    const { store, key, path } = await newStore();
    await store.set('a', generated());
    const copy = await readFile(path);
    const dead = await deadPid();
    const removed = [`.dev.enc.json.${dead}.0123456789ab.tmp`, `.dev.enc.json.${process.pid}.0123456789ac.tmp`];
    const kept = [
      `.dev.enc.json.${process.pid}.0123456789ad.tmp`, // a live writer's, young
      `.prod.enc.json.${dead}.0123456789ab.tmp`, // another store's
      `.dev.enc.json.${dead}.0123456789ab.tmp.bak`,
      `dev.enc.json.${dead}.0123456789ab.tmp`,
      `.dev.enc.json.${dead}.0123456789AB.tmp`,
      `.dev.enc.json.x${dead}.0123456789ab.tmp`,
    ];
    for (const name of [...removed, ...kept]) await writeFile(join(dir, name), copy, { mode: 0o600 });
    const old = new Date(Date.now() - 61_000);
    await utimes(join(dir, removed[1]!), old, old);

    await fromLocalStore({ path, key }).resolve(parseRef('local://a'), ctx());
    expect((await readdir(dir)).sort()).toEqual(['dev.enc.json', ...kept].sort());
  });

  it('rotateKey removes temp copies that still decrypt under the retired key', async () => {
    const { store, path } = await newStore();
    await store.set('a', generated());
    await store.list(); // opened: the open-time cleanup has run
    const orphan = join(dir, `.dev.enc.json.${await deadPid()}.0123456789ab.tmp`);
    await writeFile(orphan, await readFile(path), { mode: 0o600 });
    await store.rotateKey({ key: randomBytes(32) });
    expect(await readdir(dir)).toEqual(['dev.enc.json']);
  });

  it('every write removes them too, under the lock', async () => {
    const { store, path } = await newStore();
    await store.list();
    const orphan = join(dir, `.dev.enc.json.${await deadPid()}.0123456789ab.tmp`);
    await writeFile(orphan, await readFile(path), { mode: 0o600 });
    await store.set('a', generated());
    expect(await readdir(dir)).toEqual(['dev.enc.json']);
  });
});
