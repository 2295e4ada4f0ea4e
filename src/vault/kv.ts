import { ConfigError, InvalidSecretRefError, ProviderError, ProviderUnavailableError, SecretFormatError, SecretNotFoundError } from '../errors.js';
import type { ResolvedSecret, SecretDescription } from '../provider.js';
import type { SecretRef } from '../ref/types.js';
import { isObject, objectAt, parseEnvelope } from './envelope.js';
import { fromCustomMetadata } from './metadata.js';
import type { Located } from './mounts.js';
import { encodePath, type VaultSession } from './session.js';
import { toSecretsError, VaultHttpFailure } from './VaultHttpFailure.js';

/** The ref, provider and clock a read reports with. */
export interface ReadContext {
  readonly ref: SecretRef;
  readonly provider: string;
  readonly now: number;
  readonly signal: AbortSignal | undefined;
}

function ids(ctx: ReadContext) {
  return { ref: String(ctx.ref), provider: ctx.provider };
}

/** The `?version=N` of a ref (a positive integer), or undefined. */
export function pinnedVersion(ref: SecretRef, provider: string): number | undefined {
  const v = ref.params['version'];
  if (v === undefined) return undefined;
  if (!/^[1-9]\d*$/.test(v)) throw new InvalidSecretRefError(`version must be a positive integer, not "${v}"`, { ref: String(ref), provider });
  return Number(v);
}

/** Why a KV v2 version read answered 404 with metadata: deleted (when) or destroyed. */
function deletedReason(body: unknown, ctx: ReadContext): SecretNotFoundError | undefined {
  const meta = objectAt(parseEnvelope(body).data, 'metadata');
  if (meta === undefined) return undefined;
  const version = typeof meta['version'] === 'number' ? meta['version'] : '?';
  if (meta['destroyed'] === true) return new SecretNotFoundError(`version ${version} of ${String(ctx.ref)} was destroyed`, ids(ctx));
  const deleted = typeof meta['deletion_time'] === 'string' ? meta['deletion_time'] : '';
  if (deleted !== '') return new SecretNotFoundError(`version ${version} of ${String(ctx.ref)} was deleted at ${deleted}`, ids(ctx));
  return new SecretNotFoundError(`version ${version} of ${String(ctx.ref)} has no data`, ids(ctx));
}

/** GET `<mount>/data/<path>[?version=N]`: KV v2 value, version and custom_metadata. */
export async function readKv2(session: VaultSession, at: Located, ctx: ReadContext): Promise<ResolvedSecret> {
  if (at.rest.length === 0) throw new InvalidSecretRefError('a KV ref names a secret below the mount (vault://<mount>/<path>)', ids(ctx));
  const version = pinnedVersion(ctx.ref, ctx.provider);
  const path = `${encodePath(at.mount.segments)}/data/${encodePath(at.rest)}${version === undefined ? '' : `?version=${version}`}`;
  let body: unknown;
  try {
    body = await session.call({ method: 'GET', path, signal: ctx.signal });
  } catch (err) {
    if (err instanceof VaultHttpFailure && err.status === 404) {
      throw deletedReason(err.body, ctx) ?? new SecretNotFoundError(version === undefined ? `no secret at ${String(ctx.ref)}` : `${String(ctx.ref)} has no version ${version}`, { ...ids(ctx), cause: err.api });
    }
    throw toSecretsError(err, ids(ctx));
  }
  const data = parseEnvelope(body).data;
  const value = objectAt(data, 'data');
  const metadata = objectAt(data, 'metadata');
  if (value === undefined) throw deletedReason(body, ctx) ?? new SecretNotFoundError(`${String(ctx.ref)} has no data`, ids(ctx));
  const facts = fromCustomMetadata(metadata?.['custom_metadata'], ids(ctx));
  const v = metadata?.['version'];
  return { value: JSON.stringify(value), ...(typeof v === 'number' ? { version: String(v) } : {}), ...facts };
}

/**
 * GET `<mount>/metadata/<path>`: the facts of a KV v2 secret without its value (a separate ACL
 * path from `data/`, so a describe-only token cannot read values). Version 1 is the creation;
 * the current version's `created_time` is the last rotation when it is later than 1.
 */
