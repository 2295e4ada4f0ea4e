import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createRedactor } from '../../src/index.js';

const rand = () => randomBytes(18).toString('base64url');

function fakeConsole() {
  const lines: string[] = [];
  const record = (...args: unknown[]) => lines.push(args.map(String).join(' '));
  const c = { log: record, info: record, warn: record, error: record, debug: record, trace: record, dir: (v: unknown) => lines.push(JSON.stringify(v)), table: (v: unknown) => lines.push(JSON.stringify(v)), assert: (ok: unknown, ...a: unknown[]) => { if (!ok) record(...a); } };
  return { c: c as unknown as Console, lines, original: { ...c } };
}

describe('wrapConsole', () => {
  it('redacts arguments (strings, format args, objects, errors) and undoes', () => {
    const redactor = createRedactor();
    const secret = rand();
    redactor.add(secret);
    const { c, lines, original } = fakeConsole();
    const undo = redactor.wrapConsole({ console: c });
    c.log(`token ${secret}`);
    c.error('failed: %s', secret, { password: 'x', note: secret });
    c.warn(new Error(`boom ${secret}`));
    c.dir({ a: secret });
    c.assert(false, `assert ${secret}`);
    expect(lines.join('\n')).not.toContain(secret);
    expect(lines[0]).toBe('token [REDACTED]');
    expect(lines[1]).toContain("password: '[REDACTED]'");
    undo();
    expect(c.log).toBe(original.log);
    c.log(secret);
    expect(lines.at(-1)).toBe(secret);
  });

  it('undo keeps a later wrapper working (this one becomes a pass-through)', () => {
    const redactor = createRedactor();
    const secret = rand();
    redactor.add(secret);
    const { c, lines } = fakeConsole();
    const undo = redactor.wrapConsole({ console: c, methods: ['log'] });
    const inner = c.log;
    c.log = (...args: unknown[]) => inner(...args, '(tagged)');
    undo();
    c.log(secret);
    expect(lines.at(-1)).toBe(`${secret} (tagged)`);
  });
});

describe('wrapProcessOutput', () => {
  it('redacts string and byte writes of the given streams, and undoes', async () => {
    const redactor = createRedactor();
    const secret = rand();
    redactor.add(secret);
    const got: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, cb) {
        got.push(chunk.toString());
        cb();
      },
    });
    const undo = redactor.wrapProcessOutput({ streams: [sink] });
    sink.write(`a ${secret}\n`);
    sink.write(Buffer.from(`b ${secret}\n`));
    undo();
    sink.write(`c ${secret}\n`);
    await new Promise((r) => setImmediate(r));
    expect(got).toEqual(['a [REDACTED]\n', 'b [REDACTED]\n', `c ${secret}\n`]);
  });
});
