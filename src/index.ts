// The public core of connector-secrets. Every export is listed by name; heavy integrations
// live behind their own subpaths and are never loaded from here.
export { createSecrets } from './client.js';
export type { SecretsClient, SecretsOptions, SecretsEvents, StaleServedEvent, DescribedSecret } from './client.js';
export type { CallOptions } from './deadline.js';
export type { CacheOptions } from './cache.js';
export type { CredentialHandle, HandleOptions, HandleEvents, RenewedEvent, ExpiringEvent, ExpiredEvent } from './handles/CredentialHandle.js';
export type { Clock, TimerId, TimerOptions } from './handles/clock.js';
export type { RetryOptions } from './retry.js';
export { isAuthError } from './handles/isAuthError.js';
export { defineSecrets } from './manifest.js';
export type { SecretSpec, SecretSpecs, SecretManifest, LoadedSecrets, SpecValue, SchemaSpec, InventoryEntry, SpecHandles } from './manifest.js';
export type { StandardSchemaV1 } from './standardSchema.js';
export { parseRef, isSecretRef } from './ref/parseRef.js';
export { formatRef } from './ref/formatRef.js';
export type { RefParts } from './ref/formatRef.js';
export type { SecretRef } from './ref/types.js';
export { Secret, DEFAULT_PLACEHOLDER } from './secret.js';
export type { SecretInfo } from './secret.js';
export type { SecretProvider, ResolvedSecret, ResolveContext, Lease, SecretMetadata, SecretDescription, Sensitivity } from './provider.js';
export { parseDuration } from './duration.js';
export { fromEnv } from './providers/fromEnv.js';
export type { FromEnvInit } from './providers/fromEnv.js';
export { fromFile } from './providers/fromFile.js';
export type { FromFileInit } from './providers/fromFile.js';
export { fromLocalStore } from './providers/fromLocalStore.js';
export type { FromLocalStoreInit, LocalStore, LocalStoreEntryInfo, LocalStoreKeySource } from './providers/fromLocalStore.js';
export { createRedactor } from './redact/redactor.js';
export type { Redactor, RedactAddOptions } from './redact/redactor.js';
export { DEFAULT_ALLOWLIST, DETECTOR_NAMES } from './redact/options.js';
export type { RedactorOptions, RedactorWarning, DetectorName } from './redact/options.js';
export { DEFAULT_SENSITIVE_KEYS, DEFAULT_SENSITIVE_PARAMS } from './redact/keys.js';
export type { RedactStreamOptions } from './redact/stream.js';
export type { WrapConsoleOptions, WrapProcessOutputOptions, ConsoleMethod } from './redact/wrap.js';
export { createLogger } from './redact/logger.js';
export type { Logger, LoggerOptions, LogLevel, LogFields, LogMethod, LogDestination } from './redact/logger.js';
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
  EnvironmentMismatchError,
  PolicyDeniedError,
  AuditWriteError,
  AbortedError,
  RotationFailedError,
  QuarantinedError,
  isConnectorSecretsError,
} from './errors.js';
export type { ErrorCode, ErrorOptions, ChainErrorOptions, ProviderAttempt, SchemaIssue } from './errors.js';
export { StoreLockTimeoutError, type LockHolderInfo } from './providers/fromLocalStore.js';
export { definePolicy, loadPolicy } from './guard/policy.js';
export type { AccessPolicy, PolicyDocument, PolicyRule, LoadPolicyOptions, PolicyQuery, PolicyVerdict } from './guard/policy.js';
export type { PolicySource } from './guard/guard.js';
export type { CrossEnvironmentRule } from './guard/crossEnvironment.js';
export type { ApprovalRequest, ApprovalHook } from './guard/approval.js';
export type { DailyWindow } from './guard/timeWindow.js';
export { fileAuditSink } from './audit/fileAuditSink.js';
export type { FileAuditSink, FileAuditSinkOptions } from './audit/fileAuditSink.js';
export type { AuditAnchorSink } from './audit/anchor.js';
export { verifyAuditLog } from './audit/verifyAuditLog.js';
export type { VerifyAuditLogOptions, AuditVerification } from './audit/verifyAuditLog.js';
export { postgresAuditSink } from './audit/postgresAuditSink.js';
export type { PostgresAuditSink, PostgresAuditSinkOptions } from './audit/postgresAuditSink.js';
export { verifyPostgresAuditLog } from './audit/verifyPostgresAuditLog.js';
export type { VerifyPostgresAuditLogOptions, PostgresAuditVerification, PostgresChainVerification } from './audit/verifyPostgresAuditLog.js';
export type { AuditQueryable, AuditQueryResult } from './audit/pgTable.js';
export { stdoutAuditSink } from './audit/stdoutAuditSink.js';
export type { StdoutAuditSinkOptions } from './audit/stdoutAuditSink.js';
export { callbackAuditSink } from './audit/callbackAuditSink.js';
export type { BatchCallbackAuditSinkOptions } from './audit/callbackAuditSink.js';
export type { AuditEvent, AuditSink, AuditAction, AuditOutcome, AuditHitSummary } from './audit/event.js';
export type { SecretsMetrics, CountsByCode } from './metrics/metrics.js';
export type { HistogramSnapshot } from './metrics/histogram.js';
export type { AnomalyEvent, AnomalyKind, AnomalyOptions, AnomalyHistoryEntry } from './metrics/anomaly.js';
export { generateSecretValue } from './rotation/generate.js';
export type { GenerateSpec, RandomBytes } from './rotation/generate.js';
export type { RotationChange, RotateOptions, RotationResult } from './rotation/types.js';
