// A process with nothing else keeping it alive: the audit worker must hold it open while a batch
// is in flight and let it go when idle. Run as a child process; its output, exit code and log.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { verifyAuditLog } from '../../src/audit/verifyAuditLog.js';
import { bundledFixture } from '../bundle.js';

const fixture = bundledFixture('cs-audit-lifetime-', 'test/fixtures/audit/worker-exit.ts', 'worker-exit.mjs');

describe('the audit worker and the process lifetime', () => {
  it('a script awaiting a worker-written batch prints its result and exits 0 on its own, with every record in the log', async () => {
    const file = join(fixture.dir, 'exit.jsonl');
    const key = randomBytes(32).toString('hex');
    const child = spawn(process.execPath, [fixture.script, file, key], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => void (out += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => void (err += c));
    // A hang (a worker referenced while idle) fails here: the safety net is far above a node start.
    const code = await new Promise<number | null>((done, fail) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        fail(new Error(`the script did not exit within 20 s (stdout: ${out})`));
      }, 20_000);
      child.on('close', (c) => {
        clearTimeout(timer);
        done(c);
      });
    });
    expect({ code, out, err }).toEqual({ code: 0, out: 'written 64\nwritten 128\n', err: '' });
    const lines = (await readFile(file, 'utf8')).split('\n').filter(Boolean);
    expect(lines).toHaveLength(128);
    expect(await verifyAuditLog(file, { hmacKey: key, requireCheckpoint: false })).toMatchObject({ ok: true, count: 128 });
  }, 60_000);
});
