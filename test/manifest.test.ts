import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createSecrets } from '../src/client.js';
import { defineSecrets } from '../src/manifest.js';
import { fromMock } from '../src/testing/fromMock.js';
import { errorText, generated } from './helpers.js';

const base = { owner: 'data-platform', purpose: 'read orders' } as const;

describe('defineSecrets', () => {
  it('requires owner and purpose, a valid ref and a valid rotation', () => {
    expect(() => defineSecrets({ a: { ref: 'secret://a', owner: '', purpose: 'x' } })).toThrow(/"a".*owner is required/);
    expect(() => defineSecrets({ a: { ref: 'secret://a', owner: 'o' } as never })).toThrow(/"a".*purpose/);
    expect(() => defineSecrets({ a: { ref: 'secret://../a', ...base } })).toThrow(expect.objectContaining({ code: 'INVALID_REF' }));
    expect(() => defineSecrets({ a: { ref: 'secret://a', ...base, rotation: 'monthly' } })).toThrow(/not a duration/);
    expect(() => defineSecrets({ a: { ref: 'secret://a', ...base, sensitivity: 'extreme' as never } })).toThrow(/sensitivity/);
  });

  it('inventory lists entries as plain data, without values', () => {
    const m = defineSecrets({
      db: { ref: 'local://{env}/orders-db', ...base, sensitivity: 'critical', rotation: '30d', schema: z.object({ password: z.string() }) },
      token: { ref: 'secret://orders-api/token', ...base },
    });
    expect(m.inventory()).toEqual([
      { name: 'db', ref: 'local://{env}/orders-db', owner: 'data-platform', purpose: 'read orders', sensitivity: 'critical', rotation: '30d', rotationMs: 30 * 86_400_000, json: true },
      { name: 'token', ref: 'secret://orders-api/token', owner: 'data-platform', purpose: 'read orders', sensitivity: 'high', rotation: undefined, rotationMs: undefined, json: false },
    ]);
  });
});

describe('secrets.load', () => {
  it('replaces {env}, parses JSON secrets with their schema, and leaves text secrets as strings', async () => {
    const creds = { username: generated(), password: generated() };
    const token = generated();
    // Bound to staging: staging is strict, so an untagged value from an unbound provider is denied.
    const mock = fromMock({ environment: 'staging' });
    mock.set('local://staging/orders-db', creds);
    mock.set('secret://orders-api/token', token);
    const secrets = createSecrets({ environment: 'staging', providers: [mock] });
    const m = defineSecrets({
      db: { ref: 'local://{env}/orders-db', ...base, schema: z.object({ username: z.string(), password: z.string() }) },
      token: { ref: 'secret://orders-api/token', ...base },
    });
    const { db, token: t } = await secrets.load(m);
    expect(db.reveal()).toEqual(creds);
    expect(db.ref).toBe('local://staging/orders-db');
    expect(db.provider).toBe('mock');
    expect(String(db)).toBe('[REDACTED]');
    expect(t.reveal()).toBe(token);
  });

  it('a schema failure lists failing paths and codes, never values', async () => {
    const password = generated();
    const mock = fromMock();
    mock.set('secret://db', { username: 12345, password });
    const secrets = createSecrets({ environment: 'dev', providers: [mock] });
    const m = defineSecrets({ db: { ref: 'secret://db', ...base, schema: z.object({ username: z.string(), password: z.number() }) } });
    const err = await secrets.load(m).then(
      () => {
        throw new Error('expected a rejection');
      },
      (e: unknown) => e as Error & { code: string; issues: unknown },
    );
    expect(err.code).toBe('SECRET_FORMAT');
    expect(err.issues).toEqual([
      { path: 'username', code: 'invalid_type' },
      { path: 'password', code: 'invalid_type' },
    ]);
    expect(errorText(err)).not.toContain(password);
    expect(errorText(err)).not.toContain('12345');
  });

  it('refuses objects that were not made by defineSecrets', async () => {
    const secrets = createSecrets({ environment: 'dev', providers: [fromMock()] });
    await expect(secrets.load({ specs: {}, inventory: () => [], handle: () => { throw new Error('unused'); } })).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
  });
});
