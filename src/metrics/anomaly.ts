import type { AuditEvent } from '../audit/event.js';
import { ConfigError } from '../errors.js';
import { assertTimeZone, minuteOfDay } from '../guard/timeWindow.js';

/**
 * Kinds of anomaly: an access at an hour never seen during warm-up (`off-hours`), an access
 * outside the policy's daily windows (`outside-window`), more accesses in a window than
 * `burstFactor` times the moving average (`burst`), and `failureThreshold` denials or failures
 * within `failureWindowMs` (`repeated-denials`).
 */
export type AnomalyKind = 'off-hours' | 'outside-window' | 'burst' | 'repeated-denials';

/**
 * An anomaly, as given to `secrets.on('anomaly')` and the `onAlert` hook, and recorded in the
 * audit trail (action `anomaly`, outcome `alert`, code = kind).
 *
 * @example
 * ```ts
 * secrets.on('anomaly', (a) => pager.notify(`${a.kind} on ${a.ref}: ${a.reason}`));
 * ```
 */
export interface AnomalyEvent {
  /** Which detector raised it. */
  readonly kind: AnomalyKind;
  /** What was unusual, in words (no value). */
  readonly reason: string;
  /** The connector identity. */
  readonly identity: string | null;
  /** The environment of the process. */
  readonly environment: string;
  /** The canonical ref. */
  readonly ref: string | null;
  /** When (ISO 8601). */
  readonly ts: string;
}

/** A past access to learn from, e.g. an {@link AuditEvent} read back from an audit log. */
export interface AnomalyHistoryEntry {
  /** ISO 8601 timestamp or epoch milliseconds. */
  readonly ts: string | number;
  /** The canonical ref. */
  readonly ref: string | null;
  /** The connector identity. */
  readonly identity?: string | null;
  /** Entries whose action is not `resolve` or `cache-hit` are ignored. @default 'resolve' */
  readonly action?: string;
  /**
   * How many accesses the entry stands for: a cache-hit summary read back from the audit log is
   * one entry of `count` hits (at its `last` time).
   * @default 1
   */
  readonly count?: number;
}

/**
 * Options of anomaly detection (`createSecrets({ anomaly })`). Per identity and ref.
 *
 * @example
 * ```ts
 * createSecrets({ environment: 'prod', providers, audit, anomaly: { warmupAccesses: 200, timeZone: 'Europe/Berlin', history: pastEvents } });
 * ```
 */
export interface AnomalyOptions {
  /**
   * Accesses of a ref (from `history` and live) that teach its usual hours; after them, an access
   * in an hour never seen is `off-hours`.
   * @default 50
   */
  readonly warmupAccesses?: number;
  /** Past accesses to learn usual hours from before live traffic (read them from the audit log). */
  readonly history?: readonly AnomalyHistoryEntry[];
  /**
   * The time zone hours are counted in.
   * @default 'UTC'
   */
  readonly timeZone?: string;
  /**
   * A window with more accesses than this times the moving average is a `burst`.
   * @default 5
   */
  readonly burstFactor?: number;
  /**
   * The length of one rate window, in milliseconds.
   * @default 60_000
   */
  readonly burstWindowMs?: number;
  /**
   * No burst below this many accesses in a window.
   * @default 20
   */
  readonly burstMinAccesses?: number;
  /**
   * Windows observed before bursts are judged.
   * @default 5
   */
  readonly burstWarmupWindows?: number;
  /**
   * Denials or failures of one ref within `failureWindowMs` that raise `repeated-denials`.
   * @default 5
   */
  readonly failureThreshold?: number;
  /**
   * @default 60_000
   */
  readonly failureWindowMs?: number;
  /**
   * After an alert, the same kind for the same ref stays quiet this long.
   * @default 600_000
   */
  readonly cooldownMs?: number;
  /**
   * Refs tracked at once; the oldest is forgotten beyond it.
   * @default 4096
   */
  readonly maxTracked?: number;
}

interface Track {
  readonly hours: number[];
  learned: number;
  window: number;
  windowCount: number;
  windowsSeen: number;
  average: number;
  burstAlertedWindow: number;
  failures: number[];
  readonly quietUntil: Map<AnomalyKind, number>;
}

const EWMA_ALPHA = 0.3;

/** @internal Watches audit events of one client and raises anomalies. */
export class AnomalyDetector {
  readonly #o: Required<Omit<AnomalyOptions, 'history'>>;
  readonly #tracks = new Map<string, Track>();
  readonly #environment: string;
  readonly #now: () => number;
  readonly #raise: (anomaly: AnomalyEvent) => void;
  #last: { identity: string | null; ref: string | null; key: string; track: Track } | undefined;

