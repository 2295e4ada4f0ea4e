// Test fixtures that run as child processes are bundled once into plain JavaScript (esbuild,
// which tsx and tsup ship), so each run costs a bare node start rather than a TypeScript load.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const ROOT = resolve(import.meta.dirname, '..');

/** A fresh temporary folder for one suite, and how to remove it. */
export async function scratchDir(prefix: string): Promise<{ readonly dir: string; readonly remove: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  return { dir, remove: () => rm(dir, { recursive: true, force: true, maxRetries: 5 }) };
}

/** Bundles `entry` (relative to the repository) into `outfile`: node 20, ESM unless told. */
export async function bundle(entry: string, outfile: string, options: { readonly format?: 'esm' | 'cjs'; readonly external?: string[] } = {}): Promise<string> {
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
