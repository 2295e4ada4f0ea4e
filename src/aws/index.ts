// connector-secrets/aws: AWS Secrets Manager and auto-refreshing AWS credentials. The AWS SDK v3
// packages, optional peer dependencies, are loaded on first use, never by importing this module.
export { fromAwsSecretsManager } from './fromAwsSecretsManager.js';
export type { FromAwsSecretsManagerInit } from './fromAwsSecretsManager.js';
export type { AwsCredentialIdentity, AwsCredentialIdentityProvider, AwsCredentialsHandle } from './types.js';
export { AwsApiError } from './AwsApiError.js';
export { awsCredentials } from './awsCredentials.js';
export type { AwsCredentialsOptions, AwsAssumeRoleOptions, AwsWebIdentityOptions, AwsContainerOptions } from './awsCredentials.js';
export { awsRdsAuthToken } from './awsRdsAuthToken.js';
export type { AwsRdsAuthTokenOptions } from './awsRdsAuthToken.js';
