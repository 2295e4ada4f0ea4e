/**
 * Vault's response envelope (api/secret.go), every field optional: many endpoints leave fields
 * out, and a few answer a bare object, which is then taken as `data`.
 */
export interface VaultEnvelope {
  readonly request_id?: string;
  readonly lease_id?: string;
  readonly lease_duration?: number;
  readonly renewable?: boolean;
  readonly data?: Record<string, unknown> | null;
  readonly warnings?: readonly string[] | null;
  readonly auth?: VaultAuthBlock | null;
  readonly mount_type?: string;
}

/** The `auth` block of a login or renew-self response. */
export interface VaultAuthBlock {
  readonly client_token?: string;
  readonly accessor?: string;
  readonly policies?: readonly string[];
  readonly lease_duration?: number;
  readonly renewable?: boolean;
}

const KNOWN = ['request_id', 'lease_id', 'lease_duration', 'renewable', 'data', 'warnings', 'auth', 'wrap_info', 'mount_type'];

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Parses a response body leniently: wrong types are dropped, a bare object becomes `data`. */
export function parseEnvelope(body: unknown): VaultEnvelope {
  if (!isObject(body)) return {};
  if (!KNOWN.some((k) => k in body)) return { data: body };
  const out: { -readonly [K in keyof VaultEnvelope]: VaultEnvelope[K] } = {};
  if (typeof body['request_id'] === 'string') out.request_id = body['request_id'];
  if (typeof body['lease_id'] === 'string') out.lease_id = body['lease_id'];
  if (typeof body['lease_duration'] === 'number' && Number.isFinite(body['lease_duration'])) out.lease_duration = body['lease_duration'];
  if (typeof body['renewable'] === 'boolean') out.renewable = body['renewable'];
  if (isObject(body['data'])) out.data = body['data'];
  else if (body['data'] === null) out.data = null;
  if (Array.isArray(body['warnings'])) out.warnings = body['warnings'].filter((w): w is string => typeof w === 'string');
  if (typeof body['mount_type'] === 'string') out.mount_type = body['mount_type'];
  const auth = body['auth'];
  if (isObject(auth)) {
    const a: { -readonly [K in keyof VaultAuthBlock]: VaultAuthBlock[K] } = {};
    if (typeof auth['client_token'] === 'string') a.client_token = auth['client_token'];
    if (typeof auth['accessor'] === 'string') a.accessor = auth['accessor'];
    if (Array.isArray(auth['policies'])) a.policies = auth['policies'].filter((p): p is string => typeof p === 'string');
    if (typeof auth['lease_duration'] === 'number') a.lease_duration = auth['lease_duration'];
    if (typeof auth['renewable'] === 'boolean') a.renewable = auth['renewable'];
    out.auth = a;
  }
  return out;
}

/** `data[key]` as an object, or undefined. */
export function objectAt(data: Record<string, unknown> | null | undefined, key: string): Record<string, unknown> | undefined {
  const v = data?.[key];
  return isObject(v) ? v : undefined;
}

export { isObject };
