import fc from 'fast-check';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fileAuditSink } from '../../src/audit/fileAuditSink.js';
import { verifyAuditLog } from '../../src/audit/verifyAuditLog.js';
import { event, hmacKey } from './helpers.js';

let dir: string;
let n = 0;
const key = hmacKey();
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cs-verify-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A closed log of `count` events; returns its path and its lines (without newlines). */
async function log(count: number): Promise<{ path: string; lines: string[] }> {
  const path = join(dir, `log-${++n}.jsonl`);
  const sink = fileAuditSink(path, { hmacKey: key });
  for (let i = 0; i < count; i++) await sink.write(event());
  await sink.close();
  const text = await readFile(path, 'utf8');
  return { path, lines: text.split('\n').slice(0, -1) };
}

async function tampered(lines: string[], end = '\n'): Promise<string> {
  const path = join(dir, `t-${++n}.jsonl`);
  await writeFile(path, lines.join('\n') + (lines.length > 0 ? end : ''));
  return path;
}

describe('verifyAuditLog', () => {
  it('an intact log verifies', async () => {
    const { path } = await log(5);
    expect(await verifyAuditLog(path, { hmacKey: key })).toEqual({ ok: true, count: 5 });
  });

  it('an edited line fails its MAC at that line', async () => {
    const { lines } = await log(5);
    lines[2] = lines[2]!.replace('"outcome":"success"', '"outcome":"denied"');
    expect(await verifyAuditLog(await tampered(lines), { hmacKey: key })).toMatchObject({ ok: false, count: 2, firstInvalidLine: 3, reason: expect.stringContaining('MAC') });
  });

  it('a deleted line breaks the sequence at the line after it', async () => {
    const { lines } = await log(5);
    lines.splice(1, 1);
    expect(await verifyAuditLog(await tampered(lines), { hmacKey: key })).toMatchObject({ ok: false, firstInvalidLine: 2, reason: expect.stringContaining('sequence') });
  });

  it('an inserted forged line fails its MAC; an inserted replayed line breaks the sequence', async () => {
    const { lines } = await log(4);
    const forged = JSON.stringify({ ...JSON.parse(lines[1]!), mac: 'a'.repeat(64) });
    expect(await verifyAuditLog(await tampered([lines[0]!, forged, ...lines.slice(1)]), { hmacKey: key })).toMatchObject({ ok: false, firstInvalidLine: 2 });
    expect(await verifyAuditLog(await tampered([lines[0]!, lines[1]!, lines[1]!, ...lines.slice(2)]), { hmacKey: key })).toMatchObject({
      ok: false,
      firstInvalidLine: 3,
      reason: expect.stringContaining('sequence'),
    });
  });

  it('reordered lines break the sequence', async () => {
    const { lines } = await log(4);
    [lines[1], lines[2]] = [lines[2]!, lines[1]!];
    expect(await verifyAuditLog(await tampered(lines), { hmacKey: key })).toMatchObject({ ok: false, firstInvalidLine: 2 });
  });

  it('a log cut at a line boundary lacks its checkpoint; one cut mid-line ends incomplete', async () => {
    const { lines } = await log(4);
    expect(await verifyAuditLog(await tampered(lines.slice(0, 3)), { hmacKey: key })).toMatchObject({
      ok: false,
      count: 3,
      firstInvalidLine: 4,
      reason: expect.stringContaining('checkpoint'),
    });
    // A still-open log passes when the checkpoint is not required.
    expect(await verifyAuditLog(await tampered(lines.slice(0, 3)), { hmacKey: key, requireCheckpoint: false })).toEqual({ ok: true, count: 3 });
    const cut = [...lines.slice(0, 2), lines[2]!.slice(0, 40)];
    expect(await verifyAuditLog(await tampered(cut, ''), { hmacKey: key })).toMatchObject({ ok: false, firstInvalidLine: 3, reason: expect.stringContaining('incomplete') });
  });

  it('a wrong key, an empty file, a blank line, junk and a missing file are invalid', async () => {
    const { path, lines } = await log(2);
    expect(await verifyAuditLog(path, { hmacKey: hmacKey() })).toMatchObject({ ok: false, firstInvalidLine: 1 });
    expect(await verifyAuditLog(await tampered([]), { hmacKey: key })).toMatchObject({ ok: false, reason: expect.stringContaining('empty') });
    expect(await verifyAuditLog(await tampered([lines[0]!, '', ...lines.slice(1)]), { hmacKey: key })).toMatchObject({ firstInvalidLine: 2, reason: 'blank line' });
    expect(await verifyAuditLog(await tampered(['not json']), { hmacKey: key })).toMatchObject({ firstInvalidLine: 1, reason: 'not a JSON record' });
    expect(await verifyAuditLog(await tampered(['{"seq":1}']), { hmacKey: key })).toMatchObject({ firstInvalidLine: 1, reason: expect.stringContaining('unexpected fields') });
    expect(await verifyAuditLog(join(dir, 'nope.jsonl'), { hmacKey: key })).toMatchObject({ ok: false, reason: expect.stringContaining('ENOENT') });
  });

  it('a genuine line of another log (same key, same seq) spliced in breaks the chain', async () => {
    const a = await log(4);
    const b = await log(4);
    const spliced = [...a.lines.slice(0, 2), b.lines[2]!, ...a.lines.slice(3)];
    expect(await verifyAuditLog(await tampered(spliced), { hmacKey: key })).toMatchObject({
      ok: false,
      count: 2,
      firstInvalidLine: 3,
      reason: expect.stringContaining('chain broken'),
    });
  });

  it('a log cut short and then continued by a new writer fails at the marker the writer puts first, unless open logs are accepted', async () => {
    const { path, lines } = await log(3);
    // The last event and the checkpoint are removed at a line boundary; the next writer continues the chain.
    await writeFile(path, lines.slice(0, 2).join('\n') + '\n');
    const sink = fileAuditSink(path, { hmacKey: key });
    await sink.write(event());
    await sink.close();
    // It cannot be told from a writer killed after line 2, so it fails by default, naming both.
    expect(await verifyAuditLog(path, { hmacKey: key })).toMatchObject({
      ok: false,
      count: 2,
      firstInvalidLine: 3,
      reason: expect.stringContaining('a resumed marker: the session before it never closed (its writer was killed or crashed, or the log was cut short and continued)'),
    });
    expect(await verifyAuditLog(path, { hmacKey: key, requireCheckpoint: false })).toEqual({ ok: true, count: 3, resumedAt: [3] });
  });

  it('a checkpoint whose count was edited fails its MAC', async () => {
    const { lines } = await log(3);
    lines[3] = lines[3]!.replace('"count":3', '"count":2');
    expect(await verifyAuditLog(await tampered(lines), { hmacKey: key })).toMatchObject({ ok: false, firstInvalidLine: 4 });
  });

  it('property: any single deletion, duplication, swap or byte change is detected', async () => {
    const { lines } = await log(6);
    const text = lines.join('\n') + '\n';
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.record({ kind: fc.constant('delete' as const), i: fc.nat(lines.length - 1) }),
          fc.record({ kind: fc.constant('dup' as const), i: fc.nat(lines.length - 1) }),
          fc.record({ kind: fc.constant('swap' as const), i: fc.nat(lines.length - 2) }),
          fc.record({ kind: fc.constant('byte' as const), i: fc.nat(text.length - 2), c: fc.integer({ min: 32, max: 126 }) }),
        ),
        async (op) => {
          let out: string;
          const ls = [...lines];
          if (op.kind === 'delete') ls.splice(op.i, 1);
          else if (op.kind === 'dup') ls.splice(op.i, 0, ls[op.i]!);
          else if (op.kind === 'swap') [ls[op.i], ls[op.i + 1]] = [ls[op.i + 1]!, ls[op.i]!];
          if (op.kind === 'byte') {
            const ch = String.fromCharCode(op.c);
            if (text[op.i] === ch || text[op.i] === '\n') return true;
            out = text.slice(0, op.i) + ch + text.slice(op.i + 1);
          } else out = ls.join('\n') + '\n';
          const path = join(dir, `p-${++n}.jsonl`);
          await writeFile(path, out);
          const result = await verifyAuditLog(path, { hmacKey: key });
          return !result.ok;
        },
      ),
      { numRuns: 150 },
    );
  });
});
