import util from 'node:util';
import { describe, expect, it, vi } from 'vitest';
import * as errors from '../src/errors.js';
import {
  AccessDeniedError,
  AbortedError,
  AuditWriteError,
  ConfigError,
  EnvironmentMismatchError,
  PolicyDeniedError,
  ConnectorSecretsError,
  InvalidSecretRefError,
  ProviderError,
  ProviderUnavailableError,
  SecretDisposedError,
  SecretExpiredError,
  SecretFormatError,
  SecretNotFoundError,
  isConnectorSecretsError,
  type ErrorCode,
  type ErrorOptions,
  RotationFailedError,
  QuarantinedError,
} from '../src/errors.js';

type AnyErrorClass = new (message: string, options?: ErrorOptions) => ConnectorSecretsError;

const SUBCLASSES: [AnyErrorClass, ErrorCode, string][] = [
  [InvalidSecretRefError, 'INVALID_REF', 'InvalidSecretRefError'],
  [SecretNotFoundError, 'SECRET_NOT_FOUND', 'SecretNotFoundError'],
  [ProviderUnavailableError, 'PROVIDER_UNAVAILABLE', 'ProviderUnavailableError'],
  [ProviderError, 'PROVIDER_ERROR', 'ProviderError'],
  [AccessDeniedError, 'ACCESS_DENIED', 'AccessDeniedError'],
  [SecretFormatError, 'SECRET_FORMAT', 'SecretFormatError'],
  [SecretExpiredError, 'SECRET_EXPIRED', 'SecretExpiredError'],
  [SecretDisposedError, 'SECRET_DISPOSED', 'SecretDisposedError'],
  [ConfigError, 'CONFIG_INVALID', 'ConfigError'],
  [EnvironmentMismatchError, 'ENVIRONMENT_MISMATCH', 'EnvironmentMismatchError'],
  [PolicyDeniedError, 'POLICY_DENIED', 'PolicyDeniedError'],
  [AuditWriteError, 'AUDIT_WRITE_FAILED', 'AuditWriteError'],
  [AbortedError, 'ABORTED', 'AbortedError'],
  [RotationFailedError, 'ROTATION_FAILED', 'RotationFailedError'],
  [QuarantinedError, 'IDENTITY_QUARANTINED', 'QuarantinedError'],
];

describe('error classes', () => {
  it('covers every exported error class', () => {
    const exported = Object.entries(errors)
      .filter(([, v]) => typeof v === 'function' && v.prototype instanceof ConnectorSecretsError)
      .map(([k]) => k)
      .sort();
    expect(exported).toEqual(SUBCLASSES.map(([, , name]) => name).sort());
  });

  it('gives every subclass its own stable code', () => {
    const codes = SUBCLASSES.map(([, code]) => code);
    expect(new Set(codes).size).toBe(codes.length);
  });

  it.each(SUBCLASSES)('%o has code %s and name %s', (Cls, code, name) => {
    const err = new Cls('something went wrong');
    expect(err).toBeInstanceOf(Cls);
    expect(err).toBeInstanceOf(ConnectorSecretsError);
    expect(err).toBeInstanceOf(Error);
    expect(err.code).toBe(code);
    expect(err.name).toBe(name);
    expect(Cls.name).toBe(name);
    expect(err.message).toBe('something went wrong');
    expect(String(err)).toBe(`${name}: something went wrong`);
    expect(err.stack?.startsWith(`${name}: something went wrong\n`)).toBe(true);
    expect(util.inspect(err)).toContain(`${name}: something went wrong`);
    expect(isConnectorSecretsError(err)).toBe(true);
    // Nothing given, nothing set.
    expect(err.ref).toBeUndefined();
    expect(err.provider).toBeUndefined();
    expect('cause' in err).toBe(false);
  });

  it.each(SUBCLASSES)('%o passes ref, provider and cause through', (Cls) => {
    const cause = new TypeError('socket hang up');
    const err = new Cls('failed', { ref: 'vault://kv/orders-db', provider: 'vault', cause });
    expect(err.ref).toBe('vault://kv/orders-db');
    expect(err.provider).toBe('vault');
    expect(err.cause).toBe(cause);
    expect(util.inspect(err)).toContain('socket hang up');
    // Non-Error causes are passed on unchanged too.
    const raw = { status: 503 };
    expect(new Cls('failed', { cause: raw }).cause).toBe(raw);
    expect(new Cls('failed', { cause: null }).cause).toBeNull();
    expect(new Cls('failed', { cause: 0 }).cause).toBe(0);
  });

  it('lets code and name be read by catching code, not class', () => {
    const match = (err: unknown) => (isConnectorSecretsError(err) ? err.code : 'other');
    expect(match(new AccessDeniedError('no'))).toBe('ACCESS_DENIED');
    expect(match(new Error('no'))).toBe('other');
  });

  it('builds a base error with any code', () => {
    const err = new ConnectorSecretsError('PROVIDER_ERROR', 'boom', { provider: 'custom' });
    expect(err.code).toBe('PROVIDER_ERROR');
    expect(err.name).toBe('ConnectorSecretsError');
    expect(err.provider).toBe('custom');
    expect(isConnectorSecretsError(err)).toBe(true);
  });
});

