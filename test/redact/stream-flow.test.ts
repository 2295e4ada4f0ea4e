import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createRedactor } from '../../src/redact/redactor.js';

describe('createRedactStream: finished lines flow without waiting for more input', () => {
  it('emits a short line that cannot start any registered value before the stream ends (a child saying "ready" and waiting)', async () => {
    const redactor = createRedactor();
    redactor.add(randomBytes(24).toString('base64url'));
    const stream = redactor.createRedactStream();
    const out: string[] = [];
    stream.on('data', (chunk: Buffer) => out.push(chunk.toString('utf8')));
    stream.write('ready\n');
    await new Promise((r) => setImmediate(r));
    expect(out.join('')).toBe('ready\n');
    stream.end();
  });

  it('still holds back a line end that a registered value could continue', async () => {
    const value = `ab\n${randomBytes(24).toString('base64url')}`;
    const redactor = createRedactor({ detectors: false });
    redactor.add(value);
    const stream = redactor.createRedactStream();
    const out: string[] = [];
    stream.on('data', (chunk: Buffer) => out.push(chunk.toString('utf8')));
    stream.write('x ab\n');
    await new Promise((r) => setImmediate(r));
    expect(out.join('')).toBe('x ');
    stream.end(value.slice(3) + '\n');
    await new Promise((r) => stream.on('end', r));
    expect(out.join('')).toBe('x [REDACTED]\n');
  });
});
