/** Params every provider understands; any other param must be declared by a provider. */
export const RESERVED_PARAMS = ['version', 'env', 'stage'] as const;

/** The scheme of logical refs, resolved by walking the provider chain. */
export const LOGICAL_SCHEME = 'secret';

/**
 * A parsed secret reference: `scheme://path[?param=value&…][#field]`.
 *
 * Refs are identifiers, not secrets: they may appear in logs, errors and audit records.
 * Create one with {@link parseRef}; `toString()` gives the canonical form.
 *
 * @example
 * ```ts
 * const ref = parseRef('vault://kv/prod/orders-db?version=3#password');
 * ref.scheme;  // 'vault'
 * ref.path;    // 'kv/prod/orders-db'
 * ref.params;  // { version: '3' }
 * ref.field;   // 'password'
 * ```
 */
export interface SecretRef {
  /** Lowercase scheme, e.g. `vault`, `env`, or `secret` for logical refs. */
  readonly scheme: string;
  /** Percent-decoded path. A leading `/` marks an absolute path (`file:///run/secrets/x`). */
  readonly path: string;
  /** Decoded path segments (without the leading `/` of an absolute path). */
  readonly segments: readonly string[];
  /** Dot path selecting a key of a JSON secret, if any (decoded segments joined by `.`). */
  readonly field?: string;
  /** The decoded segments of {@link SecretRef.field}; a segment may itself contain a `.`. */
  readonly fieldPath?: readonly string[];
  /** Decoded query params, e.g. `{ version: '2' }`. */
  readonly params: Readonly<Record<string, string>>;
  /** True for `secret://` refs, which are resolved by walking the provider chain. */
  readonly logical: boolean;
  /** The canonical form: lowercase scheme, canonical percent-encoding, params sorted by name. */
  toString(): string;
}
