import { describe, expectTypeOf, it } from 'vitest';
import { z } from 'zod';
import { createSecrets } from '../src/client.js';
import { defineSecrets } from '../src/manifest.js';
import type { Secret } from '../src/secret.js';
import { fromMock } from '../src/testing/fromMock.js';

describe('manifest types', () => {
  it('load returns Secret<string> for text secrets and Secret<z.output<schema>> for JSON ones', async () => {
    const m = defineSecrets({
      db: { ref: 'secret://db', owner: 'o', purpose: 'p', schema: z.object({ username: z.string(), port: z.number() }) },
      token: { ref: 'secret://t', owner: 'o', purpose: 'p' },
    });
    const loaded = await createSecrets({ environment: 'dev', providers: [fromMock()] }).load(m);
    expectTypeOf(loaded.db).toEqualTypeOf<Secret<{ username: string; port: number }>>();
    expectTypeOf(loaded.token).toEqualTypeOf<Secret<string>>();
    expectTypeOf(loaded).not.toHaveProperty('other');
  });

  it('getMany keeps the keys it was given', async () => {
    const got = await createSecrets({ environment: 'dev', providers: [fromMock()] }).getMany({ a: 'secret://a', b: 'env://B' });
    expectTypeOf(got).toEqualTypeOf<{ readonly a: Secret<string>; readonly b: Secret<string> }>();
  });
});

describe('handles from manifest entries', () => {
  it('carry the schema’s output type, or string', () => {
    const m = defineSecrets({
      db: { ref: 'vault://kv/{env}/db', owner: 'o', purpose: 'p', schema: z.object({ username: z.string(), port: z.number() }) },
      token: { ref: 'vault://kv/{env}/t', owner: 'o', purpose: 'p' },
    });
    const secrets = createSecrets({ environment: 'dev', providers: [fromMock()] });
    expectTypeOf(secrets.handle(m.specs.db).get()).resolves.toEqualTypeOf<Secret<{ username: string; port: number }>>();
    expectTypeOf(m.handle(secrets, 'db').get()).resolves.toEqualTypeOf<Secret<{ username: string; port: number }>>();
    expectTypeOf(m.handle(secrets, 'token').get()).resolves.toEqualTypeOf<Secret<string>>();
    // @ts-expect-error: no such entry
    m.handle(secrets, 'nope');
  });
});
