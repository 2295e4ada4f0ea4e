import { describe, expectTypeOf, it } from 'vitest';
import {
  InvalidSecretRefError,
  SecretDisposedError,
  SecretNotFoundError,
  isConnectorSecretsError,
  type ConnectorSecretsError,
  type ErrorCode,
} from '../src/errors.js';
import type { SecretMetadata } from '../src/provider.js';
import { formatRef } from '../src/ref/formatRef.js';
import { isSecretRef, parseRef } from '../src/ref/parseRef.js';
import type { SecretRef } from '../src/ref/types.js';
import { Secret, type SecretInfo } from '../src/secret.js';

declare const text: Secret<string>;
declare const creds: Secret<{ username: string; password: string }>;
declare const key: Secret<Uint8Array>;

describe('Secret<T> types', () => {
  it('infers T from the constructor', () => {
    expectTypeOf(new Secret('x')).toEqualTypeOf<Secret<string>>();
    expectTypeOf(new Secret(new Uint8Array(1))).toEqualTypeOf<Secret<Uint8Array<ArrayBuffer>>>();
    expectTypeOf(new Secret({ a: 1 })).toEqualTypeOf<Secret<{ a: number }>>();
  });

  it('reveal returns T', () => {
    expectTypeOf(text.reveal()).toEqualTypeOf<string>();
    expectTypeOf(creds.reveal()).toEqualTypeOf<{ username: string; password: string }>();
    expectTypeOf(key.reveal()).toEqualTypeOf<Uint8Array>();
  });

  it('use returns what the callback returns, and sees T', () => {
    expectTypeOf(text.use((v) => v.length)).toEqualTypeOf<number>();
    expectTypeOf(creds.use(async (c) => c.username)).toEqualTypeOf<Promise<string>>();
    expectTypeOf(text.use).parameter(0).parameter(0).toEqualTypeOf<string>();
  });

  it('map infers Secret<U>', () => {
    expectTypeOf(text.map((v) => v.length)).toEqualTypeOf<Secret<number>>();
    expectTypeOf(creds.map((c) => c.password)).toEqualTypeOf<Secret<string>>();
    expectTypeOf(key.map((b) => b.byteLength > 0)).toEqualTypeOf<Secret<boolean>>();
    expectTypeOf(creds.map((c) => c.password).map((p) => [p])).toEqualTypeOf<Secret<string[]>>();
  });

  it('exposes non-secret facts with precise types', () => {
    expectTypeOf(text.ref).toEqualTypeOf<string | undefined>();
    expectTypeOf(text.provider).toEqualTypeOf<string | undefined>();
    expectTypeOf(text.version).toEqualTypeOf<string | undefined>();
    expectTypeOf(text.expiresAt).toEqualTypeOf<Date | undefined>();
    expectTypeOf(text.metadata).toEqualTypeOf<SecretMetadata>();
    expectTypeOf(text.disposed).toEqualTypeOf<boolean>();
  });

  it('prints as a string and disposes with no result', () => {
    expectTypeOf(text.toString()).toEqualTypeOf<string>();
    expectTypeOf(text.toJSON()).toEqualTypeOf<string>();
    expectTypeOf(text.valueOf()).toEqualTypeOf<string>();
    expectTypeOf(key.dispose()).toEqualTypeOf<void>();
    expectTypeOf(key[Symbol.dispose]()).toEqualTypeOf<void>();
    expectTypeOf(key).toExtend<Disposable>();
  });

  it('keeps the value out of the public shape', () => {
    expectTypeOf(text).not.toHaveProperty('value');
    // @ts-expect-error the value lives in a private field
    text.value;
    // @ts-expect-error a Secret<string> is not a string
    const s: string = text;
    void s;
  });

  it('types SecretInfo strictly', () => {
    expectTypeOf<SecretInfo['onDerive']>().toEqualTypeOf<((value: unknown, ref: string | undefined) => void) | undefined>();
    // @ts-expect-error expiresAt is a Date, not a number
    new Secret('x', { expiresAt: 0 });
    // Facts may be given as explicitly undefined, so the client builds every info in one shape.
    expectTypeOf<{ ref: undefined }>().toExtend<SecretInfo>();
  });
});

describe('SecretRef and error types', () => {
  it('parseRef returns a SecretRef; formatRef a string', () => {
    const ref = parseRef('env://X');
    expectTypeOf(ref).toEqualTypeOf<SecretRef>();
    expectTypeOf(ref.field).toEqualTypeOf<string | undefined>();
    expectTypeOf(ref.fieldPath).toEqualTypeOf<readonly string[] | undefined>();
    expectTypeOf(ref.params).toEqualTypeOf<Readonly<Record<string, string>>>();
    expectTypeOf(formatRef(ref)).toEqualTypeOf<string>();
    const unknownValue: unknown = ref;
    if (isSecretRef(unknownValue)) expectTypeOf(unknownValue).toEqualTypeOf<SecretRef>();
  });

  it('narrows error codes to literals', () => {
    expectTypeOf<InvalidSecretRefError['code']>().toEqualTypeOf<'INVALID_REF'>();
    expectTypeOf<InvalidSecretRefError['name']>().toEqualTypeOf<'InvalidSecretRefError'>();
    expectTypeOf<SecretNotFoundError['code']>().toEqualTypeOf<'SECRET_NOT_FOUND'>();
    expectTypeOf<SecretDisposedError['code']>().toEqualTypeOf<'SECRET_DISPOSED'>();
    expectTypeOf<ErrorCode>().toEqualTypeOf<
      | 'INVALID_REF'
      | 'SECRET_NOT_FOUND'
      | 'PROVIDER_UNAVAILABLE'
      | 'PROVIDER_ERROR'
      | 'ACCESS_DENIED'
      | 'SECRET_FORMAT'
      | 'SECRET_EXPIRED'
      | 'SECRET_DISPOSED'
      | 'CONFIG_INVALID'
      | 'ENVIRONMENT_MISMATCH'
      | 'POLICY_DENIED'
      | 'AUDIT_WRITE_FAILED'
      | 'ROTATION_FAILED'
      | 'IDENTITY_QUARANTINED'
      | 'ABORTED'
    >();
    const err: unknown = new Error('x');
    if (isConnectorSecretsError(err)) expectTypeOf(err).toEqualTypeOf<ConnectorSecretsError>();
  });
});
