import { describe, expect, it, vi } from 'vitest';
import { Auditor } from '../../src/audit/auditor.js';
import { callbackAuditSink } from '../../src/audit/callbackAuditSink.js';
import type { AuditEvent } from '../../src/audit/event.js';
import { stdoutAuditSink } from '../../src/audit/stdoutAuditSink.js';
import { fakeClock } from '../helpers.js';

const failing = callbackAuditSink(() => {
  throw new Error('disk full');
});

describe('Auditor', () => {
  it('stamps events with ts, seq, identity and environment, leaving out absent rule and reason', async () => {
    const clock = fakeClock(Date.UTC(2026, 0, 1));
    const events: AuditEvent[] = [];
    const a = new Auditor({ sinks: [callbackAuditSink((e) => void events.push(e))], identity: 'orders-sync', environment: 'prod', now: clock.now, failure: 'fail-closed' });
    await a.record({ action: 'resolve', outcome: 'success', ref: 'secret://x', provider: 'mock', latencyMs: 4, version: '2' });
    clock.advance(1000);
    await a.record({ action: 'rotate', outcome: 'success', ref: 'secret://x', rule: 'r', reason: 'why' });
    expect(events).toEqual([
      { ts: '2026-01-01T00:00:00.000Z', seq: 1, identity: 'orders-sync', environment: 'prod', action: 'resolve', ref: 'secret://x', provider: 'mock', outcome: 'success', code: null, latencyMs: 4, version: '2' },
      { ts: '2026-01-01T00:00:01.000Z', seq: 2, identity: 'orders-sync', environment: 'prod', action: 'rotate', ref: 'secret://x', provider: null, outcome: 'success', code: null, latencyMs: 0, version: null, rule: 'r', reason: 'why' },
    ]);
    expect(Object.isFrozen(events[0])).toBe(true);
  });

  it('fail-closed: throws AuditWriteError when no sink kept the record; one kept record is enough', async () => {
    const onSinkError = vi.fn();
    const none = new Auditor({ sinks: [failing], identity: undefined, environment: 'prod', now: Date.now, failure: 'fail-closed', onSinkError });
    await expect(none.record({ action: 'resolve', outcome: 'success', ref: 'secret://x' })).rejects.toMatchObject({ code: 'AUDIT_WRITE_FAILED', ref: 'secret://x' });
    expect(onSinkError).toHaveBeenCalledWith(expect.objectContaining({ code: 'AUDIT_WRITE_FAILED' }));
    const kept: AuditEvent[] = [];
    const some = new Auditor({ sinks: [failing, callbackAuditSink((e) => void kept.push(e))], identity: undefined, environment: 'prod', now: Date.now, failure: 'fail-closed' });
    await expect(some.record({ action: 'resolve', outcome: 'success' })).resolves.toBeUndefined();
    expect(kept).toHaveLength(1);
  });

  it('warn: reports the failure and lets the access go on', async () => {
    const onSinkError = vi.fn();
    const a = new Auditor({ sinks: [failing], identity: undefined, environment: 'dev', now: Date.now, failure: 'warn', onSinkError });
    await expect(a.record({ action: 'resolve', outcome: 'success' })).resolves.toBeUndefined();
    expect(onSinkError).toHaveBeenCalledTimes(1);
  });

  it('without sinks, record returns nothing to wait for; observers still see events, count sees every record', () => {
    const count = vi.fn();
    const a = new Auditor({ sinks: [], identity: undefined, environment: 'dev', now: Date.now, failure: 'warn', count });
    expect(a.eventful).toBe(false);
    expect(a.record({ action: 'resolve', outcome: 'success' })).toBeUndefined();
    const seen = vi.fn(() => {
      throw new Error('observer bug');
    });
    a.observe(seen);
    expect(a.eventful).toBe(true);
    expect(a.record({ action: 'resolve', outcome: 'success' })).toBeUndefined();
    expect(seen).toHaveBeenCalledWith(expect.objectContaining({ seq: 2 }));
    expect(count).toHaveBeenCalledTimes(2);
  });

  it('observeOnly records skip the sinks', () => {
    const write = vi.fn();
    const a = new Auditor({ sinks: [callbackAuditSink(write)], identity: undefined, environment: 'dev', now: Date.now, failure: 'warn' });
    expect(a.record({ action: 'cache-hit', outcome: 'success' }, true)).toBeUndefined();
    expect(write).not.toHaveBeenCalled();
  });

  it('close closes every sink and reports failures', async () => {
    const onSinkError = vi.fn();
    const close = vi.fn(async () => {});
    const a = new Auditor({
      sinks: [callbackAuditSink(() => {}, close), callbackAuditSink(() => {}, async () => Promise.reject(new Error('x')))],
      identity: undefined,
      environment: 'dev',
      now: Date.now,
      failure: 'warn',
      onSinkError,
    });
    await a.close();
    expect(close).toHaveBeenCalled();
    expect(onSinkError).toHaveBeenCalledWith(expect.objectContaining({ message: expect.stringContaining('close') }));
  });
});

describe('stdout and callback sinks', () => {
  it('stdoutAuditSink writes one JSON line per event; events of one turn go out in one write', async () => {
    const out: string[] = [];
    const sink = stdoutAuditSink({ write: (l) => void out.push(l) });
    const e = { ts: 't', seq: 1, identity: null, environment: 'dev', action: 'resolve', ref: 'secret://x', provider: null, outcome: 'success', code: null, latencyMs: 0, version: null } as const;
    await Promise.all([sink.write(e), sink.write({ ...e, seq: 2 })]);
    expect(out).toHaveLength(1);
    const lines = out[0]!.split('\n');
    expect(lines.pop()).toBe('');
    expect(lines.map((l) => JSON.parse(l))).toMatchObject([{ audit: { ref: 'secret://x', seq: 1 } }, { audit: { seq: 2 } }]);
    await sink.close?.();
  });

  it('callbackAuditSink({ batch }) hands over the events of one turn in one call, and a throw fails each of them', async () => {
    const calls: number[][] = [];
    let fail = false;
    const sink = callbackAuditSink({
      batch: (events) => {
        calls.push(events.map((e) => e.seq));
        if (fail) throw new Error('siem down');
      },
    });
    const e = { ts: 't', seq: 1, identity: null, environment: 'dev', action: 'resolve', ref: 'secret://x', provider: null, outcome: 'success', code: null, latencyMs: 0, version: null } as const;
    await Promise.all([1, 2, 3].map((seq) => sink.write({ ...e, seq })));
    fail = true;
    const failed = await Promise.allSettled([4, 5].map((seq) => sink.write({ ...e, seq })));
    expect(calls).toEqual([[1, 2, 3], [4, 5]]);
    expect(failed.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    await sink.close?.();
  });

  it('callbackAuditSink needs a function', () => {
    expect(() => callbackAuditSink(undefined as never)).toThrow(/needs a function/);
  });
});
