import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fromAwsSecretsManager } from '../../src/aws/fromAwsSecretsManager.js';
import { createSecrets } from '../../src/client.js';
import { defineSecrets } from '../../src/manifest.js';
import { parseRef } from '../../src/ref/parseRef.js';
import type { SecretsManagerDouble } from '../fixtures/aws/secrets-manager.js';
import type { IssuedKey } from '../fixtures/aws/sigv4.js';
import { generated } from '../helpers.js';
import { pointAt, resolveContext, secretsManager } from './helpers.js';

let sm: SecretsManagerDouble;
let key: IssuedKey;

beforeAll(async () => {
  ({ sm, key } = await secretsManager());
});
afterAll(() => sm.close());

/** Counts of the double's calls since `from`. */
function since(from: number) {
  const calls = sm.calls.slice(from);
  return (op: string) => calls.filter((c) => c.op === op).length;
}

describe('fromAwsSecretsManager: bulk reads with BatchGetSecretValue', () => {
  it('a cold load of 25 secrets makes two BatchGetSecretValue calls (20 + 5) and reads tags with three ListSecrets calls (10 names each)', async () => {
    const values = new Map<string, string>();
    for (let i = 0; i < 25; i++) {
      const v = generated();
      values.set(`bulk/s${i}`, v);
      sm.create(`bulk/s${i}`, { string: JSON.stringify({ password: v }) }, { tags: { environment: 'dev', owner: 'data-platform' } });
    }
    const specs = Object.fromEntries([...values.keys()].map((name, i) => [`s${i}`, { ref: `aws-sm://${name}#password`, owner: 'data-platform', purpose: 'bulk test', sensitivity: 'low' as const }]));
    const secrets = createSecrets({ environment: 'dev', providers: [fromAwsSecretsManager(pointAt(sm, key))] });
    const from = sm.calls.length;
    const loaded = await secrets.load(defineSecrets(specs));
    const count = since(from);
    expect(count('BatchGetSecretValue')).toBe(2);
    expect(count('GetSecretValue')).toBe(0);
    // The name filter matches prefixes (bulk/s1 also matches bulk/s10…): only exact names count.
    expect([count('ListSecrets'), count('DescribeSecret')]).toEqual([3, 0]);
    const batches = sm.calls.slice(from).filter((c) => c.op === 'BatchGetSecretValue').map((c) => (c.body['SecretIdList'] as string[]).length);
    expect(batches.sort((a, b) => a - b)).toEqual([5, 20]);
    for (let i = 0; i < 25; i++) {
      const s = loaded[`s${i}`]!;
      expect(s.reveal()).toBe(values.get(`bulk/s${i}`));
      expect(s.metadata?.environment).toBe('dev');
    }
    await secrets.close();
  });

  it('without secretsmanager:ListSecrets, tags come from DescribeSecret per secret', async () => {
    sm.create('nolist/a', { string: generated() }, { tags: { environment: 'dev', owner: 'team-a' } });
    sm.create('nolist/b', { string: generated() }, { tags: { environment: 'dev', owner: 'team-b' } });
    const provider = fromAwsSecretsManager(pointAt(sm, key));
    sm.fail('ListSecrets', 'AccessDeniedException');
    const from = sm.calls.length;
    const results = await provider.resolveMany!([parseRef('aws-sm://nolist/a'), parseRef('aws-sm://nolist/b')], resolveContext());
    expect(results.map((r) => r.status === 'fulfilled' && r.value.metadata?.owner)).toEqual(['team-a', 'team-b']);
    const count = since(from);
    expect([count('BatchGetSecretValue'), count('ListSecrets'), count('DescribeSecret')]).toEqual([1, 1, 2]);
    await provider.close?.();
  });

  it('resolveMany answers per ref: a missing secret fails alone, pinned versions use GetSecretValue', async () => {
    const a = generated();
    const { versionId } = sm.create('mix/a', { string: a });
    sm.put('mix/a', { string: generated() });
    const b = generated();
    const { arn } = sm.create('mix/b', { string: b });
    const provider = fromAwsSecretsManager({ ...pointAt(sm, key), tags: false });
    const from = sm.calls.length;
    const results = await provider.resolveMany!(
      ['aws-sm://mix/b', 'aws-sm://mix/missing', `aws-sm://mix/a?versionId=${versionId}`, `aws-sm://${arn}`].map((r) => parseRef(r)),
      resolveContext(),
    );
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled', 'fulfilled']);
    expect(results[0]!.status === 'fulfilled' && results[0]!.value.value).toBe(b);
    expect(results[1]!.status === 'rejected' && (results[1]!.reason as { code: string }).code).toBe('SECRET_NOT_FOUND');
    expect(results[2]!.status === 'fulfilled' && results[2]!.value.value).toBe(a);
    expect(results[3]!.status === 'fulfilled' && results[3]!.value.value).toBe(b);
    const count = since(from);
    expect([count('BatchGetSecretValue'), count('GetSecretValue')]).toEqual([1, 1]);
    await provider.close?.();
  });

  it('a role without secretsmanager:BatchGetSecretValue still reads: the refused batch falls back to GetSecretValue per secret', async () => {
    const [x, y] = [generated(), generated()];
    sm.create('perm/x', { string: x });
    sm.create('perm/y', { string: y });
    const provider = fromAwsSecretsManager({ ...pointAt(sm, key), tags: false });
    sm.fail('BatchGetSecretValue', 'AccessDeniedException');
    const from = sm.calls.length;
    const results = await provider.resolveMany!([parseRef('aws-sm://perm/x'), parseRef('aws-sm://perm/y')], resolveContext());
    expect(results.map((r) => (r.status === 'fulfilled' ? r.value.value : r.reason))).toEqual([x, y]);
    const count = since(from);
    expect([count('BatchGetSecretValue'), count('GetSecretValue')]).toEqual([1, 2]);
    await provider.close?.();
  });
});
