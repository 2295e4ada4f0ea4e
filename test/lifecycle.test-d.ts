import { describe, expectTypeOf, it } from 'vitest';
import { createSecrets } from '../src/client.js';
import type { CallOptions } from '../src/deadline.js';
import type { AbortedError } from '../src/errors.js';
import type { Secret } from '../src/secret.js';
import { fromMock } from '../src/testing/fromMock.js';

describe('client lifecycle types', () => {
  it('the client is AsyncDisposable, and get/getBytes take per-call options', async () => {
    await using secrets = createSecrets({ environment: 'dev', providers: [fromMock()] });
    expectTypeOf(secrets).toExtend<AsyncDisposable>();
    expectTypeOf(secrets.get('secret://a', { signal: new AbortController().signal, timeoutMs: 1_000 })).toEqualTypeOf<Promise<Secret<string>>>();
    expectTypeOf(secrets.getBytes('secret://a', { timeoutMs: 1_000 })).toEqualTypeOf<Promise<Secret<Uint8Array>>>();
    expectTypeOf<CallOptions['timeoutMs']>().toEqualTypeOf<number | undefined>();
    expectTypeOf<AbortedError['code']>().toEqualTypeOf<'ABORTED'>();
    // @ts-expect-error: timeoutMs is a number of milliseconds, not a duration string
    void secrets.get('secret://a', { timeoutMs: '5s' });
  });
});
