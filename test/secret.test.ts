import { randomBytes } from 'node:crypto';
import { Console } from 'node:console';
import { Writable } from 'node:stream';
import util from 'node:util';
import v8 from 'node:v8';
import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import { SecretDisposedError, isConnectorSecretsError } from '../src/errors.js';
import { DEFAULT_PLACEHOLDER, Secret } from '../src/secret.js';

/** A fresh random credential-shaped string; never a literal. */
function randomValue(): string {
  return randomBytes(24).toString('base64url');
}

/** Every textual form in which `bytes` could leak. */
function byteForms(bytes: Uint8Array): string[] {
  const buf = Buffer.from(bytes);
  return [
    buf.toString('hex'),
    [...buf].map((b) => b.toString(16).padStart(2, '0')).join(' '),
    buf.toString('base64'),
    [...buf].join(', '),
    [...buf].join(','),
  ];
}

/** A console that writes into a string, to capture what console.log prints. */
function capturingConsole(): { console: Console; output: () => string } {
  let out = '';
  const sink = new Writable({
    write(chunk: Buffer | string, _enc, cb) {
      out += chunk.toString();
      cb();
    },
  });
  return { console: new Console({ stdout: sink, stderr: sink, colorMode: false }), output: () => out };
}

/** Every way a secret is commonly turned into text. */
function renderings(s: Secret<unknown>): Record<string, string> {
  const cap = capturingConsole();
  cap.console.log(s);
  cap.console.log('%s|%o|%O|%j|%d|%i', s, s, s, s, s, s);
  cap.console.log({ s, nested: { deeper: [s] } });
  cap.console.error(s);
  cap.console.info(`${s}`);
  cap.console.dir(s, { showHidden: true, depth: null });
  cap.console.table([{ s }]);

  let cloned: string;
  try {
    const copy: unknown = structuredClone(s);
    cloned = util.inspect(copy, { showHidden: true, depth: Infinity, customInspect: false }) + JSON.stringify(copy);
  } catch (err) {
    cloned = `threw ${String(err)}`;
  }
  let serialized: string;
  try {
    serialized = v8.serialize(s).toString('latin1') + v8.serialize({ s }).toString('utf8');
  } catch (err) {
    serialized = `threw ${String(err)}`;
  }

  return {
    String: String(s),
    template: `${s}`,
    concat: s + '',
    concatMethod: ''.concat(s as unknown as string),
    join: [s].join(),
    json: JSON.stringify({ s }),
    jsonDirect: JSON.stringify(s),
    jsonIndented: JSON.stringify({ a: [s] }, null, 2),
    valueOf: String(s.valueOf()),
    number: String(Number(s)),
    toPrimitiveDefault: String((s as unknown as { [Symbol.toPrimitive]: (h: string) => unknown })[Symbol.toPrimitive]('default')),
    objectToString: Object.prototype.toString.call(s),
    inspect: util.inspect(s),
    inspectHidden: util.inspect(s, { showHidden: true, depth: Infinity }),
    inspectNoCustom: util.inspect(s, { customInspect: false, showHidden: true, depth: Infinity }),
    inspectGetters: util.inspect(s, { customInspect: false, showHidden: true, depth: Infinity, getters: true }),
    inspectNested: util.inspect({ a: { b: { c: s } } }, { depth: Infinity }),
    format: util.format('%s %o %O %j', s, s, s, s),
    console: cap.output(),
    entries: JSON.stringify(Object.entries(s)),
    keys: JSON.stringify(Object.keys(s)),
    ownNames: JSON.stringify(Object.getOwnPropertyNames(s)),
    ownSymbols: String(Object.getOwnPropertySymbols(s).length),
    reflectKeys: String(Reflect.ownKeys(s).length),
    forIn: (() => {
      const seen: string[] = [];
      for (const k in s) seen.push(k);
      return seen.join(',');
    })(),
    spread: util.inspect({ ...s }, { customInspect: false }),
    assign: JSON.stringify(Object.assign({}, s)),
    structuredClone: cloned,
    v8Serialize: serialized,
    buffer: Buffer.from(s as unknown as string).toString(),
    textEncoder: new TextDecoder().decode(new TextEncoder().encode(s as unknown as string)),
    url: new URLSearchParams({ s: s as unknown as string }).toString(),
  };
}

