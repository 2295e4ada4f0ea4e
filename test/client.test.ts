import { describe, expect, it, vi } from 'vitest';
import { inspect } from 'node:util';
import { createSecrets } from '../src/client.js';
import {
  AccessDeniedError,
  ProviderUnavailableError,
  SecretNotFoundError,
  isConnectorSecretsError,
} from '../src/errors.js';
import { fromMock } from '../src/testing/fromMock.js';
import { errorText, fakeClock, generated, rejection, scripted } from './helpers.js';

const notFound = (name: string) => () => {
  throw new SecretNotFoundError('no entry', { provider: name });
};
const unavailable = (name: string) => () => {
  throw new ProviderUnavailableError('down', { provider: name });
};

describe('createSecrets options', () => {
  it('takes the environment from CONNECTOR_SECRETS_ENV once, at creation', async () => {
    const env: Record<string, string | undefined> = { CONNECTOR_SECRETS_ENV: 'staging' };
    const secrets = createSecrets({ providers: [fromMock()], env });
    env['CONNECTOR_SECRETS_ENV'] = 'prod';
    expect(secrets.environment).toBe('staging');
  });

  it('requires an environment', () => {
    expect(() => createSecrets({ providers: [fromMock()], env: {} })).toThrow(/CONNECTOR_SECRETS_ENV/);
  });

  it('rejects invalid options with CONFIG_INVALID naming the option', () => {
    const call = () => createSecrets({ environment: 'dev', providers: [fromMock()], cache: { ttlMs: -1 } });
    expect(call).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID', message: expect.stringContaining('cache.ttlMs') }));
    expect(() => createSecrets({ environment: 'dev', providers: [] })).toThrow(/at least one provider/);
    expect(() => createSecrets({ environment: 'Dev!', providers: [fromMock()] })).toThrow(/lowercase tag/);
    expect(() => createSecrets({ environment: 'dev', providers: [fromMock(), fromMock()] })).toThrow(/named "mock"/);
  });
});

describe('chain', () => {
  it('falls through on not-found and unavailable, and says which provider answered', async () => {
    const value = generated();
    const a = scripted('a', notFound('a'));
    const b = scripted('b', unavailable('b'));
    const c = scripted('c', () => ({ value }));
    const secrets = createSecrets({ environment: 'dev', providers: [a, b, c] });
    const s = await secrets.get('secret://orders-db/password');
    expect(s.reveal()).toBe(value);
    expect(s.provider).toBe('c');
    expect([a.calls.length, b.calls.length, c.calls.length]).toEqual([1, 1, 1]);
  });

  it('stops on a denial: the next provider is never asked', async () => {
    const a = scripted('a', () => {
      throw new AccessDeniedError('denied', { provider: 'a' });
    });
    const b = scripted('b', () => ({ value: generated() }));
    const secrets = createSecrets({ environment: 'dev', providers: [a, b] });
    const err = await rejection(secrets.get('secret://x'));
    expect(err.code).toBe('ACCESS_DENIED');
    expect(b.calls).toEqual([]);
  });

  it('stops on a foreign error as PROVIDER_ERROR without repeating its message', async () => {
    const leaked = generated();
    const a = scripted('a', () => {
      throw new TypeError(`bad token ${leaked}`);
    });
    const b = scripted('b', () => ({ value: generated() }));
    const secrets = createSecrets({ environment: 'dev', providers: [a, b] });
    const err = await rejection(secrets.get('secret://x'));
    expect(err.code).toBe('PROVIDER_ERROR');
    expect(err.message).not.toContain(leaked);
    expect(err.message).toContain('TypeError');
    expect(err.cause).toBeInstanceOf(TypeError);
    expect(b.calls).toEqual([]);
  });

  it('lists every provider reason when all fail; unavailable wins over not-found', async () => {
    const secrets = createSecrets({ environment: 'dev', providers: [scripted('a', notFound('a')), scripted('b', unavailable('b'))] });
    const err = (await rejection(secrets.get('secret://x'))) as unknown as ProviderUnavailableError;
    expect(err.code).toBe('PROVIDER_UNAVAILABLE');
    expect(err.attempts.map((a) => [a.provider, a.code])).toEqual([
      ['a', 'SECRET_NOT_FOUND'],
      ['b', 'PROVIDER_UNAVAILABLE'],
    ]);
    expect(err.message).toMatch(/a: no entry; b: down/);
    const secrets2 = createSecrets({ environment: 'dev', providers: [scripted('a', notFound('a')), scripted('b', notFound('b'))] });
    expect((await rejection(secrets2.get('secret://x'))).code).toBe('SECRET_NOT_FOUND');
  });

  it('routes scheme refs only to providers of that scheme', async () => {
    const other = scripted('other', () => ({ value: generated() }), { schemes: ['vault'] });
    const test = scripted('test', () => ({ value: generated() }));
    const secrets = createSecrets({ environment: 'dev', providers: [other, test] });
    expect((await secrets.get('test://a/b')).provider).toBe('test');
    expect(other.calls).toEqual([]);
    expect((await rejection(secrets.get('aws-sm://a'))).code).toBe('CONFIG_INVALID');
  });

  it('rejects params that no candidate provider declares, and accepts declared and reserved ones', async () => {
    const p = scripted('p', () => ({ value: generated() }), { params: ['common_name'] });
    const secrets = createSecrets({ environment: 'dev', providers: [p] });
    expect((await rejection(secrets.get('test://a?colour=red'))).code).toBe('INVALID_REF');
    await expect(secrets.get('test://a?common_name=x&version=2&env=dev&stage=current')).resolves.toBeDefined();
  });

  it('rejects a provider answer with no usable value', async () => {
    const p = scripted('p', () => ({ value: 42 as unknown as string }));
    const secrets = createSecrets({ environment: 'dev', providers: [p] });
    expect((await rejection(secrets.get('test://a'))).code).toBe('PROVIDER_ERROR');
  });
});

