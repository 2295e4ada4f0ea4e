import { z } from 'zod';
import { ConfigError, InvalidSecretRefError, SecretFormatError } from './errors.js';
import { parseDuration } from './duration.js';
import { parseRef } from './ref/parseRef.js';
import type { Sensitivity } from './provider.js';
import type { Secret } from './secret.js';
import type { CredentialHandle, HandleOptions } from './handles/CredentialHandle.js';
import { describeIssues } from './issues.js';
import { isStandardSchema, type StandardSchemaV1 } from './standardSchema.js';

const MANIFEST_BRAND = Symbol.for('connector-secrets.manifest');
const ENV_TOKEN = '{env}';

/**
 * One secret a connector needs.
 *
 * @example
 * ```ts
 * const db: SecretSpec = {
 *   ref: 'vault://kv/{env}/orders-db', owner: 'data-platform', purpose: 'read orders',
 *   sensitivity: 'critical', rotation: '30d',
 *   schema: z.object({ username: z.string(), password: z.string() }),
 * };
 * ```
 */
export interface SecretSpec {
  /** The ref; `{env}` is replaced by the process environment tag at load time. */
  readonly ref: string;
  /** The team or person that owns the secret. */
  readonly owner: string;
  /** Why the connector needs it. */
  readonly purpose: string;
  /**
   * How much damage a leak would do.
   * @default 'high'
   */
  readonly sensitivity?: Sensitivity;
  /** How often it should be rotated, e.g. `'30d'`. */
  readonly rotation?: string;
  /**
   * A schema for JSON secrets, from any validator implementing Standard Schema (zod ≥ 3.24 and
   * 4 including `zod/mini`, valibot, ArkType…); the loaded secret is then
   * `Secret<StandardSchemaV1.InferOutput<schema>>`. Async validators are awaited.
   */
  readonly schema?: StandardSchemaV1;
}

/** The secrets a connector declares, by the names its code uses. */
export type SecretSpecs = Readonly<Record<string, SecretSpec>>;

/** A spec with a schema. */
export interface SchemaSpec<Z extends StandardSchemaV1> {
  /** The schema JSON secrets are checked against. */
  readonly schema: Z;
}

/** The value type a spec loads as: the schema's output, else a string. */
export type SpecValue<S extends SecretSpec> = S extends SchemaSpec<infer Z> ? StandardSchemaV1.InferOutput<Z> : string;

/** What `secrets.load(manifest)` returns: one `Secret` per declared name. */
export type LoadedSecrets<S extends SecretSpecs> = { [K in keyof S]: Secret<SpecValue<S[K]>> };

/**
 * One manifest entry as plain data, for inventory tooling. No values.
 */
export interface InventoryEntry {
  /** The name the connector's code uses. */
  readonly name: string;
  /** The ref as declared (with `{env}` unreplaced). */
  readonly ref: string;
  /** The owning team or person. */
  readonly owner: string;
  /** Why the connector needs it. */
  readonly purpose: string;
  /** How much damage a leak would do (`high` when not declared). */
  readonly sensitivity: Sensitivity;
  /** The declared rotation period, e.g. `'30d'`. */
  readonly rotation: string | undefined;
  /** The rotation period in milliseconds. */
  readonly rotationMs: number | undefined;
  /** Whether it is a JSON secret checked by a schema. */
  readonly json: boolean;
}

/**
 * A validated set of secret requirements, made by {@link defineSecrets}.
 */
export interface SecretManifest<S extends SecretSpecs> {
  /** The specs as given (validated and frozen). */
  readonly specs: S;
  /** The entries as plain data (no values). */
  inventory(): InventoryEntry[];
  /**
   * An auto-refreshing handle on entry `name`: the same as `secrets.handle(manifest.specs[name])`
   * (`{env}` filled in, the entry's schema applied at each refresh).
   * @example
   * ```ts
   * const db = orders.handle(secrets, 'db'); // CredentialHandle<{ username: string; password: string }>
   * ```
   */
  handle<K extends keyof S & string>(secrets: SpecHandles, name: K, options?: HandleOptions): CredentialHandle<SpecValue<S[K]>>;
}

/** What {@link SecretManifest.handle} needs of a client: `secrets.handle(spec)`. */
export interface SpecHandles {
  /** A handle on a manifest entry, its `{env}` filled in and its schema applied. */
  handle<S extends SecretSpec>(spec: S, options?: HandleOptions): CredentialHandle<SpecValue<S>>;
}

const specSchema = z.object({
  ref: z.string().min(1),
  owner: z.string().trim().min(1, 'owner is required'),
  purpose: z.string().trim().min(1, 'purpose is required'),
  sensitivity: z.enum(['low', 'medium', 'high', 'critical']).optional(),
  rotation: z.string().optional(),
  // Checked by shape, not instanceof: the user's validator library is not ours (nor its version).
  schema: z.custom<StandardSchemaV1>(isStandardSchema, 'schema must implement Standard Schema (zod ≥ 3.24, valibot, ArkType…)').optional(),
}).strict();

