import { endsSession, type AuditLine } from '../audit/record.js';

/** What an identity read of one ref in an incident's window, from the audit records. */
export interface IdentityAccess {
  /** The canonical ref. */
  readonly ref: string;
  /** Successful reads: provider fetches, cache hits (a summary counts as its hits), refreshes and renewals. */
  count: number;
  /** The first and last read in the window (ISO 8601). */
  first: string;
  last: string;
  /** The environments, providers and versions the records name. */
  readonly environments: string[];
  readonly providers: string[];
  readonly versions: string[];
  /** Whether the records show a lease on it (renew, refresh or revoke of a credential handle). */
  leased: boolean;
}

/** Actions that served the identity a value. */
const READS = new Set(['resolve', 'cache-hit', 'refresh', 'renew']);

/**
 * Collects, from verified audit lines, the successful reads of `identity` in `[since, until)`:
 * per ref, how many, first and last, environments, providers, versions, and whether a lease was
 * seen. Records carry no values, so neither does this.
 */
export class AccessCollector {
  readonly #identity: string;
  readonly #since: number;
  readonly #until: number;
  readonly #byRef = new Map<string, IdentityAccess>();

  constructor(identity: string, since: number, until: number) {
    this.#identity = identity;
    this.#since = since;
    this.#until = until;
  }

  add(line: AuditLine): void {
    if (endsSession(line)) return;
    if ('summary' in line) {
      const s = line.summary;
      if (s.identity !== this.#identity || !this.#inWindow(s.last)) return;
      this.#count(s.ref, s.count, s.first, s.last, s.environment, s.provider, s.version, false);
      return;
    }
    const e = line.event;
    if (e.identity !== this.#identity || e.ref === null || !this.#inWindow(e.ts)) return;
    const leaseAction = e.action === 'renew' || e.action === 'revoke' || e.action === 'refresh';
    if (e.outcome === 'success' && READS.has(e.action)) this.#count(e.ref, 1, e.ts, e.ts, e.environment, e.provider, e.version, leaseAction);
    else if (leaseAction) this.#entry(e.ref, e.ts).leased = true;
  }

  /** The refs read, sorted. */
  accesses(): IdentityAccess[] {
    return [...this.#byRef.values()].filter((a) => a.count > 0).sort((a, b) => (a.ref < b.ref ? -1 : a.ref > b.ref ? 1 : 0));
  }

  /** Refs whose records show a lease (read or not in the window). */
  leasedRefs(): string[] {
    return [...this.#byRef.values()].filter((a) => a.leased).map((a) => a.ref).sort();
  }

  #inWindow(ts: string): boolean {
    const t = Date.parse(ts);
    return !Number.isNaN(t) && t >= this.#since && t < this.#until;
  }

  #entry(ref: string, ts: string): IdentityAccess {
    let a = this.#byRef.get(ref);
    if (a === undefined) {
      a = { ref, count: 0, first: ts, last: ts, environments: [], providers: [], versions: [], leased: false };
      this.#byRef.set(ref, a);
    }
    return a;
  }

  #count(ref: string, n: number, first: string, last: string, environment: string, provider: string | null, version: string | null, leased: boolean): void {
    const a = this.#entry(ref, first);
    if (a.count === 0 || first < a.first) a.first = first;
    if (a.count === 0 || last > a.last) a.last = last;
    a.count += n;
    if (leased) a.leased = true;
    addOnce(a.environments, environment);
    if (provider !== null) addOnce(a.providers, provider);
    if (version !== null) addOnce(a.versions, version);
  }
}

function addOnce(list: string[], item: string): void {
  if (!list.includes(item)) list.push(item);
}
