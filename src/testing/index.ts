// Test helpers for connector authors: `import { fromMock } from 'connector-secrets/testing'`.
export { fromMock } from './fromMock.js';
export type { MockProvider, MockSetOptions, MockFailure, FromMockInit, MockLeaseOptions, MockLeaseRecord } from './fromMock.js';
