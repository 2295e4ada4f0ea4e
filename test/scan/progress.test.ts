import { describe, expect, it } from 'vitest';
import type { Clock } from '../../src/handles/clock.js';
import { ProgressLine } from '../../src/scan/progress.js';

describe('scan progress line', () => {
  it('redraws at most every 100 ms of the clock, always at the end, and erases itself', () => {
    let now = 0;
    const clock: Clock = { now: () => now, setTimeout: () => undefined, clearTimeout: () => undefined };
    const out: string[] = [];
    const p = new ProgressLine((s) => out.push(s), clock);
    p.update(1, 10, 1e6);
    now = 50;
    p.update(2, 10, 2e6); // throttled
    now = 150;
    p.update(3, 10, 3e6);
    now = 160;
    p.update(10, 10, 9e6); // the last one is drawn however soon
    p.done();
    expect(out).toHaveLength(4);
    expect(out[0]).toContain('1/10 files, 1.0 MB');
    expect(out[1]).toContain('3/10 files, 3.0 MB');
    expect(out[2]).toContain('[########################] 10/10 files, 9.0 MB');
    expect(out[3]).toBe('\r\u001b[2K');
  });
});