function expectNoLeak(s: Secret<unknown>, forbidden: readonly string[]): Record<string, string> {
  const all = renderings(s);
  for (const [how, text] of Object.entries(all)) {
    for (const f of forbidden) expect(text.includes(f), `${how} leaked: ${text}`).toBe(false);
  }
  return all;
}

describe('Secret<string>: the value never prints', () => {
  it('hides the value in every rendering and shows the placeholder instead', () => {
    const value = randomValue();
    const s = new Secret(value, { ref: 'env://API_TOKEN', provider: 'env' });
    const r = expectNoLeak(s, [value]);
    expect(r['String']).toBe('[REDACTED]');
    expect(r['template']).toBe('[REDACTED]');
    expect(r['concat']).toBe('[REDACTED]');
    expect(r['json']).toBe('{"s":"[REDACTED]"}');
    expect(r['valueOf']).toBe('[REDACTED]');
    expect(r['number']).toBe('NaN');
    expect(r['objectToString']).toBe('[object Secret]');
    expect(r['entries']).toBe('[]');
    expect(r['ownNames']).toBe('[]');
    expect(r['ownSymbols']).toBe('0');
    expect(r['reflectKeys']).toBe('0');
    expect(r['forIn']).toBe('');
    expect(r['inspect']).toContain('[REDACTED]');
    expect(r['console']).toContain('[REDACTED]');
    expect(DEFAULT_PLACEHOLDER).toBe('[REDACTED]');
  });

  it('valueOf() and coercions give the placeholder, so comparisons never see the value', () => {
    const value = randomValue();
    const s = new Secret(value);
    expect(s.valueOf()).toBe('[REDACTED]');
    expect((s as unknown as string) == value).toBe(false);
    expect((s as unknown as string) > '' ).toBe(true);
    expect(s.toJSON()).toBe('[REDACTED]');
    expect(s.toString()).toBe('[REDACTED]');
  });

  it('util.inspect and console.log may show the ref and provider', () => {
    const value = randomValue();
    const s = new Secret(value, { ref: 'vault://kv/orders-db#password', provider: 'vault' });
    const shown = util.inspect(s, { showHidden: true, depth: Infinity });
    expect(shown).toContain('vault://kv/orders-db#password');
    expect(shown).toContain('vault');
    expect(shown).toContain('[REDACTED]');
    expect(shown).not.toContain(value);
    const cap = capturingConsole();
    cap.console.log(s);
    expect(cap.output()).toContain('vault://kv/orders-db#password');
    expect(cap.output()).not.toContain(value);
  });

  it('never leaks random values (property)', () => {
    fc.assert(
      fc.property(
        // At least 8 distinct characters, so that a hit cannot be padding or a coincidence.
        fc.string({ unit: 'grapheme', minLength: 16, maxLength: 64 }).filter((v) => new Set(v).size >= 8),
        fc.string({ maxLength: 20 }),
        (value, provider) => {
          fc.pre(!provider.includes(value));
          expectNoLeak(new Secret(value, { provider: `p-${provider}` }), [value]);
        },
      ),
      { numRuns: 50 },
    );
  });

  it('structuredClone never carries the value (it may throw)', () => {
    const value = randomValue();
    const s = new Secret(value);
    let copy: unknown;
    try {
      copy = structuredClone({ s, list: [s] });
    } catch (err) {
      expect(String(err)).not.toContain(value);
      return;
    }
    const text = util.inspect(copy, { showHidden: true, depth: Infinity, customInspect: false }) + JSON.stringify(copy);
    expect(text).not.toContain(value);
    // Whatever came out is not a usable Secret.
    expect((copy as { s: unknown }).s).not.toBeInstanceOf(Secret);
  });
});

describe('Secret<object>: nested values never print', () => {
  it('hides every nested field', () => {
    const creds = { username: `u-${randomValue()}`, password: randomValue(), extra: { apiKey: randomValue() } };
    const s = new Secret(creds, { ref: 'secret://orders-db' });
    expectNoLeak(s, [creds.username, creds.password, creds.extra.apiKey]);
    expect(s.reveal()).toBe(creds);
  });
});

