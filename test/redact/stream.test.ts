import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createRedactor } from '../../src/index.js';
import { MAX_HOLD_BACK } from '../../src/redact/stream.js';
import { through } from './through.js';

const rand = (n = 18) => randomBytes(n).toString('base64url');


describe('createRedactStream', () => {
  it('gives the same output as redact() however the text is split', async () => {
    const redactor = createRedactor({ detectors: false });
    const a = rand();
    const b = `${a.slice(0, 10)}${rand(6)}`; // shares a prefix with a
    redactor.add(a);
    redactor.add(b);
    const text = `start ${a} mid ${b}${a} é✓ end ${encodeURIComponent(b)}`;
    const expected = redactor.redact(text);
    for (let cut = 0; cut <= text.length; cut++) {
      expect(await through(redactor, [text.slice(0, cut), text.slice(cut)])).toBe(expected);
    }
    // Many small chunks.
    const pieces = text.match(/.{1,3}/gsu) ?? [];
    expect(await through(redactor, pieces)).toBe(expected);
  });

  it('handles multi-byte characters split across byte chunks', async () => {
    const redactor = createRedactor({ detectors: false });
    const secret = `пароль-${rand(6)}`;
    redactor.add(secret);
    const bytes = Buffer.from(`x ${secret} y ✓`);
    for (let cut = 0; cut <= bytes.length; cut++) {
      expect(await through(redactor, [bytes.subarray(0, cut), bytes.subarray(cut)])).toBe('x [REDACTED] y ✓');
    }
  });

  it('holds back at most the longest pattern minus one character (detectors off)', async () => {
    const redactor = createRedactor({ detectors: false });
    const secret = rand(30);
    redactor.add(secret);
    const longest = (redactor as unknown as { longest: number }).longest;
    for (const text of ['z'.repeat(500), `${'z'.repeat(500)}${secret.slice(0, -1)}`]) {
      const emitted = await emittedAfterWrite(redactor, text);
      expect(text.length - emitted).toBeLessThanOrEqual(longest - 1);
    }
  });

  it('with detectors on, holds back the unfinished last line, at most MAX_HOLD_BACK', async () => {
    // Split invariance needs whole lines: `password=…` and `Authorization:` values run to the end
    // of a word or line, so their verdict is final only when the line is.
    const redactor = createRedactor();
    redactor.add(rand(30));
    expect(await emittedAfterWrite(redactor, `done
${'z'.repeat(500)}`)).toBe(5);
    expect(await emittedAfterWrite(redactor, 'z'.repeat(500))).toBe(0);
    // A bare carriage return ends a line too: progress output keeps flowing (nothing registered
    // here, so only the detectors hold text back).
    expect(await emittedAfterWrite(createRedactor(), 'rows 10%\rrows 20%\rrows 3')).toBe('rows 10%\rrows 20%\r'.length);
    const long = 'z'.repeat(MAX_HOLD_BACK + 1000);
    expect(await emittedAfterWrite(redactor, long)).toBe(1000);
  });

  it('emits everything immediately when nothing is registered', async () => {
    const redactor = createRedactor({ detectors: false });
    const stream = redactor.createRedactStream();
    const seen: string[] = [];
    stream.on('data', (c: Buffer) => seen.push(c.toString()));
    stream.write('hello world');
    await new Promise((r) => setImmediate(r));
    expect(seen.join('')).toBe('hello world');
  });

  it('runs the detectors on what it emits, and is a Transform one can pipe', async () => {
    const redactor = createRedactor();
    const pw = rand(10);
    const out: string[] = [];
    await new Promise<void>((resolve, reject) => {
      Readable.from([`connect postgres://u:${pw}@db/x\n`, 'done\n'])
        .pipe(redactor.createRedactStream())
        .on('data', (c: Buffer) => out.push(c.toString()))
        .on('end', resolve)
        .on('error', reject);
    });
    expect(out.join('')).toBe('connect postgres://u:[REDACTED]@db/x\ndone\n');
  });

  it('latin1 mode passes arbitrary bytes through unchanged', async () => {
    const redactor = createRedactor({ detectors: false });
    const secret = rand();
    redactor.add(secret);
    const binary = Buffer.concat([randomBytes(50).map((b) => (b === 0x5b ? 0 : b)), Buffer.from(secret), Buffer.from([0xff, 0x00, 0x80])]);
    const out = await through(redactor, [binary.subarray(0, 60), binary.subarray(60)], 'latin1');
    expect(Buffer.from(out, 'latin1').equals(Buffer.concat([binary.subarray(0, 50), Buffer.from('[REDACTED]'), Buffer.from([0xff, 0x00, 0x80])]))).toBe(true);
  });
});

/** How many characters a fresh stream emits right after one write of `text`. */
async function emittedAfterWrite(redactor: ReturnType<typeof createRedactor>, text: string): Promise<number> {
  const stream = redactor.createRedactStream();
  const seen: string[] = [];
  stream.on('data', (c: Buffer) => seen.push(c.toString()));
  stream.write(text);
  await new Promise((r) => setImmediate(r));
  const emitted = seen.join('').length;
  stream.end();
  return emitted;
}

describe('createRedactStream cost', () => {
  it('does not scan a line again for every write that does not end it', async () => {
    const redactor = createRedactor();
    redactor.add(rand(30));
    let scans = 0;
    const core = redactor as unknown as { scanInto: (...a: unknown[]) => number };
    const scanInto = core.scanInto.bind(core);
    core.scanInto = (...a: unknown[]) => ((scans += 1), scanInto(...a));
    const line = `${'word '.repeat(400)}\n`;
    await through(redactor, [...Buffer.from(line)].map((b) => Buffer.from([b])));
    // One scan when the newline arrives and one at the end, not one per byte.
    expect(scans).toBeLessThanOrEqual(2);
  });
});
