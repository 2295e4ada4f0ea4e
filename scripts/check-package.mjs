#!/usr/bin/env node
// Checks the built package the way a consumer meets it. Run after `npm run build`:
//
//   npm run build && npm run check:package
//
// (a) every subpath in package.json "exports" loads by name under ESM (`import`) and CJS
//     (`require`), through the package's own exports map (Node resolves a package's own name from
//     inside it: "self-reference"), and has the expected named exports;
// (b) loading an entry pulls in no heavy optional SDK (node-vault, @aws-sdk/*, @azure/*, …) and
//     no node_modules package that is not a declared runtime dependency. ESM loads are recorded
//     with module.register() resolve hooks (which run off-thread and report over a MessagePort),
//     CJS loads through require.cache; a self-test proves the recorders see a real package load;
// (c) `npm pack --dry-run --json` ships the dist files that exports/main/types/bin point at, the
//     TypeScript sources the maps point at, and no tests or tooling;
// (d) the `connector-secrets` bin has its shebang, is executable, and `--help` exits 0;
// (e) the types resolve and type-check (including the .d.ts/.d.cts themselves) for a TypeScript
//     consumer with `moduleResolution: node16`, from an ESM (.mts) and a CJS (.cts) file;
// (f) the registry page and metadata: LICENSE shipped (Apache-2.0, as package.json says),
//     repository/homepage/bugs set, README links absolute (relative ones break on the registry
//     page), source maps without embedded sources and smaller than the code they map;
// (g) @arethetypeswrong/cli (profile node16: node16 CJS, node16 ESM and bundler resolution) and
//     publint --strict are clean.
//
// Each load runs in a fresh child process (clean module caches). Exit code 1 on any failure.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
const NAME = pkg.name;

/** Named exports each entry must have (a subpath missing here is only checked for loading). */
const EXPECTED_EXPORTS = {
  '.': ['createSecrets', 'parseRef', 'Secret', 'fromEnv', 'fromFile', 'fromLocalStore'],
  './testing': ['fromMock'],
  './aws': ['fromAwsSecretsManager', 'awsCredentials', 'awsRdsAuthToken', 'AwsApiError'],
  './gcp': ['fromGcpSecretManager', 'gcpAccessToken'],
  './azure': ['fromAzureKeyVault', 'azureAccessToken', 'AzureApiError'],
  './adapters': ['pgConfig', 'mysqlConfig', 'undiciAuth', 'axiosAuth'],
  './fleet': ['postgresBus', 'redisBus', 'fleetBusFromUrl'],
};

/** Packages the public entries must never load: they belong to lazily loaded subpaths. */
const FORBIDDEN = [
  'node-vault',
  /^@aws-sdk\//,
  /^@smithy\//,
  /^@azure\//,
  /^@google-cloud\//,
  'google-auth-library',
  'pino',
  'winston',
  /^@opentelemetry\//,
  'pg',
  'mysql2',
  'ioredis',
  'undici',
  'axios',
];

/** node_modules packages an entry may load: the declared runtime dependencies (zod, lru-cache). */
const ALLOWED = new Set(Object.keys(pkg.dependencies ?? {}));

const SUBPATHS = Object.keys(pkg.exports).filter((k) => k !== './package.json');
const specifierOf = (subpath) => (subpath === '.' ? NAME : `${NAME}/${subpath.slice(2)}`);

const failures = [];
let passes = 0;
function check(label, ok, detail = '') {
  if (ok) {
    passes += 1;
    console.log(`  ok   ${label}`);
  } else {
    failures.push(label);
    console.log(`  FAIL ${label}${detail ? `\n       ${detail.replaceAll('\n', '\n       ')}` : ''}`);
  }
}

function run(args, { input } = {}) {
  const r = spawnSync(process.execPath, args, {
    cwd: ROOT,
    encoding: 'utf8',
    input,
    stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    timeout: 60_000,
    env: { ...process.env, NODE_OPTIONS: '' },
  });
  return { code: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '', error: r.error };
}

/** The package a file path / file: URL belongs to, from its last node_modules segment. */
function packageOf(location) {
  const p = location.startsWith('file:') ? fileURLToPath(location) : location;
  const parts = p.split(path.sep);
  const i = parts.lastIndexOf('node_modules');
  if (i < 0) return undefined;
  const first = parts[i + 1] ?? '';
  return first.startsWith('@') ? `${first}/${parts[i + 2] ?? ''}` : first;
}

const matches = (name, patterns) => patterns.some((p) => (typeof p === 'string' ? p === name : p.test(name)));