  constructor(
    options: AnomalyOptions,
    context: { environment: string; now: () => number; raise: (anomaly: AnomalyEvent) => void },
  ) {
    const o = {
      warmupAccesses: options.warmupAccesses ?? 50,
      timeZone: options.timeZone ?? 'UTC',
      burstFactor: options.burstFactor ?? 5,
      burstWindowMs: options.burstWindowMs ?? 60_000,
      burstMinAccesses: options.burstMinAccesses ?? 20,
      burstWarmupWindows: options.burstWarmupWindows ?? 5,
      failureThreshold: options.failureThreshold ?? 5,
      failureWindowMs: options.failureWindowMs ?? 60_000,
      cooldownMs: options.cooldownMs ?? 600_000,
      maxTracked: options.maxTracked ?? 4096,
    };
    for (const [name, value] of Object.entries(o)) {
      if (name !== 'timeZone' && !(typeof value === 'number' && value > 0 && Number.isFinite(value))) {
        throw new ConfigError(`anomaly.${name} must be a positive number`);
      }
    }
    assertTimeZone(o.timeZone, 'anomaly.timeZone');
    this.#o = o;
    this.#environment = context.environment;
    this.#now = context.now;
    this.#raise = context.raise;
    for (const entry of options.history ?? []) {
      if (entry.action !== undefined && entry.action !== 'resolve' && entry.action !== 'cache-hit') continue;
      const ts = typeof entry.ts === 'number' ? entry.ts : Date.parse(entry.ts);
      if (Number.isNaN(ts)) continue;
      const n = entry.count === undefined ? 1 : Number.isSafeInteger(entry.count) && entry.count > 0 ? entry.count : 0;
      const track = this.#track(entry.identity ?? null, entry.ref);
      track.hours[this.#hour(ts)]! += n;
      track.learned += n;
    }
  }

  /** Looks at one audit event (accesses only). */
  observe(event: AuditEvent): void {
    if (event.action !== 'resolve' && event.action !== 'cache-hit') return;
    this.#access(event.identity, event.ref, event.outcome, event.code);
  }

  /**
   * A counter of successful cache hits of `identity` by ref, for hits that are summarised rather
   * than made into events (they count towards hours and bursts like any access).
   */
  hit(identity: string | null): (ref: string) => void {
    return (ref) => this.#access(identity, ref, 'success', null);
  }

  #access(identity: string | null, ref: string | null, outcome: AuditEvent['outcome'], code: string | null): void {
    const now = this.#now();
    const track = this.#track(identity, ref);

    const hour = this.#hour(now);
    if (track.learned < this.#o.warmupAccesses) {
      track.hours[hour]! += 1;
      track.learned += 1;
    } else if (track.hours[hour] === 0) {
      this.#alert(track, 'off-hours', identity, ref, `access at ${String(hour).padStart(2, '0')}:00-${String(hour + 1).padStart(2, '0')}:00 ${this.#o.timeZone}, an hour not seen in ${track.learned} learned accesses`, now);
    }

    const window = Math.floor(now / this.#o.burstWindowMs);
    if (window !== track.window) {
      if (track.window >= 0) {
        const gap = Math.max(0, window - track.window - 1);
        track.average = track.windowsSeen === 0 ? track.windowCount : EWMA_ALPHA * track.windowCount + (1 - EWMA_ALPHA) * track.average;
        track.average *= (1 - EWMA_ALPHA) ** gap;
        track.windowsSeen += 1 + gap;
      }
      track.window = window;
      track.windowCount = 0;
    }
    track.windowCount += 1;
    const limit = this.#o.burstFactor * Math.max(track.average, 1);
    if (
      track.windowsSeen >= this.#o.burstWarmupWindows &&
      track.windowCount >= this.#o.burstMinAccesses &&
      track.windowCount > limit &&
      track.burstAlertedWindow !== window
    ) {
      track.burstAlertedWindow = window;
      this.#alert(track, 'burst', identity, ref, `${track.windowCount} accesses within ${this.#o.burstWindowMs} ms, above ${this.#o.burstFactor}x the moving average of ${track.average.toFixed(1)}`, now);
    }

    if (outcome === 'denied' || outcome === 'failure') {
      const since = now - this.#o.failureWindowMs;
      track.failures = track.failures.filter((t) => t > since);
      track.failures.push(now);
      if (track.failures.length >= this.#o.failureThreshold) {
        const n = track.failures.length;
        track.failures = [];
        this.#alert(track, 'repeated-denials', identity, ref, `${n} denials or failures within ${this.#o.failureWindowMs} ms (last: ${code ?? 'unknown'})`, now);
      }
    }
  }

  /** Raises `outside-window` for an access a policy denied for its time windows. */
  outsideWindow(identity: string | null, ref: string, reason: string): void {
    const now = this.#now();
    this.#alert(this.#track(identity, ref), 'outside-window', identity, ref, reason, now);
  }

  #alert(track: Track, kind: AnomalyKind, identity: string | null, ref: string | null, reason: string, now: number): void {
    if ((track.quietUntil.get(kind) ?? -Infinity) > now) return;
    track.quietUntil.set(kind, now + this.#o.cooldownMs);
    this.#raise(Object.freeze({ kind, reason, identity, environment: this.#environment, ref, ts: new Date(now).toISOString() }));
  }

  #track(identity: string | null, ref: string | null): Track {
    // Warm traffic asks for the same ref again and again: skip building its key.
    const last = this.#last;
    if (last !== undefined && last.identity === identity && last.ref === ref && this.#tracks.get(last.key) === last.track) return last.track;
    const key = `${identity ?? ''}\u0000${ref ?? ''}`;
    let track = this.#tracks.get(key);
    if (track === undefined) {
      if (this.#tracks.size >= this.#o.maxTracked) this.#tracks.delete(this.#tracks.keys().next().value!);
      track = {
        hours: new Array<number>(24).fill(0),
        learned: 0,
        window: -1,
        windowCount: 0,
        windowsSeen: 0,
        average: 0,
        burstAlertedWindow: -1,
        failures: [],
        quietUntil: new Map(),
      };
      this.#tracks.set(key, track);
    }
    this.#last = { identity, ref, key, track };
    return track;
  }

  #hour(epochMs: number): number {
    return Math.floor(minuteOfDay(epochMs, this.#o.timeZone) / 60);
  }
}
