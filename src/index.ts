// The public core of connector-secrets. Every export is listed by name; heavy integrations
// live behind their own subpaths and are never loaded from here.
export { createSecrets } from './client.js';
export type { SecretsClient, SecretsOptions, SecretsEvents, StaleServedEvent } from './client.js';
export type { CacheOptions } from './cache.js';
export { defineSecrets } from './manifest.js';
export type { SecretSpec, SecretSpecs, SecretManifest, LoadedSecrets, SpecValue, InventoryEntry } from './manifest.js';
export { parseRef, isSecretRef } from './ref/parseRef.js';
export { formatRef } from './ref/formatRef.js';
export type { RefParts } from './ref/formatRef.js';
export type { SecretRef } from './ref/types.js';
export { Secret, DEFAULT_PLACEHOLDER } from './secret.js';
export type { SecretInfo } from './secret.js';
export type { SecretProvider, ResolvedSecret, ResolveContext, Lease, SecretMetadata, Sensitivity } from './provider.js';
export { parseDuration } from './duration.js';
export { fromEnv } from './providers/fromEnv.js';
export type { FromEnvInit } from './providers/fromEnv.js';
export { fromFile } from './providers/fromFile.js';
export type { FromFileInit } from './providers/fromFile.js';
export { fromLocalStore } from './providers/fromLocalStore.js';
export type { FromLocalStoreInit, LocalStore, LocalStoreEntryInfo, LocalStoreKeySource } from './providers/fromLocalStore.js';
export {
  ConnectorSecretsError,
  InvalidSecretRefError,
  SecretNotFoundError,
  ProviderUnavailableError,
  ProviderError,
  AccessDeniedError,
  SecretFormatError,
  SecretExpiredError,
  SecretDisposedError,
  ConfigError,
  isConnectorSecretsError,
} from './errors.js';
export type { ErrorCode, ErrorOptions, ChainErrorOptions, ProviderAttempt } from './errors.js';
