import { describe, expect, it } from 'vitest';
import { callbackAuditSink } from '../src/audit/callbackAuditSink.js';
import type { AuditEvent } from '../src/audit/event.js';
import { createSecrets } from '../src/client.js';
import { ProviderUnavailableError, SecretNotFoundError } from '../src/errors.js';
import { defineSecrets } from '../src/manifest.js';
import type { ResolveContext, ResolvedSecret, SecretProvider } from '../src/provider.js';
import type { SecretRef } from '../src/ref/types.js';
import { errorText, generated, rejection } from './helpers.js';

/** A provider with a table, counting its single and bulk reads. */
function bulkProvider(
  table: Record<string, string>,
  options: { name?: string; bulk?: (refs: readonly SecretRef[]) => Promise<readonly PromiseSettledResult<ResolvedSecret>[]>; metadata?: Record<string, string> } = {},
) {
  const name = options.name ?? 'bulk';
  const single: string[] = [];
  const batches: string[][] = [];
  const answer = (ref: SecretRef): ResolvedSecret => {
    const value = table[ref.path];
    if (value === undefined) throw new SecretNotFoundError('no entry', { ref: String(ref), provider: name });
    return { value, version: '1', ...(options.metadata ? { metadata: options.metadata } : {}) };
  };
  const provider: SecretProvider & { single: string[]; batches: string[][] } = {
    name,
    schemes: ['tbl'],
    single,
    batches,
    async resolve(ref: SecretRef, _ctx: ResolveContext) {
      single.push(ref.path);
      return answer(ref);
    },
    async resolveMany(refs: readonly SecretRef[]) {
      batches.push(refs.map((r) => r.path));
      if (options.bulk) return options.bulk(refs);
      return refs.map((ref): PromiseSettledResult<ResolvedSecret> => {
        try {
          return { status: 'fulfilled', value: answer(ref) };
        } catch (reason) {
          return { status: 'rejected', reason };
        }
      });
    },
  };
  return provider;
}

const values = () => ({ a: generated(), b: JSON.stringify({ user: generated(), pass: generated() }), c: generated() });

