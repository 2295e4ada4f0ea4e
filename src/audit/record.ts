import { createHmac, timingSafeEqual } from 'node:crypto';
import { ConfigError } from '../errors.js';
import { canonicalJson } from './canonical.js';
import type { AuditEvent } from './event.js';

/** The `prev` of the first line of a log. */
export const GENESIS = '0'.repeat(64);

/** The signed closing record a file sink writes on close; its absence at the end of a log shows truncation. */
export interface AuditCheckpoint {
  /** When the sink closed (ISO 8601). */
  readonly ts: string;
  /** How many event lines were written since the previous checkpoint (or the start of the file). */
  readonly count: number;
}

/** One line of an audit log file: an event or a checkpoint, chained to the line before by `prev`. */
export type AuditLine =
  | { readonly seq: number; readonly prev: string; readonly event: AuditEvent; readonly mac: string }
  | { readonly seq: number; readonly prev: string; readonly checkpoint: AuditCheckpoint; readonly mac: string };

/** What the MAC of a line covers besides `prev`: its sequence number and its event or checkpoint. */
export type AuditLineBody = { readonly seq: number; readonly event: AuditEvent } | { readonly seq: number; readonly checkpoint: AuditCheckpoint };

/** The HMAC key as bytes; at least 16 bytes (a string is taken as its UTF-8 bytes). */
export function macKey(hmacKey: string | Uint8Array): Buffer {
  const key = typeof hmacKey === 'string' ? Buffer.from(hmacKey, 'utf8') : Buffer.from(hmacKey);
  if (key.length < 16) throw new ConfigError('the audit hmacKey must be at least 16 bytes (e.g. 32 random bytes, hex-encoded)');
  return key;
}

/** `HMAC-SHA256(key, prev ‖ canonical JSON of the body)`, hex. */
export function lineMac(key: Buffer, prev: string, body: AuditLineBody): string {
  return createHmac('sha256', key).update(prev, 'utf8').update(canonicalJson(body), 'utf8').digest('hex');
}

/** Constant-time comparison of two hex MACs. */
export function sameMac(a: string, b: string): boolean {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  return x.length === y.length && timingSafeEqual(x, y);
}

/** The text of one line (canonical JSON and a newline). */
export function formatLine(line: AuditLine): string {
  return canonicalJson(line) + '\n';
}

const HEX64 = /^[0-9a-f]{64}$/;

/** Parses one line; returns why it is not an audit line when it is not. */
export function parseLine(text: string): AuditLine | string {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return 'not a JSON record';
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'not an audit record';
  const rec = value as Record<string, unknown>;
  const keys = Object.keys(rec).sort().join(',');
  if (keys !== 'event,mac,prev,seq' && keys !== 'checkpoint,mac,prev,seq') return 'not an audit record (unexpected fields)';
  if (!Number.isSafeInteger(rec['seq']) || (rec['seq'] as number) < 1) return 'not an audit record (bad seq)';
  if (typeof rec['prev'] !== 'string' || !HEX64.test(rec['prev'])) return 'not an audit record (bad prev)';
  if (typeof rec['mac'] !== 'string' || !HEX64.test(rec['mac'])) return 'not an audit record (bad mac)';
  const body = rec['event'] ?? rec['checkpoint'];
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return 'not an audit record (bad body)';
  return rec as unknown as AuditLine;
}

/** The part of a line its MAC covers. */
export function bodyOf(line: AuditLine): AuditLineBody {
  return 'event' in line ? { seq: line.seq, event: line.event } : { seq: line.seq, checkpoint: line.checkpoint };
}
