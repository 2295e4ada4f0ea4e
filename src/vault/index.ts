// connector-secrets/vault: the HashiCorp Vault provider. node-vault, an optional peer
// dependency, is loaded on the first request, never by importing this module.
export { fromVault } from './fromVault.js';
export type { FromVaultInit } from './fromVault.js';
export type { VaultAuth, VaultTokenAuth, VaultAppRoleAuth, VaultKubernetesAuth, VaultJwtAuth } from './auth.js';
export type { VaultTlsOptions } from './tls.js';
export type { VaultRetryOptions } from './backoff.js';
export type { VaultRefResolver } from './credentials.js';
export { VaultApiError } from './VaultApiError.js';
