// The leak suite (issue 3): random secrets × channels × encodings, zero leaks.
//
// Secrets: unicode, regex metacharacters, shared prefixes and overlaps between secrets,
// multi-line PEM-like blocks. Channels: redact, redactValue on nested values, redactError on
// errors with causes, the redact stream split at every offset, the built-in logger at every
// level, pino, winston. Encodings: raw, base64 inside a longer blob (every alignment),
// base64url, URL-encoded (upper/lower hex, + for space), JSON-escaped.
//
// The oracle is independent of the redactor's own list of derived forms: each test computes,
// from the secret alone, what a leak would look like in the output (the encoded secret, or the
// base64 characters that only the secret's bytes determine) and looks for it.
import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { inspect } from 'node:util';
import fc from 'fast-check';
import pino from 'pino';
import winston from 'winston';
import { describe, expect, it } from 'vitest';
import { createLogger, createRedactor, DEFAULT_ALLOWLIST, type LogLevel, type Redactor } from '../../src/index.js';
import { withRedaction } from '../../src/pino/index.js';
import { redactFormat } from '../../src/winston/index.js';
import { errorText } from '../helpers.js';
import { through } from '../redact/through.js';

const PLACEHOLDER = '[REDACTED]';
const ALLOW = new Set(DEFAULT_ALLOWLIST.map((w) => w.toLowerCase()));
const LEVELS: readonly LogLevel[] = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'];
const RUNS = Number(process.env['LEAK_RUNS'] ?? 25);

// ---------------------------------------------------------------------------------------------
// Secrets

const META = [...'.*+?^${}()|[]\\/"\'%&=:@#;,<>~` \t'];
const unicodeSecret = fc.string({ unit: 'grapheme', minLength: 6, maxLength: 24 });
const metaSecret = fc.string({ unit: fc.constantFrom(...META, 'a', 'Z', '0', 'é'), minLength: 6, maxLength: 24 });
const b64Secret = fc.uint8Array({ minLength: 8, maxLength: 30 }).map((b) => Buffer.from(b).toString('base64url'));
const pemSecret = fc.array(fc.uint8Array({ minLength: 24, maxLength: 48 }), { minLength: 2, maxLength: 4 }).map((lines) => {
  const d = '-'.repeat(5);
  return [`${d}BEGIN TEST KEY${d}`, ...lines.map((l) => Buffer.from(l).toString('base64')), `${d}END TEST KEY${d}`].join('\n');
});
const oneSecret = fc.oneof(unicodeSecret, metaSecret, b64Secret, pemSecret);

/** Two to four secrets, some sharing a prefix with or overlapping another. */
const secretSet = fc
  .tuple(oneSecret, fc.array(fc.tuple(fc.constantFrom('prefix', 'overlap', 'fresh'), oneSecret, fc.nat(20)), { maxLength: 3 }))
  .map(([first, rest]) => {
    const out = [first];
    for (const [kind, other, k] of rest) {
      const base = out[out.length - 1]!;
      if (kind === 'prefix') out.push(base.slice(0, Math.max(6, k % base.length)) + other);
      else if (kind === 'overlap') out.push(base.slice(Math.min(k % base.length, base.length - 6)) + other);
      else out.push(other);
    }
    return out;
  })
  .filter((set) => set.every(usable));

/** What the redactor is documented to register: not blank, not short, not an allowlisted word, not part of the placeholder. */
function usable(s: string): boolean {
  const t = s.trim();
  return t.length >= 5 && !ALLOW.has(t.toLowerCase()) && !PLACEHOLDER.includes(t) && ![...s].some((c) => c.length === 1 && c >= '\ud800' && c <= '\udfff');
}

// ---------------------------------------------------------------------------------------------
// Encodings

type Encoding = 'raw' | 'base64' | 'base64url' | 'url-upper' | 'url-lower' | 'url-plus' | 'json';
const ENCODINGS: readonly Encoding[] = ['raw', 'base64', 'base64url', 'url-upper', 'url-lower', 'url-plus', 'json'];

interface Embedded {
  /** The text that carries the secret. */
  readonly text: string;
  /** Substrings whose presence in an output is a leak. */
  readonly leaks: readonly string[];
}