describe('cache', () => {
  it('serves warm gets from the cache until the TTL, then asks again', async () => {
    const clock = fakeClock();
    const mock = fromMock();
    mock.set('secret://a', generated());
    const secrets = createSecrets({ environment: 'dev', providers: [mock], now: clock.now, cache: { ttlMs: 1000 } });
    await secrets.get('secret://a');
    await secrets.get('secret://a');
    expect(mock.calls).toBe(1);
    clock.advance(1000);
    await secrets.get('secret://a');
    expect(mock.calls).toBe(2);
  });

  it("takes freshness from the secret's own expiry", async () => {
    const clock = fakeClock();
    const mock = fromMock();
    mock.set('secret://a', generated(), { ttlMs: 50_000 });
    const secrets = createSecrets({ environment: 'dev', providers: [mock], now: clock.now, cache: { ttlMs: 1000 } });
    await secrets.get('secret://a');
    clock.advance(49_999);
    await secrets.get('secret://a');
    expect(mock.calls).toBe(1);
    clock.advance(1);
    await secrets.get('secret://a');
    expect(mock.calls).toBe(2);
  });

  it('evicts the least recently used entry beyond maxEntries', async () => {
    const mock = fromMock();
    for (const n of ['a', 'b', 'c']) mock.set(`secret://${n}`, generated());
    const secrets = createSecrets({ environment: 'dev', providers: [mock], cache: { maxEntries: 2 } });
    await secrets.get('secret://a');
    await secrets.get('secret://b');
    await secrets.get('secret://c');
    await secrets.get('secret://a');
    expect(mock.callsFor('secret://a')).toBe(2);
    await secrets.get('secret://c');
    expect(mock.callsFor('secret://c')).toBe(1);
  });

  it('single-flight: 10,000 concurrent gets of a cold key make one provider call', async () => {
    const mock = fromMock();
    mock.set('secret://a', generated());
    mock.delay(5);
    const secrets = createSecrets({ environment: 'dev', providers: [mock] });
    const all = await Promise.all(Array.from({ length: 10_000 }, () => secrets.get('secret://a')));
    expect(mock.calls).toBe(1);
    expect(new Set(all.map((s) => s.reveal())).size).toBe(1);
  });

  it('single-flight also holds with the cache off, and fields of one secret share a fetch', async () => {
    const mock = fromMock();
    mock.set('secret://db', { username: generated(), password: generated() });
    mock.delay(5);
    const secrets = createSecrets({ environment: 'dev', providers: [mock], cache: false });
    await Promise.all([secrets.get('secret://db#username'), secrets.get('secret://db#password')]);
    expect(mock.calls).toBe(1);
    await secrets.get('secret://db#username');
    expect(mock.calls).toBe(2);
  });

  it('never caches a rejection', async () => {
    const mock = fromMock();
    mock.set('secret://a', generated());
    mock.fail('*', 'unavailable', { times: 1 });
    const secrets = createSecrets({ environment: 'dev', providers: [mock] });
    expect((await rejection(secrets.get('secret://a'))).code).toBe('PROVIDER_UNAVAILABLE');
    await expect(secrets.get('secret://a')).resolves.toBeDefined();
    expect(mock.calls).toBe(2);
  });

  it('stale-if-error: serves the last value for at most maxStaleMs, with an event, then fails closed', async () => {
    const clock = fakeClock();
    const value = generated();
    const mock = fromMock();
    mock.set('secret://a', value);
    const secrets = createSecrets({ environment: 'dev', providers: [mock], now: clock.now, cache: { ttlMs: 1000, maxStaleMs: 5000 } });
    const events: unknown[] = [];
    secrets.on('stale', (e) => events.push(e));
    await secrets.get('secret://a');
    mock.fail('*', 'unavailable');
    clock.advance(5999);
    expect((await secrets.get('secret://a')).reveal()).toBe(value);
    expect(events).toEqual([{ ref: 'secret://a', provider: 'mock', staleForMs: 4999, code: 'PROVIDER_UNAVAILABLE' }]);
    clock.advance(1);
    expect((await rejection(secrets.get('secret://a'))).code).toBe('PROVIDER_UNAVAILABLE');
  });

  it('stale-if-error never serves past the secret expiry, nor on a denial', async () => {
    const clock = fakeClock();
    const mock = fromMock();
    mock.set('secret://a', generated(), { ttlMs: 1000 });
    mock.set('secret://b', generated());
    const secrets = createSecrets({ environment: 'dev', providers: [mock], now: clock.now, cache: { ttlMs: 1000 } });
    await secrets.get('secret://a');
    await secrets.get('secret://b');
    clock.advance(1000);
    mock.fail('secret://a', 'unavailable');
    mock.fail('secret://b', 'denied');
    expect((await rejection(secrets.get('secret://a'))).code).toBe('PROVIDER_UNAVAILABLE');
    expect((await rejection(secrets.get('secret://b'))).code).toBe('ACCESS_DENIED');
  });

  it('invalidate drops the cached value', async () => {
    const mock = fromMock();
    mock.set('secret://a', generated());
    const secrets = createSecrets({ environment: 'dev', providers: [mock] });
    await secrets.get('secret://a');
    secrets.invalidate('secret://a');
    await secrets.get('secret://a');
    expect(mock.calls).toBe(2);
  });

  it('refuses a credential that arrives already expired', async () => {
    const clock = fakeClock();
    const p = scripted('p', () => ({ value: generated(), expiresAt: new Date(clock.now() - 1) }));
    const secrets = createSecrets({ environment: 'dev', providers: [p], now: clock.now });
    expect((await rejection(secrets.get('test://a'))).code).toBe('SECRET_EXPIRED');
  });
});

