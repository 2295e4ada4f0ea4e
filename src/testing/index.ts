// Test helpers for connector authors: `import { fromMock } from 'connector-secrets/testing'`.
export { fromMock } from './fromMock.js';
export type { MockProvider, MockSetOptions, MockFailure, FromMockInit, MockLeaseOptions, MockLeaseRecord } from './fromMock.js';
export { expectNoSecrets, findLeaks } from './expectNoSecrets.js';
export type { ExpectNoSecretsOptions, SecretLike, CapturedOutput, Leak } from './expectNoSecrets.js';
export { collectRedactorWarnings } from './collectRedactorWarnings.js';
export type { CollectedWarnings } from './collectRedactorWarnings.js';
export { createTestClock } from './testClock.js';
export type { TestClock, TestClockOptions, PendingTimer } from './testClock.js';
export { plantCanaries, captureOutput } from './canaries.js';
export type { Canaries, CanaryOptions, CapturedRun } from './canaries.js';
