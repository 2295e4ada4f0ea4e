import { z } from 'zod';
import { SecretCache, type CacheEntry, type CacheOptions } from './cache.js';
import { candidatesFor, resolveChain } from './chain.js';
import { ConfigError, ConnectorSecretsError, SecretExpiredError, SecretFormatError } from './errors.js';
import { Emitter } from './events.js';
import { systemClock } from './handles/clock.js';
import { createCredentialHandle, type CredentialHandle, type CredentialSource, type HandleOptions } from './handles/CredentialHandle.js';
import { selectField } from './field.js';
import { checkSchema, isManifest, refFor, type LoadedSecrets, type SecretManifest, type SecretSpecs } from './manifest.js';
import type { Lease, ResolveContext, SecretMetadata, SecretProvider } from './provider.js';
import { parseRef } from './ref/parseRef.js';
import { formatRef } from './ref/formatRef.js';
import type { SecretRef } from './ref/types.js';
import { Secret } from './secret.js';

/**
 * Options of {@link createSecrets}.
 *
 * @example
 * ```ts
 * const secrets = createSecrets({
 *   environment: 'prod',
 *   providers: [fromEnv(), fromLocalStore({ path: '.secrets/prod.enc.json' })],
 *   cache: { ttlMs: 60_000 },
 * });
 * ```
 */
export interface SecretsOptions {
  /**
   * The environment tag of this process (`dev`, `staging`, `prod`, …).
   * @default the CONNECTOR_SECRETS_ENV variable, read once at creation
   */
  readonly environment?: string;
  /** The providers, asked in this order. */
  readonly providers: readonly SecretProvider[];
  /** The connector identity, passed to providers (and, later, to policy and audit). */
  readonly identity?: string;
  /**
   * Cache settings, or `false` to ask the providers on every call (single-flight still applies).
   * @default { ttlMs: 300_000, maxEntries: 1024, maxStaleMs: 900_000 }
   */
  readonly cache?: CacheOptions | false;
  /**
   * What secrets print as.
   * @default '[REDACTED]'
   */
  readonly placeholder?: string;
  /**
   * The environment variables providers see.
   * @default process.env
   */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /**
   * The clock, in epoch milliseconds; tests pass a fake one.
   * @default Date.now
   */
  readonly now?: () => number;
}

/**
 * A stale value was served because the provider was unavailable.
 */
export interface StaleServedEvent {
  readonly ref: string;
  readonly provider: string;
  /** How long past its freshness the value was, in milliseconds. */
  readonly staleForMs: number;
  /** The refresh error's code. */
  readonly code: string;
}

/** Events of a {@link SecretsClient}. */
export interface SecretsEvents {
  /** A stale value was served because its refresh failed with `PROVIDER_UNAVAILABLE`. */
  stale: [StaleServedEvent];
  /** An event listener threw; the error is passed here instead of breaking the call. */
  'listener-error': [unknown];
  [event: string]: unknown[];
}

/**
 * The client a connector talks to, made by {@link createSecrets}.
 */