export async function describeKv2(session: VaultSession, at: Located, ctx: ReadContext): Promise<SecretDescription> {
  if (at.mount.kvVersion !== 2) {
    // Other engines keep no facts apart from the value; reading it to describe would defeat the point.
    throw new ProviderUnavailableError(`describe needs a KV v2 mount; ${at.mount.segments.join('/')} is ${at.mount.kvVersion === 1 ? 'a KV v1' : `a ${at.mount.type ?? 'non-KV'}`} mount`, ids(ctx));
  }
  if (at.rest.length === 0) throw new InvalidSecretRefError('a KV ref names a secret below the mount (vault://<mount>/<path>)', ids(ctx));
  let body: unknown;
  try {
    body = await session.call({ method: 'GET', path: `${encodePath(at.mount.segments)}/metadata/${encodePath(at.rest)}`, signal: ctx.signal });
  } catch (err) {
    if (err instanceof VaultHttpFailure && err.status === 404) throw new SecretNotFoundError(`no secret at ${String(ctx.ref)}`, { ...ids(ctx), cause: err.api });
    throw toSecretsError(err, ids(ctx));
  }
  const data = parseEnvelope(body).data ?? {};
  const current = data['current_version'];
  const versions = isObject(data['versions']) ? data['versions'] : {};
  const currentCreated = typeof current === 'number' ? objectAt(versions, String(current))?.['created_time'] : undefined;
  const facts = fromCustomMetadata(data['custom_metadata'], ids(ctx));
  const created = instant(data['created_time']);
  const updated = instant(data['updated_time']);
  const rotated = typeof current === 'number' && current > 1 ? instant(currentCreated) : undefined;
  return {
    ...(typeof current === 'number' ? { version: String(current) } : {}),
    ...(created === undefined ? {} : { createdAt: created }),
    ...(updated === undefined ? {} : { updatedAt: updated }),
    ...(rotated === undefined ? {} : { lastRotatedAt: rotated }),
    ...facts,
  };
}

/** An RFC 3339 time from Vault, or undefined when absent or unreadable. */
function instant(value: unknown): Date | undefined {
  if (typeof value !== 'string' || value === '') return undefined;
  const at = new Date(value);
  return Number.isNaN(at.getTime()) ? undefined : at;
}

/** GET `<mount>/<path>`: a KV v1 value. A `ttl` key makes `lease_duration` a re-read hint. */
export async function readKv1(session: VaultSession, at: Located, ctx: ReadContext): Promise<ResolvedSecret> {
  if (ctx.ref.params['version'] !== undefined) throw new InvalidSecretRefError(`${at.mount.segments.join('/')} is a KV v1 mount, which has no versions`, ids(ctx));
  return readGeneric(session, at, ctx);
}

/**
 * GET `<mount>/<path>` of any other engine (database/creds, aws/creds, static-creds, KV v1):
 * the `data` object as JSON; a `lease_id` makes it a leased credential (`lease`, `expiresAt`).
 */
export async function readGeneric(session: VaultSession, at: Located, ctx: ReadContext): Promise<ResolvedSecret> {
  if (ctx.ref.params['version'] !== undefined && at.mount.kvVersion !== 1) {
    throw new InvalidSecretRefError(`?version applies to KV v2 secrets; ${at.mount.segments.join('/')} is a ${at.mount.type ?? 'non-KV'} mount`, ids(ctx));
  }
  let body: unknown;
  try {
    body = await session.call({ method: 'GET', path: encodePath([...at.mount.segments, ...at.rest]), signal: ctx.signal });
  } catch (err) {
    if (err instanceof VaultHttpFailure && err.status === 404) throw new SecretNotFoundError(`no secret at ${String(ctx.ref)}`, { ...ids(ctx), cause: err.api });
    throw toSecretsError(err, ids(ctx));
  }
  const env = parseEnvelope(body);
  const data = env.data ?? {};
  const resolved = withLease({ value: JSON.stringify(data) }, env, ctx.now);
  if (resolved.lease !== undefined) return resolved;
  // KV v1 `ttl` and static-creds `ttl` are re-read hints, not leases.
  if (at.mount.kvVersion === 1 && data['ttl'] !== undefined && (env.lease_duration ?? 0) > 0) {
    return { ...resolved, refreshAfter: new Date(ctx.now + env.lease_duration! * 1000) };
  }
  if (at.rest[0] === 'static-creds' && typeof data['ttl'] === 'number' && data['ttl'] > 0) {
    return { ...resolved, refreshAfter: new Date(ctx.now + data['ttl'] * 1000) };
  }
  return resolved;
}

