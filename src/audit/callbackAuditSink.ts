import { ConfigError } from '../errors.js';
import type { AuditEvent, AuditSink } from './event.js';

/**
 * Hands each audit event to `fn` (a queue, a SIEM client, a test array). A throw or rejection
 * counts as a failed write; the client awaits `fn` before the access goes on.
 *
 * @example
 * ```ts
 * const events: AuditEvent[] = [];
 * createSecrets({ environment: 'dev', providers, audit: callbackAuditSink((e) => void events.push(e)) });
 * ```
 */
export function callbackAuditSink(fn: (event: AuditEvent) => void | Promise<void>, close?: () => Promise<void>): AuditSink {
  if (typeof fn !== 'function') throw new ConfigError('callbackAuditSink needs a function');
  return close === undefined ? { write: (event) => fn(event) } : { write: (event) => fn(event), close };
}
