/**
 * A log whose writer was killed has no closing checkpoint. The next sink to continue it writes a
 * `resumed` marker first, counting the records of the session that never closed. A killed writer
 * and a log cut short and continued look the same, so the default verification fails at the
 * marker, naming both; accepted as an open log (`requireCheckpoint: false`, which `doctor` and
 * `incident` use), the whole log verifies, every session counted, and the markers are reported.
 * Cutting or forging around a marker still fails.
 */
import { createHmac } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { fileAuditSink } from '../../src/audit/fileAuditSink.js';
import { bodyText, signLines } from '../../src/audit/record.js';
import { verifyAuditLog } from '../../src/audit/verifyAuditLog.js';
import { runAuditCommand } from '../../src/cli/audit.js';
import { event, hmacKey } from './helpers.js';

let dir: string;
let path: string;
const key = hmacKey();
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cs-resumed-'));
  path = join(dir, 'audit.jsonl');
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const read = async () => (await readFile(path, 'utf8')).split('\n').slice(0, -1);
const save = (lines: readonly string[]) => writeFile(path, lines.map((l) => `${l}\n`).join(''));

/** A session of `n` records (concurrent, so in writes of several lines) that is killed: its checkpoint never written. */
async function killedSession(n: number): Promise<void> {
  const sink = fileAuditSink(path, { hmacKey: key });
  await Promise.all(Array.from({ length: n }, () => sink.write(event())));
  await sink.close();
  const lines = await read();
  expect(lines.at(-1)).toContain('"checkpoint":{');
  // What a SIGKILL before close() leaves: every record, no checkpoint.
  await save(lines.slice(0, -1));
}

async function closedSession(n: number): Promise<void> {
  const sink = fileAuditSink(path, { hmacKey: key });
  for (let i = 0; i < n; i++) await sink.write(event());
  await sink.close();
}

describe('a session after one that never closed', () => {
  it('begins with a resumed marker counting the records of the killed session, and the log verifies, naming the marker', async () => {
    await closedSession(2);
    await killedSession(5);
    await closedSession(1);
    const lines = await read();
    // 2 records + checkpoint, 5 records, the marker, 1 record + checkpoint.
    expect(lines).toHaveLength(11);
    expect(JSON.parse(lines[8]!)).toMatchObject({ seq: 9, resumed: { count: 5, identity: 'orders-sync', environment: 'prod' } });
    expect(lines[8]).toMatch(/"prev":"[0-9a-f]{64}","resumed":\{.*\},"mac":"[0-9a-f]{64}"\}$/);
    expect(JSON.parse(lines[10]!)).toMatchObject({ checkpoint: { count: 1 } });
    expect(await verifyAuditLog(path, { hmacKey: key, requireCheckpoint: false })).toEqual({ ok: true, count: 8, resumedAt: [9] });
    expect(await verifyAuditLog(path, { hmacKey: key })).toMatchObject({ ok: false, count: 7, firstInvalidLine: 9, reason: expect.stringContaining('a resumed marker: the session before it never closed') });

    let out = '';
    const io = { stdout: (s: string) => void (out += s), stderr: (s: string) => void (out += s), env: { CONNECTOR_SECRETS_AUDIT_KEY: key } };
    expect(await runAuditCommand(['verify', path], io)).toBe(1);
    expect(out).toContain('line 9: a resumed marker');
    out = '';
    expect(await runAuditCommand(['verify', path, '--allow-open'], io)).toBe(0);
    expect(out).toContain('1 session(s) ended without closing (killed or crashed); the next writer counted their records at line(s) 9');
    out = '';
    expect(await runAuditCommand(['verify', path, '--allow-open', '--json'], io)).toBe(0);
    expect(JSON.parse(out)).toEqual({ file: path, ok: true, count: 8, resumedAt: [9] });
    // `audit summary` verifies the log, then counts records only: the marker is not an access.
    out = '';
    expect(await runAuditCommand(['summary', path, '--allow-open', '--json', '--since', '2000-01-01T00:00:00Z'], io)).toBe(0);
    expect(JSON.parse(out)).toMatchObject({ verified: true, events: 8 });
  });

  it('sessions killed one after another each get their marker; a session killed after its marker is counted by the next', async () => {
    await killedSession(3);
    await killedSession(4);
    await closedSession(2);
    const lines = await read();
    expect(lines.map((l) => Object.keys(JSON.parse(l) as object).find((k) => ['event', 'resumed', 'checkpoint'].includes(k)))).toEqual([
      ...Array(3).fill('event'),
      'resumed',
      ...Array(4).fill('event'),
      'resumed',
      'event',
      'event',
      'checkpoint',
    ]);
    expect(JSON.parse(lines[3]!)).toMatchObject({ resumed: { count: 3 } });
    expect(JSON.parse(lines[8]!)).toMatchObject({ resumed: { count: 4 } });
    expect(await verifyAuditLog(path, { hmacKey: key, requireCheckpoint: false })).toEqual({ ok: true, count: 9, resumedAt: [4, 9] });
  });

  it('counts a killed session longer than the 1 MiB the sink reads back at a time', async () => {
    await closedSession(1);
    await killedSession(4000);
    expect((await readFile(path)).length).toBeGreaterThan(1024 * 1024);
    await closedSession(1);
    const lines = await read();
    expect(JSON.parse(lines[4002]!)).toMatchObject({ resumed: { count: 4000 } });
    expect(await verifyAuditLog(path, { hmacKey: key, requireCheckpoint: false })).toEqual({ ok: true, count: 4002, resumedAt: [4003] });
  });

  it('a closed log gets no marker', async () => {
    await closedSession(1);
    await closedSession(1);
    expect((await read()).some((l) => l.includes('"resumed"'))).toBe(false);
  });
});

