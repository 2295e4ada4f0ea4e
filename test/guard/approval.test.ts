import { afterEach, describe, expect, it, vi } from 'vitest';
import { askApproval, type ApprovalRequest } from '../../src/guard/approval.js';

const request: ApprovalRequest = { kind: 'policy', ref: 'secret://x', identity: 'orders-sync', environment: 'prod', targetEnvironment: 'prod', rule: 'r', sensitivity: 'critical' };

afterEach(() => {
  vi.useRealTimers();
});

describe('askApproval', () => {
  it('approves only on a strict true', async () => {
    expect(await askApproval(async () => true, request, 1000)).toEqual({ approved: true });
    expect(await askApproval(() => true, request, 1000)).toEqual({ approved: true });
    expect(await askApproval(async () => false, request, 1000)).toMatchObject({ approved: false, why: expect.stringContaining('refused') });
    expect(await askApproval((async () => 'yes') as never, request, 1000)).toMatchObject({ approved: false });
  });

  it('a hook that throws or rejects denies, without repeating its message', async () => {
    const leaked = 'message-from-hook';
    const sync = await askApproval(() => {
      throw new TypeError(leaked);
    }, request, 1000);
    expect(sync).toMatchObject({ approved: false, why: expect.stringContaining('TypeError') });
    expect(JSON.stringify(sync)).not.toContain(leaked);
    expect(await askApproval(async () => Promise.reject(new Error(leaked)), request, 1000)).toMatchObject({ approved: false });
  });

  it('a hook that never answers denies at the timeout', async () => {
    vi.useFakeTimers();
    const pending = askApproval(() => new Promise<boolean>(() => {}), request, 5_000);
    await vi.advanceTimersByTimeAsync(4_999);
    let settled = false;
    void pending.then(() => (settled = true));
    await vi.advanceTimersByTimeAsync(0);
    expect(settled).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(await pending).toMatchObject({ approved: false, why: expect.stringContaining('5000 ms') });
  });

  it('the hook gets a frozen copy of the request', async () => {
    let seen: ApprovalRequest | undefined;
    await askApproval((r) => {
      seen = r;
      return true;
    }, request, 1000);
    expect(seen).toEqual(request);
    expect(Object.isFrozen(seen)).toBe(true);
  });
});