describe('subclass extras', () => {
  it('InvalidSecretRefError carries the position', () => {
    expect(new InvalidSecretRefError('bad', { position: 12 }).position).toBe(12);
    expect(new InvalidSecretRefError('bad', { position: 0 }).position).toBe(0);
    expect(new InvalidSecretRefError('bad').position).toBeUndefined();
  });

  it('chain errors carry every provider attempt, empty by default', () => {
    const attempts = [
      { provider: 'env', code: 'SECRET_NOT_FOUND' as const, message: 'no variable' },
      { provider: 'vault', code: 'PROVIDER_UNAVAILABLE' as const, message: 'sealed' },
    ];
    expect(new SecretNotFoundError('none had it', { attempts }).attempts).toEqual(attempts);
    expect(new ProviderUnavailableError('all down', { attempts }).attempts).toEqual(attempts);
    expect(new SecretNotFoundError('x').attempts).toEqual([]);
    expect(new ProviderUnavailableError('x').attempts).toEqual([]);
  });

  it('ProviderUnavailableError says whether it was throttled', () => {
    expect(new ProviderUnavailableError('slow down', { throttled: true }).throttled).toBe(true);
    expect(new ProviderUnavailableError('down').throttled).toBe(false);
  });

  it('SecretFormatError carries issues, empty by default', () => {
    const issues = [{ path: 'password', code: 'too_small' }];
    expect(new SecretFormatError('bad shape', { issues }).issues).toEqual(issues);
    expect(new SecretFormatError('bad shape').issues).toEqual([]);
  });
});

describe('isConnectorSecretsError', () => {
  it('rejects anything that is not one of ours', () => {
    for (const value of [
      new Error('x'),
      new TypeError('x'),
      Object.assign(new Error('x'), { code: 'INVALID_REF' }),
      { code: 'SECRET_NOT_FOUND', name: 'SecretNotFoundError', message: 'x' },
      Object.create(ConnectorSecretsError.prototype),
      { [Symbol.for('connector-secrets.error')]: 'yes' },
      { [Symbol('connector-secrets.error')]: true },
      null,
      undefined,
      'SecretNotFoundError',
      42,
    ]) {
      expect(isConnectorSecretsError(value)).toBe(false);
    }
  });

  it('keeps the brand out of sight', () => {
    const err = new ConfigError('x');
    expect(Object.keys(err)).not.toContain(Symbol.for('connector-secrets.error'));
    expect(Object.getOwnPropertySymbols(err)).toHaveLength(1);
    expect(JSON.stringify(err)).not.toContain('connector-secrets.error');
    expect(Object.getOwnPropertyDescriptor(err, Symbol.for('connector-secrets.error'))?.enumerable).toBe(false);
  });

  it('works across two installed copies, where instanceof does not', async () => {
    vi.resetModules();
    const copy: typeof import('../src/errors.js') = await import('../src/errors.js');
    // A distinct module instance: its classes are not ours.
    expect(copy.ConnectorSecretsError).not.toBe(ConnectorSecretsError);
    expect(copy.SecretNotFoundError).not.toBe(SecretNotFoundError);

    const theirs = new copy.SecretNotFoundError('not here', { provider: 'other-copy' });
    const ours = new SecretNotFoundError('not here');
    expect(theirs).not.toBeInstanceOf(ConnectorSecretsError);
    expect(theirs).not.toBeInstanceOf(SecretNotFoundError);
    expect(ours).not.toBeInstanceOf(copy.ConnectorSecretsError);

    expect(isConnectorSecretsError(theirs)).toBe(true);
    expect(copy.isConnectorSecretsError(ours)).toBe(true);
    if (isConnectorSecretsError(theirs)) expect(theirs.code).toBe('SECRET_NOT_FOUND');
    expect(theirs.name).toBe('SecretNotFoundError');
    expect(copy.isConnectorSecretsError(new Error('x'))).toBe(false);
  });
});

describe('errors name their ref in the message', () => {
  it('SecretExpiredError says which ref, once', () => {
    const Cls = errors.SecretExpiredError;
    const err = new Cls('failed', { ref: 'vault://kv/orders-db', provider: 'vault' });
    expect(err.message).toBe('failed (ref: vault://kv/orders-db)');
    expect(new Cls('vault://kv/orders-db failed', { ref: 'vault://kv/orders-db' }).message).toBe('vault://kv/orders-db failed');
    expect(new Cls('failed', { provider: 'vault' }).message).toBe('failed');
  });

  it.each(SUBCLASSES.filter(([, code]) => code !== 'INVALID_REF'))('%o names its ref once, without the ref’s params (their values come from the caller’s text)', (Cls) => {
    expect(new Cls('failed', { ref: 'vault://kv/orders-db#password', provider: 'vault' }).message).toBe('failed (ref: vault://kv/orders-db#password)');
    expect(new Cls('failed', { ref: 'file://orders/db?encoding=canary-value#user' }).message).toBe('failed (ref: file://orders/db#user)');
    expect(new Cls('reading vault://kv/orders-db failed', { ref: 'vault://kv/orders-db' }).message).toBe('reading vault://kv/orders-db failed');
  });

  it('an invalid ref is never named: what made it invalid may be pasted input', () => {
    expect(new InvalidSecretRefError('the secret name is not valid', { ref: 'azure-kv://vault/generated-canary-value' }).message).toBe('the secret name is not valid');
  });

  it('SECRET_EXPIRED from a handle names the handle’s ref, not only the provider', async () => {
    const { createSecrets } = await import('../src/client.js');
    const { fromMock } = await import('../src/testing/fromMock.js');
    const mock = fromMock();
    const ref = 'vault://database/creds/etl';
    let now = Date.UTC(2026, 0, 1);
    mock.lease(ref, { ttlMs: 60_000, renewable: false, issue: (n) => `issued-credential-${n}-${now}` });
    const secrets = createSecrets({ environment: 'dev', providers: [mock], now: () => now, cache: false });
    const handle = secrets.handle(ref);
    await handle.get();
    mock.fail(ref, 'unavailable');
    now += 120_000;
    const err = await handle.get().catch((e: unknown) => e as Error);
    expect(err).toMatchObject({ code: 'SECRET_EXPIRED' });
    expect((err as Error).message).toContain(ref);
    await secrets.close();
  });
});
