import { appendFile, mkdtemp, open, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { canonicalJson } from '../../src/audit/canonical.js';
import { fileAuditSink } from '../../src/audit/fileAuditSink.js';
import { createHmac } from 'node:crypto';
import { GENESIS } from '../../src/audit/record.js';
import { verifyAuditLog } from '../../src/audit/verifyAuditLog.js';
import { event, hmacKey } from './helpers.js';

let dir: string;
let path: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cs-audit-'));
  path = join(dir, 'audit.jsonl');
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const lines = async () => (await readFile(path, 'utf8')).split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Record<string, unknown>);

describe('canonicalJson', () => {
  it('sorts keys, drops undefined members, and has no whitespace', () => {
    expect(canonicalJson({ b: 1, a: [true, null, undefined], c: undefined, d: { z: 'x', y: 2 } })).toBe('{"a":[true,null,null],"b":1,"d":{"y":2,"z":"x"}}');
    expect(() => canonicalJson({ n: Infinity })).toThrow();
  });
});

describe('fileAuditSink', () => {
  it('writes chained lines in one byte form whose MAC covers the exact bytes before ,"mac": (seq from 1, prev = previous mac, one log id)', async () => {
    const key = hmacKey();
    const sink = fileAuditSink(path, { hmacKey: key });
    const events = [event(), event(), event({ outcome: 'denied', code: 'POLICY_DENIED', rule: 'orders' })];
    for (const e of events) await sink.write(e);
    await sink.close();
    const raw = (await readFile(path, 'utf8')).split('\n').slice(0, -1);
    const recs = await lines();
    expect(recs).toHaveLength(4);
    let prev = GENESIS;
    const log = recs[0]!['log'];
    expect(log).toMatch(/^[0-9a-f]{32}$/);
    for (const [i, rec] of recs.entries()) {
      const [kind, body] = 'event' in rec ? ['event', rec['event']] : ['checkpoint', rec['checkpoint']];
      // Each awaited write is a write of its own: one line, sealed.
      const signed = `{"v":3,"log":"${log as string}","seq":${i + 1},"prev":"${prev}","${kind}":${canonicalJson(body)}`;
      const mac = createHmac('sha256', Buffer.from(key, 'utf8')).update(signed, 'utf8').digest('hex');
      expect(raw[i]).toBe(`${signed},"mac":"${mac}"}`);
      prev = mac;
    }
    expect(recs.slice(0, 3).map((r) => r['event'])).toEqual(events);
    expect(recs[3]).toMatchObject({ checkpoint: { count: 3, identity: 'orders-sync', environment: 'prod' } });
    expect(await verifyAuditLog(path, { hmacKey: key })).toEqual({ ok: true, count: 3 });
  });

  it.skipIf(process.platform === 'win32')('creates the file with mode 0600', async () => {
    const sink = fileAuditSink(path, { hmacKey: hmacKey() });
    await sink.write(event());
    await sink.close();
    expect((await stat(path)).mode & 0o777).toBe(0o600);
  });

  it('keeps the order of concurrent writes', async () => {
    const key = hmacKey();
    const sink = fileAuditSink(path, { hmacKey: key });
    const events = Array.from({ length: 50 }, () => event());
    await Promise.all(events.map((e) => sink.write(e)));
    await sink.close();
    expect((await lines()).slice(0, 50).map((r) => r['event'])).toEqual(events);
    expect(await verifyAuditLog(path, { hmacKey: key })).toEqual({ ok: true, count: 50 });
  });

  it('continues an existing log across sessions, and the whole file verifies', async () => {
    const key = hmacKey();
    const first = fileAuditSink(path, { hmacKey: key });
    await first.write(event());
    await first.close();
    const second = fileAuditSink(path, { hmacKey: key });
    await second.write(event());
    await second.write(event());
    await second.close();
    const recs = await lines();
    expect(recs.map((r) => r['seq'])).toEqual([1, 2, 3, 4, 5]);
    expect(recs[4]).toMatchObject({ checkpoint: { count: 2 } });
    expect(await verifyAuditLog(path, { hmacKey: key })).toEqual({ ok: true, count: 3 });
  });

  it('refuses to continue a log whose last line does not verify under its key, or that ends mid-line', async () => {
    const first = fileAuditSink(path, { hmacKey: hmacKey() });
    await first.write(event());
    await first.close();
    const other = fileAuditSink(path, { hmacKey: hmacKey() });
    await expect(other.write(event())).rejects.toMatchObject({ code: 'AUDIT_WRITE_FAILED', message: expect.stringContaining('does not verify') });
    const torn = join(dir, 'torn.jsonl');
    await writeFile(torn, '{"seq":1');
    await expect(fileAuditSink(torn, { hmacKey: hmacKey() }).write(event())).rejects.toMatchObject({ code: 'AUDIT_WRITE_FAILED', message: expect.stringContaining('incomplete') });
  });

  it('one sink per file in a process', async () => {
    const a = fileAuditSink(path, { hmacKey: hmacKey() });
    await a.write(event());
    const b = fileAuditSink(path, { hmacKey: hmacKey() });
    await expect(b.write(event())).rejects.toThrow(/already writes this file/);
    // Closing the refused sink does not release the file the first sink still writes.
    await b.close();
    const c = fileAuditSink(path, { hmacKey: hmacKey() });
    await expect(c.write(event())).rejects.toThrow(/already writes this file/);
    await a.close();
  });

  it('a failed write breaks the sink for good; writes after close fail', async () => {
    const sink = fileAuditSink(join(dir, 'missing-dir', 'audit.jsonl'), { hmacKey: hmacKey() });
    await expect(sink.write(event())).rejects.toMatchObject({ code: 'AUDIT_WRITE_FAILED' });
    await expect(sink.write(event())).rejects.toMatchObject({ code: 'AUDIT_WRITE_FAILED' });
    const ok = fileAuditSink(path, { hmacKey: hmacKey() });
    await ok.write(event());
    await ok.close();
    await ok.close();
    await expect(ok.write(event())).rejects.toThrow(/closed/);
  });

  it('keeps one log id across sessions; each checkpoint names the identity and environment of the first record', async () => {
    const key = hmacKey();
    for (const identity of ['orders-sync', 'billing-sync']) {
      const sink = fileAuditSink(path, { hmacKey: key });
      await sink.write(event({ identity }));
      await sink.close();
    }
    const recs = await lines();
    expect(new Set(recs.map((r) => r['log'])).size).toBe(1);
    expect(recs[3]).toMatchObject({ checkpoint: { identity: 'orders-sync', environment: 'prod', count: 1 } });
    expect(await verifyAuditLog(path, { hmacKey: key, identity: 'orders-sync', environment: 'prod' })).toEqual({ ok: true, count: 2 });
  });

  it('refuses to continue a log whose first line does not verify, even when its last line does', async () => {
    const key = hmacKey();
    const first = fileAuditSink(path, { hmacKey: key });
    await first.write(event());
    await first.write(event());
    await first.close();
    const text = await readFile(path, 'utf8');
    await writeFile(path, text.replace('"latencyMs":3', '"latencyMs":4'));
    await expect(fileAuditSink(path, { hmacKey: key }).write(event())).rejects.toMatchObject({ code: 'AUDIT_WRITE_FAILED', message: expect.stringContaining('first line does not verify') });
  });

  it('never writes what the verifier would refuse (an unknown field, a __proto__ key, a non-finite number); the sink stays usable', async () => {
    const key = hmacKey();
    const sink = fileAuditSink(path, { hmacKey: key });
    const bad = [
      { ...event(), note: 'x' },
      JSON.parse(`{"__proto__":{"outcome":"success"},${JSON.stringify(event()).slice(1)}`) as never,
      event({ latencyMs: Number.NaN }),
      { ...event(), identity: 7 } as never,
    ];
    for (const e of bad) await expect(sink.write(e)).rejects.toMatchObject({ code: 'AUDIT_WRITE_FAILED', message: expect.stringContaining('not written') });
    await sink.write(event());
    await sink.close();
    expect(await verifyAuditLog(path, { hmacKey: key })).toEqual({ ok: true, count: 1 });
  });

  it('an anchor that cannot be written fails the close (the checkpoint is in the log, the anchor lacks it)', async () => {
    const key = hmacKey();
    const sink = fileAuditSink(path, { hmacKey: key, anchor: join(dir, 'missing-dir', 'audit.anchor') });
    await sink.write(event());
    await expect(sink.close()).rejects.toMatchObject({ code: 'AUDIT_WRITE_FAILED', message: expect.stringContaining('anchor') });
    expect(await verifyAuditLog(path, { hmacKey: key })).toEqual({ ok: true, count: 1 });
    const failing = fileAuditSink(join(dir, 'b.jsonl'), { hmacKey: key, anchor: { append: () => Promise.reject(new Error('remote down')) } });
    await failing.write(event());
    await expect(failing.close()).rejects.toMatchObject({ code: 'AUDIT_WRITE_FAILED', cause: { message: 'remote down' } });
  });

  it('validates the key', () => {
    expect(() => fileAuditSink(path, { hmacKey: 'short' })).toThrow(/at least 16 bytes/);
    expect(() => fileAuditSink('', { hmacKey: hmacKey() })).toThrow(/file path/);
  });

  it('group commit: concurrent records go out in a few writes with one fdatasync each, in order, and the log verifies', async () => {
    const key = hmacKey();
    // Observes the real file handle's calls (they still run): how many writes and flushes 200 records cost.
    const probe = await open(join(dir, 'probe'), 'w');
    const proto = Object.getPrototypeOf(probe) as { write: (...a: unknown[]) => unknown; datasync: () => Promise<void> };
    await probe.close();
    const writes = vi.spyOn(proto, 'write');
    const syncs = vi.spyOn(proto, 'datasync');
    try {
      const sink = fileAuditSink(path, { hmacKey: key, fsync: true });
      const events = Array.from({ length: 200 }, () => event());
      await Promise.all(events.map((e) => sink.write(e)));
      expect(writes.mock.calls.length).toBeLessThanOrEqual(2);
      expect(syncs.mock.calls.length).toBeLessThanOrEqual(2);
      await sink.close();
      const recs = await lines();
      expect(recs.slice(0, -1).map((r) => (r['event'] as { seq: number }).seq)).toEqual(events.map((e) => e.seq));
      expect(await verifyAuditLog(path, { hmacKey: key })).toEqual({ ok: true, count: 200 });
    } finally {
      writes.mockRestore();
      syncs.mockRestore();
    }
  });

  it('a failed batch fails every writer of that batch', async () => {
    const sink = fileAuditSink(join(dir, 'missing-dir', 'audit.jsonl'), { hmacKey: hmacKey() });
    const results = await Promise.allSettled(Array.from({ length: 20 }, () => sink.write(event())));
    expect(results.every((r) => r.status === 'rejected' && (r.reason as { code?: string }).code === 'AUDIT_WRITE_FAILED')).toBe(true);
    await sink.close();
  });

  it('close writes every record accepted before it, then the checkpoint', async () => {
    const key = hmacKey();
    const sink = fileAuditSink(path, { hmacKey: key });
    const writes = Array.from({ length: 50 }, () => sink.write(event()));
    const closing = sink.close();
    await expect(sink.write(event())).rejects.toThrow(/closed/);
    await Promise.all(writes);
    await closing;
    expect(await verifyAuditLog(path, { hmacKey: key })).toEqual({ ok: true, count: 50 });
  });

  it('with fsync', async () => {
    const key = hmacKey();
    const sink = fileAuditSink(path, { hmacKey: key, fsync: true });
    await sink.write(event());
    await sink.close();
    await appendFile(path, '');
    expect((await verifyAuditLog(path, { hmacKey: key })).ok).toBe(true);
  });
});
