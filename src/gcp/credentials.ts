import { readFile } from 'node:fs/promises';
import { ConfigError } from '../errors.js';

/**
 * The credential files Google tools write, as parsed JSON: a service-account key, an
 * `external_account` (workload identity federation) configuration, or an `authorized_user`
 * (gcloud user) file. Only the fields read here are typed.
 *
 * @example
 * ```ts
 * const key: GcpCredentialsJson = JSON.parse(await readFile('/run/secrets/sa.json', 'utf8'));
 * ```
 */
export interface GcpCredentialsJson {
  /** `service_account`, `external_account` or `authorized_user`. */
  readonly type: string;
  /** The project of a service-account key. */
  readonly project_id?: string;
  /** The service account of a key. */
  readonly client_email?: string;
  /** The PEM private key of a service-account key. */
  readonly private_key?: string;
  /** The id of that key (the JWT `kid`). */
  readonly private_key_id?: string;
  /** Any other field of the file. */
  readonly [field: string]: unknown;
}

/** Reads a credential file (JSON) and checks its `type`; errors name the file's role, never its content. */
export async function readCredentials(source: string | GcpCredentialsJson): Promise<GcpCredentialsJson> {
  let json: unknown = source;
  if (typeof source === 'string') {
    let text: string;
    try {
      text = await readFile(source, 'utf8');
    } catch (err) {
      throw new ConfigError(`the Google credentials file cannot be read (${(err as { code?: unknown }).code ?? 'error'})`, { provider: 'gcp' });
    }
    try {
      json = JSON.parse(text);
    } catch {
      throw new ConfigError('the Google credentials file is not JSON', { provider: 'gcp' });
    }
  }
  const type = (json as { type?: unknown } | null)?.type;
  if (typeof json !== 'object' || json === null || typeof type !== 'string') {
    throw new ConfigError('Google credentials need a "type" (service_account, external_account or authorized_user)', { provider: 'gcp' });
  }
  if (type === 'service_account' && (typeof (json as GcpCredentialsJson).client_email !== 'string' || typeof (json as GcpCredentialsJson).private_key !== 'string')) {
    throw new ConfigError('a service-account key needs "client_email" and "private_key"', { provider: 'gcp' });
  }
  return json as GcpCredentialsJson;
}
