import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ConfigError, createLogger, createRedactor, type LogLevel } from '../../src/index.js';

const rand = () => randomBytes(18).toString('base64url');

function setup(level?: LogLevel | 'silent') {
  const redactor = createRedactor();
  const secret = rand();
  redactor.add(secret, { ref: 'env://S' });
  const lines: string[] = [];
  const log = createLogger(redactor, { destination: { write: (l) => lines.push(l) }, now: () => Date.UTC(2026, 0, 2), ...(level === undefined ? {} : { level }) });
  return { redactor, secret, lines, log, entries: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>) };
}

describe('createLogger', () => {
  it('writes one JSON line per entry, with level, time, message and fields', () => {
    const { log, entries, lines } = setup();
    log.info('batch synced', { rows: 12, big: 10n });
    expect(lines[0]!.endsWith('\n')).toBe(true);
    expect(entries()[0]).toEqual({ level: 'info', time: '2026-01-02T00:00:00.000Z', msg: 'batch synced', rows: 12, big: '10' });
  });

  it('redacts the message, fields (by value and key) and errors with causes', () => {
    const { log, secret, lines, entries } = setup();
    log.warn(`retrying with ${secret}`, { password: 'hunter2-unregistered', conn: { dsn: `postgres://u:${secret}@h/d` } });
    log.error('sync failed', { err: new Error(`boom ${secret}`, { cause: new Error(`inner ${secret}`) }) });
    expect(lines.join('')).not.toContain(secret);
    expect(lines.join('')).not.toContain('hunter2-unregistered');
    const [warn, error] = entries();
    expect(warn!['msg']).toBe('retrying with [REDACTED]');
    expect(warn!['password']).toBe('[REDACTED]');
    const err = error!['err'] as { type: string; message: string; stack: string; cause: { message: string } };
    expect(err.type).toBe('Error');
    expect(err.message).toBe('boom [REDACTED]');
    expect(err.stack).toContain('boom [REDACTED]');
    expect(err.cause.message).toBe('inner [REDACTED]');
  });

  it('honours levels, and the level is settable', () => {
    const { log, lines } = setup('warn');
    log.info('hidden');
    log.debug('hidden');
    log.warn('shown');
    log.fatal('shown');
    expect(lines).toHaveLength(2);
    expect(log.isLevelEnabled('error')).toBe(true);
    log.level = 'silent';
    log.fatal('hidden');
    expect(lines).toHaveLength(2);
    log.level = 'trace';
    log.trace('shown');
    expect(lines).toHaveLength(3);
  });

  it('child loggers add redacted bindings and keep their own level', () => {
    const { log, secret, entries } = setup();
    const child = log.child({ table: 'orders', token: 'abc', note: secret });
    child.info('x');
    child.level = 'error';
    child.info('hidden');
    log.info('y');
    const [c, p] = entries();
    expect(c).toMatchObject({ table: 'orders', token: '[REDACTED]', note: '[REDACTED]', msg: 'x' });
    expect(p).not.toHaveProperty('table');
    expect(entries()).toHaveLength(2);
  });

  it('never throws into the caller', () => {
    const redactor = createRedactor();
    const log = createLogger(redactor, { destination: { write: () => { throw new Error('disk full'); } } });
    expect(() => log.info('x', { a: 1 })).not.toThrow();
    const cyclic: Record<string, unknown> = {};
    cyclic['self'] = cyclic;
    const lines: string[] = [];
    createLogger(redactor, { destination: { write: (l) => lines.push(l) } }).info('c', { cyclic });
    expect(JSON.parse(lines[0]!)).toMatchObject({ cyclic: { self: '[Circular]' } });
  });

  it('validates its options', () => {
    expect(() => createLogger(createRedactor(), { level: 'loud' as never })).toThrow(ConfigError);
  });
});
