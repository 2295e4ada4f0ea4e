// Vault mode of the demo: serves the connector's logical refs from Vault KV, one field per credential.
//
// Why a wrapper, and not fromVault's `logicalMount` alone: Vault KV stores each secret as a map of
// fields, never as a bare string. With `logicalMount: 'kv/dev'`, `secret://orders-api/client-secret`
// reads the KV secret `kv/dev/orders-api/client-secret` and resolves to that whole map as JSON, so the
// token endpoint would receive `{"…":"…"}` as the client secret. The connector's manifest names one
// string, and the usual Vault layout is one KV secret per system with one field per credential. So
// this wrapper reads the last segment of a logical ref as the field:
//
//   secret://orders-api/client-secret  →  vault://kv/dev/orders-api#client-secret
//
// The manifest ref (connector.ts) is the same in every mode; only the chain changes
// (`connectorProviders()` in main.ts). Refs with the `vault://` scheme go to fromVault unchanged.
import {
  formatRef,
  parseRef,
  SecretFormatError,
  SecretNotFoundError,
  type ResolveContext,
  type ResolvedSecret,
  type SecretProvider,
  type SecretRef,
} from '../../src/index.js';

/**
 * Options of {@link fromVaultKvFields}.
 *
 * @example
 * ```ts
 * fromVaultKvFields({ vault: fromVault({ address, auth: { method: 'token', token: 'env://VAULT_TOKEN' } }), mount: 'kv/dev' });
 * ```
 */
export interface FromVaultKvFieldsInit {
  /** The `fromVault()` provider that reads the secrets; its name, schemes and params are kept. */
  readonly vault: SecretProvider;
  /** The KV mount (and any path below it) that logical refs are read below, e.g. `kv/dev`. */
  readonly mount: string;
}

/**
 * A provider that answers logical refs from Vault KV: `secret://<path>/<field>` reads field
 * `<field>` of the KV secret `<mount>/<path>`. The secret's version, `custom_metadata` and
 * `expires_at` are kept as they come from fromVault. Other refs are passed to fromVault as they are.
 *
 * - A KV secret without that field is `SECRET_NOT_FOUND` (the chain may try the next provider).
 * - A field that is not a string is `SECRET_FORMAT`.
 * - `rotate` is not offered (the demo never writes).
 */
export function fromVaultKvFields(init: FromVaultKvFieldsInit): SecretProvider {
  const { vault } = init;
  const mount = init.mount.split('/').filter((s) => s !== '');

  /** `secret://a/b/field?p=v` → `vault://<mount>/a/b?p=v`, and the field name. */
  const locate = (ref: SecretRef): { kvRef: SecretRef; field: string } => {
    if (ref.segments.length < 2) {
      throw new SecretNotFoundError(`${vault.name} reads logical refs as secret://<path>/<field>; ${String(ref)} names no field`, { ref: String(ref), provider: vault.name });
    }
    const segments = [...mount, ...ref.segments.slice(0, -1)];
    const kvRef = parseRef(formatRef({ scheme: 'vault', path: segments.join('/'), segments, params: ref.params }));
    return { kvRef, field: ref.segments.at(-1)! };
  };

  return {
    name: vault.name,
    schemes: vault.schemes,
    logical: true,
    ...(vault.params === undefined ? {} : { params: vault.params }),
    ...(vault.environment === undefined ? {} : { environment: vault.environment }),

    async resolve(ref: SecretRef, ctx: ResolveContext): Promise<ResolvedSecret> {
      if (!ref.logical) return vault.resolve(ref, ctx);
      const { kvRef, field } = locate(ref);
      const resolved = await vault.resolve(kvRef, ctx);
      const ids = { ref: String(ref), provider: vault.name };
      let data: unknown;
      try {
        data = typeof resolved.value === 'string' ? JSON.parse(resolved.value) : undefined;
      } catch {
        data = undefined; // the parser's message would quote the value
      }
      if (typeof data !== 'object' || data === null || Array.isArray(data)) {
        throw new SecretFormatError(`${String(kvRef)} is not a KV secret with fields`, ids);
      }
      if (!Object.hasOwn(data, field)) throw new SecretNotFoundError(`${String(kvRef)} has no field "${field}"`, ids);
      const value = (data as Record<string, unknown>)[field];
      if (typeof value !== 'string') throw new SecretFormatError(`field "${field}" of ${String(kvRef)} is not a string`, ids);
      return { ...resolved, value };
    },

    ...(vault.renew === undefined ? {} : { renew: vault.renew.bind(vault) }),
    ...(vault.revoke === undefined ? {} : { revoke: vault.revoke.bind(vault) }),
    ...(vault.close === undefined ? {} : { close: vault.close.bind(vault) }),
  };
}
