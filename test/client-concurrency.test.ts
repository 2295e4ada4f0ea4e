import { getEventListeners } from 'node:events';
import { describe, expect, it } from 'vitest';
import { createSecrets } from '../src/client.js';
import { fromMock } from '../src/testing/fromMock.js';
import { generated } from './helpers.js';

describe('many concurrent calls on one client', () => {
  it('share the client signal without a MaxListenersExceededWarning, and leave no listener behind', async () => {
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(w.name);
    process.on('warning', onWarning);
    try {
      const mock = fromMock();
      for (let i = 0; i < 50; i++) mock.set(`secret://app/s${i}`, generated());
      mock.delay(5); // each resolve waits on a timer that listens to the call's signal
      let shared: AbortSignal | undefined;
      const spy = { ...mock, resolve: (ref: Parameters<typeof mock.resolve>[0], ctx: Parameters<typeof mock.resolve>[1]) => ((shared = ctx.signal), mock.resolve(ref, ctx)) };
      const secrets = createSecrets({ environment: 'dev', providers: [spy], cache: false });
      const got = await Promise.all(Array.from({ length: 50 }, (_, i) => secrets.get(`secret://app/s${i}`)));
      expect(got).toHaveLength(50);
      await new Promise((resolve) => setImmediate(resolve)); // warnings are emitted on the next tick
      expect(warnings).not.toContain('MaxListenersExceededWarning');
      expect(getEventListeners(shared!, 'abort')).toHaveLength(0);
      await secrets.close();
    } finally {
      process.off('warning', onWarning);
    }
  });
});