describe('what a marker does not let through', () => {
  const hmac = (text: string) => createHmac('sha256', Buffer.from(key, 'utf8')).update(text, 'utf8').digest('hex');
  /** Lines a key holder appends after `lines`, in one write (the writer's own signLines). */
  function appended(lines: readonly string[], bodies: string[]): string[] {
    const last = JSON.parse(lines.at(-1)!) as { log: string; seq: number; mac: string };
    return signLines(hmac, last.log, last.seq, last.mac, bodies).text.split('\n').slice(0, -1);
  }
  const marker = (count: number) => bodyText({ resumed: { ts: '2026-01-01T00:00:00.000Z', count, identity: 'orders-sync', environment: 'prod' } });

  it('a record of the killed session deleted before the next writer runs: a write of its own leaves a seq gap that verify finds; inside a write, the next writer refuses the log', async () => {
    // Sequential: every record a write of its own.
    await closedSession(5);
    await save((await read()).slice(0, -1).toSpliced(1, 1));
    await closedSession(1);
    expect(await verifyAuditLog(path, { hmacKey: key, requireCheckpoint: false })).toMatchObject({ ok: false, firstInvalidLine: 2, reason: expect.stringContaining('sequence number 3 where 2 was expected') });

    await rm(path);
    await killedSession(10);
    await save((await read()).toSpliced(-2, 1));
    const sink = fileAuditSink(path, { hmacKey: key });
    await expect(sink.write(event())).rejects.toMatchObject({ code: 'AUDIT_WRITE_FAILED', message: expect.stringContaining('last line does not verify') });
    await sink.close();
  });

  it('a marker whose count is not the records before it is refused', async () => {
    await killedSession(3);
    const open = await read();
    await save([...open, ...appended(open, [marker(2)])]);
    expect(await verifyAuditLog(path, { hmacKey: key, requireCheckpoint: false })).toMatchObject({ ok: false, firstInvalidLine: 4, reason: 'resumed marker counts 2 records but 3 precede it' });
  });

  it('a marker after a checkpoint, or as the first line, is refused: no session was left open', async () => {
    await closedSession(1);
    const closed = await read();
    await save([...closed, ...appended(closed, [marker(0)])]);
    expect(await verifyAuditLog(path, { hmacKey: key, requireCheckpoint: false })).toMatchObject({
      ok: false,
      firstInvalidLine: 3,
      reason: expect.stringContaining('a resumed marker where no session was left open'),
    });
    await save(signLines(hmac, 'f'.repeat(32), 0, '0'.repeat(64), [marker(0)]).text.split('\n').slice(0, -1));
    expect(await verifyAuditLog(path, { hmacKey: key, requireCheckpoint: false })).toMatchObject({ ok: false, firstInvalidLine: 1, reason: expect.stringContaining('no session was left open') });
  });

  it('a marker in a write with other lines after it is refused, as a checkpoint would be', async () => {
    await killedSession(2);
    const open = await read();
    await save([...open, ...appended(open, [marker(2), bodyText({ event: event() })])]);
    expect(await verifyAuditLog(path, { hmacKey: key, requireCheckpoint: false })).toMatchObject({ ok: false, firstInvalidLine: 3, reason: expect.stringContaining('a resumed marker that is not the last line of its write') });
  });
});