/** Problems with a list of loaded files/URLs: forbidden or undeclared packages. */
function loadProblems(loaded, forbidden = FORBIDDEN, allowed = ALLOWED) {
  const packages = [...new Set(loaded.map(packageOf).filter(Boolean))].sort();
  const bad = packages.filter((p) => matches(p, forbidden));
  const undeclared = packages.filter((p) => !matches(p, forbidden) && !allowed.has(p));
  return { packages, bad, undeclared };
}

// ---------------------------------------------------------------------------------------------
// Child programs

// Resolve hooks: run on the loader thread; report every resolved URL over the MessagePort.
const HOOKS = `
let port;
export function initialize(data) { port = data.port; }
export async function resolve(specifier, context, nextResolve) {
  const result = await nextResolve(specifier, context);
  port.postMessage({ specifier, url: result.url });
  return result;
}
`;
const HOOKS_URL = `data:text/javascript,${encodeURIComponent(HOOKS)}`;

// Messages on a port arrive in order: importing a unique sentinel and waiting for its resolution
// message means every resolution before it has been received.
const ESM_CHILD = (specifier) => `
import { register } from 'node:module';
import { MessageChannel } from 'node:worker_threads';
const { port1, port2 } = new MessageChannel();
const seen = [];
let waiting;
port1.on('message', (m) => { seen.push(m); if (waiting && m.specifier === waiting.sentinel) waiting.done(); });
port1.unref();
register(${JSON.stringify(HOOKS_URL)}, { data: { port: port2 }, transferList: [port2] });
let n = 0;
async function settle() {
  const sentinel = 'data:text/javascript,export default ' + (++n);
  const arrived = new Promise((done) => { waiting = { sentinel, done }; });
  await import(sentinel);
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error('the resolve hook never reported (module.register hooks not running?)')), 10_000);
  });
  await Promise.race([arrived, timeout]);
  clearTimeout(timer);
  return seen.splice(0).filter((m) => m.specifier !== sentinel).map((m) => m.url);
}
await settle();
const mod = await import(${JSON.stringify(specifier)});
const loaded = await settle();
await import('zod');
const selfTest = await settle();
process.stdout.write(JSON.stringify({ exports: Object.keys(mod).sort(), loaded, selfTest: [...loaded, ...selfTest] }));
`;

const CJS_CHILD = (specifier) => `
const before = new Set(Object.keys(require.cache));
const mod = require(${JSON.stringify(specifier)});
const loaded = Object.keys(require.cache).filter((k) => !before.has(k));
require('zod');
const selfTest = Object.keys(require.cache).filter((k) => !before.has(k));
process.stdout.write(JSON.stringify({ exports: Object.keys(mod).sort(), loaded, selfTest }));
`;

// ---------------------------------------------------------------------------------------------

function checkEntries() {
  console.log(`\n(a, b) load every entry by name; no heavy or undeclared packages`);
  for (const subpath of SUBPATHS) {
    const specifier = specifierOf(subpath);
    for (const [system, args] of [
      ['ESM', ['--input-type=module', '-e', ESM_CHILD(specifier)]],
      ['CJS', ['--input-type=commonjs', '-e', CJS_CHILD(specifier)]],
    ]) {
      const how = system === 'ESM' ? `import('${specifier}')` : `require('${specifier}')`;
      const r = run(args);
      let out;
      try {
        out = JSON.parse(r.stdout);
      } catch {
        check(`${how} loads`, false, `exit ${r.code}${r.error ? ` (${r.error.message})` : ''}\n${r.stderr.trim().split('\n').slice(0, 12).join('\n')}`);
        continue;
      }
      check(`${how} loads`, true);
      const missing = (EXPECTED_EXPORTS[subpath] ?? []).filter((name) => !out.exports.includes(name));
      check(`${how} has ${(EXPECTED_EXPORTS[subpath] ?? []).join(', ') || '(no expectations)'}`, missing.length === 0, `missing: ${missing.join(', ')}; has: ${out.exports.join(', ')}`);

      // Self-test: the recorder must see a real node_modules package load (zod), and the
      // classifier must flag it when it is on the forbidden list. Otherwise (b) proves nothing.
      const zodSeen = out.selfTest.some((u) => packageOf(u) === 'zod');
      const flagged = loadProblems(out.selfTest, ['zod']).bad.includes('zod');
      check(`${system} load recorder self-test (sees zod load; would flag it)`, zodSeen && flagged, `recorded: ${out.selfTest.slice(0, 20).join(', ')}`);
      const ownEntry = out.loaded.some((u) => (u.startsWith('file:') ? fileURLToPath(u) : u).startsWith(path.join(ROOT, 'dist') + path.sep));
      check(`${system} load recorder saw ${specifier} load from dist/`, ownEntry, `recorded: ${out.loaded.join(', ')}`);

      const { packages, bad, undeclared } = loadProblems(out.loaded);
      check(`${how} loads no heavy optional SDK`, bad.length === 0, `loaded: ${bad.join(', ')}`);
      const fine = packages.filter((p) => !bad.includes(p) && !undeclared.includes(p));
      check(
        `${how} loads only declared dependencies (${fine.join(', ') || 'none'})`,
        undeclared.length === 0,
        `not in package.json "dependencies": ${undeclared.join(', ')}`,
      );
    }
  }
}

