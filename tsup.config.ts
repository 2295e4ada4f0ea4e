import { defineConfig, type Options } from 'tsup';
import { CLI_ENTRY, PUBLIC_ENTRIES, outName } from './scripts/entries.js';
import pkg from './package.json' with { type: 'json' };

/**
 * Never bundled: the runtime dependencies and the optional peer dependencies that only the lazily
 * loaded subpaths import, read from package.json so the list cannot drift. `skipNodeModulesBundle`
 * already leaves every bare specifier external; naming them also keeps the declaration (dts)
 * rollup from inlining types of installed dev copies.
 */
const external = [...Object.keys(pkg.dependencies ?? {}), ...Object.keys(pkg.peerDependencies ?? {})];

const shared = {
  target: 'node20',
  platform: 'node',
  // Maps let `node --enable-source-maps` show src/*.ts lines in stack traces. Without the
  // embedded sources (not shipped: the readable, unminified dist/*.js is), they were more than
  // the code itself and doubled the tarball.
  sourcemap: true,
  // Maps point at the TypeScript in src/, which the tarball ships once (package.json "files"),
  // instead of inlining a copy of the sources per output format (which doubled the tarball).
  esbuildOptions(options) {
    options.sourcesContent = false;
  },
  treeshake: true,
  skipNodeModulesBundle: true,
  // Keep `node:fs` … as written (tsup 8 strips the prefix by default).
  removeNodeProtocol: false,
  external,
  tsconfig: 'tsconfig.json',
} satisfies Options;

export default defineConfig([
  {
    // The library: every public entry as ESM + CJS, with .d.ts / .d.cts beside each.
    ...shared,
    name: 'lib',
    entry: Object.fromEntries(PUBLIC_ENTRIES.map((e) => [outName(e.source), e.source])),
    outDir: 'dist',
    format: ['esm', 'cjs'],
    // Shared chunks in CJS too, so `connector-secrets` and `connector-secrets/testing` share one
    // copy of Secret, the errors … (instanceof works across the two entries in both formats).
    splitting: true,
    dts: true,
    // dist/cli belongs to the build below; both run in parallel.
    clean: ['!cli/**'],
  },
  {
    // The `connector-secrets` command: ESM only. tsup keeps the `#!/usr/bin/env node` line and
    // marks the file executable.
    ...shared,
    name: 'cli',
    entry: { main: CLI_ENTRY.source },
    outDir: 'dist/cli',
    format: ['esm'],
    dts: false,
    clean: true,
  },
]);