/** Adds `lease` and `expiresAt` when the envelope carries a lease. */
export function withLease(resolved: ResolvedSecret, env: ReturnType<typeof parseEnvelope>, now: number): ResolvedSecret {
  if (env.lease_id === undefined || env.lease_id === '') return resolved;
  const ttlMs = Math.max(0, (env.lease_duration ?? 0) * 1000);
  return { ...resolved, lease: { id: env.lease_id, ttlMs, renewable: env.renewable ?? false }, expiresAt: new Date(now + ttlMs) };
}

function setField(target: Record<string, unknown>, path: readonly string[], value: string): void {
  let node = target;
  for (const key of path.slice(0, -1)) {
    const next = node[key];
    if (!isObject(next)) node[key] = {};
    node = node[key] as Record<string, unknown>;
  }
  node[path.at(-1)!] = value;
}

/**
 * Writes a new KV v2 version with check-and-set. The value is the whole secret (a JSON object),
 * or, for a ref with `#field`, that field of the current version. `cas` is the pinned
 * `?version=N` or the current version, so a write that raced another fails instead of
 * overwriting it.
 */
export async function rotateKv2(session: VaultSession, at: Located, value: string, ctx: ReadContext): Promise<ResolvedSecret> {
  if (at.mount.kvVersion !== 2) {
    throw new ConfigError(`rotate() writes KV v2 versions with check-and-set; ${at.mount.segments.join('/')} is ${at.mount.kvVersion === 1 ? 'a KV v1' : `a ${at.mount.type ?? 'non-KV'}`} mount`, ids(ctx));
  }
  if (at.rest.length === 0) throw new InvalidSecretRefError('a KV ref names a secret below the mount', ids(ctx));
  const dataPath = `${encodePath(at.mount.segments)}/data/${encodePath(at.rest)}`;
  const pinned = pinnedVersion(ctx.ref, ctx.provider);
  let current: Record<string, unknown> | undefined;
  let currentVersion = 0;
  try {
    const env = parseEnvelope(await session.call({ method: 'GET', path: dataPath, signal: ctx.signal }));
    current = objectAt(env.data, 'data');
    const v = objectAt(env.data, 'metadata')?.['version'];
    currentVersion = typeof v === 'number' ? v : 0;
  } catch (err) {
    if (!(err instanceof VaultHttpFailure) || err.status !== 404) throw toSecretsError(err, ids(ctx));
    // 404 with metadata: the current version is deleted; CAS must still name it.
    const v = objectAt(parseEnvelope(err.body).data, 'metadata')?.['version'];
    currentVersion = typeof v === 'number' ? v : 0;
  }
  let next: Record<string, unknown>;
  if (ctx.ref.fieldPath !== undefined) {
    next = structuredClone(current ?? {});
    setField(next, ctx.ref.fieldPath, value);
  } else {
    let parsed: unknown;
    try {
      parsed = JSON.parse(value);
    } catch {
      parsed = undefined;
    }
    if (!isObject(parsed)) throw new SecretFormatError('rotate() without #field needs the whole secret as a JSON object', ids(ctx));
    next = parsed;
  }
  const cas = pinned ?? currentVersion;
  let body: unknown;
  try {
    body = await session.call({ method: 'POST', path: dataPath, body: { options: { cas }, data: next }, signal: ctx.signal, retry: false });
  } catch (err) {
    if (err instanceof VaultHttpFailure && err.status === 400 && err.api.errors.some((e) => e.includes('check-and-set'))) {
      throw new ProviderError(`check-and-set failed: ${String(ctx.ref)} is no longer at version ${cas}; read it again before rotating`, { ...ids(ctx), cause: err.api });
    }
    throw toSecretsError(err, ids(ctx));
  }
  const meta = parseEnvelope(body).data ?? {};
  const facts = fromCustomMetadata(meta['custom_metadata'], ids(ctx));
  const v = meta['version'];
  return { value: JSON.stringify(next), ...(typeof v === 'number' ? { version: String(v) } : {}), ...facts };
}