/** Base64 characters determined by the bytes [from, to) of `bytes` alone (6 bits each). */
function core(bytes: Buffer, from: number, to: number, url: boolean): string {
  const enc = bytes.toString(url ? 'base64url' : 'base64');
  return enc.slice(Math.ceil((8 * from) / 6), Math.floor((8 * to) / 6));
}

function embed(secret: string, encoding: Encoding, pad: number): Embedded {
  const lines = secret.split(/\r?\n/).map((l) => l.trim()).filter((l) => l.length >= 5 && !l.startsWith('-----'));
  const pieces = lines.length > 1 ? [secret, ...lines] : [secret];
  switch (encoding) {
    case 'raw':
      return { text: secret, leaks: pieces };
    case 'json':
      return { text: JSON.stringify(secret).slice(1, -1), leaks: pieces.map((p) => JSON.stringify(p).slice(1, -1)) };
    case 'url-upper':
      return { text: encodeURIComponent(secret), leaks: pieces.map(encodeURIComponent) };
    case 'url-lower': {
      const lower = (s: string) => encodeURIComponent(s).replace(/%[0-9A-F]{2}/g, (m) => m.toLowerCase());
      return { text: lower(secret), leaks: pieces.map(lower) };
    }
    case 'url-plus': {
      const plus = (s: string) => encodeURIComponent(s).replace(/%20/g, '+');
      return { text: plus(secret), leaks: pieces.map(plus) };
    }
    case 'base64':
    case 'base64url': {
      const url = encoding === 'base64url';
      const prefix = Buffer.from('x'.repeat(pad % 3 + 3));
      const s = Buffer.from(secret);
      const blob = Buffer.concat([prefix, s, Buffer.from('tail')]);
      const c = core(blob, prefix.length, prefix.length + s.length, url);
      return { text: blob.toString(url ? 'base64url' : 'base64'), leaks: c.length >= 8 ? [c] : [] };
    }
  }
}

/** Every leak string, as it would appear raw and once or twice JSON-escaped (log lines quote text). */
function leakSet(embedded: readonly Embedded[]): string[] {
  const out = new Set<string>();
  for (const e of embedded) {
    for (const l of e.leaks) {
      out.add(l);
      const once = JSON.stringify(l).slice(1, -1);
      out.add(once);
      out.add(JSON.stringify(once).slice(1, -1));
    }
  }
  return [...out].filter((l) => l.length > 0 && !PLACEHOLDER.includes(l));
}

function expectNoLeak(output: string, leaks: readonly string[], context: string): void {
  for (const leak of leaks) {
    if (output.includes(leak)) throw new Error(`leak in ${context}: an encoded secret (${leak.length} chars) survived`);
  }
}

// ---------------------------------------------------------------------------------------------
// A scenario: a fresh redactor with the secrets registered, and a message carrying each of them
// in some encoding, between ordinary words.

const scenario: fc.Arbitrary<Scenario> = fc.record({
  secrets: secretSet,
  encodings: fc.array(fc.constantFrom(...ENCODINGS), { minLength: 4, maxLength: 4 }),
  pad: fc.nat(5),
  filler: fc.constantFrom('', ' ', 'user=etl ', 'é ', '\n', '"q" ', '%20'),
});

interface Built {
  readonly redactor: Redactor;
  readonly message: string;
  readonly leaks: readonly string[];
}

interface Scenario {
  readonly secrets: string[];
  readonly encodings: Encoding[];
  readonly pad: number;
  readonly filler: string;
}

function build({ secrets, encodings, pad, filler }: Scenario): Built {
  const redactor = createRedactor({ onWarning: () => {} });
  for (const s of secrets) redactor.add(s, { ref: 'test://secret' });
  const embedded = secrets.map((s, i) => embed(s, encodings[i % encodings.length]!, pad + i));
  // Each secret also raw, so the raw form is exercised in every scenario.
  const all = [...embedded, ...secrets.map((s) => embed(s, 'raw', 0))];
  const message = `start ${filler}${all.map((e) => e.text).join(` ${filler}`)} end`;
  return { redactor, message, leaks: leakSet(all) };
}

