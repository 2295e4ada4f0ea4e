/**
 * Format 3: one MAC per write. The last line of each write carries `prev` and `mac`, and the MAC
 * covers the write's exact bytes before `,"mac":`. An edit, deletion, move or cut anywhere in a
 * write fails that write; the verifier names the write's first line and counts only the writes
 * before it. Format 2 logs (a MAC per line) are still read, and continued in format 3.
 */
import { createHmac } from 'node:crypto';
import fc from 'fast-check';
import { appendFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MAX_SEALED_LINES } from '../../src/audit/chainCheck.js';
import { fileAuditSink } from '../../src/audit/fileAuditSink.js';
import { GENESIS, bodyText, lineText, signLines } from '../../src/audit/record.js';
import { verifyAuditLog } from '../../src/audit/verifyAuditLog.js';
import { event, hmacKey } from './helpers.js';

let dir: string;
let path: string;
const key = hmacKey();
const hmac = (text: string) => createHmac('sha256', Buffer.from(key, 'utf8')).update(text, 'utf8').digest('hex');
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cs-sealed-'));
  path = join(dir, 'audit.jsonl');
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A closed log of `n` records written by concurrent callers (so in writes of several lines each), in-thread. */
async function batchedLog(n = 10, reason?: string): Promise<string[]> {
  const sink = fileAuditSink(path, { hmacKey: key, offload: false });
  await Promise.all(Array.from({ length: n }, () => sink.write(event(reason === undefined ? {} : { outcome: 'failure', code: 'X', reason }))));
  await sink.close();
  return (await readFile(path, 'utf8')).split('\n').slice(0, -1);
}

/** The writes of a log: 0-based line indexes, each write ending with its sealed line. */
function writesOf(lines: readonly string[]): number[][] {
  const writes: number[][] = [[]];
  lines.forEach((l, i) => {
    writes.at(-1)!.push(i);
    if ((JSON.parse(l) as { mac?: string }).mac !== undefined) writes.push([]);
  });
  return writes.filter((w) => w.length > 0);
}

const save = (lines: readonly string[]) => writeFile(path, lines.map((l) => `${l}\n`).join(''));

