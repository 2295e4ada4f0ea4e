import { isObject, parseEnvelope } from './envelope.js';
import { encodePath, type VaultSession } from './session.js';
import { raceAbort } from './transport.js';
import { VaultHttpFailure } from './VaultHttpFailure.js';

/** What a mount is, as sys/internal/ui/mounts (or configuration) says. */
export interface MountInfo {
  /** Segments of the mount path, e.g. `['kv']` or `['secret', 'team-a']`. */
  readonly segments: readonly string[];
  /** The engine type (`kv`, `pki`, `database`, …), when known. */
  readonly type: string | undefined;
  /** The KV version for KV mounts (and for the "old server" fallback). */
  readonly kvVersion: 1 | 2 | undefined;
}

/** A ref path split at its mount. */
export interface Located {
  readonly mount: MountInfo;
  readonly rest: readonly string[];
}

const isPrefix = (prefix: readonly string[], of: readonly string[]) => prefix.length <= of.length && prefix.every((s, i) => of[i] === s);

/** A mount lookup under way, and the signal of the caller who started it. */
interface Flight {
  readonly promise: Promise<MountInfo>;
  readonly signal: AbortSignal | undefined;
}

/**
 * Finds the mount of a path: configured KV versions first, then a per-mount cache, then
 * `GET sys/internal/ui/mounts/<path>`. One lookup at a time per first segment: which mount a
 * path is under is only known from the answer, so concurrent reads under a cold mount wait for
 * the lookup in flight and use its answer when it covers their path (`kv/a` and `kv/b` send one
 * lookup; `secret/team-a` and `secret/team-b`, two mounts, send two in turn). A 404 means a
 * Vault too old for the endpoint: the first segment is taken as a KV v1 mount.
 */
export class MountTable {
  readonly #known: MountInfo[] = [];
  readonly #inflight = new Map<string, Flight>();

  constructor(
    private readonly session: VaultSession,
    overrides: Readonly<Record<string, 1 | 2>>,
    private readonly namespace: string | undefined,
  ) {
    for (const [path, version] of Object.entries(overrides)) {
      this.#known.push({ segments: path.split('/').filter(Boolean), type: 'kv', kvVersion: version });
    }
  }

  async locate(segments: readonly string[], signal: AbortSignal | undefined): Promise<Located> {
    const known = this.#match(segments);
    if (known !== undefined) return { mount: known, rest: segments.slice(known.segments.length) };
    const key = segments[0]!;
    for (;;) {
      const ahead = this.#inflight.get(key);
      if (ahead === undefined) break;
      try {
        await raceAbort(ahead.promise, signal);
      } catch (err) {
        if (signal?.aborted) throw err;
        // The same failure would meet this caller, unless it was the other caller's abort or
        // a refusal of the other path (policies differ by path).
        const theirs = ahead.signal?.aborted === true || (err instanceof VaultHttpFailure && err.status === 403);
        if (!theirs) throw err;
      }
      const found = this.#match(segments);
      if (found !== undefined) return { mount: found, rest: segments.slice(found.segments.length) };
    }
    const promise = this.#lookup(segments, signal).finally(() => this.#inflight.delete(key));
    this.#inflight.set(key, { promise, signal });
    const mount = await promise;
    return { mount, rest: segments.slice(mount.segments.length) };
  }

  #match(segments: readonly string[]): MountInfo | undefined {
    let best: MountInfo | undefined;
    for (const m of this.#known) {
      if (isPrefix(m.segments, segments) && m.segments.length < segments.length && (best === undefined || m.segments.length > best.segments.length)) best = m;
    }
    return best;
  }

  async #lookup(segments: readonly string[], signal: AbortSignal | undefined): Promise<MountInfo> {
    let info: MountInfo;
    try {
      const body = await this.session.call({ method: 'GET', path: `sys/internal/ui/mounts/${encodePath(segments)}`, signal });
      const data = parseEnvelope(body).data ?? {};
      info = this.#parse(data, segments);
    } catch (err) {
      if (!(err instanceof VaultHttpFailure) || err.status !== 404) throw err;
      // "If we get a 404 we are using an older version of vault, default to version 1" (Vault CLI).
      info = { segments: segments.slice(0, 1), type: undefined, kvVersion: 1 };
    }
    const again = this.#match(segments);
    if (again !== undefined) return again;
    this.#known.push(info);
    return info;
  }

  #parse(data: Record<string, unknown>, segments: readonly string[]): MountInfo {
    let path = typeof data['path'] === 'string' ? data['path'] : '';
    // A mount in another namespace comes back as `<namespace>/<mount>/`.
    const ns = this.namespace?.replace(/^\/+|\/+$/g, '');
    if (ns && path.startsWith(`${ns}/`)) path = path.slice(ns.length + 1);
    const mountSegments = path.split('/').filter(Boolean);
    const type = typeof data['type'] === 'string' ? data['type'] : undefined;
    const options = isObject(data['options']) ? data['options'] : undefined;
    const version = options?.['version'] === '2' ? 2 : 1;
    if (mountSegments.length === 0 || !isPrefix(mountSegments, segments)) {
      return { segments: segments.slice(0, 1), type, kvVersion: type === 'kv' || type === 'generic' ? version : undefined };
    }
    return { segments: mountSegments, type, kvVersion: type === 'kv' || type === 'generic' ? version : undefined };
  }
}
