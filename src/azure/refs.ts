import { InvalidSecretRefError, SecretNotFoundError } from '../errors.js';
import type { SecretRef } from '../ref/types.js';

/** Where an `azure-kv://` ref points. */
export interface KeyVaultLocator {
  readonly vault: string;
  readonly secret: string;
  /** The 32-hex version id; `undefined` for the current version. */
  readonly version: string | undefined;
}

const NAME = /^[0-9a-zA-Z-]{1,127}$/;
const VERSION = /^[0-9a-f]{32}$/i;

/** The vault name of a vault URL: the first label of its host (`orders-kv` of `https://orders-kv.vault.azure.net`). */
export function vaultNameOf(vaultUrl: string): string | undefined {
  let url: URL;
  try {
    url = new URL(vaultUrl);
  } catch {
    return undefined;
  }
  if (url.protocol !== 'https:') return undefined;
  const label = url.hostname.split('.')[0]?.toLowerCase();
  return label !== undefined && NAME.test(label) && url.hostname.includes('.') ? label : undefined;
}

/**
 * `azure-kv://<vault>/<secret>[/<version>]`. A ref for another vault is not this provider's to
 * serve: SECRET_NOT_FOUND lets the chain try the next Key Vault provider. The input is never
 * echoed: the error says which part is wrong.
 */
export function locate(ref: SecretRef, vault: string, provider: string): KeyVaultLocator {
  const ids = { ref: String(ref), provider };
  const [refVault, secret, version, ...rest] = ref.segments;
  if (refVault === undefined || secret === undefined || rest.length > 0) {
    throw new InvalidSecretRefError('an azure-kv ref is azure-kv://<vault>/<secret>[/<version>]', ids);
  }
  if (!NAME.test(secret)) throw new InvalidSecretRefError('the secret name of an azure-kv ref must be 1-127 letters, digits or dashes', ids);
  if (version !== undefined && !VERSION.test(version)) throw new InvalidSecretRefError('the version of an azure-kv ref must be a 32-character hex version id', ids);
  if (refVault.toLowerCase() !== vault) throw new SecretNotFoundError('the ref names another Key Vault than this provider serves', ids);
  return { vault, secret, version: version?.toLowerCase() };
}
