/**
 * Errors thrown by connector-secrets. Every error has a stable `code` to match on, a literal
 * `name`, the non-secret `ref` and `provider` it concerns when known, and the original `cause`.
 * No message ever contains a secret value.
 *
 * @module
 */

const BRAND = Symbol.for('connector-secrets.error');

/** Every stable error code this package throws. */
export type ErrorCode =
  | 'INVALID_REF'
  | 'SECRET_NOT_FOUND'
  | 'PROVIDER_UNAVAILABLE'
  | 'PROVIDER_ERROR'
  | 'ACCESS_DENIED'
  | 'SECRET_FORMAT'
  | 'SECRET_EXPIRED'
  | 'SECRET_DISPOSED'
  | 'CONFIG_INVALID'
  | 'ENVIRONMENT_MISMATCH'
  | 'POLICY_DENIED'
  | 'AUDIT_WRITE_FAILED'
  | 'ROTATION_FAILED'
  | 'IDENTITY_QUARANTINED'
  | 'ABORTED';

/** Options shared by every error constructor. */
export interface ErrorOptions {
  /** The canonical reference the error concerns. Refs are identifiers, not secrets. */
  ref?: string | undefined;
  /** The name of the provider that raised or caused the error. */
  provider?: string | undefined;
  /** The underlying error, passed on unchanged. */
  cause?: unknown;
}

/**
 * Base class of every error thrown by connector-secrets. Its message names the ref it concerns,
 * when there is one (without the ref's params), except for an invalid ref.
 *
 * @example
 * ```ts
 * try {
 *   await secrets.get('secret://orders-db/password');
 * } catch (err) {
 *   if (isConnectorSecretsError(err) && err.code === 'SECRET_NOT_FOUND') console.error(err.message);
 * }
 * ```
 */
export class ConnectorSecretsError extends Error {
  /** A stable string to match on; it never changes between releases. */
  readonly code: ErrorCode;
  /** The canonical reference the error concerns, when known. */
  readonly ref: string | undefined;
  /** The provider that raised or caused the error, when known. */
  readonly provider: string | undefined;
  /** The class name, e.g. `'SecretNotFoundError'`. */
  override name: string = 'ConnectorSecretsError';