function exportTargets() {
  const targets = new Set();
  const walk = (v) => {
    if (typeof v === 'string') targets.add(v.replace(/^\.\//, ''));
    else if (v && typeof v === 'object') Object.values(v).forEach(walk);
  };
  for (const subpath of SUBPATHS) walk(pkg.exports[subpath]);
  for (const field of ['main', 'module', 'types']) if (pkg[field]) walk(pkg[field]);
  walk(pkg.bin);
  return [...targets].sort();
}

function checkPack() {
  console.log(`\n(c) npm pack --dry-run`);
  const npm = spawnSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], {
    cwd: ROOT,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: 120_000,
    shell: process.platform === 'win32',
  });
  let files;
  try {
    files = JSON.parse(npm.stdout)[0].files.map((f) => f.path);
  } catch {
    check('npm pack --dry-run --json runs', false, `exit ${npm.status}\n${(npm.stderr ?? '').trim()}`);
    return;
  }
  check(`npm pack --dry-run --json runs (${files.length} files)`, true);
  const required = [
    ...new Set([
      'package.json',
      'dist/index.js',
      'dist/index.cjs',
      'dist/index.d.ts',
      'dist/index.d.cts',
      'dist/testing/index.js',
      'dist/testing/index.cjs',
      'dist/testing/index.d.ts',
      'dist/testing/index.d.cts',
      'dist/cli/main.js',
      ...exportTargets().filter((t) => t !== 'package.json'),
    ]),
  ];
  const missing = required.filter((f) => !files.includes(f));
  check(`tarball has every file exports/main/types/bin point at (${required.length})`, missing.length === 0, `missing: ${missing.join(', ')}`);
  check('tarball has LICENSE', files.includes('LICENSE'));
  const sizes = JSON.parse(npm.stdout)[0].files;
  const mapBytes = sizes.filter((f) => f.path.endsWith('.map')).reduce((n, f) => n + f.size, 0);
  const restBytes = sizes.filter((f) => !f.path.endsWith('.map')).reduce((n, f) => n + f.size, 0);
  check(`source maps (${mapBytes} B) do not double the package (${restBytes} B without them)`, mapBytes < restBytes);
  const embedded = sizes.filter((f) => f.path.endsWith('.map') && 'sourcesContent' in JSON.parse(readFileSync(path.join(ROOT, f.path), 'utf8')));
  check('source maps carry no embedded sources (sourcesContent)', embedded.length === 0, embedded.map((f) => f.path).join(', '));
  // src/ ships once (TypeScript sources, no tests), so the maps point at files that exist in the
  // tarball instead of carrying a copy of the sources per output format.
  const devOnly = /^(test|bench|examples|scripts|api|coverage|\.ci|\.tmp|docs\/api)\/|\.tgz$|^tsconfig.*\.json$|^(tsup|vitest)\.config\./;
  const leaked = files.filter((f) => devOnly.test(f));
  check('tarball has no test/ or other development files', leaked.length === 0, `unexpected: ${leaked.slice(0, 20).join(', ')}`);
  const shipped = new Set(files);
  const maps = files.filter((f) => f.endsWith('.map'));
  const dangling = maps.flatMap((f) => {
    const map = JSON.parse(readFileSync(path.join(ROOT, f), 'utf8'));
    return map.sources.map((s) => path.posix.normalize(path.posix.join(path.posix.dirname(f), map.sourceRoot ?? '', s))).filter((s) => !shipped.has(s)).map((s) => `${f} -> ${s}`);
  });
  check(`every source map's sources are in the tarball (${maps.length} maps)`, maps.length > 0 && dangling.length === 0, `missing: ${dangling.slice(0, 10).join(', ')}`);
}

function checkBin() {
  console.log(`\n(d) the connector-secrets bin`);
  for (const [name, rel] of Object.entries(pkg.bin ?? {})) {
    const file = path.join(ROOT, rel);
    if (!existsSync(file)) {
      check(`${name}: ${rel} exists`, false, 'run `npm run build` first');
      continue;
    }
    const firstLine = readFileSync(file, 'utf8').split('\n', 1)[0];
    check(`${name}: ${rel} starts with #!/usr/bin/env node`, firstLine === '#!/usr/bin/env node', `first line: ${firstLine}`);
    check(`${name}: ${rel} is executable`, (statSync(file).mode & 0o111) !== 0);
    const r = run([file, '--help']);
    check(`${name} --help exits 0`, r.code === 0, `exit ${r.code}\n${(r.stderr || r.stdout).trim().split('\n').slice(0, 12).join('\n')}`);
    check(`${name} --help prints usage`, r.stdout.trim().length > 0, 'no output on stdout');
  }
}