describe('placeholder', () => {
  it('is configurable and used everywhere', () => {
    const value = randomValue();
    const s = new Secret(value, { placeholder: '<hidden:token>' });
    const r = expectNoLeak(s, [value, '[REDACTED]']);
    expect(r['String']).toBe('<hidden:token>');
    expect(r['template']).toBe('<hidden:token>');
    expect(r['json']).toBe('{"s":"<hidden:token>"}');
    expect(s.valueOf()).toBe('<hidden:token>');
    expect(r['inspect']).toContain('<hidden:token>');
    expect(r['console']).toContain('<hidden:token>');
  });

  it('carries over to derived secrets', () => {
    const s = new Secret(randomValue(), { placeholder: '***' });
    expect(String(s.map((v) => v.length))).toBe('***');
  });
});

describe('reveal, use, map', () => {
  it('reveal() returns the value itself', () => {
    const value = randomValue();
    expect(new Secret(value).reveal()).toBe(value);
    const obj = { k: randomValue() };
    expect(new Secret(obj).reveal()).toBe(obj);
  });

  it('use(fn) passes the value and returns what fn returns', () => {
    const value = randomValue();
    const s = new Secret(value);
    const fn = vi.fn((v: string) => v.length * 2);
    expect(s.use(fn)).toBe(value.length * 2);
    expect(fn).toHaveBeenCalledOnce();
    expect(fn).toHaveBeenCalledWith(value);
  });

  it('use(fn) passes promises and errors through', async () => {
    const value = randomValue();
    const s = new Secret(value);
    await expect(s.use(async (v) => `${v.length}`)).resolves.toBe(String(value.length));
    const boom = new Error('driver failed');
    expect(() =>
      s.use(() => {
        throw boom;
      }),
    ).toThrow(boom);
  });

  it('map(fn) derives a secret that stays secret', () => {
    const user = `u-${randomValue()}`;
    const pass = randomValue();
    const creds = new Secret({ user, pass }, { ref: 'secret://db', provider: 'local', version: '4' });
    const basic = creds.map((c) => Buffer.from(`${c.user}:${c.pass}`).toString('base64'));
    const expected = Buffer.from(`${user}:${pass}`).toString('base64');
    expect(basic).toBeInstanceOf(Secret);
    expect(basic).not.toBe(creds);
    expect(basic.reveal()).toBe(expected);
    expectNoLeak(basic, [expected, user, pass]);
    expect(basic.ref).toBe('secret://db');
    expect(basic.provider).toBe('local');
    // The source is untouched.
    expect(creds.reveal()).toEqual({ user, pass });
  });

  it('map(fn) calls onDerive with the derived value and the ref, before returning', () => {
    const value = randomValue();
    const calls: [unknown, string | undefined][] = [];
    const onDerive = vi.fn((v: unknown, ref: string | undefined) => {
      calls.push([v, ref]);
    });
    const s = new Secret(value, { ref: 'env://TOKEN', onDerive });
    const upper = s.map((v) => v.toUpperCase());
    expect(onDerive).toHaveBeenCalledOnce();
    expect(calls).toEqual([[value.toUpperCase(), 'env://TOKEN']]);
    // A derived secret keeps telling the redactor about its own derivations.
    const prefixed = upper.map((v) => `Bearer ${v}`);
    expect(onDerive).toHaveBeenCalledTimes(2);
    expect(calls[1]).toEqual([`Bearer ${value.toUpperCase()}`, 'env://TOKEN']);
    expect(prefixed.reveal()).toBe(`Bearer ${value.toUpperCase()}`);
  });

  it('map(fn) does not call onDerive when fn throws', () => {
    const onDerive = vi.fn();
    const s = new Secret(randomValue(), { onDerive });
    expect(() =>
      s.map(() => {
        throw new Error('nope');
      }),
    ).toThrow('nope');
    expect(onDerive).not.toHaveBeenCalled();
  });
});

