// Leaks of issue 10 ("Redaction, round two"), items 2, 3, 4, 5, 7 and 8 (the Kubernetes
// name/value shape and JSON escaped once more), each across the channels it was found in.
import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { format, inspect } from 'node:util';
import pino from 'pino';
import winston from 'winston';
import { describe, expect, it } from 'vitest';
import { createLogger, createRedactor, type Redactor } from '../../src/index.js';
import { withRedaction } from '../../src/pino/index.js';
import { findLeaks } from '../../src/testing/expectNoSecrets.js';
import { redactFormat } from '../../src/winston/index.js';
import { through } from '../redact/through.js';

const rand = (n = 12) => randomBytes(n).toString('base64url');
const quiet = () => createRedactor({ onWarning: () => {} });

/** Every channel a text reaches, each returning what it would print. */
const TEXT_CHANNELS: Readonly<Record<string, (r: Redactor, text: string) => Promise<string> | string>> = {
  redact: (r, text) => r.redact(text),
  redactValue: (r, text) => JSON.stringify(r.redactValue({ text })),
  stream: (r, text) => through(r, [text]),
  logger: (r, text) => {
    const lines: string[] = [];
    createLogger(r, { destination: { write: (l: string) => lines.push(l) } }).info(text);
    return lines.join('');
  },
  pino: (r, text) => {
    const lines: string[] = [];
    pino(withRedaction(r), sink(lines)).info(text);
    return lines.join('');
  },
  wrapConsole: (r, text) => {
    const lines: string[] = [];
    const c = { log: (...a: unknown[]) => lines.push(a.map(String).join(' ')) } as unknown as Console;
    const undo = r.wrapConsole({ console: c, methods: ['log'] });
    c.log(text);
    undo();
    return lines.join('');
  },
  wrapProcessOutput: (r, text) => {
    const chunks: string[] = [];
    const target = { write: (c: unknown) => chunks.push(String(c)) } as unknown as NodeJS.WritableStream;
    const undo = r.wrapProcessOutput({ streams: [target] });
    target.write(text);
    undo();
    return chunks.join('');
  },
};

function sink(lines: string[]): Writable {
  return new Writable({
    write(chunk: Buffer, _enc, cb) {
      lines.push(chunk.toString());
      cb();
    },
  });
}

/** The util.inspect body of `s` in each quote style inspect may pick (what a leak looks like). */
function inspectLeaks(s: string): string[] {
  const esc = (quote: boolean) =>
    s.replace(/[\x00-\x1f\x27\x5c\x7f-\x9f]/g, (c) => {
      if (c === '\\') return '\\\\';
      if (c === "'") return quote ? "\\'" : "'";
      const named: Record<string, string> = { '\b': '\\b', '\t': '\\t', '\n': '\\n', '\f': '\\f', '\r': '\\r' };
      return named[c] ?? `\\x${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`;
    });
  return [...new Set([esc(false), esc(true)])];
}

describe('item 2: util.inspect escaping', () => {
  // Each secret holds a backslash and some quotes, so inspect's escaping differs from JSON's.
  const shapes = [
    () => `${rand()}\\${rand(3)}"${rand(3)}`, // backslash and ": single quotes, \ doubled, " kept
    () => `${rand()}'${rand(3)}\\${rand(3)}`, // ' picks double quotes
    () => `${rand()}'"${rand(3)}\\x`, // ' and " pick backticks
    () => `${rand()}'"\`${rand(3)}\\`, // all three: single quotes, ' escaped
    () => `${rand()}\t${rand(3)}\u001b[0m\\`, // control characters become \t, \x1B
  ];

  it('an inspected object holding the secret is masked in every channel', async () => {
    for (const shape of shapes) {
      const secret = shape();
      const r = quiet();
      r.add(secret);
      const texts = [inspect({ password: secret }), inspect({ note: secret }), inspect([secret, 1]), format('%o', { note: secret }), format('%O', { note: secret })];
      for (const [channel, print] of Object.entries(TEXT_CHANNELS)) {
        for (const text of texts) {
          const out = await print(r, text);
          for (const leak of inspectLeaks(secret)) expect(out.includes(leak), `${channel}: ${JSON.stringify(text.slice(0, 12))}…`).toBe(false);
        }
      }
    }
  });

  it('winston with format.splat() and %o', () => {
    const secret = `${rand()}\\${rand(3)}"x`;
    const r = quiet();
    r.add(secret);
    const lines: string[] = [];
    const log = winston.createLogger({
      format: winston.format.combine(winston.format.splat(), winston.format.simple(), redactFormat(r)),
      transports: [new winston.transports.Stream({ stream: sink(lines) })],
    });
    log.info('payload %o', { note: secret });
    expect(lines.join('')).toContain('payload');
    for (const leak of inspectLeaks(secret)) expect(lines.join('').includes(leak)).toBe(false);
  });

  it('expectNoSecrets looks for the inspect forms too', () => {
    const secret = `${rand()}\\${rand(3)}"x`;
    expect(findLeaks(inspect({ a: secret }), [secret]).length).toBeGreaterThan(0);
  });
});

describe('item 8: a JSON-escaped secret escaped once more', () => {
  const shapes = [() => `${rand()}"${rand(3)}\\${rand(3)}`, () => `${rand()}é"${rand(3)}`, () => `${rand()}\n${rand(3)}/x`];
  /** The secret as it reads after `levels` JSON escapes (and the ASCII-only first escape, as Python writes it). */
  const escaped = (s: string, levels: number, ascii = false) => {
    let t = JSON.stringify(s).slice(1, -1);
    if (ascii) t = t.replace(/[^\x00-\x7f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
    for (let i = 1; i < levels; i++) t = JSON.stringify(t).slice(1, -1);
    return t;
  };

  it('pino: a JSON payload holding a JSON document, %j of a JSON string, Python-escaped JSON in JSON', () => {
    for (const shape of shapes) {
      const secret = shape();
      const r = quiet();
      r.add(secret);
      const lines: string[] = [];
      const log = pino(withRedaction(r), sink(lines));
      log.info({ payload: JSON.stringify({ inner: JSON.stringify({ pw: secret }) }) }, 'json in json');
      log.info('%j', { body: JSON.stringify({ pw: secret }) });
      log.info({ airflow: JSON.stringify({ extra: escaped(secret, 1, true) }) }, 'python json');
      const out = lines.join('');
      expect(out).toContain('json in json');
      for (const leak of [escaped(secret, 2), escaped(secret, 3), escaped(secret, 2, true), escaped(secret, 3, true)]) {
        expect(out.includes(leak)).toBe(false);
      }
    }
  });

  it('the built-in logger and redact(): three levels of JSON', () => {
    const secret = shapes[0]!();
    const r = quiet();
    r.add(secret);
    const text = JSON.stringify({ b: JSON.stringify({ a: JSON.stringify({ pw: secret }) }) });
    expect(r.redact(text)).toBe(JSON.stringify({ b: JSON.stringify({ a: JSON.stringify({ pw: '[REDACTED]' }) }) }));
    const lines: string[] = [];
    createLogger(r, { destination: { write: (l: string) => lines.push(l) } }).info('x', { doc: JSON.stringify({ a: JSON.stringify({ pw: secret }) }) });
    expect(lines.join('').includes(escaped(secret, 3))).toBe(false);
  });
});