describe('get, getBytes, getMany', () => {
  it('selects #field dot paths of JSON secrets; a missing field names the path, never a value', async () => {
    const password = generated();
    const mock = fromMock();
    mock.set('secret://db', { auth: { password, port: 5432 } });
    const secrets = createSecrets({ environment: 'dev', providers: [mock] });
    expect((await secrets.get('secret://db#auth.password')).reveal()).toBe(password);
    expect((await secrets.get('secret://db#auth.port')).reveal()).toBe('5432');
    const err = await rejection(secrets.get('secret://db#auth.user'));
    expect(err.code).toBe('SECRET_FORMAT');
    expect(err.message).toContain('auth.user');
    expect(errorText(err)).not.toContain(password);
  });

  it('a non-JSON secret with a #field is a format error that does not quote the value', async () => {
    const value = `{${generated()}`;
    const mock = fromMock();
    mock.set('secret://a', value);
    const secrets = createSecrets({ environment: 'dev', providers: [mock] });
    const err = await rejection(secrets.get('secret://a#x'));
    expect(err.code).toBe('SECRET_FORMAT');
    expect(errorText(err)).not.toContain(value.slice(1));
  });

  it('getBytes returns a private copy: disposing it leaves the cache intact', async () => {
    const bytes = new Uint8Array(Buffer.from(generated(), 'utf8'));
    const mock = fromMock();
    mock.set('secret://key', bytes);
    const secrets = createSecrets({ environment: 'dev', providers: [mock] });
    const first = await secrets.getBytes('secret://key');
    first.dispose();
    const second = await secrets.getBytes('secret://key');
    expect(Buffer.from(second.reveal()).equals(Buffer.from(bytes))).toBe(true);
    expect((await secrets.get('secret://key')).reveal()).toBe(Buffer.from(bytes).toString('utf8'));
  });

  it('get on a non-UTF-8 binary secret says to use getBytes', async () => {
    const mock = fromMock();
    mock.set('secret://key', new Uint8Array([0xff, 0xfe, 0x00]));
    const secrets = createSecrets({ environment: 'dev', providers: [mock] });
    expect((await rejection(secrets.get('secret://key'))).message).toMatch(/getBytes/);
  });

  it('getMany resolves in parallel and fetches identical refs once', async () => {
    const mock = fromMock();
    const [u, p] = [generated(), generated()];
    mock.set('secret://u', u);
    mock.set('secret://p', p);
    mock.delay(5);
    const secrets = createSecrets({ environment: 'dev', providers: [mock] });
    const got = await secrets.getMany({ user: 'secret://u', pass: 'secret://p', again: 'secret://u' });
    expect([got.user.reveal(), got.pass.reveal(), got.again.reveal()]).toEqual([u, p, u]);
    expect(mock.callsFor('secret://u')).toBe(1);
  });

  it('secrets carry ref, provider, version and metadata, and print as the configured placeholder', async () => {
    const value = generated();
    const mock = fromMock();
    mock.set('secret://a', value, { version: '7', metadata: { owner: 'data-platform' } });
    const secrets = createSecrets({ environment: 'dev', providers: [mock], placeholder: '<hidden>' });
    const s = await secrets.get('secret://a');
    expect([s.ref, s.provider, s.version, s.metadata.owner]).toEqual(['secret://a', 'mock', '7', 'data-platform']);
    expect(`${s}`).toBe('<hidden>');
    expect(inspect(s)).not.toContain(value);
  });
});

