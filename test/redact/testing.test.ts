import { randomBytes } from 'node:crypto';
import { AssertionError } from 'node:assert';
import { describe, expect, it } from 'vitest';
import { createRedactor, createSecrets, Secret } from '../../src/index.js';
import { captureOutput, expectNoSecrets, findLeaks, fromMock, plantCanaries } from '../../src/testing/index.js';

const rand = () => randomBytes(18).toString('base64url');

describe('expectNoSecrets', () => {
  it('passes on clean output and fails, naming index, ref and form but not the value', () => {
    const secret = rand();
    const s = new Secret(secret, { ref: 'env://TOKEN' });
    expect(() => expectNoSecrets('all clean [REDACTED]', [s])).not.toThrow();
    let err: unknown;
    try {
      expectNoSecrets(`GET /x?t=${encodeURIComponent(secret + '/')}`, ['unrelated-value', s]);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(AssertionError);
    const message = (err as Error).message;
    expect(message).toContain('secret #1 (env://TOKEN)');
    expect(message).not.toContain(secret);
  });

  it('refuses a disposed Secret instead of passing without looking', () => {
    const secret = rand();
    const s = new Secret(secret, { ref: 'env://TOKEN' });
    s.dispose();
    expect(() => expectNoSecrets(`leaked ${secret}`, [s])).toThrow(expect.objectContaining({ code: 'SECRET_DISPOSED' }));
  });

  it('finds base64 (inside a blob), JSON-escaped, lines and JSON fields; in strings, bytes, chunks and objects', () => {
    const secret = `p"w ${rand()}`;
    const blob = Buffer.from(`xx${secret}yy`).toString('base64');
    expect(findLeaks(blob, [secret])[0]?.kind).toBe('base64');
    expect(findLeaks(JSON.stringify({ a: secret }), [secret])[0]?.kind).toBe('json-escaped');
    expect(findLeaks(Buffer.from(`..${secret}..`), [secret])).toHaveLength(1);
    expect(findLeaks(['a', Buffer.from(secret.slice(0, 5)), secret.slice(5)], [secret])).toHaveLength(1);
    expect(findLeaks({ deep: [{ v: secret }] }, [secret])).toHaveLength(1);
    const line2 = rand();
    expect(findLeaks(`only ${line2}`, [`${rand()}\n${line2}\n`])[0]?.part).toBe('line 2');
    const pw = rand();
    expect(findLeaks(`pw ${pw}`, [JSON.stringify({ user: 'etl', password: pw })])[0]?.part).toBe('field password');
  });
});

describe('plantCanaries and captureOutput', () => {
  it('registers canaries with a client; a leak is caught, a redacted output passes', async () => {
    const secrets = createSecrets({ environment: 'dev', providers: [fromMock()], audit: false, anomaly: false, openTelemetry: false } as never);
    const canaries = plantCanaries(secrets, { count: 3 });
    expect(canaries.values).toHaveLength(3);
    expect(String(canaries.secrets[0])).toBe('[REDACTED]');
    const leaked = await captureOutput(() => {
      process.stdout.write(`oops ${canaries.values[1]}\n`);
      return 7;
    });
    expect(leaked.result).toBe(7);
    expect(canaries.leaks(leaked.text).map((l) => l.index)).toEqual([1]);
    expect(() => canaries.expectAbsent(leaked.text)).toThrow(/canary:\/\/1/);
    const safe = await captureOutput(() => {
      const undo = secrets.redactor.wrapProcessOutput();
      try {
        for (const v of canaries.values) console.log(`value ${v} / ${encodeURIComponent(v)} / ${JSON.stringify(v)}`);
      } finally {
        undo();
      }
    });
    expect(safe.stdout).toContain('[REDACTED]');
    canaries.expectAbsent(safe.text);
    await secrets.close();
  });

  it('accepts a bare redactor', () => {
    const redactor = createRedactor();
    const canaries = plantCanaries(redactor, { count: 1 });
    expect(redactor.redact(`x ${canaries.values[0]} y`)).toBe('x [REDACTED] y');
  });
});
