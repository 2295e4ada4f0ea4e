import { randomBytes } from 'node:crypto';
import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { ConfigError, createRedactor, isConnectorSecretsError } from '../../src/index.js';
import { errorText } from '../helpers.js';

const rand = () => randomBytes(18).toString('base64url');

describe('redactError', () => {
  const redactor = createRedactor();
  const secret = rand();
  redactor.add(secret, { ref: 'env://S' });

  it('regression (exception args and cause chain): message, stack, causes, own properties', () => {
    const root = new Error(`connect ECONNREFUSED with password ${secret}`);
    Object.assign(root, { args: ['etl', secret], config: { headers: { Authorization: `Bearer ${rand()}` } }, code: 'ECONNREFUSED' });
    const mid = new TypeError(`query failed: ${secret}`, { cause: root });
    const top = new Error('sync failed', { cause: mid });
    const safe = redactor.redactError(top);
    const text = errorText(safe);
    expect(text).not.toContain(secret);
    expect(text).not.toMatch(/Bearer [A-Za-z0-9_-]{20,}/);
    expect(safe).toBeInstanceOf(Error);
    expect(safe.message).toBe('sync failed');
    expect(safe.cause).toBeInstanceOf(TypeError);
    expect((safe.cause as Error).message).toBe('query failed: [REDACTED]');
    const rootCopy = (safe.cause as Error).cause as Error & { args: unknown[]; code: string };
    expect(rootCopy.args).toEqual(['etl', '[REDACTED]']);
    expect(rootCopy.code).toBe('ECONNREFUSED');
    expect(inspect(safe)).not.toContain(secret);
    // The original is untouched.
    expect(root.message).toContain(secret);
  });

  it('AggregateError.errors', () => {
    const agg = new AggregateError([new Error(`a ${secret}`), `b ${secret}`], `all failed ${secret}`);
    const safe = redactor.redactError(agg);
    expect(safe).toBeInstanceOf(AggregateError);
    expect(errorText(safe)).not.toContain(secret);
    expect(safe.errors.map((e: unknown) => (e instanceof Error ? e.message : e))).toEqual(['a [REDACTED]', 'b [REDACTED]']);
  });

  it('keeps the class, code and brand of connector-secrets errors', () => {
    const err = new ConfigError(`bad option ${secret}`, { ref: 'env://S' });
    const safe = redactor.redactError(err);
    expect(safe).toBeInstanceOf(ConfigError);
    expect(isConnectorSecretsError(safe)).toBe(true);
    expect(safe.code).toBe('CONFIG_INVALID');
    expect(safe.ref).toBe('env://S');
    expect(safe.message).toBe('bad option [REDACTED] (ref: env://S)');
    expect(String(safe)).toBe('ConfigError: bad option [REDACTED] (ref: env://S)');
  });

  it('survives cause cycles and hostile errors', () => {
    const a = new Error(`a ${secret}`);
    const b = new Error('b', { cause: a });
    (a as { cause?: unknown }).cause = b;
    const safe = redactor.redactError(a);
    expect(errorText(safe)).not.toContain(secret);
    const hostile = new Error('x');
    Object.defineProperty(hostile, 'boom', {
      enumerable: true,
      get() {
        throw new Error(secret);
      },
    });
    expect(errorText(redactor.redactError(hostile))).not.toContain(secret);
  });

  it('redacts non-errors as values', () => {
    expect(redactor.redactError(`thrown string ${secret}`)).toBe('thrown string [REDACTED]');
    expect(redactor.redactError({ message: secret })).toEqual({ message: '[REDACTED]' });
  });
});
