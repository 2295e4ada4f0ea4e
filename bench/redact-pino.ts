// pino logging 100,000 structured lines to a null destination (`pino.destination('/dev/null')`,
// synchronous sonic-boom, as pino's own benchmarks do), three loggers side by side in one
// process:
// - plain pino;
// - pino's own path redaction (`redact: [paths]`, fast-redact), the thing users would pick
//   instead: it masks the named fields only;
// - `connector-secrets/pino` (`withRedaction`: every serialized line redacted in
//   `hooks.streamWrite`) with the default rules and 100 registered secrets.
// One line in ten carries a secret (in a URL field that the pino paths also name).
//
// Rounds run the three in rotating order (so all see the same machine load) and time them in
// CPU time of this process (the machine is shared); each ratio is the median of per-round
// ratios. The same is measured with an in-memory no-op destination (the CPU cost of redaction
// alone, without the write system call), reported beside it (`cpuOnly*`).
//
// Target (issue 10): ours / plain ≤ pino-paths / plain in the same run, and ≤ 1.3. The runner's
// `ratio` is ours / plain; its `target` is the smaller of the two bounds.
import pino from 'pino';
import { createRedactor } from '../src/redact/redactor.js';
import { withRedaction } from '../src/pino/index.js';
import type { BenchModule, BenchOutcome } from './run.js';
import { prng } from './prng.js';
import { cpuMs, generateSecrets, median, round } from './redact-shared.js';

const LINES = 100_000;
const SECRETS = 100;
const ROUNDS = 7;
const TARGET = 1.3;
/** What a connector would give pino's `redact`: its sensitive fields, one wildcard, one nested path. */
const PINO_PATHS = ['password', 'token', 'apiKey', 'secret', 'upstream', 'headers.authorization', '*.password'];

export const redactPino: BenchModule = {
  name: 'redact-pino',
  description: `pino, ${LINES.toLocaleString('en-US')} structured lines to a null destination: plain vs pino redact paths vs connector-secrets (${SECRETS} secrets)`,

  async run(log): Promise<BenchOutcome> {
    const secrets = generateSecrets(SECRETS, 5);
    const redactor = createRedactor();
    for (const s of secrets) redactor.add(s);

    const nullDestination = pino.destination({ dest: '/dev/null', sync: true });
    const options = { level: 'info', base: { service: 'orders-sync' } };
    const pathsOptions = { ...options, redact: PINO_PATHS };
    let bytes = 0;
    const noop = { write: (line: string) => void (bytes += line.length) };
    const toNull = { plain: pino(options, nullDestination), paths: pino(pathsOptions, nullDestination), ours: pino(withRedaction(redactor, options), nullDestination) };
    const toNoop = { plain: pino(options, noop), paths: pino(pathsOptions, noop), ours: pino(withRedaction(redactor, options), noop) };

    // The same entries for every logger.
    const rand = prng(11);
    const entries = Array.from({ length: 1000 }, (_, i) => ({
      table: ['orders', 'customers', 'refunds'][i % 3],
      batch: i,
      rows: Math.floor(rand() * 5000),
      durationMs: Math.floor(rand() * 900),
      cursor: `c-${Math.floor(rand() * 1e9).toString(36)}`,
      ...(i % 10 === 0 ? { upstream: `https://api.example.com/v1/orders?page=${i}&session=${secrets[i % SECRETS]}` } : {}),
    }));

    const runOnce = (logger: pino.Logger): number => {
      const start = cpuMs();
      for (let i = 0; i < LINES; i++) logger.info(entries[i % entries.length]!, 'batch synced');
      return cpuMs() - start;
    };

    // Sanity: no secret reaches the destination through either redacting logger.
    for (const make of [(o: pino.LoggerOptions) => pino(withRedaction(redactor, o), sink), (o: pino.LoggerOptions) => pino({ ...o, redact: PINO_PATHS }, sink)]) {
      seen.length = 0;
      const check = make({ level: 'info' });
      for (let i = 0; i < 20; i++) check.info(entries[i * 10]!, 'batch synced');
      for (const line of seen) for (const s of secrets) if (line.includes(s)) throw new Error('a secret reached the pino destination');
    }

    const measure = (label: string, loggers: { plain: pino.Logger; paths: pino.Logger; ours: pino.Logger }) => {
      const order = ['plain', 'paths', 'ours'] as const;
      for (const k of order) runOnce(loggers[k]);
      const times = { plain: [] as number[], paths: [] as number[], ours: [] as number[] };
      for (let r = 0; r < ROUNDS; r++) {
        for (let k = 0; k < 3; k++) {
          const name = order[(k + r) % 3]!;
          times[name].push(runOnce(loggers[name]));
        }
        log(`${label} round ${r + 1}: plain ${times.plain[r]!.toFixed(0)} ms, pino paths ${times.paths[r]!.toFixed(0)} ms, ours ${times.ours[r]!.toFixed(0)} ms`);
      }
      const ratio = (xs: number[]) => median(xs.map((x, i) => x / times.plain[i]!));
      const out = { plainMs: median(times.plain), pathsRatio: ratio(times.paths), oursRatio: ratio(times.ours) };
      log(`${label}: pino paths ${out.pathsRatio.toFixed(2)}×, connector-secrets ${out.oursRatio.toFixed(2)}× plain (median of ${ROUNDS} rounds; plain ${out.plainMs.toFixed(0)} ms CPU)`);
      return out;
    };
    const devNull = measure('/dev/null', toNull);
    nullDestination.flushSync();
    const cpu = measure('no-op', toNoop);
    if (bytes === 0) throw new Error('unreachable: nothing was written');
    const target = Math.min(TARGET, devNull.pathsRatio);
    return {
      ratio: devNull.oursRatio,
      target: round(target),
      figures: {
        lines: LINES,
        secrets: SECRETS,
        rounds: ROUNDS,
        timing: 'CPU time of the process, median of per-round ratios',
        destination: "pino.destination({ dest: '/dev/null', sync: true })",
        pinoPaths: PINO_PATHS,
        plainMs: Math.round(devNull.plainMs),
        pinoPathsRatio: round(devNull.pathsRatio),
        connectorSecretsRatio: round(devNull.oursRatio),
        cpuOnlyPinoPathsRatio: round(cpu.pathsRatio),
        cpuOnlyConnectorSecretsRatio: round(cpu.oursRatio),
        targets: { atMostPinoPaths: true, atMost: TARGET },
      },
    };
  },
};

const seen: string[] = [];
const sink = { write: (line: string) => void seen.push(line) };
