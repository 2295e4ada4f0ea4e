import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseStrictJson } from '../../src/audit/strictJson.js';
import { canonicalJson } from '../../src/audit/canonical.js';
import { checkAuditEvent, eventJson } from '../../src/audit/record.js';

const plain = (v: unknown): unknown => JSON.parse(JSON.stringify(v));

describe('parseStrictJson', () => {
  it('property: reads every JSON text without duplicate keys exactly as JSON.parse does (any spacing)', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 5 }), fc.constantFrom(undefined, 1, '\t'), (value, indent) => {
        const text = JSON.stringify(value, null, indent);
        const r = parseStrictJson(text);
        return r.ok && JSON.stringify(plain(r.value)) === JSON.stringify(JSON.parse(text));
      }),
      { numRuns: 500 },
    );
  });

  it('property: refuses whatever JSON.parse refuses', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 30 }), (text) => {
        let valid = true;
        try {
          JSON.parse(text);
        } catch {
          valid = false;
        }
        return valid || !parseStrictJson(text).ok;
      }),
      { numRuns: 1000 },
    );
    for (const bad of ['', '{', '[1,]', '{"a":1,}', '01', '1.', '.5', '+1', '"\\x"', '"a\u0000"', 'tru', 'nul', '{"a" 1}', '\uFEFF{}', "{'a':1}", 'NaN', '-', '1e', '[1 2]']) {
      expect(parseStrictJson(bad).ok, JSON.stringify(bad)).toBe(false);
    }
  });

  it('refuses a duplicate key at any depth, also when spelled with an escape, and says where (never what)', () => {
    expect(parseStrictJson('{"a":1,"a":2}')).toEqual({ ok: false, reason: 'duplicate key (at offset 7)' });
    expect(parseStrictJson('{"x":[{"b":{"c":1,"c":1}}]}')).toMatchObject({ ok: false, reason: expect.stringContaining('duplicate key') });
    expect(parseStrictJson('{"secret-value-1":1,"secret\\u002dvalue-1":2}')).toEqual({ ok: false, reason: 'duplicate key (at offset 20)' });
    expect(parseStrictJson('{"a":{"k":1},"b":{"k":1}}').ok).toBe(true);
  });

  it('keeps __proto__ as an ordinary key (no prototype is set), and refuses nesting deeper than 32', () => {
    const r = parseStrictJson('{"__proto__":{"polluted":true}}');
    expect(r.ok).toBe(true);
    const v = (r as { value: Record<string, unknown> }).value;
    expect(Object.keys(v)).toEqual(['__proto__']);
    expect((v as { polluted?: unknown }).polluted).toBeUndefined();
    expect(({} as { polluted?: unknown }).polluted).toBeUndefined();
    expect(parseStrictJson('['.repeat(32) + ']'.repeat(32)).ok).toBe(true);
    expect(parseStrictJson('['.repeat(33) + ']'.repeat(33))).toMatchObject({ ok: false, reason: expect.stringContaining('nested too deeply') });
    expect(parseStrictJson('['.repeat(100_000)).ok).toBe(false);
  });

  it('reasons never quote the text', () => {
    for (const text of ['{"password":"hunter2-secret"', 'hunter2-secret', '{"a":"hunter2-secret"} hunter2-secret', '{"hunter2-secret":1,"hunter2-secret":2}']) {
      const r = parseStrictJson(text);
      expect(r.ok).toBe(false);
      expect(JSON.stringify(r)).not.toContain('hunter2');
    }
  });
});

describe('eventJson', () => {
  it('is byte for byte canonicalJson of any checked event', () => {
    const text = fc.oneof(fc.string(), fc.string({ unit: 'grapheme' }), fc.string({ unit: 'binary' }));
    const nullable = fc.option(text, { nil: null });
    const arbitraryEvent = fc.record(
      {
        ts: text, seq: fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }), identity: nullable, environment: text,
        action: text, ref: nullable, provider: nullable, outcome: text, code: nullable,
        latencyMs: fc.oneof(fc.nat(), fc.double({ min: 0, max: 1e12, noNaN: true })), version: nullable, rule: text, reason: text,
      },
      { requiredKeys: ['ts', 'seq', 'identity', 'environment', 'action', 'ref', 'provider', 'outcome', 'code', 'latencyMs', 'version'] },
    );
    fc.assert(
      fc.property(arbitraryEvent, (e) => {
        const checked = checkAuditEvent(e);
        if (typeof checked === 'string') return;
        expect(eventJson(checked)).toBe(canonicalJson(checked));
      }),
      { numRuns: 2000 },
    );
  });
});

describe('checkAuditEvent', () => {
  it('refuses exactly the events with an unknown field or a missing required one, naming the first missing', () => {
    const required = ['ts', 'seq', 'identity', 'environment', 'action', 'ref', 'provider', 'outcome', 'code', 'latencyMs', 'version'] as const;
    const valid: Record<string, unknown> = { ts: 't', seq: 1, identity: null, environment: 'prod', action: 'resolve', ref: null, provider: null, outcome: 'success', code: null, latencyMs: 0, version: null, rule: 'r', reason: 'x' };
    fc.assert(
      fc.property(fc.subarray(Object.keys(valid)), fc.option(fc.constantFrom('note', '__proto__', 'mac'), { nil: undefined }), (keys, extra) => {
        const e: Record<string, unknown> = Object.fromEntries(keys.map((k) => [k, valid[k]]));
        if (extra !== undefined) Object.defineProperty(e, extra, { value: 1, enumerable: true });
        const missing = required.find((k) => !keys.includes(k));
        const checked = checkAuditEvent(e);
        if (extra !== undefined) expect(checked).toBe('the event has an unexpected field');
        else if (missing !== undefined) expect(checked).toBe(`the event lacks "${missing}"`);
        else expect(checked).toEqual(Object.fromEntries(keys.map((k) => [k, valid[k]])));
      }),
      { numRuns: 1000 },
    );
  });
});
