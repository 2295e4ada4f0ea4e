import { describe, expect, it } from 'vitest';
import { createSecrets } from '../../src/client.js';
import { fromEnv } from '../../src/providers/fromEnv.js';
import { generated } from '../helpers.js';

describe('fromEnv', () => {
  it('reads env://NAME and maps logical refs to upper snake case with the prefix', async () => {
    const [a, b] = [generated(), generated()];
    const env = { API_TOKEN: a, ETL_ORDERS_DB_PASSWORD: b };
    const secrets = createSecrets({ environment: 'dev', providers: [fromEnv({ prefix: 'ETL_' })], env });
    expect((await secrets.get('env://API_TOKEN')).reveal()).toBe(a);
    const s = await secrets.get('secret://orders-db/password');
    expect(s.reveal()).toBe(b);
    expect(s.provider).toBe('env');
  });

  it('treats unset and empty variables as not found, naming the variable', async () => {
    const secrets = createSecrets({ environment: 'dev', providers: [fromEnv()], env: { EMPTY: '' } });
    await expect(secrets.get('env://EMPTY')).rejects.toMatchObject({ code: 'SECRET_NOT_FOUND', message: expect.stringContaining('EMPTY') });
    await expect(secrets.get('secret://missing/thing')).rejects.toMatchObject({ message: expect.stringContaining('MISSING_THING') });
  });

  it('uses its own env record when given one, and reads the client env live otherwise', async () => {
    const own = generated();
    const env: Record<string, string | undefined> = {};
    const secrets = createSecrets({ environment: 'dev', providers: [fromEnv({ env: { X: own }, name: 'own' }), fromEnv()], env, cache: false });
    expect((await secrets.get('env://X')).reveal()).toBe(own);
    const later = generated();
    env['LATER'] = later;
    expect((await secrets.get('env://LATER')).reveal()).toBe(later);
  });
});
