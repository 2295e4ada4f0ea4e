/**
 * Issue 9 item 7 over the whole class "the MAC covers a re-serialisation, not the bytes on disk":
 * every byte form other than the one the writer emits is refused, whether the forger lacks the
 * key (the MAC fails, or the form is refused first) or holds it (the line is re-MACed over its
 * forged bytes, and only the canonical-form check stands between it and a verified log). Then the
 * whole-log forgeries: another log under the same key, a log stitched from two, a log cut back to
 * an earlier checkpoint (closed by the anchor). Each failure names a line and a reason, and
 * `audit verify` exits 1 printing none of the line.
 */
import { createHmac } from 'node:crypto';
import { appendFile, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fileAuditSink } from '../../src/audit/fileAuditSink.js';
import { verifyAuditLog } from '../../src/audit/verifyAuditLog.js';
import { runAuditCommand } from '../../src/cli/audit.js';
import { event, hmacKey } from './helpers.js';

let dir: string;
let n = 0;
const key = hmacKey();
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cs-forgery-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const file = () => join(dir, `f-${++n}.jsonl`);

/** A closed genuine log: a success, a failure (latencyMs 0), a success, the checkpoint. */
async function genuine(options: { anchor?: string; identity?: string; sessions?: number } = {}): Promise<{ path: string; lines: string[] }> {
  const path = file();
  for (let s = 0; s < (options.sessions ?? 1); s++) {
    const sink = fileAuditSink(path, { hmacKey: key, ...(options.anchor === undefined ? {} : { anchor: options.anchor }) });
    const identity = options.identity ?? 'orders-sync';
    await sink.write(event({ identity }));
    await sink.write(event({ identity, outcome: 'failure', code: 'PROVIDER_UNAVAILABLE', latencyMs: 0 }));
    await sink.write(event({ identity }));
    await sink.close();
  }
  return { path, lines: (await readFile(path, 'utf8')).split('\n').slice(0, -1) };
}

const SUFFIX = /,"mac":"[0-9a-f]{64}"\}$/;
/** What a key holder would write: the forged signed part, MACed over exactly those bytes. */
function remac(forgedSigned: string): string {
  return `${forgedSigned},"mac":"${createHmac('sha256', Buffer.from(key, 'utf8')).update(forgedSigned, 'utf8').digest('hex')}"}`;
}
const signedOf = (line: string) => line.replace(SUFFIX, '');
const suffixOf = (line: string) => SUFFIX.exec(line)![0];

async function cli(path: string, extra: string[] = []) {
  let out = '';
  const code = await runAuditCommand(['verify', path, ...extra], { stdout: (s) => void (out += s), stderr: (s) => void (out += s), env: { CONNECTOR_SECRETS_AUDIT_KEY: key } });
  return { code, out };
}

/** Asserts the log fails at `line` with a reason, and the CLI exits 1 naming the line and none of its content. */
async function expectRefused(path: string, line: number, reason: RegExp, extra: { anchor?: string } = {}): Promise<void> {
  const result = await verifyAuditLog(path, { hmacKey: key, ...extra });
  expect(result).toMatchObject({ ok: false, firstInvalidLine: line });
  expect(result.reason).toMatch(reason);
  const r = await cli(path, extra.anchor === undefined ? [] : ['--anchor', extra.anchor]);
  expect(r.code).toBe(1);
  expect(r.out).toContain(`line ${line}: `);
  expect(r.out).not.toContain('secret://orders-db');
  expect(r.out).not.toContain('"mac"');
}

/**
 * Forgeries of line 2 (the failure) or line 4 (the checkpoint), as functions of the line's signed
 * part (everything before `,"mac":`). Each changes the bytes while a lenient reader (JSON.parse,
 * then re-serialise) would see the same record, or a reader that takes the first of two
 * duplicate keys would see another one.
 */
