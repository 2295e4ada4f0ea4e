/**
 * The one list of public entry points. Every subpath export in package.json has a row here;
 * the build (tsup.config.ts), the API snapshot (scripts/api-snapshot.ts) and the entry-point
 * consistency test (test/api-snapshot.test.ts) all read this list.
 *
 * Adding a subpath (for example `connector-secrets/vault`):
 *   1. add `{ subpath: './vault', source: 'src/vault/index.ts' }` below;
 *   2. add the matching `"./vault"` block to `exports` in package.json
 *      (import: dist/vault/index.{d.ts,js}, require: dist/vault/index.{d.cts,cjs});
 *   3. add `src/vault/index.ts` to `entryPoints` in typedoc.json;
 *   4. run `npm run api:update`.
 * `npm test` fails with a message naming whichever of these was forgotten.
 */

/** One public entry point of the package. */
export interface PublicEntry {
  /** The package subpath, as written in package.json `exports` (`.`, `./testing`, …). */
  readonly subpath: string;
  /** The source file, relative to the repo root: `src/<name>.ts`. Built to `dist/<name>.{js,cjs,d.ts,d.cts}`. */
  readonly source: string;
}

export const PUBLIC_ENTRIES: readonly PublicEntry[] = [
  { subpath: '.', source: 'src/index.ts' },
  { subpath: './testing', source: 'src/testing/index.ts' },
  { subpath: './vault', source: 'src/vault/index.ts' },
  { subpath: './aws', source: 'src/aws/index.ts' },
  { subpath: './gcp', source: 'src/gcp/index.ts' },
  { subpath: './azure', source: 'src/azure/index.ts' },
  { subpath: './pino', source: 'src/pino/index.ts' },
  { subpath: './winston', source: 'src/winston/index.ts' },
  { subpath: './adapters', source: 'src/adapters/index.ts' },
  { subpath: './fleet', source: 'src/fleet/index.ts' },
];

/** The `connector-secrets` command: ESM only, built to `dist/cli/main.js` (package.json `bin`). */
export const CLI_ENTRY = { source: 'src/cli/main.ts' } as const;

/** `src/testing/index.ts` → `testing/index`: the output name below dist/, without extension. */
export function outName(source: string): string {
  return source.replace(/^src\//, '').replace(/\.ts$/, '');
}
