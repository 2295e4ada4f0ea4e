import { randomBytes } from 'node:crypto';
import { AssertionError } from 'node:assert';
import { describe, expect, it } from 'vitest';
import { createRedactor, Secret } from '../../src/index.js';
import { expectNoSecrets, findLeaks } from '../../src/testing/index.js';

const rand = () => randomBytes(18).toString('base64url');

describe('leak assertions agree with the redactor', () => {
  it('a JSON secret’s common-word and short fields, which the redactor leaves visible, are not leaks', () => {
    const password = rand();
    const db = new Secret(JSON.stringify({ username: 'admin', host: 'localhost', port: '5432', password }), { ref: 'vault://kv/dev/orders-db' });
    const redactor = createRedactor({ onWarning: () => {} });
    redactor.add(db.reveal(), { ref: 'vault://kv/dev/orders-db' });
    // The line a connector logs: the redactor leaves these words alone, so the assertion must too.
    const line = redactor.redact(`connected as admin to localhost:5432 with ${password}`);
    expect(line).not.toContain(password);
    expect(findLeaks(line, [db])).toEqual([]);
    expect(() => expectNoSecrets(line, [db])).not.toThrow();
  });

  it('a whole value shorter than minLength or on the allowlist is not looked for unless asked', () => {
    const short = new Secret('abc1', { ref: 'env://PIN' });
    const word = new Secret('postgres', { ref: 'env://DB_USER' });
    const out = 'user postgres pin abc1';
    expect(findLeaks(out, [short, word])).toEqual([]);
    const strict = findLeaks(out, [short, word], { includeUnmasked: true });
    expect(strict.map((l) => l.ref)).toEqual(['env://PIN', 'env://DB_USER']);
  });

  it('tightens with a lower minLength and a smaller allowlist', () => {
    const value = new Secret('k9x2', { ref: 'env://CODE' });
    expect(findLeaks('code k9x2', [value])).toEqual([]);
    expect(findLeaks('code k9x2', [value], { minLength: 4 })).toHaveLength(1);
    const user = new Secret(JSON.stringify({ username: 'admin', password: rand() }), { ref: 'vault://kv/a' });
    expect(findLeaks('as admin', [user], { allowlist: [] })).toMatchObject([{ part: 'field username' }]);
  });

  it('finds the Basic-auth token the redactor masks for a username/password pair', () => {
    const pair = { username: 'etl_reader', password: rand() };
    const s = new Secret(JSON.stringify(pair), { ref: 'vault://kv/dev/api' });
    const token = Buffer.from(`${pair.username}:${pair.password}`).toString('base64');
    const leaks = findLeaks(`authorization: Basic ${token}`, [s]);
    expect(leaks.some((l) => l.part === 'basic-auth')).toBe(true);
  });

  it('the failure message names the ref and position, never the value', () => {
    const value = rand();
    const s = new Secret(value, { ref: 'env://API_TOKEN' });
    let err: unknown;
    try {
      expectNoSecrets(`0123456789${value}`, [s]);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(AssertionError);
    expect((err as Error).message).toContain('env://API_TOKEN');
    expect((err as Error).message).toContain('offset 10');
    expect((err as Error).message).not.toContain(value);
  });
});