  constructor(code: ErrorCode, message: string, options: ErrorOptions = {}) {
    // An invalid ref is not named: what made it invalid may be pasted input (a secret).
    super(code === 'INVALID_REF' ? message : withRef(message, options.ref), options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.ref = options.ref;
    this.provider = options.provider;
    Object.defineProperty(this, BRAND, { value: true });
  }
}

/**
 * The message, naming the ref it concerns (`… (ref: vault://kv/orders-db#password)`) unless it
 * already does. Raisers pass the canonical ref of a routed request, never raw input; its params
 * are left out all the same, as their values come from the caller's text.
 */
function withRef(message: string, ref: string | undefined): string {
  if (ref === undefined) return message;
  const name = ref.replace(/\?[^#]*/, '');
  return message.includes(name) ? message : `${message} (ref: ${name})`;
}

/**
 * True when `value` is an error thrown by connector-secrets, even one thrown by another
 * installed copy of the package (the check uses a `Symbol.for` brand, not `instanceof`).
 *
 * @example
 * ```ts
 * if (isConnectorSecretsError(err)) log.warn({ code: err.code, ref: err.ref });
 * ```
 */
export function isConnectorSecretsError(value: unknown): value is ConnectorSecretsError {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[BRAND] === true;
}

/**
 * A string that is not a valid secret reference.
 *
 * @example
 * ```ts
 * parseRef('vault://kv/../prod'); // throws InvalidSecretRefError (code INVALID_REF)
 * ```
 */
export class InvalidSecretRefError extends ConnectorSecretsError {
  /** Always `'InvalidSecretRefError'`. */
  override name = 'InvalidSecretRefError' as const;
  declare readonly code: 'INVALID_REF';
  /** Character offset in the input where the problem was found, when it has one. */
  readonly position: number | undefined;
  constructor(message: string, options: ErrorOptions & { position?: number } = {}) {
    super('INVALID_REF', message, options);
    this.position = options.position;
  }
}

/**
 * One provider's answer in a chain walk, as carried by {@link SecretNotFoundError} and
 * {@link ProviderUnavailableError} when every candidate failed.
 */
export interface ProviderAttempt {
  /** Provider name. */
  readonly provider: string;
  /** The code of the error that provider raised. */
  readonly code: ErrorCode;
  /** That error's message (never contains a secret). */
  readonly message: string;
}

/** Options of the chain errors, which may list every provider's reason. */
export interface ChainErrorOptions extends ErrorOptions {
  /** Each provider's reason, in chain order, when several providers were asked. */
  attempts?: readonly ProviderAttempt[];
}

/**
 * No provider has the secret. The chain moves on to the next provider on this error.
 *
 * @example
 * ```ts
 * throw new SecretNotFoundError('no such entry', { ref: ref.toString(), provider: 'my-store' });
 * ```
 */
export class SecretNotFoundError extends ConnectorSecretsError {
  /** Always `'SecretNotFoundError'`. */
  override name = 'SecretNotFoundError' as const;
  declare readonly code: 'SECRET_NOT_FOUND';
  /** Each provider's reason when the whole chain was walked; empty otherwise. */
  readonly attempts: readonly ProviderAttempt[];
  constructor(message: string, options: ChainErrorOptions = {}) {
    super('SECRET_NOT_FOUND', message, options);
    this.attempts = options.attempts ?? [];
  }
}

/**
 * A provider cannot answer right now (network, throttling, sealed server). The chain moves on
 * to the next provider, and the cache may serve a bounded stale value.
 *
 * @example
 * ```ts
 * throw new ProviderUnavailableError('vault is sealed', { provider: 'vault', cause: err });
 * ```
 */
export class ProviderUnavailableError extends ConnectorSecretsError {
  /** Always `'ProviderUnavailableError'`. */
  override name = 'ProviderUnavailableError' as const;
  declare readonly code: 'PROVIDER_UNAVAILABLE';
  /** Each provider's reason when the whole chain was walked; empty otherwise. */
  readonly attempts: readonly ProviderAttempt[];
  /** True when the provider refused because of rate limiting. */
  readonly throttled: boolean;
  constructor(message: string, options: ChainErrorOptions & { throttled?: boolean } = {}) {
    super('PROVIDER_UNAVAILABLE', message, options);
    this.attempts = options.attempts ?? [];
    this.throttled = options.throttled ?? false;
  }
}

/**
 * A provider failed in a way that is neither "not here" nor "not now" (for example a bug in a
 * custom provider). The chain stops. The original error is the `cause`.
 *
 * @example
 * ```ts
 * if (err.code === 'PROVIDER_ERROR') console.error(err.provider, err.cause);
 * ```
 */
export class ProviderError extends ConnectorSecretsError {
  /** Always `'ProviderError'`. */
  override name = 'ProviderError' as const;
  declare readonly code: 'PROVIDER_ERROR';
  constructor(message: string, options: ErrorOptions = {}) {
    super('PROVIDER_ERROR', message, options);
  }
}

/**
 * The provider refused access. The chain stops: a denial never falls back to another
 * provider's value.
 *
 * @example
 * ```ts
 * throw new AccessDeniedError('permission denied', { provider: 'vault' });
 * ```
 */
export class AccessDeniedError extends ConnectorSecretsError {
  /** Always `'AccessDeniedError'`. */
  override name = 'AccessDeniedError' as const;
  declare readonly code: 'ACCESS_DENIED';
  constructor(message: string, options: ErrorOptions = {}) {
    super('ACCESS_DENIED', message, options);
  }
}

/** One failing place of a schema check. */
export interface SchemaIssue {
  /** Dot path of the failing field, `(root)` for the whole value. */
  readonly path: string;
  /** The checker's reason code, e.g. `invalid_type`. Never a value. */
  readonly code: string;
}

/**
 * A secret, a store file or a manifest schema check is malformed, or a store failed to
 * decrypt. Messages name paths and reasons, never values.
 *
 * @example
 * ```ts
 * if (err.code === 'SECRET_FORMAT') console.error(err.issues);
 * ```
 */
export class SecretFormatError extends ConnectorSecretsError {
  /** Always `'SecretFormatError'`. */
  override name = 'SecretFormatError' as const;
  declare readonly code: 'SECRET_FORMAT';
  /** Failing paths of a schema check, each with a reason code (never a value). */
  readonly issues: readonly SchemaIssue[];
  constructor(
    message: string,
    options: ErrorOptions & { issues?: readonly SchemaIssue[] } = {},
  ) {
    super('SECRET_FORMAT', message, options);
    this.issues = options.issues ?? [];
  }
}

/**
 * The credential has expired and no valid replacement could be had.
 *
 * @example
 * ```ts
 * if (err.code === 'SECRET_EXPIRED') await handle.refresh();
 * ```
 */
export class SecretExpiredError extends ConnectorSecretsError {
  /** Always `'SecretExpiredError'`. */
  override name = 'SecretExpiredError' as const;
  declare readonly code: 'SECRET_EXPIRED';
  constructor(message: string, options: ErrorOptions = {}) {
    super('SECRET_EXPIRED', message, options);
  }
}

/**
 * The `Secret` was disposed (its buffer zero-filled) and can no longer be revealed.
 *
 * @example
 * ```ts
 * key.dispose();
 * key.reveal(); // throws SecretDisposedError (code SECRET_DISPOSED)
 * ```
 */
export class SecretDisposedError extends ConnectorSecretsError {
  /** Always `'SecretDisposedError'`. */
  override name = 'SecretDisposedError' as const;
  declare readonly code: 'SECRET_DISPOSED';
  constructor(message: string, options: ErrorOptions = {}) {
    super('SECRET_DISPOSED', message, options);
  }
}

/**
 * Options or configuration are invalid. The message says which option and why.
 *
 * @example
 * ```ts
 * createSecrets({ providers: [] }); // throws ConfigError (code CONFIG_INVALID) when no environment is set
 * ```
 */
export class ConfigError extends ConnectorSecretsError {
  /** Always `'ConfigError'`. */
  override name = 'ConfigError' as const;
  declare readonly code: 'CONFIG_INVALID';
  constructor(message: string, options: ErrorOptions = {}) {
    super('CONFIG_INVALID', message, options);
  }
}

/**
 * The ref, the provider or the secret's environment tag does not match the environment of the
 * process (for example a `prod` secret asked for from `dev`). The chain stops.
 *
 * @example
 * ```ts
 * if (err.code === 'ENVIRONMENT_MISMATCH') console.error(err.ref, err.message);
 * ```
 */
export class EnvironmentMismatchError extends ConnectorSecretsError {
  /** Always `'EnvironmentMismatchError'`. */
  override name = 'EnvironmentMismatchError' as const;
  declare readonly code: 'ENVIRONMENT_MISMATCH';
  /** The environment of the process that asked, when known. */
  readonly environment: string | undefined;
  /** The environment the ref, provider or secret belongs to (`undefined` for an untagged secret). */
  readonly targetEnvironment: string | undefined;
  constructor(message: string, options: ErrorOptions & { environment?: string; targetEnvironment?: string } = {}) {
    super('ENVIRONMENT_MISMATCH', message, options);
    this.environment = options.environment;
    this.targetEnvironment = options.targetEnvironment;
  }
}

/**
 * An access policy, a time window or an approval hook denied the access. `rule` names the rule
 * that decided. The chain stops.
 *
 * @example
 * ```ts
 * if (!outcome.approved) throw new PolicyDeniedError(`approval denied: ${outcome.why}`);
 * ```
 */
export class PolicyDeniedError extends ConnectorSecretsError {
  /** Always `'PolicyDeniedError'`. */
  override name = 'PolicyDeniedError' as const;
  declare readonly code: 'POLICY_DENIED';
  /** The name of the policy rule that decided (`(default)` when no rule allows the ref). */
  readonly rule: string | undefined;
  constructor(message: string, options: ErrorOptions & { rule?: string } = {}) {
    super('POLICY_DENIED', message, options);
    this.rule = options.rule;
  }
}

/**
 * An audit record could not be written, so the access it records is refused.
 *
 * @example
 * ```ts
 * if (err.code === 'AUDIT_WRITE_FAILED') console.error('audit sink failed', err.cause);
 * ```
 */
export class AuditWriteError extends ConnectorSecretsError {
  /** Always `'AuditWriteError'`. */
  override name = 'AuditWriteError' as const;
  declare readonly code: 'AUDIT_WRITE_FAILED';
  constructor(message: string, options: ErrorOptions = {}) {
    super('AUDIT_WRITE_FAILED', message, options);
  }
}

/**
 * The caller gave up on a call: its `signal` was aborted, or its `timeoutMs` passed. The fetch a
 * call waits on is not cancelled (other callers may share it; its answer is still cached).
 *
 * @example
 * ```ts
 * const pw = await secrets.get('secret://orders-db/password', { timeoutMs: 5_000 }).catch((err: unknown) => {
 *   if (isConnectorSecretsError(err) && err.code === 'ABORTED') return undefined;
 *   throw err;
 * });
 * ```
 */
export class AbortedError extends ConnectorSecretsError {
  /** Always `'AbortedError'`. */
  override name = 'AbortedError' as const;
  declare readonly code: 'ABORTED';
  /** The time limit that passed, when it was a timeout (not a signal). */
  readonly timeoutMs: number | undefined;
  constructor(message: string, options: ErrorOptions & { timeoutMs?: number } = {}) {
    super('ABORTED', message, options);
    this.timeoutMs = options.timeoutMs;
  }
}

/**
 * A rotation did not complete: the provider refused the new value, or the caller's `verify`
 * refused it. `rolledBack` says whether the previous value is current again (written back as a
 * new version); when it is false the secret may hold the unverified value and needs a person.
 *
 * @example
 * ```ts
 * if (isConnectorSecretsError(err) && err.code === 'ROTATION_FAILED' && !err.rolledBack) pager.notify(err.message);
 * ```
 */
export class RotationFailedError extends ConnectorSecretsError {
  /** Always `'RotationFailedError'`. */
  override name = 'RotationFailedError' as const;
  declare readonly code: 'ROTATION_FAILED';
  /** Whether the previous value was written back. */
  readonly rolledBack: boolean;
  constructor(message: string, options: ErrorOptions & { rolledBack?: boolean } = {}) {
    super('ROTATION_FAILED', message, options);
    this.rolledBack = options.rolledBack ?? false;
  }
}

/**
 * The client's identity is quarantined (`secrets.quarantine(identity, { reason })`): every access
 * is denied until `secrets.lift(identity)`.
 *
 * @example
 * ```ts
 * if (isConnectorSecretsError(err) && err.code === 'IDENTITY_QUARANTINED') process.exit(3);
 * ```
 */
export class QuarantinedError extends ConnectorSecretsError {
  /** Always `'QuarantinedError'`. */
  override name = 'QuarantinedError' as const;
  declare readonly code: 'IDENTITY_QUARANTINED';
  /** The quarantined identity. */
  readonly identity: string | undefined;
  constructor(message: string, options: ErrorOptions & { identity?: string | undefined } = {}) {
    super('IDENTITY_QUARANTINED', message, options);
    this.identity = options.identity;
  }
}
