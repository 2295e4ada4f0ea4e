// Runs the benchmarks: `npm run bench` runs every module below, `npm run bench -- secrets-get`
// runs the named ones. Each module measures itself against a baseline in the same run and
// returns its figures; this runner prints the verdict and writes bench/results/<name>.json.
//
// Flags: `--strict` exits non-zero when a bench misses its target (for CI); `--no-write` keeps
// bench/results untouched (for a quick local look).
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { auditPostgresEach, auditPostgresEachRelaxed, auditPostgresFetch } from './audit-postgres.js';
import { auditEach, auditFsync, auditSummary } from './audit-throughput.js';
import { awsBulkLoad } from './aws-bulk-load.js';
import { awsStsFleet } from './aws-sts-fleet.js';
import { gcpTokenFleet } from './gcp-token-fleet.js';
import { azureTokenFleet } from './azure-token-fleet.js';
import { fleetPropagation } from './fleet-propagation.js';
import { fleetRedis } from './fleet-redis.js';
import { handlesFleet } from './handles-fleet.js';
import { redactFixed } from './redact-fixed.js';
import { redactPino } from './redact-pino.js';
import { redactRegister } from './redact-register.js';
import { redactThroughput } from './redact-throughput.js';
import { scanBench } from './scan.js';
import { secretsGet } from './secrets-get.js';

/** One benchmark module. Add a file beside this one and list it in {@link BENCHES}. */
export interface BenchModule {
  /** File name of its results: `bench/results/<name>.json`; also the CLI filter. */
  readonly name: string;
  /** One line on what is measured against what. */
  readonly description: string;
  /** Measures; prints its own details through `log`. */
  run(log: (line: string) => void): Promise<BenchOutcome>;
}

/** What a bench module reports. Everything here lands in its results file. */
export interface BenchOutcome {
  /** The measured ratio against the baseline (higher = slower than the baseline). */
  readonly ratio: number;
  /** The ratio the bench must stay at or under. */
  readonly target: number;
  /** Figures worth keeping (ops/s, iterations …), JSON-serialisable. */
  readonly figures: Readonly<Record<string, unknown>>;
}

/** The benchmarks, in run order. */
const BENCHES: readonly BenchModule[] = [secretsGet, handlesFleet, redactThroughput, redactFixed, redactRegister, redactPino, auditSummary, auditEach, auditFsync, auditPostgresEach, auditPostgresEachRelaxed, auditPostgresFetch, awsStsFleet, awsBulkLoad, gcpTokenFleet, azureTokenFleet, scanBench, fleetPropagation, fleetRedis];

const RESULTS_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), 'results');

async function main(argv: readonly string[]): Promise<number> {
  const strict = argv.includes('--strict');
  const write = !argv.includes('--no-write');
  const wanted = argv.filter((a) => !a.startsWith('--'));
  const unknown = wanted.filter((w) => !BENCHES.some((b) => b.name === w));
  if (unknown.length > 0) {
    console.error(`unknown bench: ${unknown.join(', ')} (known: ${BENCHES.map((b) => b.name).join(', ')})`);
    return 2;
  }
  const selected = wanted.length === 0 ? BENCHES : BENCHES.filter((b) => wanted.includes(b.name));
  let failed = 0;
  for (const bench of selected) {
    console.log(`\n== ${bench.name}: ${bench.description}`);
    const outcome = await bench.run((line) => console.log(`   ${line}`));
    const pass = outcome.ratio <= outcome.target;
    if (!pass) failed += 1;
    console.log(`   ratio ${outcome.ratio.toFixed(2)} (target <= ${outcome.target}): ${pass ? 'PASS' : 'FAIL'}`);
    if (write) {
      const file = path.join(RESULTS_DIR, `${bench.name}.json`);
      await mkdir(RESULTS_DIR, { recursive: true });
      await writeFile(file, JSON.stringify(record(bench, outcome, pass), null, 2) + '\n');
      console.log(`   wrote ${path.relative(process.cwd(), file)}`);
    }
  }
  console.log(`\n${selected.length - failed}/${selected.length} benchmarks within target`);
  return strict && failed > 0 ? 1 : 0;
}

/** The results file: stable key order, rounded figures, so diffs between runs stay readable. */
function record(bench: BenchModule, outcome: BenchOutcome, pass: boolean) {
  return {
    bench: bench.name,
    description: bench.description,
    date: new Date().toISOString(),
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    cpu: os.cpus()[0]?.model.trim() ?? 'unknown',
    ratio: round(outcome.ratio, 2),
    target: outcome.target,
    pass,
    figures: outcome.figures,
  };
}

function round(n: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}

process.exitCode = await main(process.argv.slice(2));
