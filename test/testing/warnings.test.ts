import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createSecrets } from '../../src/client.js';
import { collectRedactorWarnings, fromMock } from '../../src/testing/index.js';

const unique = () => `env://PIN_${randomBytes(6).toString('hex').toUpperCase()}`;

afterEach(() => {
  vi.restoreAllMocks();
});

async function readShortValue(ref: string): Promise<void> {
  const mock = fromMock();
  mock.set(ref, 'ab1'); // shorter than minLength: the redactor warns that it is not masked
  const secrets = createSecrets({ environment: 'dev', providers: [mock] });
  await secrets.get(ref);
  await secrets.close();
}

describe('redactor warnings are quiet in test suites', () => {
  it('are printed once per kind and ref per process, however many clients read the value', async () => {
    const emit = vi.spyOn(process, 'emitWarning').mockImplementation(() => {});
    const ref = unique();
    for (let i = 0; i < 3; i++) await readShortValue(ref);
    const ours = emit.mock.calls.filter(([, o]) => (o as { code?: string } | undefined)?.code === 'CONNECTOR_SECRETS_SHORT_VALUE');
    expect(ours).toHaveLength(1);
    expect(String(ours[0]![0])).toContain(ref);
  });

  it('collectRedactorWarnings() collects them instead of printing, until stop()', async () => {
    const emit = vi.spyOn(process, 'emitWarning').mockImplementation(() => {});
    const collected = collectRedactorWarnings();
    const ref = unique();
    try {
      await readShortValue(ref);
    } finally {
      collected.stop();
    }
    expect(collected.warnings).toEqual([expect.objectContaining({ code: 'SHORT_VALUE', ref })]);
    expect(emit).not.toHaveBeenCalled();
    const after = unique();
    await readShortValue(after);
    expect(collected.warnings).toHaveLength(1);
    expect(emit).toHaveBeenCalledTimes(1);
  });
});
