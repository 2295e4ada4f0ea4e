// `connector-secrets scan` against secretlint (its recommended preset) on the same inputs, in
// the same run:
//
// - recall on the planted corpus (29 kinds of credentials, generated at run time, 5 corpora):
//   a planted file counts as found when the tool reports anything in it;
// - false positives on a slice of node_modules (ordinary source: docs, tests, bundles);
// - throughput in MB/s over the same in-memory texts (the corpus and the slice), no file I/O:
//   our per-file scan (FileScanner, what `scan` runs per file) against secretlint's
//   `lintSource` (what its CLI runs per file), median of rounds.
//
// Targets (issue 15): our recall >= secretlint's, and >= 5x its throughput. The runner's
// `ratio` is secretlint's MB/s x 5 / ours (<= 1 passes); a recall below secretlint's fails the
// bench whatever the speed.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { lintSource } from '@secretlint/core';
import { creator as recommend } from '@secretlint/secretlint-rule-preset-recommend';
import { FileScanner, isCodeFile } from '../src/scan/detectors.js';
import { plantedCorpus } from '../test/fixtures/scan/corpus.js';
import type { BenchModule, BenchOutcome } from './run.js';

const ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));
const SLICE = ['zod', 'pino', 'undici', 'pg', 'pg-connection-string', 'yaml', 'winston', 'axios', 'lru-cache', 'node-forge', 'google-auth-library', 'mysql2'];
const CORPORA = 5;
const ROUNDS = 3;
const MAX_BYTES = 1 << 20;

interface Input {
  readonly file: string;
  readonly bytes: Buffer;
  readonly text: string;
}

function readSlice(): Input[] {
  const out: Input[] = [];
  const visit = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) visit(p);
      else if (e.isFile() && statSync(p).size <= MAX_BYTES) {
        const bytes = readFileSync(p);
        if (!bytes.subarray(0, 8000).includes(0)) out.push({ file: p, bytes, text: bytes.toString('utf8') });
      }
    }
  };
  for (const pkg of SLICE) visit(join(ROOT, 'node_modules', pkg));
  return out;
}

const config = { rules: [{ id: '@secretlint/secretlint-rule-preset-recommend', rule: recommend }] };
async function secretlintCount(input: Input): Promise<number> {
  const r = await lintSource({ source: { content: input.text, filePath: input.file, ext: input.file.slice(input.file.lastIndexOf('.')), contentType: 'text' }, options: { config, maskSecrets: true } });
  return r.messages.length;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

export const scanBench: BenchModule = {
  name: 'scan',
  description: 'scan vs secretlint (preset-recommend): recall on 29 planted kinds, false positives on node_modules, MB/s (target: recall >= theirs, >= 5x throughput)',

  async run(log): Promise<BenchOutcome> {
    const scanner = new FileScanner();
    const ours = (i: Input) => scanner.scan(i.bytes, isCodeFile(i.file)).findings.length;

    // Recall, per kind.
    const planted = Array.from({ length: CORPORA }, () => plantedCorpus()).flat();
    const kinds = [...new Set(planted.map((p) => p.kind))];
    const foundBy = { ours: new Map<string, number>(), secretlint: new Map<string, number>() };
    for (const p of planted) {
      const input: Input = { file: `/corpus/${p.file}`, bytes: Buffer.from(p.content), text: p.content };
      if (ours(input) > 0) foundBy.ours.set(p.kind, (foundBy.ours.get(p.kind) ?? 0) + 1);
      if ((await secretlintCount(input)) > 0) foundBy.secretlint.set(p.kind, (foundBy.secretlint.get(p.kind) ?? 0) + 1);
    }
    const recall = (m: Map<string, number>) => [...m.values()].reduce((a, b) => a + b, 0) / planted.length;
    const missedBy = (m: Map<string, number>) => kinds.filter((k) => (m.get(k) ?? 0) < CORPORA);
    log(`recall on ${planted.length} planted files (${kinds.length} kinds x ${CORPORA}): ours ${(recall(foundBy.ours) * 100).toFixed(1)}%, secretlint ${(recall(foundBy.secretlint) * 100).toFixed(1)}%`);
    log(`kinds missed (in any corpus): ours [${missedBy(foundBy.ours).join(', ')}]; secretlint [${missedBy(foundBy.secretlint).join(', ')}]`);

    // False positives on the slice.
    const slice = readSlice();
    const sliceMB = slice.reduce((a, i) => a + i.bytes.length, 0) / 1e6;
    let fpOurs = 0;
    let fpTheirs = 0;
    for (const i of slice) {
      fpOurs += ours(i);
      fpTheirs += await secretlintCount(i);
    }
    log(`findings on node_modules (${SLICE.length} packages, ${slice.length} files, ${sliceMB.toFixed(1)} MB): ours ${fpOurs}, secretlint ${fpTheirs}`);

    // Throughput over the same texts.
    const all: Input[] = [...slice, ...planted.map((p) => ({ file: `/corpus/${p.file}`, bytes: Buffer.from(p.content), text: p.content }))];
    const mb = all.reduce((a, i) => a + i.bytes.length, 0) / 1e6;
    const oursMBps: number[] = [];
    const theirsMBps: number[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      let t = performance.now();
      for (const i of all) ours(i);
      oursMBps.push(mb / ((performance.now() - t) / 1000));
      t = performance.now();
      for (const i of all) await secretlintCount(i);
      theirsMBps.push(mb / ((performance.now() - t) / 1000));
      log(`round ${r + 1}: ours ${oursMBps.at(-1)!.toFixed(1)} MB/s, secretlint ${theirsMBps.at(-1)!.toFixed(1)} MB/s`);
    }
    const o = median(oursMBps);
    const s = median(theirsMBps);
    const recallOk = recall(foundBy.ours) >= recall(foundBy.secretlint);
    log(`throughput over ${mb.toFixed(1)} MB (median of ${ROUNDS}): ours ${o.toFixed(1)} MB/s, secretlint ${s.toFixed(1)} MB/s: ${(o / s).toFixed(1)}x (target >= 5x)`);
    return {
      ratio: recallOk ? (s * 5) / o : 99,
      target: 1,
      figures: {
        kinds: kinds.length,
        plantedFiles: planted.length,
        recallOurs: Math.round(recall(foundBy.ours) * 1000) / 1000,
        recallSecretlint: Math.round(recall(foundBy.secretlint) * 1000) / 1000,
        missedKindsOurs: missedBy(foundBy.ours),
        missedKindsSecretlint: missedBy(foundBy.secretlint),
        sliceFiles: slice.length,
        sliceMB: Math.round(sliceMB * 10) / 10,
        findingsOnSliceOurs: fpOurs,
        findingsOnSliceSecretlint: fpTheirs,
        throughputMB: Math.round(mb * 10) / 10,
        oursMBps: Math.round(o * 10) / 10,
        secretlintMBps: Math.round(s * 10) / 10,
        speedup: Math.round((o / s) * 10) / 10,
        rounds: ROUNDS,
      },
    };
  },
};
