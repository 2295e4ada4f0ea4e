import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import winston from 'winston';
import { describe, expect, it } from 'vitest';
import { createRedactor } from '../../src/index.js';
import { redactFormat } from '../../src/winston/index.js';

const rand = () => randomBytes(18).toString('base64url');

async function capture(format: winston.Logform.Format, write: (log: winston.Logger) => void): Promise<string[]> {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, cb) {
      lines.push(String(chunk));
      cb();
    },
  });
  const log = winston.createLogger({ level: 'debug', format, transports: [new winston.transports.Stream({ stream })] });
  write(log);
  await new Promise((r) => setTimeout(r, 20));
  return lines;
}

describe('connector-secrets/winston', () => {
  it('redacts message, fields, keys, splat and errors, and the final JSON line', async () => {
    const redactor = createRedactor();
    const secret = rand();
    redactor.add(secret);
    const lines = await capture(
      winston.format.combine(winston.format.errors({ stack: true }), winston.format.splat(), winston.format.json(), redactFormat(redactor)),
      (log) => {
        log.info(`hello ${secret}`, { password: 'unregistered-pw', list: [secret], nested: { note: secret } });
        log.error(new Error(`bad ${secret}`));
        log.warn('splat %s', secret);
        log.debug('meta', { err: new Error(`inner ${secret}`) });
      },
    );
    const out = lines.join('');
    expect(lines).toHaveLength(4);
    expect(out).not.toContain(secret);
    expect(out).not.toContain('unregistered-pw');
    expect(JSON.parse(lines[0]!)).toMatchObject({ level: 'info', message: 'hello [REDACTED]', password: '[REDACTED]' });
  });

  it('works before a printf format too', async () => {
    const redactor = createRedactor();
    const secret = rand();
    redactor.add(secret);
    const lines = await capture(
      winston.format.combine(redactFormat(redactor), winston.format.printf((i) => `${i.level}: ${String(i.message)} ${JSON.stringify(i['meta'])}`)),
      (log) => log.info(`x ${secret}`, { meta: { token: 'abc', v: secret } }),
    );
    expect(lines[0]).toBe('info: x [REDACTED] {"token":"[REDACTED]","v":"[REDACTED]"}\n');
  });
});