describe('facts', () => {
  it('exposes ref, provider, version, expiresAt and metadata', () => {
    const expiresAt = new Date(Date.UTC(2031, 0, 2, 3, 4, 5));
    const s = new Secret(randomValue(), {
      ref: 'vault://kv/orders-db?version=3',
      provider: 'vault',
      version: '3',
      expiresAt,
      metadata: { environment: 'prod', owner: 'data-platform', sensitivity: 'critical' },
    });
    expect(s.ref).toBe('vault://kv/orders-db?version=3');
    expect(s.provider).toBe('vault');
    expect(s.version).toBe('3');
    expect(s.expiresAt).toEqual(expiresAt);
    expect(s.metadata).toEqual({ environment: 'prod', owner: 'data-platform', sensitivity: 'critical' });
    expect(s.disposed).toBe(false);
  });

  it('has empty facts by default', () => {
    const s = new Secret(randomValue());
    expect(s.ref).toBeUndefined();
    expect(s.provider).toBeUndefined();
    expect(s.version).toBeUndefined();
    expect(s.expiresAt).toBeUndefined();
    expect(s.metadata).toEqual({});
    expect(util.inspect(s)).toBe('Secret [REDACTED]');
  });

  it('the facts are read-only', () => {
    const s = new Secret(randomValue(), { ref: 'env://A' });
    expect(() => {
      (s as unknown as { ref: string }).ref = 'env://B';
    }).toThrow(TypeError);
    expect(s.ref).toBe('env://A');
  });
});

describe('Secret<Uint8Array>: dispose', () => {
  it('does not print its bytes', () => {
    const bytes = new Uint8Array(randomBytes(32));
    const s = new Secret(bytes, { ref: 'local://signing-key' });
    expectNoLeak(s, byteForms(bytes));
    const buf = randomBytes(32);
    expectNoLeak(new Secret(buf), byteForms(buf));
  });

  it('dispose() zero-fills the buffer and later reveal() throws SecretDisposedError', () => {
    const bytes = new Uint8Array(randomBytes(32));
    bytes[0] = 0xff; // make sure it starts non-zero
    const s = new Secret(bytes, { ref: 'local://signing-key' });
    const held = s.reveal();
    expect(held.some((b) => b !== 0)).toBe(true);
    s.dispose();
    expect(s.disposed).toBe(true);
    expect([...held].every((b) => b === 0)).toBe(true);
    expect(held).toHaveLength(32);
    let caught: unknown;
    try {
      s.reveal();
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(SecretDisposedError);
    const err = caught as SecretDisposedError;
    expect(err.code).toBe('SECRET_DISPOSED');
    expect(err.ref).toBe('local://signing-key');
    expect(isConnectorSecretsError(err)).toBe(true);
    expect(() => s.use((b) => b.length)).toThrow(SecretDisposedError);
    expect(() => s.map((b) => b.length)).toThrow(SecretDisposedError);
    // Disposing twice is harmless, and the secret still prints as the placeholder.
    expect(() => s.dispose()).not.toThrow();
    expect(String(s)).toBe('[REDACTED]');
  });

  it('zero-fills a Buffer view without touching bytes outside it', () => {
    const backing = new Uint8Array(randomBytes(48));
    backing[0] = 1;
    backing[47] = 1;
    backing[8] = 0xaa;
    const view = Buffer.from(backing.buffer, 8, 32);
    const s = new Secret<Uint8Array>(view);
    s.dispose();
    expect([...backing.subarray(8, 40)].every((b) => b === 0)).toBe(true);
    expect(backing[0]).toBe(1);
    expect(backing[47]).toBe(1);
  });

  it('[Symbol.dispose] disposes, so `using` wipes the key at the end of the block', () => {
    const bytes = new Uint8Array(randomBytes(16));
    bytes[3] = 7;
    const outer = new Secret(bytes);
    {
      using key = outer;
      expect(key.reveal()[3]).toBe(7);
    }
    expect(outer.disposed).toBe(true);
    expect([...bytes].every((b) => b === 0)).toBe(true);
    expect(() => outer.reveal()).toThrow(SecretDisposedError);

    const other = new Secret(new Uint8Array([9, 9, 9]));
    const held = other.reveal();
    other[Symbol.dispose]();
    expect([...held]).toEqual([0, 0, 0]);
    expect(() => other.reveal()).toThrow(SecretDisposedError);
  });

  it('a disposed string secret cannot be revealed either', () => {
    const s = new Secret(randomValue());
    s.dispose();
    expect(() => s.reveal()).toThrow(SecretDisposedError);
  });

  it('disposing a derived secret leaves its source alone', () => {
    const bytes = new Uint8Array([1, 2, 3, 4]);
    const s = new Secret(bytes);
    const copy = s.map((b) => Uint8Array.from(b));
    copy.dispose();
    expect(s.disposed).toBe(false);
    expect([...s.reveal()]).toEqual([1, 2, 3, 4]);
  });
});