describe('leak suite (property-based)', () => {
  it('redact: no encoded secret survives', () => {
    fc.assert(
      fc.property(scenario, (sc) => {
        const { redactor, message, leaks } = build(sc);
        expectNoLeak(redactor.redact(message), leaks, 'redact');
      }),
      { numRuns: RUNS * 4 },
    );
  });

  it('redactValue: nested objects, arrays, Maps, Sets, Buffers, class instances', () => {
    class Holder {
      constructor(readonly inner: unknown) {}
    }
    fc.assert(
      fc.property(scenario, (sc) => {
        const { redactor, message, leaks } = build(sc);
        const value = {
          a: [{ b: new Map<unknown, unknown>([['k', message], [message, 1]]) }],
          c: new Set([message]),
          d: Buffer.from(message),
          e: new Holder({ deep: { deeper: [message] } }),
          [message]: 'as a key',
        };
        const out = redactor.redactValue(value) as Record<string, unknown>;
        expectNoLeak(inspect(out, { depth: Infinity, maxStringLength: Infinity }), leaks, 'redactValue/inspect');
        expectNoLeak(JSON.stringify(out, (_k, v: unknown) => (v instanceof Map ? [...v] : v instanceof Set ? [...v] : v)), leaks, 'redactValue/JSON');
        expectNoLeak((out['d'] as Buffer).toString('utf8'), leaks, 'redactValue/Buffer');
      }),
      { numRuns: RUNS },
    );
  });

  it('redactError: message, stack, cause chain, AggregateError.errors, own properties', () => {
    fc.assert(
      fc.property(scenario, (sc) => {
        const { redactor, message, leaks } = build(sc);
        const root = Object.assign(new Error(message), { args: [message], config: { url: message } });
        const agg = new AggregateError([new Error(message), message], message, { cause: root });
        const top = new Error(`failed: ${message}`, { cause: agg });
        const safe = redactor.redactError(top);
        expectNoLeak(errorText(safe), leaks, 'redactError');
        expectNoLeak(inspect(safe, { depth: Infinity }), leaks, 'redactError/inspect');
      }),
      { numRuns: RUNS },
    );
  });

  it('createRedactStream: split at every offset, same output as redact() for registered values', async () => {
    await fc.assert(
      fc.asyncProperty(scenario, async (sc) => {
        const { redactor, message, leaks } = build(sc);
        const plain = createRedactor({ detectors: false, onWarning: () => {} });
        for (const s of sc.secrets) plain.add(s);
        const expected = plain.redact(message);
        const bytes = Buffer.from(message);
        for (let cut = 0; cut <= bytes.length; cut += 1) {
          const [viaBytes, viaPlain] = await Promise.all([
            through(redactor, [bytes.subarray(0, cut), bytes.subarray(cut)]),
            through(plain, [bytes.subarray(0, cut), bytes.subarray(cut)]),
          ]);
          expectNoLeak(viaBytes, leaks, `stream split at ${cut}`);
          expect(viaPlain).toBe(expected);
        }
      }),
      { numRuns: Math.max(5, Math.floor(RUNS / 2)) },
    );
  });

  it('built-in logger: every level, message, fields and errors', () => {
    fc.assert(
      fc.property(scenario, (sc) => {
        const { redactor, message, leaks } = build(sc);
        const lines: string[] = [];
        const log = createLogger(redactor, { level: 'trace', destination: { write: (l) => lines.push(l) } });
        for (const level of LEVELS) {
          log[level](message, { field: message, nested: { list: [message] }, err: new Error(message, { cause: new Error(message) }) });
          log.child({ binding: message })[level]('child');
        }
        expect(lines).toHaveLength(LEVELS.length * 2);
        expectNoLeak(lines.join(''), leaks, 'logger');
      }),
      { numRuns: RUNS },
    );
  });

  it('pino: the final serialized line', () => {
    fc.assert(
      fc.property(scenario, (sc) => {
        const { redactor, message, leaks } = build(sc);
        const lines: string[] = [];
        const log = pino(withRedaction(redactor, { level: 'trace' }), { write: (l: string) => void lines.push(l) });
        log.info(message);
        log.warn({ field: message, nested: { list: [message] } }, 'with %s', message);
        log.error(new Error(message, { cause: new Error(message) }));
        log.child({ binding: message }).debug('child');
        expectNoLeak(lines.join(''), leaks, 'pino');
      }),
      { numRuns: RUNS },
    );
  });

  it('winston: a format over fields, message and the final line', async () => {
    await fc.assert(
      fc.asyncProperty(scenario, async (sc) => {
        const { redactor, message, leaks } = build(sc);
        const lines: string[] = [];
        const stream = new Writable({
          write(chunk, _enc, cb) {
            lines.push(String(chunk));
            cb();
          },
        });
        const log = winston.createLogger({
          level: 'silly',
          format: winston.format.combine(winston.format.errors({ stack: true }), winston.format.json(), redactFormat(redactor)),
          transports: [new winston.transports.Stream({ stream })],
        });
        log.info(message, { field: message, nested: { list: [message] } });
        log.error(new Error(message));
        await new Promise((r) => setImmediate(r));
        expect(lines.length).toBe(2);
        expectNoLeak(lines.join(''), leaks, 'winston');
      }),
      { numRuns: RUNS },
    );
  });

  it('non-secret text around a masked value is preserved exactly', () => {
    const words = fc.string({ unit: fc.constantFrom(...'ABCDEFGHIJ ,.;:!?\n\t'), maxLength: 30 });
    const secret = fc.string({ unit: fc.constantFrom(...'klmnopqrstuvwxyz0123456789_'), minLength: 6, maxLength: 30 }).filter(usable);
    fc.assert(
      fc.property(words, secret, words, (before, s, after) => {
        const redactor = createRedactor({ detectors: false, onWarning: () => {} });
        redactor.add(s);
        expect(redactor.redact(before + s + after)).toBe(`${before}${PLACEHOLDER}${after}`);
        expect(redactor.redact(before + after)).toBe(before + after);
      }),
      { numRuns: RUNS * 4 },
    );
  });
});