export interface SecretsClient {
  /** The environment tag this client was created for. */
  readonly environment: string;
  /** The connector identity, when given. */
  readonly identity: string | undefined;
  /**
   * Resolves a ref to a text secret.
   * @example
   * ```ts
   * const pw = await secrets.get('secret://orders-db/password');
   * ```
   */
  get(ref: string | SecretRef): Promise<Secret<string>>;
  /**
   * Resolves a ref to a binary secret: a fresh copy, which `dispose()` zero-fills.
   * @example
   * ```ts
   * using key = await secrets.getBytes('file:///run/secrets/signing.key');
   * ```
   */
  getBytes(ref: string | SecretRef): Promise<Secret<Uint8Array>>;
  /**
   * Resolves several refs in parallel; identical refs are fetched once.
   * @example
   * ```ts
   * const { user, pass } = await secrets.getMany({ user: 'env://DB_USER', pass: 'env://DB_PASS' });
   * ```
   */
  getMany<const M extends Readonly<Record<string, string | SecretRef>>>(refs: M): Promise<{ [K in keyof M]: Secret<string> }>;
  /**
   * Resolves a manifest made by `defineSecrets`, checking JSON secrets against their schemas.
   * @example
   * ```ts
   * const { db } = await secrets.load(orders);
   * ```
   */
  load<S extends SecretSpecs>(manifest: SecretManifest<S>): Promise<LoadedSecrets<S>>;
  /**
   * An auto-refreshing credential for a ref: refreshed ahead of expiry with jitter, renewed
   * while its lease allows, replaced and announced (`onRotate`) when it cannot be, revoked
   * on close. With `schema`, the JSON secret is parsed and checked at each refresh.
   * @example
   * ```ts
   * const creds = secrets.handle('vault://database/creds/etl', { schema: z.object({ username: z.string(), password: z.string() }) });
   * creds.onRotate((next) => pool.reconfigure(next.reveal()));
   * await creds.withCredential(() => pool.query(sql));
   * ```
   */
  handle<Z extends z.ZodType>(ref: string | SecretRef, options: HandleOptions & { readonly schema: Z }): CredentialHandle<z.output<Z>>;
  handle(ref: string | SecretRef, options?: HandleOptions): CredentialHandle<string>;
  /** Drops the cached value of a ref, so the next call asks the providers. */
  invalidate(ref: string | SecretRef): void;
  /**
   * Listens to client events; returns an unsubscribe function.
   * @example
   * ```ts
   * secrets.on('stale', (e) => log.warn({ ref: e.ref, staleForMs: e.staleForMs }));
   * ```
   */
  on<K extends keyof SecretsEvents & string>(event: K, listener: (...args: SecretsEvents[K]) => void): () => void;
  /** Closes every handle (revoking leases), aborts calls in flight, closes providers and empties the cache. */
  close(): Promise<void>;
}

interface Route {
  readonly ref: SecretRef;
  /** Canonical ref without `#field`: fields of one secret share one fetch. */
  readonly key: string;
  readonly candidates: readonly SecretProvider[];
}

const ENVIRONMENT = /^[a-z][a-z0-9_-]*$/;
const providerShape = z.object({
  name: z.string().min(1),
  schemes: z.array(z.string()),
  resolve: z.custom<SecretProvider['resolve']>((v) => typeof v === 'function', 'resolve must be a function'),
});
const optionsSchema = z.object({
  environment: z.string().regex(ENVIRONMENT, 'environment must be a lowercase tag such as dev or prod').optional(),
  providers: z.array(providerShape).min(1, 'at least one provider is required'),
  identity: z.string().min(1).optional(),
  cache: z
    .union([
      z.literal(false),
      z.object({
        ttlMs: z.number().int().nonnegative().optional(),
        maxEntries: z.number().int().positive().optional(),
        maxStaleMs: z.number().int().nonnegative().optional(),
      }).strict(),
    ])
    .optional(),
  placeholder: z.string().optional(),
  env: z.record(z.string(), z.string().optional()).optional(),
  now: z.custom<() => number>((v) => typeof v === 'function', 'now must be a function').optional(),
}).strict();

const MAX_ROUTES = 4096;

/**
 * Creates the client that resolves refs through the providers, caches answers and wraps
 * values in {@link Secret}.
 *
 * @throws {@link ConfigError} when the options are invalid or no environment is set.
 * @example
 * ```ts
 * const secrets = createSecrets({ environment: 'dev', providers: [fromEnv(), fromLocalStore()] });
 * const token = await secrets.get('secret://orders-api/token');
 * await fetch(url, { headers: { authorization: `Bearer ${token.reveal()}` } });
 * await secrets.close();
 * ```
 */