/**
 * Declares the secrets a connector needs, validated at definition: owner and purpose are
 * required, refs must parse (with `{env}` standing for the environment), rotations must be
 * durations.
 *
 * @throws {@link ConfigError} naming the entry and what is wrong.
 * @example
 * ```ts
 * export const orders = defineSecrets({
 *   apiToken: { ref: 'secret://orders-api/token', owner: 'data-platform', purpose: 'read orders', sensitivity: 'high' },
 *   db: { ref: 'local://{env}/orders-db', owner: 'data-platform', purpose: 'write orders',
 *         schema: z.object({ username: z.string(), password: z.string() }) },
 * });
 * const { apiToken, db } = await secrets.load(orders);
 * ```
 */
export function defineSecrets<const S extends SecretSpecs>(specs: S): SecretManifest<S> {
  if (typeof specs !== 'object' || specs === null) throw new ConfigError('defineSecrets expects an object of secret specs');
  for (const [name, spec] of Object.entries(specs)) {
    const checked = specSchema.safeParse(spec);
    if (!checked.success) {
      const why = describeIssues(checked.error.issues, '(entry)');
      throw new ConfigError(`secret spec "${name}" is invalid: ${why}`);
    }
    try {
      parseRef(spec.ref.replaceAll(ENV_TOKEN, 'env'));
    } catch (err) {
      // parseRef never quotes its input; the entry is named so the author knows which ref it is.
      const { position } = err as InvalidSecretRefError;
      throw new InvalidSecretRefError(`secret spec "${name}": ref: ${(err as Error).message}`, position === undefined ? {} : { position });
    }
    if (spec.rotation !== undefined) parseDuration(spec.rotation, `secret spec "${name}": rotation`);
  }
  const frozen = Object.freeze({ ...specs });
  const manifest = {
    specs: frozen,
    inventory: () =>
      Object.entries(frozen).map(([name, spec]) => ({
        name,
        ref: spec.ref,
        owner: spec.owner,
        purpose: spec.purpose,
        sensitivity: spec.sensitivity ?? 'high',
        rotation: spec.rotation,
        rotationMs: spec.rotation === undefined ? undefined : parseDuration(spec.rotation, `secret spec "${name}": rotation`),
        json: spec.schema !== undefined,
      })),
    handle: (secrets: SpecHandles, name: string, options?: HandleOptions) => {
      const spec = Object.hasOwn(frozen, name) ? (frozen as SecretSpecs)[name] : undefined;
      if (spec === undefined) throw new ConfigError('manifest.handle(): the manifest has no entry of that name');
      return secrets.handle(spec, options) as CredentialHandle<never>;
    },
  };
  Object.defineProperty(manifest, MANIFEST_BRAND, { value: true });
  return Object.freeze(manifest);
}

/** True for manifests made by {@link defineSecrets}. */
export function isManifest(value: unknown): value is SecretManifest<SecretSpecs> {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[MANIFEST_BRAND] === true;
}

/** True for a manifest entry (`manifest.specs.x`): an object with a string ref, owner and purpose. */
export function isSpec(value: unknown): value is SecretSpec {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return typeof v['ref'] === 'string' && typeof v['owner'] === 'string' && typeof v['purpose'] === 'string';
}

/** The ref of a spec for one environment. */
export function refFor(spec: SecretSpec, environment: string): string {
  return spec.ref.replaceAll(ENV_TOKEN, environment);
}

/**
 * Parses a JSON secret and checks it against its schema (awaited when the validator is async).
 * Failures list paths and reason codes, never values: validator messages may quote the input
 * (valibot's do), so they are not used.
 */
export async function checkSchema(name: string, schema: StandardSchemaV1, text: string, ref: string): Promise<unknown> {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new SecretFormatError(`secret "${name}" is not valid JSON`, { ref });
  }
  let result: StandardSchemaV1.Result<unknown>;
  try {
    result = await schema['~standard'].validate(json);
  } catch (err) {
    // A validator that throws (a bug in a refinement) may quote the input in its message, so
    // neither the message nor the error itself is passed on: only its name.
    const what = err instanceof Error ? err.name : typeof err;
    throw new SecretFormatError(`secret "${name}": its schema threw ${what} while checking it (message not shown)`, { ref });
  }
  if (result.issues === undefined) return result.value;
  const issues = result.issues.map((i) => ({ path: issuePath(i.path), code: issueCode(i) }));
  throw new SecretFormatError(
    `secret "${name}" does not match its schema at ${issues.map((i) => `${i.path} (${i.code})`).join(', ')}`,
    { ref, issues },
  );
}

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;

/** A dotted path; keys that are not plain identifiers (record keys come from the value) show as `[key]`. */
function issuePath(path: StandardSchemaV1.Issue['path']): string {
  const keys = (path ?? []).map((segment) => (typeof segment === 'object' && segment !== null ? segment.key : segment));
  return keys.map((k) => (typeof k === 'number' ? String(k) : typeof k === 'string' && IDENTIFIER.test(k) ? k : '[key]')).join('.') || '(root)';
}

/** The validator's own reason code when it has one (zod, ArkType: `code`; valibot: `type`), else `invalid`. */
function issueCode(issue: StandardSchemaV1.Issue): string {
  const { code, type } = issue as { code?: unknown; type?: unknown };
  const found = typeof code === 'string' ? code : type;
  return typeof found === 'string' && IDENTIFIER.test(found) ? found : 'invalid';
}
