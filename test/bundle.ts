// Test fixtures that run as child processes are bundled once into plain JavaScript (esbuild,
// which tsx and tsup ship), so each run costs a bare node start rather than a TypeScript load.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll } from 'vitest';

export const ROOT = resolve(import.meta.dirname, '..');

/**
 * For the suite that calls it: a fresh temporary folder holding `entry` bundled as `name`, made
 * before the suite's tests and removed after them. Read `dir` and `script` inside the tests.
 */
export function bundledFixture(prefix: string, entry: string, name: string, options: BundleOptions = {}): { readonly dir: string; readonly script: string } {
  let dir = '';
  let script = '';
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), prefix));
    script = await bundle(entry, join(dir, name), options);
  }, 60_000);
  afterAll(() => rm(dir, { recursive: true, force: true, maxRetries: 5 }));
  return {
    get dir() {
      return dir;
    },
    get script() {
      return script;
    },
  };
}

interface BundleOptions {
  readonly format?: 'esm' | 'cjs';
  readonly external?: string[];
}

/** Bundles `entry` (relative to the repository) into `outfile`: node 20, ESM unless told. */
export async function bundle(entry: string, outfile: string, options: BundleOptions = {}): Promise<string> {
  const { build } = await import('esbuild');
  await build({
    entryPoints: [join(ROOT, entry)],
    bundle: true,
    platform: 'node',
    format: options.format ?? 'esm',
    target: 'node20',
    outfile,
    logLevel: 'error',
    absWorkingDir: ROOT,
    ...(options.external === undefined ? {} : { external: options.external }),
  });
  return outfile;
}
