// The fixed cost of `redact()`: a 150-character log line holding no secret, through the default
// redactor (every detector and key rule) with 100 registered secrets, in ns per call. Beside it,
// in the same rounds, a bare `charCodeAt` loop over the same lines (the floor of any scan) and
// the identity function (the cost of the calling loop itself).
//
// Target (issue 10): ≤ 0.3 µs per call. The runner's `ratio` is the median ns per call / 300.
import { createRedactor } from '../src/redact/redactor.js';
import type { BenchModule, BenchOutcome } from './run.js';
import { charCodeFloor, flat, generateSecrets, median, round, rounds } from './redact-shared.js';
import { prng } from './prng.js';

const SECRETS = 100;
const ROUNDS = 7;
const MIN_MS = 150;
const TARGET_NS = 300;

export const redactFixed: BenchModule = {
  name: 'redact-fixed',
  description: `redact() fixed cost: a 150-character line with no secret, default redactor with ${SECRETS} secrets (ns per call vs 300)`,

  async run(log): Promise<BenchOutcome> {
    const redactor = createRedactor();
    for (const s of generateSecrets(SECRETS, 3)) redactor.add(s);
    // pino-shaped JSON lines of exactly 150 characters, with no secret and no sensitive key.
    const rand = prng(5);
    const lines = Array.from({ length: 64 }, (_, i) => {
      const base = `{"level":30,"time":${1767225600000 + i * 997},"pid":4242,"hostname":"etl-7","table":"orders","rows":${Math.floor(rand() * 5000)},"msg":"batch synced"`;
      return flat(`${base}${' '.repeat(149 - base.length)}}`);
    });
    for (const line of lines) {
      if (line.length !== 150) throw new Error('bench line is not 150 characters');
      if (redactor.redact(line) !== line) throw new Error('a bench line was changed');
    }
    const m = rounds(
      [
        { name: 'redact', fn: (l) => redactor.redact(l), lines },
        { name: 'floor', fn: charCodeFloor, lines },
        { name: 'identity', fn: (l) => l, lines },
      ],
      ROUNDS,
      MIN_MS,
      log,
    );
    // MB/s over 150-byte lines → ns per call.
    const ns = (mbps: number) => (150 / (mbps * 1e6)) * 1e9;
    const redactNs = median(m.get('redact')!.map(ns));
    const floorNs = median(m.get('floor')!.map(ns));
    const identityNs = median(m.get('identity')!.map(ns));
    log(`redact(): ${redactNs.toFixed(0)} ns per 150-character line (target <= ${TARGET_NS}); floor ${floorNs.toFixed(0)} ns; loop ${identityNs.toFixed(0)} ns`);
    return {
      ratio: redactNs / TARGET_NS,
      target: 1,
      figures: {
        lineChars: 150,
        secrets: SECRETS,
        rounds: ROUNDS,
        redactNsPerCall: round(redactNs, 0),
        floorNsPerLine: round(floorNs, 0),
        loopNsPerCall: round(identityNs, 0),
        targetNs: TARGET_NS,
      },
    };
  },
};
