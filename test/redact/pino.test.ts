import { randomBytes } from 'node:crypto';
import pino from 'pino';
import { describe, expect, it, vi } from 'vitest';
import { createRedactor } from '../../src/index.js';
import { redactingDestination, withRedaction } from '../../src/pino/index.js';

const rand = () => randomBytes(18).toString('base64url');

function setup() {
  const redactor = createRedactor();
  const secret = rand();
  redactor.add(secret, { ref: 'env://S' });
  const lines: string[] = [];
  const dest = { write: (l: string) => void lines.push(l) };
  return { redactor, secret, lines, dest };
}

describe('connector-secrets/pino', () => {
  it('regression (secret interpolated into a pino message): the final line is redacted', () => {
    const { redactor, secret, lines, dest } = setup();
    const log = pino(withRedaction(redactor), dest);
    log.info(`connecting with ${secret}`);
    log.info('format %s and %o', secret, { nested: secret });
    log.info({ password: 'unregistered-pw', deep: { list: [secret] } }, 'fields');
    log.error(new Error(`boom ${secret}`, { cause: new Error(`cause ${secret}`) }));
    log.child({ token: secret }).warn('child');
    const out = lines.join('');
    expect(out).not.toContain(secret);
    expect(out).not.toContain('unregistered-pw');
    for (const line of lines) expect(() => JSON.parse(line)).not.toThrow();
    expect(JSON.parse(lines[0]!).msg).toBe('connecting with [REDACTED]');
  });

  it('keeps an existing streamWrite hook (it runs first) and pino options', () => {
    const { redactor, secret, lines, dest } = setup();
    const options = withRedaction(redactor, { level: 'warn', hooks: { streamWrite: (s: string) => s.replace('"tag":1', `"tag":"${secret}"`) } });
    expect(options.level).toBe('warn');
    const log = pino(options, dest);
    log.info('hidden');
    log.warn({ tag: 1 }, 'x');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('"tag":"[REDACTED]"');
  });

  it('redactingDestination wraps any destination, passing flushSync through', () => {
    const { redactor, secret, lines } = setup();
    let flushed = 0;
    const dest = redactingDestination(redactor, { write: (l: string) => void lines.push(l), flushSync: () => void (flushed += 1) } as pino.DestinationStream);
    const log = pino(dest);
    log.info(`x ${secret}`);
    (dest as unknown as { flushSync(): void }).flushSync();
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('x [REDACTED]');
    expect(flushed).toBe(1);
  });

  it('pino(redactingDestination(r)) alone takes the wrapper as its stream, not as options', () => {
    const { redactor, secret } = setup();
    const written: string[] = [];
    const stdoutWrite = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => written.push(String(chunk)) > 0);
    try {
      pino(redactingDestination(redactor)).info(`x ${secret}`);
    } finally {
      stdoutWrite.mockRestore();
    }
    expect(written.join('')).toContain('x [REDACTED]');
    expect(written.join('')).not.toContain(secret);
  });
});
