import { execFile } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '../..');
const run = promisify(execFile);

// Runs in a fresh process: import the core and the aws subpath, make a provider, then one request.
const SCRIPT = `
import { createRequire } from 'node:module';
const require = createRequire(import.meta.url);
const loaded = () => Object.keys(require.cache).filter((k) => /\\/node_modules\\/@(aws-sdk|smithy)\\//.test(k)).length > 0;
await import('./src/index.ts');
const aws = await import('./src/aws/index.ts');
const { parseRef } = await import('./src/ref/parseRef.ts');
const afterImport = loaded();
const p = aws.fromAwsSecretsManager({ region: 'eu-west-1', endpoint: 'http://127.0.0.1:9', credentials: { accessKeyId: 'AKIAEXAMPLEEXAMPLE00', secretAccessKey: 'x' }, maxAttempts: 1 });
const afterCreate = loaded();
const ctx = { signal: new AbortController().signal, env: {}, environment: 'dev', identity: undefined, now: Date.now };
const err = await p.resolve(parseRef('aws-sm://a/b'), ctx).catch((e) => e);
console.log(JSON.stringify({ afterImport, afterCreate, afterRequest: loaded(), code: err.code }));
`;

describe('the AWS SDK is loaded lazily', () => {
  it('neither the core nor connector-secrets/aws loads @aws-sdk/* before the first request', async () => {
    const { stdout } = await run(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', SCRIPT], { cwd: ROOT, timeout: 60_000 });
    expect(JSON.parse(stdout.trim().split('\n').at(-1)!)).toEqual({ afterImport: false, afterCreate: false, afterRequest: true, code: 'PROVIDER_UNAVAILABLE' });
  });

  it('only loadAwsSdk.ts imports @aws-sdk at run time; the core imports nothing from src/aws', async () => {
    const files = (await readdir(path.join(ROOT, 'src'), { recursive: true })).filter((f) => f.endsWith('.ts'));
    for (const f of files) {
      const text = await readFile(path.join(ROOT, 'src', f), 'utf8');
      const runtime = [...text.matchAll(/(?:^|\n)\s*import\s+(?!type\b)[^;]*?from\s+'@(?:aws-sdk|smithy)\/[^']+'|import\('@(?:aws-sdk|smithy)\/[^']+'\)/g)];
      if (f !== path.join('aws', 'loadAwsSdk.ts')) expect(runtime, f).toHaveLength(0);
      if (!f.startsWith(`aws${path.sep}`)) expect(text, f).not.toMatch(/from '\.{1,2}\/(?:\.\.\/)*aws\//);
    }
  });
});
