import * as v from 'valibot';
import { describe, expectTypeOf, it } from 'vitest';
import { z } from 'zod';
import * as zm from 'zod/mini';
import { z as z3 } from 'zod3';
import { createSecrets } from '../src/client.js';
import type { CredentialHandle } from '../src/handles/CredentialHandle.js';
import { defineSecrets } from '../src/manifest.js';
import type { Secret } from '../src/secret.js';

import { fromMock } from '../src/testing/fromMock.js';

const base = { owner: 'o', purpose: 'p' } as const;
type Db = { username: string; port: number };
// A transform, so output and input differ: the output is what must come out.
type Parsed = { username: string; port: number; tls: boolean };

describe('Standard Schema validators keep their output type', () => {
  const secrets = createSecrets({ environment: 'dev', providers: [fromMock()] });

  it('zod 3', async () => {
    const schema = z3.object({ username: z3.string(), port: z3.number() });
    const withTls = schema.transform((d) => ({ ...d, tls: true }));
    const { db, tls } = await secrets.load(defineSecrets({ db: { ref: 'secret://a', ...base, schema }, tls: { ref: 'secret://b', ...base, schema: withTls } }));
    expectTypeOf(db).toEqualTypeOf<Secret<Db>>();
    expectTypeOf(tls).toEqualTypeOf<Secret<Parsed>>();
    expectTypeOf(secrets.handle('secret://a', { schema })).toEqualTypeOf<CredentialHandle<Db>>();
  });

  it('zod 4', async () => {
    const schema = z.object({ username: z.string(), port: z.number() });
    const withTls = schema.transform((d) => ({ ...d, tls: true }));
    const { db, tls } = await secrets.load(defineSecrets({ db: { ref: 'secret://a', ...base, schema }, tls: { ref: 'secret://b', ...base, schema: withTls } }));
    expectTypeOf(db).toEqualTypeOf<Secret<Db>>();
    expectTypeOf(tls).toEqualTypeOf<Secret<Parsed>>();
    expectTypeOf(secrets.handle('secret://a', { schema })).toEqualTypeOf<CredentialHandle<Db>>();
  });

  it('zod/mini', async () => {
    const schema = zm.object({ username: zm.string(), port: zm.number() });
    const { db } = await secrets.load(defineSecrets({ db: { ref: 'secret://a', ...base, schema } }));
    expectTypeOf(db).toEqualTypeOf<Secret<Db>>();
    expectTypeOf(secrets.handle('secret://a', { schema })).toEqualTypeOf<CredentialHandle<Db>>();
  });

  it('valibot', async () => {
    const schema = v.object({ username: v.string(), port: v.number() });
    const withTls = v.pipe(schema, v.transform((d) => ({ ...d, tls: true })));
    const asyncSchema = v.objectAsync({ username: v.pipeAsync(v.string(), v.checkAsync(async () => true)), port: v.number() });
    const { db, tls, checked } = await secrets.load(
      defineSecrets({
        db: { ref: 'secret://a', ...base, schema },
        tls: { ref: 'secret://b', ...base, schema: withTls },
        checked: { ref: 'secret://c', ...base, schema: asyncSchema },
      }),
    );
    expectTypeOf(db).toEqualTypeOf<Secret<Db>>();
    expectTypeOf(tls).toEqualTypeOf<Secret<Parsed>>();
    expectTypeOf(checked).toEqualTypeOf<Secret<Db>>();
    expectTypeOf(secrets.handle('secret://a', { schema })).toEqualTypeOf<CredentialHandle<Db>>();
  });

  it('text secrets stay strings, and a non-schema is a type error', async () => {
    const { token } = await secrets.load(defineSecrets({ token: { ref: 'secret://t', ...base } }));
    expectTypeOf(token).toEqualTypeOf<Secret<string>>();
    // @ts-expect-error: an object without `~standard` is not a schema
    defineSecrets({ db: { ref: 'secret://a', ...base, schema: { parse: (x: unknown) => x } } });
  });
});
