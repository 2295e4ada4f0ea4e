// connector-secrets/azure: Azure Key Vault secrets and auto-refreshing Microsoft Entra ID tokens.
// @azure/keyvault-secrets and @azure/identity, optional peer dependencies, are loaded on the
// first request or token, never by importing this module.
export { fromAzureKeyVault } from './fromAzureKeyVault.js';
export type { FromAzureKeyVaultInit } from './fromAzureKeyVault.js';
export { azureAccessToken, KEY_VAULT_SCOPE, OSSRDBMS_SCOPE } from './azureAccessToken.js';
export type { AzureAccessTokenInit } from './azureAccessToken.js';
export type { TokenHandleOptions } from '../handles/tokenHandleOptions.js';
export type { AzureAccessToken, AzureAccessTokenValue, AzureTokenCredential } from './types.js';
export { AzureApiError } from './AzureApiError.js';