const forgeries: Array<{ name: string; line: 2 | 4; forge: (signed: string) => string; reason: RegExp }> = [
  { name: 'a duplicate key: a fake "outcome":"success" before the real failure', line: 2, forge: (s) => s.replace('"event":{', '"event":{"outcome":"success",'), reason: /duplicate key/ },
  { name: 'a duplicate key: "code":null before the real code', line: 2, forge: (s) => s.replace('"event":{', '"event":{"code":null,'), reason: /duplicate key/ },
  { name: 'a fake leading event object (duplicate "event", the fake first)', line: 2, forge: (s) => s.replace('{"v":3,', `{"event":${JSON.stringify(event({ outcome: 'success' }))},"v":3,`), reason: /duplicate key/ },
  { name: 'a duplicate key spelled with a unicode escape ("\\u006futcome")', line: 2, forge: (s) => s.replace('"event":{', '"event":{"\\u006futcome":"success",'), reason: /duplicate key/ },
  { name: 'a duplicate key in the nested checkpoint (a fake count first)', line: 4, forge: (s) => s.replace('"checkpoint":{', '"checkpoint":{"count":0,'), reason: /duplicate key/ },
  { name: 'a duplicate top-level seq', line: 2, forge: (s) => s.replace('"seq":2,', '"seq":2,"seq":2,'), reason: /duplicate key/ },
  { name: 'a __proto__ key in the event', line: 2, forge: (s) => s.replace('"event":{', '"event":{"__proto__":{"outcome":"success"},'), reason: /unexpected field/ },
  { name: 'a __proto__ key at the top level', line: 2, forge: (s) => s.replace('{"v":3,', '{"__proto__":{"outcome":"success"},"v":3,'), reason: /unexpected fields/ },
  { name: 'an unknown extra field', line: 2, forge: (s) => s.replace('"event":{', '"event":{"note":"ok",'), reason: /unexpected field/ },
  { name: 'whitespace after a colon', line: 2, forge: (s) => s.replace('"outcome":', '"outcome": '), reason: /canonical form/ },
  { name: 'whitespace between members', line: 2, forge: (s) => s.replace(',"outcome"', ', "outcome"'), reason: /canonical form/ },
  { name: 'a tab before the record', line: 2, forge: (s) => `\t${s}`, reason: /canonical form/ },
  { name: 'event keys in another order', line: 2, forge: (s) => s.replace(/"event":(\{.*\})$/, (_m, e: string) => `"event":${JSON.stringify(Object.fromEntries(Object.entries(JSON.parse(e) as object).reverse()))}`), reason: /canonical form/ },
  { name: 'top-level keys in another order', line: 2, forge: (s) => s.replace(/^\{"v":3,("log":"[0-9a-f]+"),/, '{$1,"v":3,'), reason: /canonical form/ },
  { name: 'a unicode escape for a plain character', line: 2, forge: (s) => s.replace('"orders-sync"', '"orders\\u002dsync"'), reason: /canonical form/ },
  { name: 'an escaped slash', line: 2, forge: (s) => s.replace('secret://', 'secret:\\/\\/'), reason: /canonical form/ },
  { name: 'a raw control character (NUL) in a string', line: 2, forge: (s) => s.replace('"orders-sync"', '"orders-sync\u0000"'), reason: /not a JSON record/ },
  { name: 'latencyMs 0 written as -0', line: 2, forge: (s) => s.replace('"latencyMs":0', '"latencyMs":-0'), reason: /canonical form/ },
  { name: 'latencyMs 0 written as 0.0', line: 2, forge: (s) => s.replace('"latencyMs":0', '"latencyMs":0.0'), reason: /canonical form/ },
  { name: 'latencyMs 0 written as 0e0', line: 2, forge: (s) => s.replace('"latencyMs":0', '"latencyMs":0e0'), reason: /canonical form/ },
  { name: 'seq 2 written as 2.0', line: 2, forge: (s) => s.replace('"seq":2,', '"seq":2.0,'), reason: /canonical form/ },
  { name: 'seq 2 written as 2E0', line: 2, forge: (s) => s.replace('"seq":2,', '"seq":2E0,'), reason: /canonical form/ },
  { name: 'seq 2 written as 20e-1', line: 2, forge: (s) => s.replace('"seq":2,', '"seq":20e-1,'), reason: /canonical form/ },
  { name: 'an unversioned (format 1) record', line: 2, forge: (s) => s.replace('{"v":3,', '{'), reason: /unversioned/ },
  { name: 'another format version', line: 2, forge: (s) => s.replace('{"v":3,', '{"v":4,'), reason: /format version/ },
];

describe('forged bytes of one line, by a forger without the key', () => {
  for (const f of forgeries) {
    it(`${f.name}: refused at line ${f.line}`, async () => {
      const { lines } = await genuine();
      const original = lines[f.line - 1]!;
      const forged = f.forge(signedOf(original));
      expect(forged).not.toBe(signedOf(original));
      lines[f.line - 1] = forged + suffixOf(original);
      const path = file();
      await writeFile(path, lines.join('\n') + '\n');
      const result = await verifyAuditLog(path, { hmacKey: key });
      expect(result).toMatchObject({ ok: false, firstInvalidLine: f.line, count: f.line - 1 });
      expect(result.reason).toMatch(new RegExp(`${f.reason.source}|MAC mismatch`));
      expect((await cli(path)).code).toBe(1);
    });
  }
});

describe('forged bytes of one line, re-MACed over exactly those bytes (a key holder): the form check alone refuses them', () => {
  for (const f of forgeries) {
    it(`${f.name}: refused at line ${f.line} with its reason`, async () => {
      const { lines } = await genuine();
      lines[f.line - 1] = remac(f.forge(signedOf(lines[f.line - 1]!)));
      const path = file();
      await writeFile(path, lines.join('\n') + '\n');
      await expectRefused(path, f.line, f.reason);
    });
  }

  it('control: an unforged line re-MACed the same way verifies (so the refusals above are the form check)', async () => {
    const { lines } = await genuine();
    expect(remac(signedOf(lines[1]!))).toBe(lines[1]);
  });
});

describe('forged framing of the file', () => {
  it('CRLF line endings: refused at the first line', async () => {
    const { lines } = await genuine();
    const path = file();
    await writeFile(path, lines.join('\r\n') + '\r\n');
    await expectRefused(path, 1, /carriage return/);
  });

  it('a byte order mark before the first line', async () => {
    const { lines } = await genuine();
    const path = file();
    await writeFile(path, '\uFEFF' + lines.join('\n') + '\n');
    await expectRefused(path, 1, /byte order mark/);
  });

  it('trailing data after a record: a second object, spaces, a NUL byte', async () => {
    for (const tail of ['{"outcome":"success"}', '  ', '\u0000']) {
      const { lines } = await genuine();
      lines[1] += tail;
      const path = file();
      await writeFile(path, lines.join('\n') + '\n');
      await expectRefused(path, 2, /not a JSON record|canonical/);
    }
  });

  it('a leading fake line before the log', async () => {
    const { lines } = await genuine();
    const path = file();
    await writeFile(path, [JSON.stringify({ event: event({ outcome: 'success' }) }), ...lines].join('\n') + '\n');
    await expectRefused(path, 1, /not an audit record/);
  });

  it('a line that is not UTF-8', async () => {
    const { lines } = await genuine();
    const path = file();
    const bytes = Buffer.from(lines.join('\n') + '\n');
    const at = bytes.indexOf('orders-sync');
    bytes[at] = 0xff;
    await writeFile(path, bytes);
    await expectRefused(path, 1, /UTF-8/);
  });

  it('a line longer than 1 MiB is refused without being buffered whole, with or without a newline', async () => {
    const { lines } = await genuine();
    for (const tail of ['', '\n']) {
      const path = file();
      await writeFile(path, lines[0] + '\n' + 'x'.repeat(2 * 1024 * 1024) + tail);
      await expectRefused(path, 2, /longer than 1048576 bytes/);
    }
  });

    it('a NUL written by the writer is escaped, and verifies; a raw NUL byte is refused', async () => {
    const path = file();
    const sink = fileAuditSink(path, { hmacKey: key });
    await sink.write(event({ outcome: 'failure', code: 'X', reason: 'a\u0000b\u2028c\ud800' }));
    await sink.close();
    const text = await readFile(path, 'utf8');
    expect(text).toContain('a\\u0000b');
    expect(await verifyAuditLog(path, { hmacKey: key })).toEqual({ ok: true, count: 1 });
    await writeFile(path, text.replace('a\\u0000b', 'a\u0000b'));
    await expectRefused(path, 1, /not a JSON record/);
  });
});

describe('whole-log forgeries: another log, stitched logs, a log cut back to a checkpoint', () => {
  it("another writer's whole log under the same key verifies alone, but not against the anchor or the expected identity", async () => {
    const anchor = join(dir, `a-${++n}.anchor`);
    const mine = await genuine({ anchor });
    const theirs = await genuine({ identity: 'billing-sync' });
    expect(await verifyAuditLog(theirs.path, { hmacKey: key })).toEqual({ ok: true, count: 3 });
    expect(await verifyAuditLog(mine.path, { hmacKey: key, anchor })).toEqual({ ok: true, count: 3 });
    await expectRefused(theirs.path, 1, /not the one its anchor records/, { anchor });
    expect(await verifyAuditLog(theirs.path, { hmacKey: key, identity: 'orders-sync' })).toMatchObject({ ok: false, firstInvalidLine: 1, reason: expect.stringContaining('another identity') });
    expect(await verifyAuditLog(theirs.path, { hmacKey: key, environment: 'dev' })).toMatchObject({ ok: false, firstInvalidLine: 1, reason: expect.stringContaining('another environment') });
    const r = await cli(theirs.path, ['--identity', 'orders-sync']);
    expect(r.code).toBe(1);
    expect(r.out).toContain('line 1: the log belongs to another identity');
  });

  it('a log stitched from two logs (same key, same identity) fails where the second begins', async () => {
    const a = await genuine({ sessions: 2 });
    const b = await genuine({ sessions: 2 });
    // At a session boundary: a's first session, then b's second session.
    const path = file();
    await writeFile(path, [...a.lines.slice(0, 4), ...b.lines.slice(4)].join('\n') + '\n');
    await expectRefused(path, 5, /chain broken: the line comes from another log/);
  });

  it('cut after a checkpoint: whole later sessions removed verify without the anchor, and fail with it', async () => {
    const anchor = join(dir, `a-${++n}.anchor`);
    const { path, lines } = await genuine({ anchor, sessions: 3 });
    expect(lines).toHaveLength(12);
    expect(await verifyAuditLog(path, { hmacKey: key, anchor })).toEqual({ ok: true, count: 9 });
    await writeFile(path, lines.slice(0, 4).join('\n') + '\n');
    // The gap the anchor closes: without it the cut log is a complete, closed log.
    expect(await verifyAuditLog(path, { hmacKey: key })).toEqual({ ok: true, count: 3 });
    await expectRefused(path, 5, /anchor records a checkpoint at line 12: lines were cut/, { anchor });
  });

  it('an anchor given as the entries an anchor sink received verifies the same way', async () => {
    const entries: string[] = [];
    const path = file();
    for (let s = 0; s < 2; s++) {
      const sink = fileAuditSink(path, { hmacKey: key, anchor: { append: (e) => void entries.push(e) } });
      await sink.write(event());
      await sink.close();
    }
    expect(entries).toHaveLength(2);
    expect(entries[1]).toMatch(/^\{"v":2,"anchor":"checkpoint","log":"[0-9a-f]{32}","seq":4,"mac":"[0-9a-f]{64}"\}\n$/);
    expect(await verifyAuditLog(path, { hmacKey: key, anchor: entries })).toEqual({ ok: true, count: 2 });
    const lines = (await readFile(path, 'utf8')).split('\n').slice(0, -1);
    await writeFile(path, lines.slice(0, 2).join('\n') + '\n');
    expect(await verifyAuditLog(path, { hmacKey: key, anchor: entries })).toMatchObject({ ok: false, firstInvalidLine: 3 });
  });

  it('a rewritten log whose anchored checkpoint has another MAC, an edited anchor, an anchor of two logs, an empty anchor', async () => {
    const anchor = join(dir, `a-${++n}.anchor`);
    const { path, lines } = await genuine({ anchor });
    const text = await readFile(anchor, 'utf8');
    // A key holder rewrites the last event and re-chains the checkpoint: the anchored MAC differs.
    const e3 = remac(signedOf(lines[2]!).replace('"latencyMs":3', '"latencyMs":4'));
    const mac3 = /"mac":"([0-9a-f]{64})"/.exec(e3)![1]!;
    const cp = remac(signedOf(lines[3]!).replace(/"prev":"[0-9a-f]{64}"/, `"prev":"${mac3}"`));
    const rewritten = file();
    await writeFile(rewritten, [lines[0], lines[1], e3, cp].join('\n') + '\n');
    expect(await verifyAuditLog(rewritten, { hmacKey: key })).toEqual({ ok: true, count: 3 });
    await expectRefused(rewritten, 4, /anchor records another checkpoint/, { anchor });

    const edited = join(dir, `a-${++n}.anchor`);
    await writeFile(edited, text.replace('"seq":4', '"seq":4.0'));
    expect(await verifyAuditLog(path, { hmacKey: key, anchor: edited })).toMatchObject({ ok: false, reason: expect.stringContaining('anchor line 1') });
    const other = join(dir, `a-${++n}.anchor`);
    await genuine({ anchor: other });
    await appendFile(other, text);
    expect(await verifyAuditLog(path, { hmacKey: key, anchor: other })).toMatchObject({ ok: false, reason: expect.stringContaining('more than one log') });
    const empty = join(dir, `a-${++n}.anchor`);
    await writeFile(empty, '');
    expect(await verifyAuditLog(path, { hmacKey: key, anchor: empty })).toMatchObject({ ok: false, reason: expect.stringContaining('records no checkpoint') });
    expect(await verifyAuditLog(path, { hmacKey: key, anchor: join(dir, 'missing.anchor') })).toMatchObject({ ok: false, reason: expect.stringContaining('ENOENT') });
  });

  it('with fsync and an anchor file: the anchor is created 0600 and appended to, never rewritten', async () => {
    const anchor = join(dir, `a-${++n}.anchor`);
    await genuine({ anchor, sessions: 1 });
    const first = await readFile(anchor, 'utf8');
    const path = file();
    const sink = fileAuditSink(path, { hmacKey: key, anchor, fsync: true });
    await sink.write(event());
    await sink.close();
    const both = await readFile(anchor, 'utf8');
    expect(both.startsWith(first)).toBe(true);
    expect(both.split('\n')).toHaveLength(3);
    if (process.platform !== 'win32') expect((await stat(anchor)).mode & 0o777).toBe(0o600);
  });
});
