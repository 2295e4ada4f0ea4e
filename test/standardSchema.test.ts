import { type } from 'arktype';
import * as v from 'valibot';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import * as zm from 'zod/mini';
import { z as z3 } from 'zod3';
import { createSecrets } from '../src/client.js';
import { defineSecrets } from '../src/manifest.js';
import type { StandardSchemaV1 } from '../src/standardSchema.js';
import { fromMock } from '../src/testing/fromMock.js';
import { errorText, generated, rejection } from './helpers.js';

const base = { owner: 'data-platform', purpose: 'read orders' } as const;
const REF = 'secret://orders-db';

/** The same schema, `{ username: string; port: number }`, in every validator library we promise. */
const LIBRARIES: ReadonlyArray<readonly [string, StandardSchemaV1, string]> = [
  ['zod 3', z3.object({ username: z3.string(), port: z3.number() }), 'invalid_type'],
  ['zod 4', z.object({ username: z.string(), port: z.number() }), 'invalid_type'],
  ['zod/mini', zm.object({ username: zm.string(), port: zm.number() }), 'invalid_type'],
  ['valibot', v.object({ username: v.string(), port: v.number() }), 'number'],
  ['ArkType', type({ username: 'string', port: 'number' }), 'domain'],
];

function client(value: object) {
  const mock = fromMock();
  mock.set(REF, value);
  return createSecrets({ environment: 'dev', providers: [mock] });
}

describe.each(LIBRARIES)('a %s schema', (_name, schema, code) => {
  it('loads through defineSecrets + load as the parsed value', async () => {
    const creds = { username: generated(), port: 5432 };
    const secrets = client(creds);
    const { db } = await secrets.load(defineSecrets({ db: { ref: REF, ...base, schema } }));
    expect(db.reveal()).toEqual(creds);
    expect(String(db)).toBe('[REDACTED]');
    await secrets.close();
  });

  it('a mismatch is the typed SECRET_FORMAT error with paths and codes, never the value', async () => {
    const username = generated();
    const port = generated();
    const secrets = client({ username, port });
    const err = await rejection(secrets.load(defineSecrets({ db: { ref: REF, ...base, schema } })));
    expect(err).toMatchObject({ name: 'SecretFormatError', code: 'SECRET_FORMAT', issues: [{ path: 'port', code }] });
    expect(errorText(err)).not.toContain(port);
    expect(errorText(err)).not.toContain(username);
    await secrets.close();
  });

  it('checks a handle credential at each refresh', async () => {
    const creds = { username: generated(), port: 5432 };
    const secrets = client(creds);
    const handle = secrets.handle(REF, { schema });
    expect((await handle.get()).reveal()).toEqual(creds);
    await secrets.close();

    const port = generated();
    const bad = client({ username: generated(), port });
    const err = await rejection(bad.handle(REF, { schema }).get());
    expect(err).toMatchObject({ code: 'SECRET_FORMAT', issues: [{ path: 'port', code }] });
    expect(errorText(err)).not.toContain(port);
    await bad.close();
  });
});

describe('async validators', () => {
  // Each library returns a Promise from `~standard.validate` when a refinement is async.
  const known = new Set<string>();
  const isKnown = async (name: string) => {
    await new Promise((r) => setImmediate(r));
    return known.has(name);
  };
  const ASYNC: ReadonlyArray<readonly [string, StandardSchemaV1]> = [
    ['zod 4', z.object({ username: z.string().refine(isKnown), port: z.number() })],
    ['valibot', v.objectAsync({ username: v.pipeAsync(v.string(), v.checkAsync(isKnown)), port: v.number() })],
  ];

  it.each(ASYNC)('%s: awaited, both when it passes and when it fails', async (_name, schema) => {
    const username = generated();
    const secrets = client({ username, port: 1 });
    const m = defineSecrets({ db: { ref: REF, ...base, schema } });
    const err = await rejection(secrets.load(m));
    expect(err).toMatchObject({ code: 'SECRET_FORMAT', issues: [{ path: 'username' }] });
    expect(errorText(err)).not.toContain(username);
    known.add(username);
    const { db } = await secrets.load(m);
    expect(db.reveal()).toEqual({ username, port: 1 });
    await secrets.close();
  });
});

describe('schema checks', () => {
  it('a validator that throws gives SECRET_FORMAT without its message (which may quote the value)', async () => {
    const password = generated();
    const secrets = client({ password });
    const schema = z.object({ password: z.string() }).refine((x) => {
      throw new Error(`bad password ${x.password}`);
    });
    const err = await rejection(secrets.load(defineSecrets({ db: { ref: REF, ...base, schema } })));
    expect(err).toMatchObject({ code: 'SECRET_FORMAT' });
    expect(err.message).toMatch(/schema threw Error/);
    expect(errorText(err)).not.toContain(password);
    await secrets.close();
  });

  it('record keys from the value are not echoed in issue paths', async () => {
    const key = `${generated()}-${generated()}`;
    const secrets = client({ [key]: 1 });
    const err = await rejection(secrets.load(defineSecrets({ db: { ref: REF, ...base, schema: z.record(z.string(), z.string()) } })));
    expect(err).toMatchObject({ code: 'SECRET_FORMAT', issues: [{ path: '[key]', code: 'invalid_type' }] });
    expect(errorText(err)).not.toContain(key);
    await secrets.close();
  });

  it('refuses a schema that does not implement Standard Schema, in defineSecrets and handle', async () => {
    const notASchema = { parse: (x: unknown) => x } as unknown as StandardSchemaV1;
    expect(() => defineSecrets({ db: { ref: REF, ...base, schema: notASchema } })).toThrow(
      expect.objectContaining({ code: 'CONFIG_INVALID', message: expect.stringMatching(/"db".*schema must implement Standard Schema/) }),
    );
    const secrets = client({});
    expect(() => secrets.handle(REF, { schema: notASchema })).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
    await secrets.close();
  });
});
