import { ConfigError } from '../errors.js';
import type { AuditEvent, AuditSink } from './event.js';
import { GroupCommit } from './groupCommit.js';

/**
 * The batched form of {@link callbackAuditSink}.
 *
 * @example
 * ```ts
 * callbackAuditSink({ batch: (events) => siem.send(events), maxBatch: 500 });
 * ```
 */
export interface BatchCallbackAuditSinkOptions {
  /**
   * Called with the events that arrived while the previous call was in flight, in order (group
   * commit); a throw or rejection fails the write of every event of that call.
   */
  readonly batch: (events: readonly AuditEvent[]) => void | Promise<void>;
  /** Called by `secrets.close()` once every event has been handed to `batch`. */
  readonly close?: () => Promise<void>;
  /**
   * The most events one call takes; the rest wait for the next call.
   * @default 4096
   */
  readonly maxBatch?: number;
}

/**
 * Hands audit events to your function (a queue, a SIEM client, a test array). With a function,
 * each event is one call; with `{ batch }`, events that arrive while a call is in flight go
 * together in the next call (group commit: one round trip for many records). A throw or rejection
 * counts as a failed write; the client awaits the call that holds its event before the access
 * goes on.
 *
 * @example
 * ```ts
 * const events: AuditEvent[] = [];
 * createSecrets({ environment: 'dev', providers, audit: callbackAuditSink((e) => void events.push(e)) });
 * createSecrets({ environment: 'prod', providers, audit: callbackAuditSink({ batch: (es) => siem.send(es) }) });
 * ```
 */
export function callbackAuditSink(
  fn: ((event: AuditEvent) => void | Promise<void>) | BatchCallbackAuditSinkOptions,
  close?: () => Promise<void>,
): AuditSink {
  if (typeof fn === 'object' && fn !== null && typeof fn.batch === 'function') {
    const { batch, close: closeBatch } = fn;
    const events = new GroupCommit<AuditEvent>(async (items) => batch(items), fn.maxBatch);
    return {
      write: (event) => events.push(event),
      async close() {
        await events.drain();
        await closeBatch?.();
      },
    };
  }
  if (typeof fn !== 'function') throw new ConfigError('callbackAuditSink needs a function or { batch: function }');
  return close === undefined ? { write: (event) => fn(event) } : { write: (event) => fn(event), close };
}
