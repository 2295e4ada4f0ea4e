/**
 * One writer per log across processes: a second process appending to a log forks its HMAC chain
 * (both continue from the same last line), so a sink refuses a log whose lock a live process
 * holds, and takes over the lock of a writer that was SIGKILLed.
 */
import { spawn } from 'node:child_process';
import { access, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { fileAuditSink } from '../../src/audit/fileAuditSink.js';
import { event, hmacKey } from './helpers.js';

const ROOT = resolve(import.meta.dirname, '../..');
const HOLDER = join(ROOT, 'test/fixtures/audit/holder.ts');

let dir: string;
let path: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cs-audit-procs-'));
  path = join(dir, 'audit.jsonl');
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('fileAuditSink across processes', () => {
  it('refuses a log another live process writes, takes it over once that process was killed, and the chain continues', async () => {
    const key = hmacKey();
    const child = spawn(process.execPath, ['--import', 'tsx', HOLDER, path, key], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (c: string) => void (stderr += c));
    const exited = new Promise<void>((done) => child.on('close', () => done()));
    try {
      await new Promise<void>((done, failed) => {
        child.stdout.setEncoding('utf8').on('data', (c: string) => c.includes('holding') && done());
        void exited.then(() => failed(new Error(`the holder exited: ${stderr}`)));
      });
      const second = fileAuditSink(path, { hmacKey: key });
      await expect(second.write(event({ identity: 'holder' }))).rejects.toMatchObject({
        code: 'AUDIT_WRITE_FAILED',
        message: expect.stringContaining(`another process writes this log (pid ${child.pid} on `),
      });
      await second.close();
      expect((await readFile(path, 'utf8')).split('\n')).toHaveLength(2); // the holder's line only
    } finally {
      child.kill('SIGKILL');
      await exited;
    }

    // The holder is dead: its lock is taken over, and the next line chains on from its last one.
    const third = fileAuditSink(path, { hmacKey: key });
    await third.write(event({ identity: 'holder' }));
    await third.close();
    const lines = (await readFile(path, 'utf8')).split('\n').slice(0, -1).map((l) => JSON.parse(l) as { seq: number; prev: string; mac: string; resumed?: { count: number } });
    // The holder never closed: the third sink counts its one record in a resumed marker first.
    expect(lines.map((l) => l.seq)).toEqual([1, 2, 3, 4]);
    expect(lines[1]!.resumed).toMatchObject({ count: 1 });
    expect(lines[1]!.prev).toBe(lines[0]!.mac);
    expect(lines[2]!.prev).toBe(lines[1]!.mac);
    await expect(access(`${path}.lock`)).rejects.toMatchObject({ code: 'ENOENT' }); // released on close
  }, 60_000);
});
