import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '../..');
const run = promisify(execFile);

// Nothing else keeps these scripts alive: the AWS SDK's retry pauses (refused connections) are
// awaited by the caller and must hold the process open until the error is reported.
const body = (load: string) => `
${load}
const ctx = { signal: new AbortController().signal, env: {}, environment: 'dev', identity: undefined, now: Date.now };
const sm = fromAwsSecretsManager({ region: 'eu-west-1', endpoint: 'http://127.0.0.1:9', credentials: { accessKeyId: 'AKIAEXAMPLEEXAMPLE00', secretAccessKey: 'x' }, maxAttempts: 3 });
const creds = awsCredentials({ region: 'eu-west-1', stsEndpoint: 'http://127.0.0.1:9', maxAttempts: 3, assumeRole: { roleArn: 'arn:aws:iam::123456789012:role/r', sessionName: 'lifecycle', source: { static: { accessKeyId: 'AKIAEXAMPLEEXAMPLE00', secretAccessKey: 'x' } } } });
Promise.allSettled([sm.resolve(parseRef('aws-sm://a/b'), ctx), creds.get()]).then((r) => {
  console.log(r.map((x) => x.status + ' ' + (x.reason?.code ?? '')).join(', '));
  return creds.close();
});
`;
const ESM = body(`import { fromAwsSecretsManager, awsCredentials } from './src/aws/index.ts';\nimport { parseRef } from './src/ref/parseRef.ts';`);
const CJS = body(`const { fromAwsSecretsManager, awsCredentials } = require('./src/aws/index.ts');\nconst { parseRef } = require('./src/ref/parseRef.ts');`);

describe('AWS calls keep the process alive through the SDK retries', () => {
  for (const [system, source] of [['ESM', ESM], ['CommonJS', CJS]] as const) {
    it(`${system}: a refused Secrets Manager and a refused STS both end in PROVIDER_UNAVAILABLE`, async () => {
      const { stdout } = await run(process.execPath, ['--import', 'tsx', `--input-type=${system === 'ESM' ? 'module' : 'commonjs'}`, '-e', source], { cwd: ROOT, timeout: 60_000 });
      expect(stdout.trim()).toBe('rejected PROVIDER_UNAVAILABLE, rejected PROVIDER_UNAVAILABLE');
    });
  }
});
