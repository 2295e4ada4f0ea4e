import { afterEach, describe, expect, it } from 'vitest';
import { createSecrets } from '../src/client.js';
import { fromMock } from '../src/testing/fromMock.js';
import { generated } from './helpers.js';

describe('the client signal shared by concurrent provider calls', () => {
  const warnings: Error[] = [];
  const onWarning = (w: Error) => void warnings.push(w);
  afterEach(() => {
    process.off('warning', onWarning);
    warnings.length = 0;
  });

  it('many concurrent fetches listening to it raise no MaxListenersExceededWarning', async () => {
    process.on('warning', onWarning);
    const mock = fromMock();
    const refs = Object.fromEntries(Array.from({ length: 25 }, (_, i) => [`s${i}`, `secret://many/s${i}`]));
    for (const ref of Object.values(refs)) mock.set(ref, generated());
    mock.delay(20);
    const secrets = createSecrets({ environment: 'dev', providers: [mock] });
    const got = await secrets.getMany(refs);
    expect(Object.keys(got)).toHaveLength(25);
    // Warnings are emitted on the next tick.
    await new Promise((r) => setImmediate(r));
    expect(warnings.filter((w) => w.name === 'MaxListenersExceededWarning')).toEqual([]);
    await secrets.close();
  });
});