export function createSecrets(options: SecretsOptions): SecretsClient {
  const checked = optionsSchema.safeParse(options);
  if (!checked.success) {
    const why = checked.error.issues.map((i) => `${i.path.join('.') || '(options)'}: ${i.message}`).join('; ');
    throw new ConfigError(`invalid createSecrets options: ${why}`);
  }
  const env = options.env ?? process.env;
  const environment = options.environment ?? env['CONNECTOR_SECRETS_ENV'];
  if (environment === undefined || environment === '') {
    throw new ConfigError('no environment: pass createSecrets({ environment }) or set CONNECTOR_SECRETS_ENV');
  }
  if (!ENVIRONMENT.test(environment)) {
    throw new ConfigError('CONNECTOR_SECRETS_ENV must be a lowercase tag such as dev or prod');
  }
  const providers = [...options.providers];
  const names = new Set<string>();
  for (const p of providers) {
    if (names.has(p.name)) throw new ConfigError(`two providers are named "${p.name}"; names must be unique`);
    names.add(p.name);
  }
  return new Client(environment, providers, options, env);
}

class Client implements SecretsClient {
  readonly environment: string;
  readonly identity: string | undefined;
  readonly #providers: readonly SecretProvider[];
  readonly #cache: SecretCache | undefined;
  readonly #inflight = new Map<string, Promise<CacheEntry>>();
  readonly #routes = new Map<string, Route>();
  readonly #placeholder: string | undefined;
  readonly #now: () => number;
  readonly #nowGiven: boolean;
  readonly #abort = new AbortController();
  readonly #ctx: ResolveContext;
  readonly #events = new Emitter<SecretsEvents>((err) => this.#events.emit('listener-error', err));
  readonly #handles = new Set<CredentialHandle<unknown>>();
  #closed = false;

  constructor(environment: string, providers: SecretProvider[], options: SecretsOptions, env: ResolveContext['env']) {
    this.environment = environment;
    this.identity = options.identity;
    this.#providers = providers;
    this.#cache = options.cache === false ? undefined : new SecretCache(options.cache);
    this.#placeholder = options.placeholder;
    // Looked up at each call, so fake clocks installed after creation apply.
    this.#now = options.now ?? (() => Date.now());
    this.#nowGiven = options.now !== undefined;
    this.#ctx = { signal: this.#abort.signal, env, environment, identity: this.identity, now: this.#now };
  }

  async get(ref: string | SecretRef): Promise<Secret<string>> {
    const route = this.#route(ref);
    const entry = await this.#entry(route);
    return this.#wrap(this.#text(route, entry), route, entry);
  }

  async getBytes(ref: string | SecretRef): Promise<Secret<Uint8Array>> {
    const route = this.#route(ref);
    const entry = await this.#entry(route);
    const { value } = entry.resolved;
    const bytes =
      route.ref.fieldPath !== undefined
        ? Buffer.from(selectField(entry, route.ref.fieldPath, route.key), 'utf8')
        : typeof value === 'string'
          ? Buffer.from(value, 'utf8')
          : Uint8Array.from(value);
    return this.#wrap(new Uint8Array(bytes), route, entry);
  }

  async getMany<const M extends Readonly<Record<string, string | SecretRef>>>(refs: M): Promise<{ [K in keyof M]: Secret<string> }> {
    const names = Object.keys(refs);
    const values = await Promise.all(names.map((n) => this.get(refs[n]!)));
    return Object.fromEntries(names.map((n, i) => [n, values[i]])) as { [K in keyof M]: Secret<string> };
  }