describe('leak regressions (the failures named in issue 3)', () => {
  const rand = (n = 15) => randomBytes(n).toString('base64url');

  it('prefix overlap: a short secret that prefixes a longer one leaves no tail', () => {
    const r = createRedactor();
    const long = `Sup3r${rand()}`;
    r.add(long.slice(0, 8));
    r.add(long);
    expect(r.redact(`pw=${long}!`)).toBe('pw=[REDACTED]!');
  });

  it('empty password: nothing is masked, no character of the log is lost', () => {
    const r = createRedactor();
    r.add('');
    const line = 'every character of this line stays';
    expect(r.redact(line)).toBe(line);
  });

  it('short secret: a 3-character value does not mask every digit', () => {
    const warnings: string[] = [];
    const r = createRedactor({ onWarning: (w) => warnings.push(w.message) });
    r.add('123', { ref: 'env://SHORT' });
    expect(r.redact('order 123 of 1234, 0.123')).toBe('order 123 of 1234, 0.123');
    expect(warnings.join('')).toContain('env://SHORT');
    expect(warnings.join('')).not.toContain('123');
  });

  it('URL-encoded password', () => {
    const r = createRedactor({ detectors: false });
    const pw = `p@ss:w/rd ${rand(6)}`;
    r.add(pw);
    expect(r.redact(`https://api.example.com/login?u=etl&p=${encodeURIComponent(pw)}`)).toBe('https://api.example.com/login?u=etl&p=[REDACTED]');
  });

  it('password inside a DB URI', () => {
    const r = createRedactor();
    const pw = rand();
    r.add(pw);
    expect(r.redact(`connecting to postgresql://etl:${pw}@db:5432/orders?ssl=true`)).toBe('connecting to postgresql://etl:[REDACTED]@db:5432/orders?ssl=true');
  });

  it('secret in exception args and the cause chain', () => {
    const r = createRedactor();
    const pw = rand();
    r.add(pw);
    const err = new Error('query failed', { cause: Object.assign(new Error(`auth failed for ${pw}`), { args: ['etl', pw] }) });
    expect(errorText(r.redactError(err))).not.toContain(pw);
  });

  it('secret interpolated into a pino message', () => {
    const r = createRedactor();
    const pw = rand();
    r.add(pw);
    const lines: string[] = [];
    pino(withRedaction(r), { write: (l: string) => void lines.push(l) }).info(`login with ${pw}`);
    expect(JSON.parse(lines[0]!).msg).toBe('login with [REDACTED]');
  });
});