describe('format 3: one MAC per write', () => {
  it('the writer (signLines) and the reader (lineText) have one layout, byte for byte, for any batch', () => {
    fc.assert(
      fc.property(fc.array(fc.string({ unit: 'grapheme' }), { minLength: 1, maxLength: 20 }), fc.nat({ max: 1e9 }), (reasons, seq) => {
        const bodies = reasons.map((reason) => bodyText({ event: event({ outcome: 'failure', code: 'X', reason }) }));
        const signed = signLines(hmac, 'e'.repeat(32), seq, GENESIS, bodies);
        const expected = bodies.map((b, i) => lineText(3, 'e'.repeat(32), seq + i + 1, b, i === bodies.length - 1 ? { prev: GENESIS, mac: signed.mac } : undefined)).join('');
        expect(signed.text).toBe(expected);
        expect(signed.seq).toBe(seq + bodies.length);
      }),
      { numRuns: 300 },
    );
  });

  it('only the last line of a write carries prev and mac; the MAC covers the write\'s exact bytes before ,"mac":, and prev chains the writes', async () => {
    const lines = await batchedLog();
    const writes = writesOf(lines);
    // Ten concurrent records: more than one write, and a write of several lines.
    expect(writes.length).toBeGreaterThanOrEqual(3);
    expect(writes[0]!.length).toBeGreaterThanOrEqual(3);
    let prev = GENESIS;
    for (const w of writes) {
      const last = lines[w.at(-1)!]!;
      for (const i of w.slice(0, -1)) expect(lines[i]).toMatch(new RegExp(`^\\{"v":3,"log":"[0-9a-f]{32}","seq":${i + 1},"event":\\{.*\\}\\}$`));
      expect(last).toMatch(new RegExp(`^\\{"v":3,"log":"[0-9a-f]{32}","seq":${w.at(-1)! + 1},"prev":"${prev}",`));
      const signed = [...w.slice(0, -1).map((i) => `${lines[i]}\n`), last.replace(/,"mac":"[0-9a-f]{64}"\}$/, '')].join('');
      const mac = hmac(signed);
      expect(last.endsWith(`,"mac":"${mac}"}`)).toBe(true);
      prev = mac;
    }
    expect(await verifyAuditLog(path, { hmacKey: key })).toEqual({ ok: true, count: 10 });
  });

  it('an edit inside a write that keeps the one form fails the write: reported at its first line, counting only the writes before', async () => {
    const lines = await batchedLog();
    const second = writesOf(lines)[1]!;
    expect(second.length).toBeGreaterThanOrEqual(2);
    const i = second[0]!;
    lines[i] = lines[i]!.replace('"latencyMs":3', '"latencyMs":4');
    await save(lines);
    const result = await verifyAuditLog(path, { hmacKey: key });
    expect(result).toMatchObject({ ok: false, firstInvalidLine: i + 1, count: i });
    expect(result.reason).toMatch(new RegExp(`MAC mismatch: lines ${i + 1} to ${second.at(-1)! + 1}, written together`));
  });

  it('a line deleted, moved or repeated inside a write, or the sealed line that ends a write removed, is found at or before it', async () => {
    const genuine = await batchedLog();
    const [first] = writesOf(genuine);
    const forgeries: Array<(l: string[]) => string[]> = [
      (l) => l.toSpliced(1, 1),
      (l) => l.toSpliced(0, 2, l[1]!, l[0]!),
      (l) => l.toSpliced(1, 0, l[1]!),
      // The whole first write replayed after itself: its MAC holds, its seqs and prev do not.
      (l) => l.toSpliced(first!.length, 0, ...l.slice(0, first!.length)),
      // The first write's sealed line gone: its lines run into the next write, whose MAC covers other bytes.
      (l) => l.toSpliced(first!.at(-1)!, 1),
      // Its seal stripped, so it reads as an unsealed line.
      (l) => l.toSpliced(first!.at(-1)!, 1, l[first!.at(-1)!]!.replace(/,"prev":"[0-9a-f]{64}"/, '').replace(/,"mac":"[0-9a-f]{64}"\}$/, '}')),
    ];
    for (const [n, forge] of forgeries.entries()) {
      await save(forge([...genuine]));
      const result = await verifyAuditLog(path, { hmacKey: key });
      if (n === 3) {
        expect(result).toMatchObject({ ok: false, count: first!.length, firstInvalidLine: first!.length + 1, reason: expect.stringContaining('sequence number 1 where') });
        continue;
      }
      expect(result).toMatchObject({ ok: false, count: 0 });
      expect(result.firstInvalidLine).toBeLessThanOrEqual(2);
    }
  });

  it('a log cut inside a write is refused even as an open log, and no sink continues it', async () => {
    const lines = await batchedLog();
    const [first] = writesOf(lines);
    await save(lines.slice(0, first!.length + 2));
    expect(await verifyAuditLog(path, { hmacKey: key, requireCheckpoint: false })).toMatchObject({
      ok: false,
      count: first!.length,
      firstInvalidLine: first!.length + 1,
      reason: expect.stringMatching(/not sealed by a MAC: the log was cut inside a write/),
    });
    // Cut inside a line inside a write: the write's first line is named, and the torn line.
    await writeFile(path, lines.slice(0, first!.length + 2).map((l) => `${l}\n`).join('') + lines[first!.length + 2]!.slice(0, 40));
    expect(await verifyAuditLog(path, { hmacKey: key, requireCheckpoint: false })).toMatchObject({
      ok: false,
      count: first!.length,
      firstInvalidLine: first!.length + 1,
      reason: `line ${first!.length + 3}: the last line is incomplete: the log was truncated; it is inside a write that began at line ${first!.length + 1}, whose MAC is never reached`,
    });
    // Cut at the end of a write, an open log verifies.
    await save(lines.slice(0, first!.length));
    expect(await verifyAuditLog(path, { hmacKey: key, requireCheckpoint: false })).toEqual({ ok: true, count: first!.length });
    await save(lines.slice(0, first!.length + 2));
    const sink = fileAuditSink(path, { hmacKey: key });
    await expect(sink.write(event())).rejects.toMatchObject({ code: 'AUDIT_WRITE_FAILED', message: expect.stringContaining('last line does not verify') });
    await sink.close();
  });

  it('a sink continuing a log reads its first and last writes whole when they are longer than the 64 KiB it first reads', async () => {
    const genuine = await batchedLog(60, 'é'.repeat(1500));
    const writes = writesOf(genuine);
    expect(writes.length).toBe(3);
    for (const w of writes.slice(0, 2)) expect(Buffer.byteLength(w.map((i) => genuine[i]).join('\n'))).toBeGreaterThan(65_536);
    // Without its checkpoint (a writer that never closed), the log ends with the second write.
    const open = genuine.slice(0, -1);
    const tampered = (i: number) => open.map((l, k) => (k === i ? l.replace('"latencyMs":3', '"latencyMs":4') : l));
    for (const [lines, refusal] of [
      [tampered(writes[1]![0]!), 'last line does not verify'],
      [tampered(0), 'first line does not verify'],
    ] as const) {
      await save(lines);
      const sink = fileAuditSink(path, { hmacKey: key });
      await expect(sink.write(event())).rejects.toMatchObject({ code: 'AUDIT_WRITE_FAILED', message: expect.stringContaining(refusal) });
      await sink.close();
    }
    await save(open);
    const sink = fileAuditSink(path, { hmacKey: key });
    await sink.write(event());
    await sink.close();
    const lines = (await readFile(path, 'utf8')).split('\n').slice(0, -1);
    expect(lines.slice(60).map((l) => JSON.parse(l) as { seq: number; log: string })).toMatchObject([
      { seq: 61, log: (JSON.parse(open[0]!) as { log: string }).log, resumed: { count: 60 } },
      { seq: 62, event: {} },
      { seq: 63, checkpoint: { count: 1 } },
    ]);
    expect(await verifyAuditLog(path, { hmacKey: key, requireCheckpoint: false })).toEqual({ ok: true, count: 61, resumedAt: [61] });
  });

  it(`more than ${MAX_SEALED_LINES} lines without a MAC are refused at the first of them`, async () => {
    const log = 'c'.repeat(32);
    const body = bodyText({ event: event() });
    const parts: string[] = [];
    for (let seq = 1; seq <= MAX_SEALED_LINES + 1; seq++) parts.push(lineText(3, log, seq, body));
    await writeFile(path, parts.join(''));
    expect(await verifyAuditLog(path, { hmacKey: key })).toMatchObject({ ok: false, count: 0, firstInvalidLine: 1, reason: expect.stringContaining(`more than ${MAX_SEALED_LINES} lines without a MAC`) });
  });

  it('a sink refuses to continue a file whose last or first line is longer than any audit line', async () => {
    const lines = await batchedLog(2);
    for (const text of [`${lines.join('\n')}\n${'x'.repeat(2 * 1024 * 1024)}\n`, `${'x'.repeat(2 * 1024 * 1024)}\n${lines.join('\n')}\n`]) {
      await writeFile(path, text);
      const sink = fileAuditSink(path, { hmacKey: key });
      await expect(sink.write(event())).rejects.toMatchObject({ code: 'AUDIT_WRITE_FAILED', message: expect.stringContaining('line does not verify') });
      await sink.close();
    }
  });

  it(`a sink takes at most ${MAX_SEALED_LINES} records per write`, () => {
    expect(() => fileAuditSink(path, { hmacKey: key, maxBatch: MAX_SEALED_LINES + 1 })).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
  });
});

