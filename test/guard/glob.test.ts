import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compileRefGlob, globTarget } from '../../src/guard/glob.js';
import { parseRef } from '../../src/ref/parseRef.js';

const target = (ref: string) => globTarget(parseRef(ref));

describe('ref globs', () => {
  it('match the canonical scheme://path, without params and #field', () => {
    expect(target('secret://orders%2Ddb/password?version=2#user')).toBe('secret://orders-db/password');
    expect(target('file:///run/secrets/x')).toBe('file:///run/secrets/x');
  });

  it('* stays within a segment, ** crosses segments, *:// matches any scheme', () => {
    const one = compileRefGlob('secret://orders-db/*');
    expect(one.test(target('secret://orders-db/password'))).toBe(true);
    expect(one.test(target('secret://orders-db/a/b'))).toBe(false);
    const many = compileRefGlob('secret://orders-db/**');
    expect(many.test(target('secret://orders-db/a/b'))).toBe(true);
    expect(many.test(target('secret://orders-dbx/a'))).toBe(false);
    const any = compileRefGlob('*://prod/**');
    expect(any.test(target('vault://prod/db'))).toBe(true);
    expect(any.test(target('local://prod/x'))).toBe(true);
    expect(any.test(target('local://dev/x'))).toBe(false);
    expect(compileRefGlob('secret://orders-*/token').test(target('secret://orders-api/token'))).toBe(true);
  });

  it('the glob is canonicalised like a ref: percent-encoding does not matter', () => {
    const g = compileRefGlob('secret://orders%2Ddb/%70assword');
    expect(g.canonical).toBe('secret://orders-db/password');
    expect(g.test(target('secret://orders-db/password'))).toBe(true);
  });

  it('case-insensitive globs (deny) match every spelling, exact ones (allow) only the canonical case', () => {
    const deny = compileRefGlob('secret://orders-db/**', true);
    const allow = compileRefGlob('secret://orders-db/**');
    for (const spelling of ['secret://ORDERS-DB/password', 'secret://Orders-Db/PASSWORD', 'secret://orders%2DDB/password', 'secret://%4Frders-db/password']) {
      expect(deny.test(target(spelling))).toBe(true);
      expect(allow.test(target(spelling))).toBe(false);
    }
  });

  it('regex characters in a glob are literal', () => {
    const g = compileRefGlob('secret://a.b/c+d');
    expect(g.test(target('secret://a.b/c+d'))).toBe(true);
    expect(g.test(target('secret://axb/c+d'))).toBe(false);
  });

  it('rejects globs that are not refs, or carry params or a field', () => {
    expect(() => compileRefGlob('')).toThrow(/non-empty/);
    expect(() => compileRefGlob('orders-db')).toThrow(/not a valid ref glob/);
    expect(() => compileRefGlob('secret://a/../b')).toThrow(/not a valid ref glob/);
    expect(() => compileRefGlob('secret://a?env=prod')).toThrow(/params or a #field/);
    expect(() => compileRefGlob('secret://a#f')).toThrow(/params or a #field/);
  });

  it('property: a deny glob matches every percent-encoding and case variant of a ref it matches', () => {
    const seg = fc.stringMatching(/^[a-z0-9-]{1,8}$/);
    fc.assert(
      fc.property(fc.array(seg, { minLength: 1, maxLength: 3 }), fc.array(fc.boolean(), { maxLength: 30 }), (segments, flips) => {
        const canonical = `secret://${segments.join('/')}`;
        const deny = compileRefGlob(canonical, true);
        let i = 0;
        const variant = segments
          .map((s) =>
            [...s]
              .map((ch) => {
                const f = flips[i++ % Math.max(1, flips.length)] ?? false;
                return f ? `%${ch.charCodeAt(0).toString(16).toUpperCase()}` : ch.toUpperCase();
              })
              .join(''),
          )
          .join('/');
        return deny.test(target(`secret://${variant}`));
      }),
    );
  });
});
