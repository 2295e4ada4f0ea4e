import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parseRef } from '../../src/ref/parseRef.js';
import { GcpApiError } from '../../src/gcp/index.js';
import { crc32cBitwise, startGoogleDoubles, type GoogleDoubles, type ServiceAccountKey } from '../fixtures/gcp/index.js';
import { errorText, generated, rejection, until } from '../helpers.js';
import { Closer, keyToken, ManualClock, PROJECT, READER, resolveContext, smProvider } from './helpers.js';

let doubles: GoogleDoubles;
let key: ServiceAccountKey;
const closer = new Closer();
let n = 0;

beforeAll(async () => {
  doubles = await startGoogleDoubles();
  key = doubles.serviceAccount(READER);
});
afterEach(() => closer.closeAll());
afterAll(() => doubles.close());

/** A fresh secret with one version. */
function secretWith(value: string): { id: string; name: string } {
  const id = `rotating-${++n}`;
  const name = `projects/${PROJECT}/secrets/${id}`;
  doubles.createSecret(name, { labels: { environment: 'dev' } });
  doubles.addVersion(name, value);
  return { id, name };
}

describe('fromGcpSecretManager rotate: :addVersion with dataCrc32c', () => {
  it('adds a version holding the value, sends its CRC32C, and reads back as latest', async () => {
    const { id, name } = secretWith(generated());
    const p = closer.add(smProvider(doubles, closer.add(keyToken(doubles, key))));
    const next = generated();
    const sent = doubles.addVersionChecksums.length;
    const rotated = await p.rotate!(parseRef(`gcp-sm://${id}`), next, resolveContext());
    expect(rotated.version).toBe('2');
    expect(rotated.metadata).toEqual({ environment: 'dev' });
    expect(doubles.versionData(name, 2)?.toString('utf8')).toBe(next);
    expect(doubles.addVersionChecksums.slice(sent)).toEqual([true]);
    expect((await p.resolve(parseRef(`gcp-sm://${id}`), resolveContext())).value).toBe(next);
    // The previous version stays enabled unless an overlap is configured.
    expect(doubles.versionState(name, 1)).toBe('ENABLED');
  });

  it('the checksum sent is the CRC32C of the bytes (the double refuses a wrong one)', async () => {
    const { id, name } = secretWith('x'.repeat(8));
    const p = closer.add(smProvider(doubles, closer.add(keyToken(doubles, key))));
    const next = `ünïcödé-${generated()}`;
    await p.rotate!(parseRef(`gcp-sm://${id}`), next, resolveContext());
    expect(crc32cBitwise(doubles.versionData(name, 2)!)).toBe(crc32cBitwise(Buffer.from(next, 'utf8')));
  });

  it('with #field, replaces that field of the current JSON version and keeps the others', async () => {
    const { id, name } = secretWith(JSON.stringify({ username: 'etl-reader', password: generated() }));
    const p = closer.add(smProvider(doubles, closer.add(keyToken(doubles, key))));
    const next = generated();
    await p.rotate!(parseRef(`gcp-sm://${id}#password`), next, resolveContext());
    expect(JSON.parse(doubles.versionData(name, 2)!.toString('utf8'))).toEqual({ username: 'etl-reader', password: next });
  });

  it('refuses a pinned version: a rotation always adds one', async () => {
    const { id } = secretWith(generated());
    const p = closer.add(smProvider(doubles, closer.add(keyToken(doubles, key))));
    const err = await rejection(p.rotate!(parseRef(`gcp-sm://${id}/versions/1`), generated(), resolveContext()));
    expect(err.code).toBe('INVALID_REF');
  });

  it('disables the previous version after the overlap given, not before; close() cancels a pending disable', async () => {
    const { id, name } = secretWith(generated());
    const clock = new ManualClock();
    const p = closer.add(smProvider(doubles, closer.add(keyToken(doubles, key)), { clock, rotation: { disablePreviousAfterMs: 3_600_000 } }));
    await p.rotate!(parseRef(`gcp-sm://${id}`), generated(), resolveContext());
    clock.advance(3_599_000);
    expect(doubles.versionState(name, 1)).toBe('ENABLED');
    const disables = doubles.count('disable');
    clock.advance(1_000);
    await until(() => doubles.versionState(name, 1) === 'DISABLED', 'version 1 disabled');
    expect(doubles.count('disable') - disables).toBe(1);
    expect(doubles.versionState(name, 2)).toBe('ENABLED');
    const err = await rejection(p.resolve(parseRef(`gcp-sm://${id}/versions/1`), resolveContext()));
    expect([err.code, err.message]).toEqual(['SECRET_NOT_FOUND', `the version named is disabled (FAILED_PRECONDITION) (ref: gcp-sm://${id}/versions/1)`]);

    await p.rotate!(parseRef(`gcp-sm://${id}`), generated(), resolveContext());
    await p.close!();
    expect(clock.timers.size).toBe(0);
    expect(doubles.versionState(name, 2)).toBe('ENABLED');
  });

  it('a failed background disable goes to onBackgroundError, never unhandled', async () => {
    const { id } = secretWith(generated());
    const clock = new ManualClock();
    const errors: unknown[] = [];
    const p = closer.add(smProvider(doubles, closer.add(keyToken(doubles, key)), { clock, rotation: { disablePreviousAfterMs: 10 }, onBackgroundError: (e) => errors.push(e), retry: { maxAttempts: 1 } }));
    await p.rotate!(parseRef(`gcp-sm://${id}`), generated(), resolveContext());
    doubles.failNext('disable', 403, 'PERMISSION_DENIED');
    clock.advance(10);
    await until(() => errors.length === 1, 'onBackgroundError called');
    expect((errors[0] as { code?: unknown }).code).toBe('ACCESS_DENIED');
  });

  it('a refused write never shows the value, even when Google quotes it back', async () => {
    const { id } = secretWith(generated());
    const p = closer.add(smProvider(doubles, closer.add(keyToken(doubles, key))));
    const next = generated();
    doubles.failNext('addVersion', 400, 'INVALID_ARGUMENT', 1, `bad payload ${next} / ${Buffer.from(next).toString('base64')}`);
    const err = await rejection(p.rotate!(parseRef(`gcp-sm://${id}`), next, resolveContext()));
    expect(err.code).toBe('PROVIDER_ERROR');
    expect((err.cause as GcpApiError).message).toContain('[REDACTED]');
    expect(errorText(err)).not.toContain(next);
    expect(errorText(err)).not.toContain(Buffer.from(next).toString('base64'));
  });

  it('a secret without versions gets its first one', async () => {
    const id = `empty-${++n}`;
    const name = `projects/${PROJECT}/secrets/${id}`;
    doubles.createSecret(name);
    const p = closer.add(smProvider(doubles, closer.add(keyToken(doubles, key))));
    const rotated = await p.rotate!(parseRef(`gcp-sm://${id}`), 'first-value', resolveContext());
    expect(rotated.version).toBe('1');
    expect(doubles.versionCount(name)).toBe(1);
  });
});