describe('format 2 logs', () => {
  /** A format 2 log of two events and its checkpoint, each line MACed on its own, as earlier writers wrote it. */
  function formatTwo(): { text: string; log: string; mac: string } {
    const log = 'd'.repeat(32);
    let prev = GENESIS;
    let text = '';
    const bodies = [bodyText({ event: event() }), bodyText({ event: event() }), bodyText({ checkpoint: { ts: '2026-01-01T00:00:00.000Z', count: 2, identity: 'orders-sync', environment: 'prod' } })];
    bodies.forEach((body, i) => {
      const signed = `{"v":2,"log":"${log}","seq":${i + 1},"prev":"${prev}",${body}`;
      prev = hmac(signed);
      text += `${signed},"mac":"${prev}"}\n`;
    });
    return { text, log, mac: prev };
  }

  it('verify, and a sink continues one in format 3 under the same log id', async () => {
    const old = formatTwo();
    await writeFile(path, old.text);
    expect(await verifyAuditLog(path, { hmacKey: key })).toEqual({ ok: true, count: 2 });
    const sink = fileAuditSink(path, { hmacKey: key, offload: false });
    await Promise.all(Array.from({ length: 6 }, () => sink.write(event())));
    await sink.close();
    const lines = (await readFile(path, 'utf8')).split('\n').slice(0, -1);
    expect(lines.slice(3).every((l) => l.startsWith(`{"v":3,"log":"${old.log}",`))).toBe(true);
    expect(lines.slice(3).some((l) => !l.includes('"mac"'))).toBe(true);
    expect(lines[3]).not.toContain('"prev"');
    expect(await verifyAuditLog(path, { hmacKey: key })).toEqual({ ok: true, count: 8 });
  });

  it('a format 2 line after format 3 lines is refused, though its MAC and chain are right', async () => {
    const old = formatTwo();
    await writeFile(path, old.text);
    const sink = fileAuditSink(path, { hmacKey: key });
    await sink.write(event());
    await sink.close();
    const lines = (await readFile(path, 'utf8')).split('\n').slice(0, -1);
    const last = JSON.parse(lines.at(-1)!) as { mac: string };
    const signed = `{"v":2,"log":"${old.log}","seq":${lines.length + 1},"prev":"${last.mac}",${bodyText({ event: event() })}`;
    await appendFile(path, `${signed},"mac":"${hmac(signed)}"}\n`);
    expect(await verifyAuditLog(path, { hmacKey: key, requireCheckpoint: false })).toMatchObject({
      ok: false,
      count: 3,
      firstInvalidLine: lines.length + 1,
      reason: expect.stringContaining('a format 2 line after format 3 lines'),
    });
  });

  it('an unsealed line is format 3 only: a format 2 line without its MAC is refused by its form', async () => {
    const old = formatTwo();
    const lines = old.text.split('\n').slice(0, -1);
    lines[1] = lines[1]!.replace(/,"prev":"[0-9a-f]{64}"/, '').replace(/,"mac":"[0-9a-f]{64}"\}$/, '}');
    await save(lines);
    expect(await verifyAuditLog(path, { hmacKey: key })).toMatchObject({ ok: false, firstInvalidLine: 2, reason: expect.stringContaining('unexpected fields') });
  });
});