function checkTypes() {
  console.log(`\n(e) types for TypeScript consumers (moduleResolution node16)`);
  const tsc = path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
  if (!existsSync(tsc)) {
    check('typescript is installed (devDependency)', false, `not found: ${tsc}`);
    return;
  }
  const dir = mkdtempSync(path.join(tmpdir(), 'connector-secrets-types-'));
  try {
    mkdirSync(path.join(dir, 'node_modules'));
    symlinkSync(ROOT, path.join(dir, 'node_modules', NAME), 'dir');
    symlinkSync(path.join(ROOT, 'node_modules', '@types'), path.join(dir, 'node_modules', '@types'), 'dir');
    writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'commonjs' }));
    const body = SUBPATHS.map((subpath, i) => {
      const names = EXPECTED_EXPORTS[subpath] ?? [];
      const spec = JSON.stringify(specifierOf(subpath));
      return names.length ? `import { ${names.join(', ')} } from ${spec};\nexport const used${i} = [${names.join(', ')}];` : `import * as m${i} from ${spec};\nexport const used${i} = m${i};`;
    }).join('\n');
    writeFileSync(path.join(dir, 'esm.mts'), body + '\n');
    writeFileSync(path.join(dir, 'cjs.cts'), body + '\n');
    const args = [tsc, '--noEmit', '--strict', '--module', 'node16', '--moduleResolution', 'node16', '--target', 'es2022', '--types', 'node', 'esm.mts', 'cjs.cts'];
    const r = spawnSync(process.execPath, args, { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 120_000 });
    const out = `${r.stdout ?? ''}${r.stderr ?? ''}`.trim();
    check(`import (.mts) and require (.cts) consumers type-check against dist/*.d.ts / *.d.cts`, r.status === 0, out.split('\n').slice(0, 20).join('\n'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function checkMetadata() {
  console.log(`\n(f) registry page and metadata`);
  const license = existsSync(path.join(ROOT, 'LICENSE')) ? readFileSync(path.join(ROOT, 'LICENSE'), 'utf8') : '';
  check(
    `LICENSE is the Apache License 2.0 text (package.json: ${pkg.license})`,
    pkg.license === 'Apache-2.0' && license.includes('Apache License') && license.includes('Version 2.0, January 2004') && license.includes('END OF TERMS AND CONDITIONS'),
  );
  const github = /^(git\+)?https:\/\/github\.com\/[^/]+\/[^/]+/;
  check('package.json repository, homepage and bugs point at the repository', github.test(pkg.repository?.url ?? '') && github.test(pkg.homepage ?? '') && github.test(pkg.bugs?.url ?? ''));
  const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  const relative = [];
  readme.split('\n').forEach((line, i) => {
    for (const m of line.matchAll(/\]\(([^)\s]+)\)|<a [^>]*href="([^"]+)"/g)) {
      const target = m[1] ?? m[2];
      if (!/^(https?:|mailto:|#)/.test(target)) relative.push(`README.md:${i + 1}: ${target}`);
    }
  });
  check('README links are absolute (they must work on the registry page)', relative.length === 0, relative.join('\n'));
}

function checkLinters() {
  console.log(`\n(g) @arethetypeswrong/cli and publint`);
  const bin = (name) => path.join(ROOT, 'node_modules', '.bin', name);
  for (const [label, cmd, args] of [
    ['attw --pack --profile node16 (node16 CJS, node16 ESM, bundler)', bin('attw'), ['--pack', '.', '--profile', 'node16', '--no-emoji', '--no-color']],
    ['publint --strict', bin('publint'), ['--strict']],
  ]) {
    const r = spawnSync(cmd, args, { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 180_000, env: { ...process.env, NO_COLOR: '1' } });
    const out = `${r.stdout ?? ''}${r.stderr ?? ''}`.trim();
    check(`${label} is clean`, r.status === 0, r.error ? r.error.message : out.split('\n').slice(-30).join('\n'));
  }
}

if (!existsSync(path.join(ROOT, 'dist'))) {
  console.error('check-package: dist/ does not exist. Run `npm run build` first.');
  process.exit(1);
}
console.log(`check-package: ${NAME}@${pkg.version} (${SUBPATHS.map(specifierOf).join(', ')})`);
checkEntries();
checkPack();
checkBin();
checkTypes();
checkMetadata();
checkLinters();
console.log(`\n${passes} passed, ${failures.length} failed`);
if (failures.length > 0) {
  console.error(`check-package failed:\n  - ${failures.join('\n  - ')}`);
  process.exit(1);
}