  async load<S extends SecretSpecs>(manifest: SecretManifest<S>): Promise<LoadedSecrets<S>> {
    if (!isManifest(manifest)) throw new ConfigError('load() expects a manifest made by defineSecrets()');
    const specs = Object.entries(manifest.specs);
    const refs = Object.fromEntries(specs.map(([name, spec]) => [name, refFor(spec, this.environment)]));
    const texts = await this.getMany(refs);
    const out: Record<string, Secret<unknown>> = {};
    for (const [name, spec] of specs) {
      const secret = texts[name]!;
      if (spec.schema === undefined) {
        out[name] = secret;
        continue;
      }
      const parsed = checkSchema(name, spec, secret.reveal(), secret.ref ?? refs[name]!);
      out[name] = new Secret(parsed, this.#info(secret.ref!, secret.provider!, secret));
    }
    return out as LoadedSecrets<S>;
  }

  handle(ref: string | SecretRef, options: HandleOptions & { readonly schema?: z.ZodType } = {}): CredentialHandle<never> {
    const route = this.#route(ref);
    const { schema, ...handleOptions } = options;
    const now = this.#now;
    const clock = handleOptions.clock ?? (this.#nowGiven ? { ...systemClock, now } : systemClock);
    const handle = createCredentialHandle(this.#source(route, schema), { ...handleOptions, clock });
    this.#handles.add(handle);
    const close = handle.close.bind(handle);
    Object.defineProperty(handle, 'close', {
      value: async () => {
        this.#handles.delete(handle);
        await close();
      },
    });
    return handle as CredentialHandle<never>;
  }

  invalidate(ref: string | SecretRef): void {
    this.#cache?.delete(this.#route(ref).key);
  }

  on<K extends keyof SecretsEvents & string>(event: K, listener: (...args: SecretsEvents[K]) => void): () => void {
    return this.#events.on(event, listener);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await Promise.allSettled([...this.#handles].map((h) => h.close()));
    this.#abort.abort(new ConfigError('the secrets client was closed'));
    this.#cache?.clear();
    this.#inflight.clear();
    await Promise.allSettled(this.#providers.map((p) => p.close?.()));
    this.#events.clear();
  }

  /** Parses and routes a ref once; the result is reused on every warm call. */
  #route(input: string | SecretRef): Route {
    if (this.#closed) throw new ConfigError('the secrets client was closed');
    const text = typeof input === 'string' ? input : String(input);
    let route = this.#routes.get(text);
    if (route !== undefined) return route;
    const ref = typeof input === 'string' ? parseRef(input) : input;
    const { scheme, path, segments, params } = ref;
    const key = formatRef({ scheme, path, segments, params });
    route = { ref, key, candidates: candidatesFor(ref, this.#providers) };
    if (this.#routes.size >= MAX_ROUTES) this.#routes.clear();
    this.#routes.set(text, route);
    return route;
  }

  /** A fresh cache entry, or a single-flight fetch; bounded stale value when the fetch is unavailable. */
  #entry(route: Route): Promise<CacheEntry> {
    const now = this.#now();
    const cached = this.#cache?.get(route.key, now);
    if (cached !== undefined && now < cached.freshUntil) return Promise.resolve(cached);
    const flight = this.#flight(route);
    if (cached === undefined) return flight;
    return flight.catch((err: unknown) => {
      const now2 = this.#now();
      if (err instanceof ConnectorSecretsError && err.code === 'PROVIDER_UNAVAILABLE' && now2 < cached.staleUntil) {
        this.#events.emit('stale', { ref: route.key, provider: cached.provider, staleForMs: now2 - cached.freshUntil, code: err.code });
        return cached;
      }
      throw err;
    });
  }

  /** The fetch in flight for a ref, shared by gets and handles; a new one when there is none. */
  #flight(route: Route): Promise<CacheEntry> {
    let flight = this.#inflight.get(route.key);
    if (flight === undefined) {
      flight = this.#fetch(route).finally(() => this.#inflight.delete(route.key));
      this.#inflight.set(route.key, flight);
    }
    return flight;
  }

  /** What a handle refreshes through: the client's single-flight, cache, and the answering provider's lease calls. */
  #source(route: Route, schema: z.ZodType | undefined): CredentialSource<unknown> {
    const secrets = new WeakMap<CacheEntry, Secret<unknown>>();
    let last: CacheEntry | undefined;
    const provider = () => this.#providers.find((p) => p.name === last?.provider);
    const signal = (own: AbortSignal) => AbortSignal.any([own, this.#abort.signal]);
    return {
      ref: String(route.ref),
      fetch: async (force, own) => {
        if (own.aborted) throw own.reason;
        const entry = await (force ? this.#flight(route) : this.#entry(route));
        last = entry;
        let secret = secrets.get(entry);
        if (secret === undefined) {
          const text = this.#text(route, entry);
          const value = schema === undefined ? text : checkSchema(route.key, { ref: route.key, owner: '-', purpose: '-', schema }, text, String(route.ref));
          secret = new Secret(value, this.#info(String(route.ref), entry.provider, entry.resolved));
          secrets.set(entry, secret);
        }
        const { expiresAt, refreshAfter, lease } = entry.resolved;
        return {
          secret,
          ...(expiresAt === undefined ? {} : { expiresAt: expiresAt.getTime() }),
          ...(refreshAfter === undefined ? {} : { refreshAfter: refreshAfter.getTime() }),
          ...(lease === undefined ? {} : { lease }),
        };
      },
      renew: async (lease, own) => {
        const p = provider();
        if (p?.renew === undefined || last === undefined) throw new ConfigError('the provider cannot renew leases');
        const next = await p.renew(lease, { ...this.#ctx, signal: signal(own) });
        const now = this.#now();
        last = this.#cache?.set(route.key, p.name, { ...last.resolved, lease: next, expiresAt: new Date(now + next.ttlMs) }, now) ?? last;
        return next;
      },
      revoke: async (lease: Lease) => {
        const p = provider();
        if (p?.revoke === undefined) return;
        const cached = this.#cache?.get(route.key, this.#now());
        if (cached?.resolved.lease?.id === lease.id) this.#cache?.delete(route.key);
        await p.revoke(lease, { ...this.#ctx, signal: new AbortController().signal });
      },
    };
  }

  async #fetch(route: Route): Promise<CacheEntry> {
    const { provider, resolved } = await resolveChain(route.ref, route.candidates, this.#ctx);
    const now = this.#now();
    if (resolved.expiresAt !== undefined && resolved.expiresAt.getTime() <= now) {
      throw new SecretExpiredError(`the credential expired at ${resolved.expiresAt.toISOString()} before it arrived`, {
        ref: route.key,
        provider: provider.name,
      });
    }
    if (this.#closed) throw new ConfigError('the secrets client was closed');
    return this.#cache?.set(route.key, provider.name, resolved, now) ?? new SecretCache().entryFor(provider.name, resolved, now);
  }

  /** The text a ref names in an entry: its `#field`, or the whole value. */
  #text(route: Route, entry: CacheEntry): string {
    const { value } = entry.resolved;
    if (route.ref.fieldPath !== undefined) return selectField(entry, route.ref.fieldPath, route.key);
    return typeof value === 'string' ? value : decodeUtf8(value, route.key, entry.provider);
  }

  #wrap<T>(value: T, route: Route, entry: CacheEntry): Secret<T> {
    return new Secret(value, this.#info(String(route.ref), entry.provider, entry.resolved));
  }

  #info(ref: string, provider: string, facts: { version?: string | undefined; expiresAt?: Date | undefined; metadata?: SecretMetadata | undefined }) {
    return {
      ref,
      provider,
      ...(facts.version === undefined ? {} : { version: facts.version }),
      ...(facts.expiresAt === undefined ? {} : { expiresAt: facts.expiresAt }),
      ...(facts.metadata === undefined ? {} : { metadata: facts.metadata }),
      ...(this.#placeholder === undefined ? {} : { placeholder: this.#placeholder }),
    };
  }
}

function decodeUtf8(bytes: Uint8Array, ref: string, provider: string): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new SecretFormatError('the secret is binary, not UTF-8 text; use getBytes()', { ref, provider });
  }
}
