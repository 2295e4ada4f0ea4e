// A cold `load` of 20 secrets on the AWS Secrets Manager provider against the loopback double
// (real SDK, real HTTP, SigV4 verified), compared in the same run with 20 sequential
// GetSecretValue calls through a bare SDK client. Each round uses new clients (cold: no cache,
// no tag cache, a new connection pool); the order alternates between rounds.
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { performance } from 'node:perf_hooks';
import { fromAwsSecretsManager } from '../src/aws/fromAwsSecretsManager.js';
import { createSecrets } from '../src/client.js';
import { defineSecrets } from '../src/manifest.js';
import { startSecretsManager } from '../test/fixtures/aws/secrets-manager.js';
import type { BenchModule } from './run.js';
import { prng } from './prng.js';

const SECRETS = 20;
const ROUNDS = 25;

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) >> 1]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

export const awsBulkLoad: BenchModule = {
  name: 'aws-bulk-load',
  description: `cold load() of ${SECRETS} aws-sm:// secrets (BatchGetSecretValue) vs ${SECRETS} sequential GetSecretValue calls`,
  async run(log) {
    const sm = await startSecretsManager();
    const key = sm.keys.longTerm();
    const random = prng(7);
    const names = Array.from({ length: SECRETS }, (_, i) => `bench/orders-${i}`);
    for (const name of names) sm.create(name, { string: JSON.stringify({ password: random().toString(36).slice(2) + random().toString(36).slice(2) }) }, { tags: { environment: 'dev', owner: 'data-platform' } });
    const manifest = defineSecrets(
      Object.fromEntries(names.map((n, i) => [`s${i}`, { ref: `aws-sm://${n}#password`, owner: 'data-platform', purpose: 'bench', sensitivity: 'low' as const }])),
    );
    const config = { region: sm.region, endpoint: sm.url, credentials: key, maxAttempts: 1 };
    const times = { bulk: [] as number[], bulkNoTags: [] as number[], sequential: [] as number[] };
    const ops = { bulk: new Map<string, number>(), bulkNoTags: new Map<string, number>() };
    const count = (into: Map<string, number>, from: number) => {
      for (const c of sm.calls.slice(from)) into.set(c.op, (into.get(c.op) ?? 0) + 1);
    };

    const bulk = async (tags: boolean) => {
      const secrets = createSecrets({ environment: 'dev', providers: [fromAwsSecretsManager({ ...config, tags })] });
      const from = sm.calls.length;
      const t0 = performance.now();
      const loaded = await secrets.load(manifest);
      const dt = performance.now() - t0;
      if (Object.keys(loaded).length !== SECRETS) throw new Error('load returned too few secrets');
      count(tags ? ops.bulk : ops.bulkNoTags, from);
      (tags ? times.bulk : times.bulkNoTags).push(dt);
      await secrets.close();
    };
    const sequential = async () => {
      const client = new SecretsManagerClient(config);
      const t0 = performance.now();
      for (const name of names) await client.send(new GetSecretValueCommand({ SecretId: name }));
      times.sequential.push(performance.now() - t0);
      client.destroy();
    };

    try {
      // One warm-up of each (module loading, JIT), not counted.
      await bulk(true);
      await sequential();
      ops.bulk.clear();
      times.bulk.length = 0;
      times.sequential.length = 0;
      for (let round = 0; round < ROUNDS; round++) {
        const order = round % 2 === 0 ? [() => bulk(true), () => bulk(false), sequential] : [sequential, () => bulk(false), () => bulk(true)];
        for (const step of order) await step();
      }
    } finally {
      await sm.close();
    }
    const perLoad = (m: Map<string, number>) => Object.fromEntries([...m].map(([op, n]) => [op, n / ROUNDS]));
    const figures = {
      medianMs: { bulk: median(times.bulk), bulkNoTags: median(times.bulkNoTags), sequential: median(times.sequential) },
      callsPerLoad: { bulk: perLoad(ops.bulk), bulkNoTags: perLoad(ops.bulkNoTags), sequential: { GetSecretValue: SECRETS } },
    };
    const roundTrips = figures.callsPerLoad.bulk['BatchGetSecretValue'] ?? 0;
    log(`cold load, tags on:  median ${figures.medianMs.bulk.toFixed(2)} ms; calls per load ${JSON.stringify(figures.callsPerLoad.bulk)} (the tag listing runs concurrently with the batch)`);
    log(`cold load, tags off: median ${figures.medianMs.bulkNoTags.toFixed(2)} ms; calls per load ${JSON.stringify(figures.callsPerLoad.bulkNoTags)}`);
    log(`${SECRETS} sequential GetSecretValue: median ${figures.medianMs.sequential.toFixed(2)} ms`);
    log(`value round trips per cold load: ${roundTrips} (target 1); wall time tags on ${(figures.medianMs.bulk / figures.medianMs.sequential).toFixed(2)}×, tags off ${(figures.medianMs.bulkNoTags / figures.medianMs.sequential).toFixed(2)}× the sequential baseline`);
    const ok = roundTrips === 1 && (figures.callsPerLoad.bulk['GetSecretValue'] ?? 0) === 0;
    if (!ok) log('FAIL: a cold load made more than one BatchGetSecretValue call or fell back to GetSecretValue');
    return {
      // Wall time of the cold bulk load (tags on, the default) as a share of the sequential reads.
      ratio: ok ? figures.medianMs.bulk / figures.medianMs.sequential : Infinity,
      target: 1,
      figures,
    };
  },
};
