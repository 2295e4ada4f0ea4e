// GCP mode of the demo: serves the connector's logical refs from Secret Manager.
//
// Why a wrapper: Secret Manager ids are flat (letters, digits, `-`, `_`; no `/`), and
// fromGcpSecretManager serves only `gcp-sm://` refs. The connector's manifest names
// `secret://orders-api/client-secret`, the same in every mode, so this wrapper joins the segments
// of a logical ref with `-` and reads that secret:
//
//   secret://orders-api/client-secret  →  gcp-sm://orders-api-client-secret
//
// Refs with the `gcp-sm://` scheme go to fromGcpSecretManager unchanged.
import { formatRef, parseRef, type ResolveContext, type ResolvedSecret, type SecretProvider, type SecretRef } from '../../src/index.js';

/**
 * Options of {@link fromGcpSecretIds}.
 *
 * @example
 * ```ts
 * fromGcpSecretIds({ gcp: fromGcpSecretManager({ projectId: 'demo-project' }) });
 * ```
 */
export interface FromGcpSecretIdsInit {
  /** The `fromGcpSecretManager()` provider that reads the secrets; its name and schemes are kept. */
  readonly gcp: SecretProvider;
}

/** `secret://a/b` → `gcp-sm://a-b` (params kept; the client applies any `#field` to the value). */
export function gcpRefFor(ref: SecretRef): SecretRef {
  const id = ref.segments.join('-');
  return parseRef(formatRef({ scheme: 'gcp-sm', path: id, segments: [id], params: ref.params }));
}

/** A provider that answers logical refs from Secret Manager secrets named by their joined segments. */
export function fromGcpSecretIds(init: FromGcpSecretIdsInit): SecretProvider {
  const { gcp } = init;
  return {
    name: gcp.name,
    schemes: gcp.schemes,
    logical: true,
    ...(gcp.environment === undefined ? {} : { environment: gcp.environment }),
    resolve: (ref: SecretRef, ctx: ResolveContext): Promise<ResolvedSecret> => gcp.resolve(ref.logical ? gcpRefFor(ref) : ref, ctx),
    ...(gcp.close === undefined ? {} : { close: gcp.close.bind(gcp) }),
  };
}
