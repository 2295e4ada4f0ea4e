/**
 * Cloud providers in the operator configuration: `aws`, `gcp` and `azure` entries, validated
 * like the others, credentials from the SDKs' default chains (never in the file). The AWS entry
 * is driven end to end: `inventory` in a child process reads DescribeSecret facts through the
 * real SDK from the strict Secrets Manager double, with the keys in the environment.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, providersFor } from '../../src/cli/config.js';
import { startSecretsManager, type SecretsManagerDouble } from '../fixtures/aws/secrets-manager.js';
import { generated, rejection } from '../helpers.js';

const ROOT = resolve(import.meta.dirname, '../..');
const DAY = 86_400_000;
let dir: string;
let sm: SecretsManagerDouble;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cs-config-cloud-'));
  sm = await startSecretsManager();
});
afterAll(async () => {
  await sm.close();
  await rm(dir, { recursive: true, force: true });
});

async function config(name: string, doc: unknown): Promise<string> {
  const file = join(dir, name);
  await writeFile(file, JSON.stringify(doc));
  return file;
}

describe('cloud providers in connector-secrets.config', () => {
  it('aws, gcp and azure entries build their providers for the environments they serve', async () => {
    const file = await config('cloud.json', {
      environments: ['dev', 'prod'],
      providers: [
        { type: 'aws', region: 'eu-west-1', environments: ['prod'] },
        { type: 'gcp', projectId: 'orders-prod', location: 'europe-west1', environments: ['prod'] },
        { type: 'azure', vaultUrl: 'https://orders-kv.vault.azure.net' },
      ],
      manifests: ['orders.mjs'],
    });
    const loaded = await loadConfig(file, dir);
    expect((await providersFor(loaded, 'prod', {})).map((p) => p.name)).toEqual(['aws-sm', 'gcp', 'azure-kv']);
    expect((await providersFor(loaded, 'dev', {})).map((p) => p.name)).toEqual(['azure-kv']);
  });

  it('a bad entry names its field; a pasted credential is refused as an unknown field and never echoed', async () => {
    const pasted = generated();
    const cases: [unknown, RegExp][] = [
      [{ type: 'azure' }, /providers\.0\.vaultUrl/],
      [{ type: 'aws', endpoint: 'secretsmanager' }, /providers\.0\.endpoint: must be a URL/],
      // Unknown keys are counted, not named: a key can be a pasted value too.
      [{ type: 'aws', secretAccessKey: pasted }, /providers\.0: 1 unknown key/],
      [{ type: 'gcp', [pasted]: true }, /providers\.0: 1 unknown key/],
    ];
    for (const [entry, why] of cases) {
      const file = await config('bad.json', { environments: ['prod'], providers: [entry], manifests: ['orders.mjs'] });
      const err = await rejection(loadConfig(file, dir));
      expect([err.code, err.message]).toEqual(['CONFIG_INVALID', expect.stringMatching(why)]);
      expect(err.message).not.toContain(pasted);
    }
  });

  it('inventory reads rotation facts from Secrets Manager through an `aws` entry (real SDK, keys from the environment)', async () => {
    const lastRotated = Date.now() - 40 * DAY;
    sm.create('orders/config-db', { string: generated() }, { tags: { environment: 'prod' }, rotation: { lastRotated, nextRotation: lastRotated + 30 * DAY } });
    const src = pathToFileURL(join(ROOT, 'src/manifest.ts')).href;
    await writeFile(
      join(dir, 'orders.mjs'),
      `import { defineSecrets } from ${JSON.stringify(src)};
export const orders = defineSecrets({ db: { ref: 'aws-sm://orders/config-db', owner: 'data-platform', purpose: 'write orders', rotation: '30d' } });
`,
    );
    const file = await config('aws.json', { environments: ['prod'], providers: [{ type: 'aws', region: sm.region, endpoint: sm.url }], manifests: ['orders.mjs'] });
    const key = sm.keys.longTerm();
    const run = await promisify(execFile)(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'inventory', '--env', 'prod', '--config', file, '--json', '--fail-on', 'unresolved'], {
      cwd: ROOT,
      timeout: 60_000,
      env: { PATH: process.env['PATH'] ?? '', AWS_ACCESS_KEY_ID: key.accessKeyId, AWS_SECRET_ACCESS_KEY: key.secretAccessKey, AWS_EC2_METADATA_DISABLED: 'true' },
    }).then(
      ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
      (err: { code: number; stdout: string; stderr: string }) => ({ code: err.code, stdout: err.stdout, stderr: err.stderr }),
    );
    expect(run.code).toBe(0);
    const doc = JSON.parse(run.stdout) as { entries: Record<string, unknown>[] };
    expect(doc.entries[0]).toMatchObject({ name: 'db', provider: 'aws-sm', rotationStatus: 'overdue', resolvesIn: ['prod'], flags: ['overdue'] });
    expect(run.stdout + run.stderr).not.toContain(key.secretAccessKey);
  });
});
