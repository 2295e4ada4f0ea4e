import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createSecrets } from '../src/client.js';
import { defineSecrets } from '../src/manifest.js';
import { parseRef } from '../src/ref/parseRef.js';
import { fromMock } from '../src/testing/fromMock.js';
import { generated, rejection } from './helpers.js';

const base = { owner: 'data-platform', purpose: 'read orders' };
const orders = defineSecrets({
  db: { ref: 'vault://kv/{env}/orders-db', ...base, schema: z.object({ username: z.string(), password: z.string() }) },
  token: { ref: 'vault://kv/{env}/orders-api#token', ...base },
});

describe('handles from manifests', () => {
  it('secrets.handle(manifest.specs.x) fills {env} and applies the schema, as load does', async () => {
    const mock = fromMock();
    const password = generated();
    mock.set('vault://kv/staging/orders-db', { username: 'etl', password });
    mock.set('vault://kv/staging/orders-api', { token: generated() });
    const secrets = createSecrets({ environment: 'staging', providers: [mock], strictEnvironment: false });
    const db = secrets.handle(orders.specs.db);
    expect(db.ref).toBe('vault://kv/staging/orders-db');
    const value = (await db.get()).reveal();
    expect(value).toEqual({ username: 'etl', password });
    const token = orders.handle(secrets, 'token');
    expect(typeof (await token.get()).reveal()).toBe('string');
    await secrets.close();
  });

  it('a schema mismatch is a SECRET_FORMAT error, as with load', async () => {
    const mock = fromMock();
    mock.set('vault://kv/dev/orders-db', { username: 'etl' });
    const secrets = createSecrets({ environment: 'dev', providers: [mock] });
    expect(await rejection(orders.handle(secrets, 'db').get())).toMatchObject({ code: 'SECRET_FORMAT' });
    await secrets.close();
  });

  it('an unreplaced {env} is an INVALID_REF that says so', async () => {
    const secrets = createSecrets({ environment: 'dev', providers: [fromMock()] });
    let err: unknown;
    try {
      secrets.handle('vault://kv/{env}/orders-db');
    } catch (e) {
      err = e;
    }
    expect(err).toMatchObject({ code: 'INVALID_REF', position: 11 });
    expect((err as Error).message).toMatch(/unreplaced \{env\}/);
    expect(() => parseRef('vault://kv/{env}/x')).toThrow(/unreplaced \{env\}/);
    await secrets.close();
  });
});
