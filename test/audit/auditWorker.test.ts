// The file sink's worker thread: the same bytes as the in-thread path, its head reported back,
// failures that break rather than skip, and the sink's use of it under load.
import { openSync, closeSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { macKey, macOf, signLines, GENESIS, bodyText } from '../../src/audit/record.js';
import { verifyAuditLog } from '../../src/audit/verifyAuditLog.js';
import { event, hmacKey } from './helpers.js';

let created = 0;
vi.mock('../../src/audit/auditWorker.js', async (importOriginal) => {
  const mod = await importOriginal<typeof import('../../src/audit/auditWorker.js')>();
  return {
    ...mod,
    AuditWorker: class extends mod.AuditWorker {
      constructor(...args: ConstructorParameters<typeof mod.AuditWorker>) {
        super(...args);
        created += 1;
      }
    },
  };
});
const { AuditWorker } = await import('../../src/audit/auditWorker.js');
const { fileAuditSink } = await import('../../src/audit/fileAuditSink.js');

const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});
async function tmp(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'cs-audit-worker-'));
  dirs.push(d);
  return d;
}

describe('AuditWorker', () => {
  it('writes byte for byte what the in-thread path would, batch after batch, and reports each head', async () => {
    const file = join(await tmp(), 'w.jsonl');
    const fd = openSync(file, 'a');
    const key = macKey(hmacKey());
    const heads: { seq: number; mac: string }[] = [];
    const worker = new AuditWorker(key, (h) => heads.push(h));
    try {
      const batches = [0, 1, 2].map(() => Array.from({ length: 20 }, () => bodyText({ event: event({ reason: 'quote " backslash \\ and é' }) })));
      // The second batch is over 64 KiB, in 3-byte characters: the worker's reused buffer grows.
      batches[1] = Array.from({ length: 20 }, () => bodyText({ event: event({ reason: '€'.repeat(2000) }) }));
      // Posted without waiting: the worker takes them in order and keeps the head itself.
      worker.post(fd, 'a'.repeat(32), { seq: 0, mac: GENESIS }, batches[0]!);
      worker.post(fd, 'a'.repeat(32), undefined, batches[1]!);
      expect(worker.busy).toBe(true);
      await worker.settled();
      worker.post(fd, 'a'.repeat(32), heads.at(-1), batches[2]!);
      await worker.settled();
      expect(worker.busy).toBe(false);
      // One write, one MAC: each batch sealed on its own, chained to the one before.
      let expected = { text: '', seq: 0, mac: GENESIS };
      for (const b of batches) {
        const next = signLines((t) => macOf(key, t), 'a'.repeat(32), expected.seq, expected.mac, b);
        expected = { ...next, text: expected.text + next.text };
      }
      expect(readFileSync(file, 'utf8')).toBe(expected.text);
      expect(heads.map((h) => h.seq)).toEqual([20, 40, 60]);
      expect(heads.at(-1)).toEqual({ seq: expected.seq, mac: expected.mac });
    } finally {
      await worker.close();
      closeSync(fd);
    }
  });

  it('a write that fails rejects what waits for it and refuses every later batch', async () => {
    const worker = new AuditWorker(macKey(hmacKey()), () => undefined);
    try {
      worker.post(2_000_000, 'b'.repeat(32), { seq: 0, mac: GENESIS }, [bodyText({ event: event() })]); // no such descriptor
      await expect(worker.settled()).rejects.toMatchObject({ code: 'EBADF' });
      expect(() => worker.post(2_000_000, 'b'.repeat(32), undefined, [bodyText({ event: event() })])).toThrow();
      await expect(worker.settled()).rejects.toMatchObject({ code: 'EBADF' });
    } finally {
      await worker.close();
    }
  });
});

describe('fileAuditSink offload', () => {
  it('large batches go to the worker, small ones stay in-thread, and the chain runs through both', async () => {
    const file = join(await tmp(), 'mixed.jsonl');
    const key = hmacKey();
    const before = created;
    const sink = fileAuditSink(file, { hmacKey: key });
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < 3; i++) await sink.write(event()); // batches of one: in-thread
      await Promise.all(Array.from({ length: 100 }, () => sink.write(event()))); // large: the worker
    }
    await sink.close();
    expect(created - before).toBe(1);
    const result = await verifyAuditLog(file, { hmacKey: key });
    expect(result).toMatchObject({ ok: true, count: 3 * 103 });
  });

  it('offload: false never starts a worker, and the log is the same shape', async () => {
    const file = join(await tmp(), 'inline.jsonl');
    const key = hmacKey();
    const before = created;
    const sink = fileAuditSink(file, { hmacKey: key, offload: false });
    await Promise.all(Array.from({ length: 100 }, () => sink.write(event())));
    await sink.close();
    expect(created).toBe(before);
    expect(await verifyAuditLog(file, { hmacKey: key })).toMatchObject({ ok: true, count: 100 });
  });
});
