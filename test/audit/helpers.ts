import { randomBytes } from 'node:crypto';
import type { AuditEvent } from '../../src/audit/event.js';

/** A fresh random HMAC key (hex text). */
export function hmacKey(): string {
  return randomBytes(32).toString('hex');
}

let seq = 0;
/** A plausible audit event. */
export function event(over: Partial<AuditEvent> = {}): AuditEvent {
  seq += 1;
  return {
    ts: new Date(Date.UTC(2026, 0, 1, 0, 0, seq)).toISOString(),
    seq,
    identity: 'orders-sync',
    environment: 'prod',
    action: 'resolve',
    ref: `secret://orders-db/password-${seq}`,
    provider: 'mock',
    outcome: 'success',
    code: null,
    latencyMs: 3,
    version: '1',
    ...over,
  };
}
