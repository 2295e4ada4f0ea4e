// doctor's clock-skew check: a provider's HTTP `Date` header against our clock. Leases, token
// expiry and rotation due dates are computed on both sides; a skewed host renews too late or
// treats a fresh credential as expired.
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { systemClock, type Clock } from '../handles/clock.js';

/** Skew above this is a warning. */
export const SKEW_WARN_MS = 30_000;
/** Skew above this fails the check. */
export const SKEW_FAIL_MS = 5 * 60_000;

/** What one request measured: the provider's clock minus ours, and the round trip it came in. */
export interface SkewSample {
  readonly skewMs: number;
  readonly rttMs: number;
}

/**
 * GETs `url` and compares its `Date` header with the middle of the round trip on `clock`. The
 * header has whole seconds (it truncates), so the server's time is taken as the middle of its
 * second; what is left of the uncertainty is half the round trip plus half a second.
 * Resolves to a sample, or rejects with an Error whose message names what went wrong (never a body).
 */
export function measureSkew(url: string, options: { readonly clock?: Clock; readonly timeoutMs?: number } = {}): Promise<SkewSample> {
  const clock = options.clock ?? systemClock;
  const timeoutMs = options.timeoutMs ?? 5_000;
  return new Promise((resolve, reject) => {
    const target = new URL(url);
    const request = target.protocol === 'https:' ? httpsRequest : httpRequest;
    const start = clock.now();
    const req = request(target, { method: 'GET', headers: { accept: 'application/json' } }, (res) => {
      const end = clock.now();
      clock.clearTimeout(timer);
      res.resume(); // the body is not read: only the header matters
      const date = res.headers.date;
      const server = date === undefined ? NaN : Date.parse(date);
      if (Number.isNaN(server)) {
        reject(new Error(date === undefined ? 'its answer has no Date header' : 'its Date header does not parse'));
        return;
      }
      resolve({ skewMs: server + 500 - (start + end) / 2, rttMs: end - start });
    });
    const timer = clock.setTimeout(() => req.destroy(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
    req.on('error', (err) => {
      clock.clearTimeout(timer);
      reject(new Error((err as NodeJS.ErrnoException).code ?? err.message));
    });
    req.end();
  });
}

/** The verdict on a sample: ok within {@link SKEW_WARN_MS}, warn up to {@link SKEW_FAIL_MS}, fail beyond. */
export function skewStatus(sample: SkewSample): 'ok' | 'warn' | 'fail' {
  // The measurement's own uncertainty is given to the clock, never against it.
  const at = Math.max(0, Math.abs(sample.skewMs) - sample.rttMs / 2 - 500);
  return at > SKEW_FAIL_MS ? 'fail' : at > SKEW_WARN_MS ? 'warn' : 'ok';
}
