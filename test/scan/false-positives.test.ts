/**
 * False positives on ordinary source: this repository's src/ and a fixed slice of node_modules
 * (versions pinned by package-lock.json). The bounds are what was measured when the rules were
 * tuned (2026-12-01), listed so that a regression shows which file it came from:
 *
 * - src/: 1 — the doc comment of src/ref/parseRef.ts shows `postgres://user:p/ss@host`, a
 *   password in a URL by every definition a scanner can apply.
 * - the node_modules slice (18 packages, ~3,700 files, ~32 MB): 11 — sample JWTs in zod's tests
 *   (2), a URL password in zod's tests and axios's changelog, a Slack webhook and a bot token in
 *   pino's docs, `password: 's00pers3cret'` in axios's README, a `?token=` badge URL in undici's
 *   README, a WebGL extension name in TypeScript's lib, tokenizer state names in vitest's
 *   bundle (2). Most are credential-shaped text in docs and tests, which a scanner should report.
 */
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { scanPaths } from '../../src/scan/scan.js';

const ROOT = resolve(import.meta.dirname, '../..');
const SLICE = [
  'zod', 'pino', 'undici', 'pg', 'pg-connection-string', 'yaml', 'winston', 'axios', 'lru-cache', 'fast-check', 'node-forge',
  'google-auth-library', '@aws-sdk/client-secrets-manager', 'typescript/lib', 'vitest', 'mysql2', 'node-vault', '@azure/identity',
].map((p) => `node_modules/${p}`);

describe('scan: false positives on ordinary source', () => {
  it('src/ of this repository: at most the one documented URL example', () => {
    const r = scanPaths({ paths: ['src'], cwd: ROOT });
    expect(r.files).toBeGreaterThan(100);
    expect(r.findings.map((f) => `${f.file}:${f.rule}`)).toEqual(['src/ref/parseRef.ts:connection-url-password']);
  });

  it('a slice of node_modules: at most 11 findings in ~3,700 files', () => {
    const r = scanPaths({ paths: SLICE, cwd: ROOT, gitignore: false });
    expect(r.files).toBeGreaterThan(3000);
    expect(r.bytes).toBeGreaterThan(25e6);
    expect(r.findings.length, r.findings.map((f) => `${f.file}:${f.line} ${f.rule}`).join('\n')).toBeLessThanOrEqual(11);
  });
});
