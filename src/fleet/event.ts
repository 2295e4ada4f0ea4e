// The one check of a fleet event body, for what a publisher sends and for what a bus reads back
// from its durable log (a table row is input like any other).
import { ConfigError } from '../errors.js';
import { definePolicy, type PolicyDocument } from '../guard/policy.js';
import { parseRef } from '../ref/parseRef.js';
import type { FleetEventBody } from './bus.js';

/** The fields each event type may carry: anything else (a `value`, a `password`) is refused. */
const FIELDS: Readonly<Record<FleetEventBody['type'], readonly string[]>> = {
  rotated: ['type', 'ref', 'version'],
  revoked: ['type', 'leaseId'],
  quarantined: ['type', 'identity', 'reason'],
  lifted: ['type', 'identity', 'reason'],
  'policy-updated': ['type', 'policy'],
};

/** Bounds that keep an event small (a NOTIFY payload is at most 8000 bytes; a policy travels in the table). */
const MAX = { ref: 2048, version: 256, leaseId: 1024, identity: 256, reason: 1024, policyBytes: 64 * 1024 };

/**
 * Checks an event body and returns a plain copy of it (only its own, known fields). A body with
 * an unknown type, a missing or extra field, a field of the wrong shape or size, a ref that does
 * not parse, a ref with a `#field` or params, or a policy `definePolicy` refuses is a
 * {@link ConfigError}; the message names the field, never its content.
 */
export function checkFleetEventBody(body: unknown): FleetEventBody {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new ConfigError('a fleet event must be an object');
  const b = body as Record<string, unknown>;
  const type = b['type'] as FleetEventBody['type'];
  if (typeof type !== 'string' || !Object.hasOwn(FIELDS, type)) throw new ConfigError(`a fleet event's type must be one of ${Object.keys(FIELDS).join(', ')}`);
  const allowed = FIELDS[type];
  const extra = Object.keys(b).filter((k) => !allowed.includes(k));
  // Events carry names, never values: a field the type does not define is refused, not dropped.
  if (extra.length > 0) throw new ConfigError(`a ${type} event carries only ${allowed.join(', ')}; refused ${extra.length} other field(s)`);
  switch (type) {
    case 'rotated': {
      const ref = text(b, 'ref', MAX.ref, type);
      let parsed;
      try {
        parsed = parseRef(ref);
      } catch {
        throw new ConfigError('a rotated event needs a secret ref (scheme://path)');
      }
      if (parsed.fieldPath !== undefined || Object.keys(parsed.params).length > 0) {
        throw new ConfigError('a rotated event names a whole secret: no #field and no ?params in its ref');
      }
      const version = b['version'] === null ? null : text(b, 'version', MAX.version, type);
      return { type, ref, version };
    }
    case 'revoked':
      return { type, leaseId: text(b, 'leaseId', MAX.leaseId, type) };
    case 'quarantined':
      return { type, identity: text(b, 'identity', MAX.identity, type), reason: text(b, 'reason', MAX.reason, type) };
    case 'lifted': {
      const identity = text(b, 'identity', MAX.identity, type);
      return b['reason'] === undefined ? { type, identity } : { type, identity, reason: text(b, 'reason', MAX.reason, type, true) };
    }
    case 'policy-updated': {
      const policy = b['policy'];
      let json: string;
      try {
        json = JSON.stringify(policy);
      } catch {
        throw new ConfigError('a policy-updated event needs a JSON policy document');
      }
      if (json === undefined || Buffer.byteLength(json) > MAX.policyBytes) throw new ConfigError(`a policy-updated event's policy must be a JSON document of at most ${MAX.policyBytes} bytes`);
      // Refused here as the receiving client would refuse it: an invalid policy never travels.
      definePolicy(policy as PolicyDocument);
      return { type, policy: JSON.parse(json) as unknown };
    }
  }
}

function text(b: Record<string, unknown>, field: string, max: number, type: string, allowEmpty = false): string {
  const v = b[field];
  if (typeof v !== 'string' || (!allowEmpty && v === '') || v.length > max) {
    throw new ConfigError(`a ${type} event's ${field} must be a ${allowEmpty ? '' : 'non-empty '}string of at most ${max} characters`);
  }
  // NUL cannot be stored in PostgreSQL text or jsonb; lone surrogates are not valid UTF-8.
  if (v.includes('\u0000') || !v.isWellFormed()) throw new ConfigError(`a ${type} event's ${field} holds a NUL or an unpaired surrogate`);
  return v;
}