describe('resolveMany: cold refs of one getMany / load are read in one bulk call', () => {
  it('getMany reads its cold refs with one resolveMany; fields of one secret share one entry; each access is audited', async () => {
    const t = values();
    const p = bulkProvider(t);
    const events: AuditEvent[] = [];
    const secrets = createSecrets({ environment: 'dev', providers: [p], audit: callbackAuditSink((e) => void events.push(e)) });
    const got = await secrets.getMany({ a: 'tbl://a', user: 'tbl://b#user', pass: 'tbl://b#pass', c: 'tbl://c' });
    expect(got.a.reveal()).toBe(t.a);
    expect(got.pass.reveal()).toBe(JSON.parse(t.b).pass);
    expect(got.c.provider).toBe('bulk');
    expect(p.batches).toEqual([['a', 'b', 'c']]);
    expect(p.single).toEqual([]);
    expect(events.filter((e) => e.action === 'resolve' && e.outcome === 'success').map((e) => e.ref).sort()).toEqual(['tbl://a', 'tbl://b', 'tbl://b', 'tbl://c']);
    // Every value is known to the redactor.
    expect(secrets.redactor.redact(`x ${t.a} y`)).not.toContain(t.a);
    // Warm: no provider call at all.
    await secrets.getMany({ a: 'tbl://a', c: 'tbl://c' });
    expect([p.batches.length, p.single.length]).toEqual([1, 0]);
    await secrets.close();
  });

  it('load() uses the bulk read too; only the cold refs go into it', async () => {
    const t = values();
    const p = bulkProvider(t);
    const secrets = createSecrets({ environment: 'dev', providers: [p] });
    await secrets.get('tbl://a');
    const spec = (ref: string) => ({ ref, owner: 'data-platform', purpose: 'test', sensitivity: 'low' as const });
    const manifest = defineSecrets({ a: spec('tbl://a'), b: spec('tbl://b#pass'), c: spec('tbl://c') });
    const loaded = await secrets.load(manifest);
    expect(loaded.c.reveal()).toBe(t.c);
    expect(p.batches).toEqual([['b', 'c']]);
    expect(p.single).toEqual(['a']);
    await secrets.close();
  });

  it('one cold ref takes resolve; a provider without resolveMany is asked per ref', async () => {
    const t = values();
    const p = bulkProvider(t);
    const secrets = createSecrets({ environment: 'dev', providers: [p] });
    await secrets.getMany({ a: 'tbl://a' });
    expect([p.batches.length, p.single]).toEqual([0, ['a']]);
    const plain: SecretProvider = { name: 'plain', schemes: ['tbl'], resolve: p.resolve };
    const other = createSecrets({ environment: 'dev', providers: [plain] });
    await other.getMany({ b: 'tbl://b', c: 'tbl://c' });
    expect(p.single).toEqual(['a', 'b', 'c']);
    await secrets.close();
    await other.close();
  });

  it('a resolveMany that throws, or leaves a ref out, falls back to resolve for those refs', async () => {
    const t = values();
    const throwing = bulkProvider(t, { bulk: () => Promise.reject(new Error('bulk endpoint broken')) });
    const s1 = createSecrets({ environment: 'dev', providers: [throwing] });
    const got = await s1.getMany({ a: 'tbl://a', c: 'tbl://c' });
    expect(got.c.reveal()).toBe(t.c);
    expect(throwing.single.sort()).toEqual(['a', 'c']);
    const partial = bulkProvider(t, { bulk: async () => [{ status: 'fulfilled', value: { value: t.a } }] });
    const s2 = createSecrets({ environment: 'dev', providers: [partial] });
    const got2 = await s2.getMany({ a: 'tbl://a', c: 'tbl://c' });
    expect([got2.a.reveal(), got2.c.reveal()]).toEqual([t.a, t.c]);
    expect(partial.single).toEqual(['c']);
    await s1.close();
    await s2.close();
  });

  it('a bulk rejection steers the chain like resolve: NOT_FOUND / UNAVAILABLE fall through to the next provider', async () => {
    const t = values();
    const first = bulkProvider({ a: t.a }, { name: 'first' });
    const fallback = bulkProvider(t, { name: 'second' });
    const secrets = createSecrets({ environment: 'dev', providers: [first, fallback] });
    const got = await secrets.getMany({ a: 'tbl://a', c: 'tbl://c' });
    expect([got.a.provider, got.c.provider]).toEqual(['first', 'second']);
    expect(first.batches).toEqual([['a', 'c']]);
    expect(first.single).toEqual([]);
    // The next provider is asked per ref (it is not first in line for the group).
    expect(fallback.single).toEqual(['c']);
    const down = bulkProvider(t, {
      name: 'down',
      bulk: async (refs) => refs.map(() => ({ status: 'rejected', reason: new ProviderUnavailableError('down', { provider: 'down' }) })),
    });
    const s2 = createSecrets({ environment: 'dev', providers: [down] });
    const err = await rejection(s2.getMany({ a: 'tbl://a', c: 'tbl://c' }));
    expect(err.code).toBe('PROVIDER_UNAVAILABLE');
    await secrets.close();
    await s2.close();
  });

  it('a ref the guard denies before the fetch is never part of the bulk read', async () => {
    const t = values();
    const p = bulkProvider(t);
    const secrets = createSecrets({ environment: 'dev', providers: [p] });
    const err = await rejection(secrets.getMany({ a: 'tbl://a', b: 'tbl://b?env=prod', c: 'tbl://c' }));
    expect(err.code).toBe('ENVIRONMENT_MISMATCH');
    expect(p.batches).toEqual([['a', 'c']]);
    expect(p.single).toEqual([]);
    await secrets.close();
  });

  it('post-fetch guard checks apply to bulk answers: a value tagged for another environment is dropped', async () => {
    const t = values();
    const p = bulkProvider(t, { metadata: { environment: 'prod' } });
    const secrets = createSecrets({ environment: 'dev', providers: [p] });
    const err = await rejection(secrets.getMany({ a: 'tbl://a', c: 'tbl://c' }));
    expect(err.code).toBe('ENVIRONMENT_MISMATCH');
    expect(errorText(err)).not.toContain(t.a);
    expect(secrets.redactor.redact(t.a)).toBe(t.a);
    expect(p.batches).toHaveLength(1);
    await secrets.close();
  });
});
