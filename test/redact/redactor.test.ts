import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors.js';
import { createRedactor, type RedactorWarning } from '../../src/index.js';

const rand = (n = 18) => randomBytes(n).toString('base64url');

function withWarnings(options: Parameters<typeof createRedactor>[0] = {}) {
  const warnings: RedactorWarning[] = [];
  const redactor = createRedactor({ ...options, onWarning: (w) => warnings.push(w) });
  return { redactor, warnings };
}

describe('createRedactor options', () => {
  it('rejects invalid options with a ConfigError naming the option', () => {
    expect(() => createRedactor({ minLength: 0 })).toThrow(ConfigError);
    expect(() => createRedactor({ detectors: { nope: true } as never })).toThrow(/detectors/);
    expect(() => createRedactor({ placeholder: '' })).toThrow(/placeholder/);
  });
});

describe('add', () => {
  it('masks a registered value and keeps the text around it exactly', () => {
    const { redactor } = withWarnings();
    const secret = rand();
    redactor.add(secret, { ref: 'env://TOKEN' });
    const before = '  line 1:\ttab\u00e9 "quoted" ';
    const after = ' …end\r\n';
    expect(redactor.redact(before + secret + after)).toBe(`${before}[REDACTED]${after}`);
    expect(redactor.redact(secret + secret)).toBe('[REDACTED]');
    expect(redactor.redact('nothing here')).toBe('nothing here');
  });

  it('uses the configured placeholder', () => {
    const redactor = createRedactor({ placeholder: '***' });
    const secret = rand();
    redactor.add(secret);
    expect(redactor.redact(`a ${secret} b`)).toBe('a *** b');
    expect(redactor.placeholder).toBe('***');
  });

  it('regression (prefix overlap): a secret that is a prefix of another leaves no tail of the longer one', () => {
    const { redactor } = withWarnings();
    const short = `pw${rand(6)}`;
    const long = `${short}${rand(6)}`;
    redactor.add(short);
    redactor.add(long);
    const out = redactor.redact(`x=${long}; y=${short}.`);
    expect(out).toBe('x=[REDACTED]; y=[REDACTED].');
    // And in the other registration order.
    const other = createRedactor();
    other.add(long);
    other.add(short);
    expect(other.redact(`x=${long}; y=${short}.`)).toBe('x=[REDACTED]; y=[REDACTED].');
  });

  it('masks overlapping secrets as the union of their ranges', () => {
    const redactor = createRedactor();
    const a = `${rand(6)}`;
    const b = `${rand(6)}`;
    const c = `${rand(6)}`;
    redactor.add(a + b);
    redactor.add(b + c);
    expect(redactor.redact(`<${a}${b}${c}>`)).toBe('<[REDACTED]>');
  });

  it('regression (empty password): empty and whitespace-only values are never registered', () => {
    const { redactor, warnings } = withWarnings();
    expect(redactor.add('', { ref: 'env://EMPTY' })).toBe(false);
    expect(redactor.add('   \n\t', { ref: 'env://BLANK' })).toBe(false);
    expect(redactor.size).toBe(0);
    expect(redactor.redact('every character stays')).toBe('every character stays');
    expect(warnings).toEqual([]);
  });

  it('regression (short secret): values under minLength are not registered; the warning names the ref, not the value', () => {
    const { redactor, warnings } = withWarnings();
    expect(redactor.add('7391', { ref: 'env://PIN' })).toBe(false);
    expect(redactor.redact('ids 7391 17391 73910')).toBe('ids 7391 17391 73910');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ code: 'SHORT_VALUE', ref: 'env://PIN' });
    expect(warnings[0]!.message).toContain('env://PIN');
    expect(warnings[0]!.message).not.toContain('7391');
    // Configurable.
    const strict = createRedactor({ minLength: 3 });
    strict.add('7391');
    expect(strict.redact('pin 7391')).toBe('pin [REDACTED]');
  });

  it('warns once per ref and code', () => {
    const { redactor, warnings } = withWarnings();
    redactor.add('abc', { ref: 'env://A' });
    redactor.add('abd', { ref: 'env://A' });
    expect(warnings).toHaveLength(1);
  });

  it('never masks allowlisted common words (configurable), with a warning', () => {
    const { redactor, warnings } = withWarnings();
    expect(redactor.add('postgres', { ref: 'vault://kv/db#engine' })).toBe(false);
    expect(redactor.redact('engine postgres')).toBe('engine postgres');
    expect(warnings[0]).toMatchObject({ code: 'COMMON_WORD', ref: 'vault://kv/db#engine' });
    const none = createRedactor({ allowlist: [] });
    none.add('postgres');
    expect(none.redact('engine postgres')).toBe('engine [REDACTED]');
  });

  it('registers each string field of a JSON secret, recursively, and Basic-auth tokens', () => {
    const { redactor, warnings } = withWarnings();
    const username = `etl_${rand(4)}`;
    const password = rand();
    const nested = rand();
    redactor.add(JSON.stringify({ username, password, port: '5432', extra: { apiKey: nested, list: [nested + 'x'] } }), { ref: 'vault://kv/orders-db' });
    expect(redactor.redact(`user ${username} pass ${password}`)).toBe('user [REDACTED] pass [REDACTED]');
    expect(redactor.redact(`k ${nested} l ${nested}x`)).toBe('k [REDACTED] l [REDACTED]');
    const basic = Buffer.from(`${username}:${password}`).toString('base64');
    expect(redactor.redact(`Authorization: Basic ${basic}`)).not.toContain(basic);
    expect(createRedactor({ detectors: false, allowlist: [] }).redact(basic)).toBe(basic); // (sanity: not a detector effect below)
    const only = createRedactor({ detectors: false });
    only.add(JSON.stringify({ user: username, pass: password }));
    expect(only.redact(`h ${basic} t`)).toBe('h [REDACTED] t');
    expect(warnings.map((w) => w.ref)).toContain('vault://kv/orders-db#port');
  });

  it('registers each line of a multi-line value (PEM-like), not the armour lines', () => {
    const redactor = createRedactor();
    const body = [rand(48), rand(48), rand(20)];
    const dashes = '-'.repeat(5);
    const pem = [`${dashes}BEGIN TEST KEY${dashes}`, ...body, `${dashes}END TEST KEY${dashes}`].join('\n');
    redactor.add(pem);
    expect(redactor.redact(`line: ${body[1]}`)).toBe('line: [REDACTED]');
    expect(redactor.redact(`${dashes}BEGIN TEST KEY${dashes}`)).toBe(`${dashes}BEGIN TEST KEY${dashes}`);
    expect(redactor.redact(pem.replace(/\n/g, '\r\n'))).not.toMatch(new RegExp(body.join('|')));
  });

  it('registers the trimmed value of a file secret with a trailing newline', () => {
    const redactor = createRedactor();
    const secret = rand();
    redactor.add(`${secret}\n`);
    expect(redactor.redact(`token=${secret}&x=1`)).toBe('token=[REDACTED]&x=1');
  });

  it('registers bytes: UTF-8 text, base64 and hex forms', () => {
    const redactor = createRedactor();
    const bytes = randomBytes(16);
    redactor.add(bytes);
    expect(redactor.redact(`hex ${bytes.toString('hex')} HEX ${bytes.toString('hex').toUpperCase()}`)).toBe('hex [REDACTED] HEX [REDACTED]');
    expect(redactor.redact(`b64 ${bytes.toString('base64')}`)).toBe('b64 [REDACTED]');
  });

  it('regression (URL-encoded password): encoded forms are masked (upper/lower hex, + for space)', () => {
    const redactor = createRedactor({ detectors: false });
    const secret = `p@ss w/rd+${rand(6)}&é`;
    redactor.add(secret);
    const enc = encodeURIComponent(secret);
    for (const form of [enc, enc.replace(/%[0-9A-F]{2}/g, (m) => m.toLowerCase()), enc.replace(/%20/g, '+'), new URLSearchParams({ p: secret }).toString().slice(2)]) {
      expect(redactor.redact(`?p=${form}&q=1`)).toBe('?p=[REDACTED]&q=1');
    }
  });

  it('regression (password inside a DB URI): masked as a registered value and by the detector', () => {
    const redactor = createRedactor();
    const secret = rand();
    redactor.add(secret);
    expect(redactor.redact(`postgres://etl:${secret}@db.internal:5432/orders`)).toBe('postgres://etl:[REDACTED]@db.internal:5432/orders');
    expect(redactor.redact(`postgres://etl:${encodeURIComponent(secret + '/x')}@db/orders`)).toBe('postgres://etl:[REDACTED]@db/orders');
    // Unregistered: the detector alone.
    const fresh = createRedactor();
    expect(fresh.redact(`mysql://root:${rand()}@10.0.0.1/db`)).toBe('mysql://root:[REDACTED]@10.0.0.1/db');
  });

  it('finds a secret inside a longer base64 blob at every alignment', () => {
    const redactor = createRedactor({ detectors: false });
    const secret = rand(20);
    redactor.add(secret);
    for (let pad = 0; pad < 6; pad++) {
      const blob = Buffer.from(`${'x'.repeat(pad)}{"token":"${secret}","n":1}`).toString('base64');
      const out = redactor.redact(blob);
      expect(out).toContain('[REDACTED]');
      // No run of base64 characters that the secret alone determines survives.
      const core = Buffer.from(`${'x'.repeat(pad)}{"token":"${secret}`).toString('base64').slice(0, -4);
      expect(out.includes(core.slice(-24))).toBe(false);
      expect(redactor.redact(Buffer.from(`${'x'.repeat(pad)}${secret}`).toString('base64url'))).toContain('[REDACTED]');
    }
  });

  it('masks JSON-escaped forms', () => {
    const redactor = createRedactor({ detectors: false });
    const secret = `a"b\\c\n${rand(6)}`;
    redactor.add(secret);
    expect(redactor.redact(JSON.stringify({ v: secret }))).toBe('{"v":"[REDACTED]"}');
    expect(redactor.redact(JSON.stringify(JSON.stringify({ v: secret })))).not.toContain(JSON.stringify(secret).slice(1, -1));
  });

  it('redact never throws and coerces non-strings', () => {
    const redactor = createRedactor();
    expect(redactor.redact(undefined as never)).toBe('undefined');
  });
});
