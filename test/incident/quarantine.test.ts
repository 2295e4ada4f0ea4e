import { describe, expect, it } from 'vitest';
import { callbackAuditSink } from '../../src/audit/callbackAuditSink.js';
import type { AuditEvent } from '../../src/audit/event.js';
import { createSecrets } from '../../src/client.js';
import { fromMock } from '../../src/testing/fromMock.js';
import { errorText, generated, rejection } from '../helpers.js';

const REF = 'vault://kv/dev/orders-api';
const DB = 'vault://database/creds/etl';

function setup() {
  const mock = fromMock();
  const value = generated();
  mock.set(REF, value);
  mock.lease(DB, { ttlMs: 3_600_000, issue: (n) => ({ username: `etl-${n}`, password: generated() }) });
  const events: AuditEvent[] = [];
  const secrets = createSecrets({ environment: 'dev', providers: [mock], identity: 'orders-sync', audit: callbackAuditSink((e) => void events.push(e)) });
  return { mock, value, events, secrets };
}

describe('secrets.quarantine / lift', () => {
  it("denies every access of the client's own identity at once, even cached values, closes handles and revokes their leases", async () => {
    const { mock, value, events, secrets } = setup();
    expect((await secrets.get(REF)).reveal()).toBe(value); // now cached
    const handle = secrets.handle(DB);
    await handle.get();
    expect(mock.leases.filter((l) => !l.revoked)).toHaveLength(1);

    await secrets.quarantine('orders-sync', { reason: 'INC-1: token seen in a paste' });
    expect(secrets.isQuarantined('orders-sync')).toBe(true);
    for (const call of [
      () => secrets.get(REF),
      () => secrets.getBytes(REF),
      () => secrets.getMany({ a: REF }),
      () => secrets.rotate(REF, { generate: { length: 16 } }),
      async () => secrets.handle(REF),
    ]) {
      const err = await rejection(call());
      expect(err).toMatchObject({ code: 'IDENTITY_QUARANTINED', name: 'QuarantinedError', identity: 'orders-sync' });
    }
    expect(mock.leases.every((l) => l.revoked)).toBe(true);
    await expect(handle.get()).rejects.toThrow();

    expect(events).toContainEqual(expect.objectContaining({ action: 'quarantine', outcome: 'success', identity: 'orders-sync', reason: expect.stringMatching(/^identity orders-sync quarantined: INC-1: token seen in a paste; .*1 handle\(s\) closed/) }));
    expect(events).toContainEqual(expect.objectContaining({ action: 'revoke', outcome: 'success', ref: DB }));
    expect(events.filter((e) => e.code === 'IDENTITY_QUARANTINED' && e.outcome === 'denied').length).toBeGreaterThanOrEqual(3);
    expect(JSON.stringify(events)).not.toContain(value);

    await secrets.lift('orders-sync', { reason: 'INC-1 closed' });
    expect(secrets.isQuarantined('orders-sync')).toBe(false);
    expect((await secrets.get(REF)).reveal()).toBe(value);
    expect(events.at(-2)).toMatchObject({ action: 'lift', outcome: 'success', reason: 'identity orders-sync lifted: INC-1 closed' });
    await secrets.close();
  });

  it("another identity's quarantine is remembered and audited but does not deny this client", async () => {
    const { value, events, secrets } = setup();
    await secrets.quarantine('billing-sync', { reason: 'INC-2' });
    expect(secrets.isQuarantined('billing-sync')).toBe(true);
    expect((await secrets.get(REF)).reveal()).toBe(value);
    expect(events.find((e) => e.action === 'quarantine')).toMatchObject({ reason: 'identity billing-sync quarantined: INC-2' });
    await secrets.close();
  });

  it('redacts known values from the reason and refuses a missing identity or reason', async () => {
    const { value, events, secrets } = setup();
    await secrets.get(REF);
    await secrets.quarantine('billing-sync', { reason: `leaked ${value} in a ticket` });
    expect(JSON.stringify(events)).not.toContain(value);
    await expect(secrets.quarantine('', { reason: 'x' })).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
    const err = await rejection(secrets.quarantine('orders-sync', { reason: '  ' }));
    expect(err).toMatchObject({ code: 'CONFIG_INVALID' });
    expect(errorText(err)).not.toContain(value);
    expect(secrets.isQuarantined('orders-sync')).toBe(false);
    await secrets.close();
  });
});
