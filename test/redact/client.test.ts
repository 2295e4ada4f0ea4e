import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createSecrets, type SecretsOptions } from '../../src/index.js';
import { fromMock } from '../../src/testing/index.js';

const rand = (n = 18) => randomBytes(n).toString('base64url');

function client(extra: Partial<SecretsOptions> = {}) {
  const mock = fromMock();
  const lines: string[] = [];
  const secrets = createSecrets({
    environment: 'dev',
    providers: [mock],
    audit: false,
    anomaly: false,
    openTelemetry: false,
    logger: { destination: { write: (l) => lines.push(l) } },
    ...extra,
  } as SecretsOptions);
  return { mock, secrets, lines };
}

describe('secrets.redactor (client wiring)', () => {
  it('registers every fetched value before the Secret reaches the caller', async () => {
    const { mock, secrets } = client();
    const token = rand();
    mock.set('env://API_TOKEN', token);
    expect(secrets.redactor.redact(`x ${token}`)).toBe(`x ${token}`);
    const s = await secrets.get('env://API_TOKEN');
    expect(s.reveal()).toBe(token);
    expect(secrets.redactor.redact(`x ${token} ${encodeURIComponent(token)}`)).toBe('x [REDACTED] [REDACTED]');
    await secrets.close();
  });

  it('registers each string field of a JSON secret, and its Basic-auth token, even when one field is asked for', async () => {
    const { mock, secrets } = client();
    const password = rand();
    const username = `etl_${rand(4)}`;
    mock.set('vault://kv/orders-db', { username, password, host: 'db.internal', port: 5432 });
    const user = await secrets.get('vault://kv/orders-db#username');
    expect(user.reveal()).toBe(username);
    const r = secrets.redactor;
    expect(r.redact(`connect ${username}:${password}`)).toBe('connect [REDACTED]:[REDACTED]');
    expect(r.redact(Buffer.from(`${username}:${password}`).toString('base64'))).toBe('[REDACTED]');
    await secrets.close();
  });

  it('registers each line of a multi-line secret (a PEM key)', async () => {
    const { mock, secrets } = client();
    const lines = [rand(48), rand(48), rand(12)];
    const d = '-'.repeat(5);
    mock.set('file:///run/secrets/key.pem', [`${d}BEGIN TEST KEY${d}`, ...lines, `${d}END TEST KEY${d}`].join('\n'));
    await secrets.get('file:///run/secrets/key.pem');
    expect(secrets.redactor.redact(`line ${lines[1]}`)).toBe('line [REDACTED]');
    await secrets.close();
  });

  it('registers binary values (getBytes)', async () => {
    const { mock, secrets } = client();
    const bytes = randomBytes(24);
    mock.set('file:///run/secrets/signing.key', new Uint8Array(bytes));
    await secrets.getBytes('file:///run/secrets/signing.key');
    expect(secrets.redactor.redact(bytes.toString('hex'))).toBe('[REDACTED]');
    await secrets.close();
  });

  it('registers Secret.map results through onDerive', async () => {
    const { mock, secrets } = client();
    mock.set('env://USER', `etl_${rand(4)}`);
    mock.set('env://PASS', rand());
    const user = await secrets.get('env://USER');
    const pass = await secrets.get('env://PASS');
    const header = pass.map((p) => `Bearer ${user.reveal()}.${p}.signed`);
    expect(secrets.redactor.redact(`sent ${header.reveal()}`)).toBe('sent [REDACTED]');
    await secrets.close();
  });

  it('warns about short values by ref, through the redaction option', async () => {
    const warnings: string[] = [];
    const { mock, secrets } = client({ redaction: { minLength: 8, onWarning: (w) => warnings.push(`${w.code} ${w.ref}`) } });
    mock.set('env://PIN', '4821');
    await secrets.get('env://PIN');
    expect(warnings).toEqual(['SHORT_VALUE env://PIN']);
    expect(secrets.redactor.redact('pin 4821')).toBe('pin 4821');
    await secrets.close();
  });

  it('uses the client placeholder, and validates the redaction and logger options', async () => {
    const { secrets } = client({ placeholder: '<hidden>' });
    expect(secrets.redactor.placeholder).toBe('<hidden>');
    await secrets.close();
    expect(() => client({ redaction: { minLength: -1 } })).toThrow(/redaction\.minLength/);
    expect(() => client({ redaction: { bogus: true } as never })).toThrow(/redaction/);
    expect(() => client({ logger: { level: 'loud' } as never })).toThrow(/logger\.level/);
  });

  it('secrets.logger redacts what it writes', async () => {
    const { mock, secrets, lines } = client();
    const token = rand();
    mock.set('env://API_TOKEN', token);
    const s = await secrets.get('env://API_TOKEN');
    secrets.logger.info(`calling with ${s.reveal()}`, { s, headers: { authorization: `Bearer ${s.reveal()}` } });
    secrets.logger.child({ table: 'orders' }).error('failed', { err: new Error(`bad token ${s.reveal()}`) });
    const out = lines.join('');
    expect(out).not.toContain(token);
    expect(JSON.parse(lines[0]!)).toMatchObject({ level: 'info', msg: 'calling with [REDACTED]', s: '[REDACTED]', headers: { authorization: '[REDACTED]' } });
    expect(JSON.parse(lines[1]!)).toMatchObject({ table: 'orders', err: { message: 'bad token [REDACTED]' } });
    await secrets.close();
  });
});
