// A warm `secrets.get` (value already cached) against the floor any async cache can reach:
// a bare lru-cache `get` + `Promise.resolve`, measured in the same run, in the same process.
//
// One warm get is far below the timer's resolution, so every tinybench sample times a batch of
// BATCH awaited calls; ops/s is BATCH / mean sample time. Both tasks await each call, so both
// pay the same microtask turn per call. The bench runs ROUNDS times (alternating task order)
// and keeps the round with the median ratio, which damps GC and frequency noise.
import { randomBytes } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import { Bench, type Task } from 'tinybench';
import { createSecrets } from '../src/client.js';
import { fromMock } from '../src/testing/index.js';
import type { BenchModule, BenchOutcome } from './run.js';

const TARGET = 5;
const BATCH = 100;
const ITERATIONS = 5_000;
const WARMUP_ITERATIONS = 1_000;
const ROUNDS = 7;
const REF = 'secret://orders-api/token';

interface Round {
  readonly baselineOps: number;
  readonly getOps: number;
  readonly baselineP50Ns: number;
  readonly getP50Ns: number;
  readonly baselineRme: number;
  readonly getRme: number;
  readonly ratio: number;
}

export const secretsGet: BenchModule = {
  name: 'secrets-get',
  description: `warm secrets.get vs bare lru-cache get + Promise.resolve (batches of ${BATCH} awaited calls)`,

  async run(log): Promise<BenchOutcome> {
    // A generated value: nothing credential-like is ever written in this file.
    const value = randomBytes(24).toString('base64url');

    const mock = fromMock();
    mock.set(REF, value);
    const secrets = createSecrets({ environment: 'dev', providers: [mock] });
    await secrets.get(REF); // the one cold call; every measured call is a cache hit

    const lru = new LRUCache<string, { readonly value: string }>({ max: 1024 });
    lru.set(REF, { value });

    let sink = 0; // consumed results, so nothing is optimised away
    const baseline = async () => {
      for (let i = 0; i < BATCH; i++) {
        const entry = await Promise.resolve(lru.get(REF));
        sink += entry!.value.length;
      }
    };
    const warmGet = async () => {
      for (let i = 0; i < BATCH; i++) {
        const secret = await secrets.get(REF);
        sink += secret.ref!.length;
      }
    };

    const rounds: Round[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      const bench = new Bench({ iterations: ITERATIONS, time: 0, warmupIterations: WARMUP_ITERATIONS, warmupTime: 0, throws: true });
      // Alternate which task runs first, so neither always gets the cooler CPU.
      if (r % 2 === 0) bench.add('baseline', baseline).add('secrets.get', warmGet);
      else bench.add('secrets.get', warmGet).add('baseline', baseline);
      await bench.run();
      const b = stats(bench.getTask('baseline'));
      const g = stats(bench.getTask('secrets.get'));
      const round = {
        baselineOps: b.ops,
        getOps: g.ops,
        baselineP50Ns: b.p50Ns,
        getP50Ns: g.p50Ns,
        baselineRme: b.rme,
        getRme: g.rme,
        ratio: b.ops / g.ops,
      };
      rounds.push(round);
      log(`round ${r + 1}: baseline ${fmt(round.baselineOps)} ops/s, secrets.get ${fmt(round.getOps)} ops/s, ratio ${round.ratio.toFixed(2)}`);
    }

    if (mock.calls !== 1) throw new Error(`the provider was called ${mock.calls} times; the measured path was not warm`);
    if (sink === 0) throw new Error('unreachable: results were not consumed');
    await secrets.close();

    const median = [...rounds].sort((x, y) => x.ratio - y.ratio)[Math.floor(rounds.length / 2)]!;
    log(`median round: baseline ${fmt(median.baselineOps)} ops/s (±${median.baselineRme.toFixed(1)}%), ` +
      `secrets.get ${fmt(median.getOps)} ops/s (±${median.getRme.toFixed(1)}%)`);
    log(`per call (p50): baseline ${median.baselineP50Ns.toFixed(0)} ns, secrets.get ${median.getP50Ns.toFixed(0)} ns`);
    return {
      ratio: median.ratio,
      target: TARGET,
      figures: {
        batch: BATCH,
        iterations: ITERATIONS,
        warmupIterations: WARMUP_ITERATIONS,
        rounds: ROUNDS,
        baselineOpsPerSec: Math.round(median.baselineOps),
        secretsGetOpsPerSec: Math.round(median.getOps),
        baselineNsPerCallP50: Math.round(median.baselineP50Ns),
        secretsGetNsPerCallP50: Math.round(median.getP50Ns),
        ratiosByRound: rounds.map((x) => Math.round(x.ratio * 100) / 100),
      },
    };
  },
};

/** Per-call figures of a batched task: ops/s from the mean, ns/call from the median. */
function stats(task: Task | undefined): { ops: number; p50Ns: number; rme: number } {
  const result = task?.result;
  if (result === undefined || !('latency' in result)) {
    const why = result !== undefined && 'error' in result ? `: ${result.error.message}` : '';
    throw new Error(`bench task ${task?.name ?? '?'} did not complete (${result?.state ?? 'missing'})${why}`);
  }
  const { mean, p50, rme } = result.latency;
  return { ops: (BATCH * 1000) / mean, p50Ns: (p50 * 1e6) / BATCH, rme };
}

function fmt(ops: number): string {
  return Math.round(ops).toLocaleString('en-US');
}
