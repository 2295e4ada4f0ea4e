import type { Redactor } from '../redact/redactor.js';
import type { HandleOptions } from './CredentialHandle.js';
import type { Clock } from './clock.js';

/**
 * The refresh schedule of a cloud access-token handle (`gcpAccessToken`, `azureAccessToken`):
 * a token lives about an hour and is replaced well before it ends, so the safety margin is ten
 * seconds rather than a generic handle's one.
 */
export interface TokenHandleOptions {
  /**
   * Where in its lifetime a token is replaced, drawn uniformly from this range.
   * @default [2/3, 3/4]
   */
  readonly refreshFraction?: readonly [number, number];
  /**
   * The refresh happens at the latest this long before expiry.
   * @default 300_000
   */
  readonly refreshWindowMs?: number;
  /**
   * A token is never handed out later than this before its expiry.
   * @default 10_000
   */
  readonly safetyMarginMs?: number;
  /**
   * A redactor that learns every token as it is issued (e.g. `secrets.redactor`).
   * @default none
   */
  readonly redactor?: Redactor;
  /**
   * Time and timers; simulations pass a fake clock.
   * @default the system clock
   */
  readonly clock?: Clock;
  /**
   * The random source for jitter, in [0, 1).
   * @default Math.random
   */
  readonly random?: () => number;
}

/** The handle options of a token handle, its defaults applied. @internal */
export function tokenHandleOptions(init: TokenHandleOptions, clock: Clock, random: () => number): HandleOptions {
  return {
    clock,
    random,
    ...(init.refreshFraction === undefined ? {} : { refreshFraction: init.refreshFraction }),
    refreshWindowMs: init.refreshWindowMs ?? 300_000,
    safetyMarginMs: init.safetyMarginMs ?? 10_000,
  };
}
