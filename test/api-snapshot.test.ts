import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { generateApiReport, lineDiff, ROOT, SNAPSHOT_PATH, UPDATE_HINT } from '../scripts/api-snapshot.js';
import { CLI_ENTRY, PUBLIC_ENTRIES, outName } from '../scripts/entries.js';

const readJson = (file: string): unknown => JSON.parse(readFileSync(path.join(ROOT, file), 'utf8'));

describe('public API snapshot', () => {
  it('api/connector-secrets.api.md matches the exports of every public entry', { timeout: 60_000 }, () => {
    const generated = generateApiReport();
    const committed = existsSync(SNAPSHOT_PATH) ? readFileSync(SNAPSHOT_PATH, 'utf8') : undefined;
    if (committed !== generated) {
      const detail = committed === undefined ? 'api/connector-secrets.api.md does not exist.' : lineDiff(committed, generated);
      expect.fail(`${UPDATE_HINT}\n\n${detail}`);
    }
  });
});

describe('entry points (scripts/entries.ts) agree with package.json and typedoc.json', () => {
  const pkg = readJson('package.json') as {
    exports: Record<string, unknown>;
    bin: Record<string, string>;
    main: string;
    module: string;
    types: string;
  };

  it('every public entry has a matching exports block, and nothing else is exported', () => {
    const subpaths = Object.keys(pkg.exports).filter((k) => k !== './package.json').sort();
    expect(subpaths, 'package.json "exports" subpaths must equal PUBLIC_ENTRIES in scripts/entries.ts').toEqual(
      PUBLIC_ENTRIES.map((e) => e.subpath).sort(),
    );
    for (const entry of PUBLIC_ENTRIES) {
      const out = `./dist/${outName(entry.source)}`;
      expect(pkg.exports[entry.subpath], `package.json exports["${entry.subpath}"]`).toEqual({
        import: { types: `${out}.d.ts`, default: `${out}.js` },
        require: { types: `${out}.d.cts`, default: `${out}.cjs` },
      });
    }
    expect({ main: pkg.main, module: pkg.module, types: pkg.types }).toEqual({
      main: './dist/index.cjs',
      module: './dist/index.js',
      types: './dist/index.d.ts',
    });
  });

  it('the bin is the built CLI', () => {
    expect(pkg.bin).toEqual({ 'connector-secrets': `./dist/${outName(CLI_ENTRY.source)}.js` });
  });

  it('typedoc documents every public entry', () => {
    const typedoc = readJson('typedoc.json') as { entryPoints: string[] };
    expect([...typedoc.entryPoints].sort(), 'typedoc.json "entryPoints" must list every PUBLIC_ENTRIES source').toEqual(
      PUBLIC_ENTRIES.map((e) => e.source).sort(),
    );
  });
});