describe('close', () => {
  it('aborts in-flight calls, closes providers and refuses later calls', async () => {
    const mock = fromMock();
    mock.set('secret://a', generated());
    mock.delay(10_000);
    const closed = vi.fn(async () => {});
    const secrets = createSecrets({ environment: 'dev', providers: [mock, { ...scripted('x', () => ({ value: 'unused' })), close: closed }] });
    const pending = secrets.get('secret://a');
    await secrets.close();
    const err = await rejection(pending);
    expect(isConnectorSecretsError(err) || err.name === 'AbortError').toBe(true);
    expect(closed).toHaveBeenCalledOnce();
    expect((await rejection(secrets.get('secret://a'))).code).toBe('CONFIG_INVALID');
  });
});

describe('no secret in any error', () => {
  it('none of the failure paths shows the value', async () => {
    const value = generated();
    const mock = fromMock();
    mock.set('secret://json', { password: value });
    mock.set('secret://text', value);
    const secrets = createSecrets({ environment: 'dev', providers: [mock] });
    const errors = [
      await rejection(secrets.get('secret://json#nope')),
      await rejection(secrets.get('secret://text#field')),
      await rejection(secrets.get(value)),
    ];
    mock.fail('*', 'unavailable');
    errors.push(await rejection(secrets.get('secret://other')));
    for (const err of errors) expect(errorText(err)).not.toContain(value);
  });
});

describe('env option', () => {
  it('accepts process.env itself, and refuses non-string values', async () => {
    const name = `CS_TEST_${generated(6).replace(/[^A-Za-z0-9]/g, '')}`;
    const value = generated();
    process.env[name] = value;
    try {
      const { fromEnv } = await import('../src/providers/fromEnv.js');
      const secrets = createSecrets({ environment: 'dev', providers: [fromEnv()], env: process.env });
      expect((await secrets.get(`env://${name}`)).reveal()).toBe(value);
    } finally {
      delete process.env[name];
    }
    expect(() => createSecrets({ environment: 'dev', providers: [fromMock()], env: { A: 1 as unknown as string } })).toThrow(/object of strings/);
  });
});
