#!/usr/bin/env node
// Bundles small consumers of the built package with esbuild, the way an application that ships
// one file does, and runs each bundle from an empty directory (no node_modules to fall back on).
// Run after `npm run build`:
//
//   npm run build && npm run check:bundle
//
// (a) bundled WITH the optional peers: a YAML policy file is read through `yaml` and
//     `openTelemetry: true` records through `@opentelemetry/api`, both from inside the bundle, in
//     ESM (`import`) and CJS (`require`) consumers. This only works when the package loads its
//     peers with literal specifiers that the bundler can follow.
// (b) bundled WITHOUT them (left external, and absent at run time): a YAML policy file gives one
//     error naming "yaml", `openTelemetry: true` one naming "@opentelemetry/api", and the default
//     auto-detection of OpenTelemetry stays silent.
//
// Exit code 1 on any failure.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
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

// The consumer: one program, written once, as ESM or CJS. It prints one JSON line of facts.
const program = ({ esm, withPeers }) => `
${esm ? "import { createSecrets, fromEnv } from 'connector-secrets';" : "const { createSecrets, fromEnv } = require('connector-secrets');"}
${withPeers ? (esm ? "import { metrics } from '@opentelemetry/api';" : "const { metrics } = require('@opentelemetry/api');") : ''}
const recorded = [];
${withPeers ? `
const instrument = (name) => ({ add: () => recorded.push(name), record: () => recorded.push(name) });
metrics.setGlobalMeterProvider({ getMeter: () => ({ createCounter: instrument, createHistogram: instrument }) });` : ''}
const env = { ORDERS_API_TOKEN: process.env.TOKEN };
const outcome = async (options) => {
  const secrets = createSecrets({ environment: 'dev', identity: 'orders-sync', providers: [fromEnv({ env })], env, ...options });
  try {
    const token = await secrets.get('secret://orders-api/token');
    return { ok: token.reveal() === process.env.TOKEN };
  } catch (err) {
    return { ok: false, code: err.code, message: err.message };
  } finally {
    await secrets.close();
  }
};
(async () => {
  const facts = {
    yamlPolicy: await outcome({ policy: process.env.POLICY, openTelemetry: false }),
    otelRequired: await outcome({ openTelemetry: true }),
    otelAuto: await outcome({}),
  };
  facts.recorded = recorded.length > 0;
  process.stdout.write(JSON.stringify(facts));
})();
`;

const POLICY_YAML = `version: 1
rules:
  - name: orders
    identity: orders-sync
    allow:
      - secret://orders-api/*
`;

if (!existsSync(path.join(ROOT, 'dist'))) {
  console.error('check-bundle: dist/ does not exist. Run `npm run build` first.');
  process.exit(1);
}
const work = mkdtempSync(path.join(tmpdir(), 'connector-secrets-bundle-'));
try {
  // The consumer project: connector-secrets and the peers it imports itself, linked in.
  const project = path.join(work, 'project');
  mkdirSync(path.join(project, 'node_modules', '@opentelemetry'), { recursive: true });
  symlinkSync(ROOT, path.join(project, 'node_modules', 'connector-secrets'), 'dir');
  symlinkSync(path.join(ROOT, 'node_modules', '@opentelemetry', 'api'), path.join(project, 'node_modules', '@opentelemetry', 'api'), 'dir');
  // Where the bundles run: nothing but the bundle and the policy file.
  const run = path.join(work, 'run');
  mkdirSync(run);
  const policy = path.join(run, 'policy.yaml');
  writeFileSync(policy, POLICY_YAML, { mode: 0o600 });

  for (const withPeers of [true, false]) {
    for (const esm of [true, false]) {
      const kind = `${esm ? 'ESM' : 'CJS'} bundle ${withPeers ? 'with' : 'without'} yaml and @opentelemetry/api`;
      console.log(`\n${kind}`);
      const entry = path.join(project, `consumer-${esm ? 'esm.mjs' : 'cjs.cjs'}`);
      writeFileSync(entry, program({ esm, withPeers }));
      const outfile = path.join(run, `bundle-${esm ? 'esm' : 'cjs'}-${withPeers ? 'peers' : 'bare'}.${esm ? 'mjs' : 'cjs'}`);
      try {
        await build({
          entryPoints: [entry],
          outfile,
          bundle: true,
          platform: 'node',
          target: 'node20',
          format: esm ? 'esm' : 'cjs',
          logLevel: 'silent',
          external: withPeers ? [] : ['yaml', '@opentelemetry/api'],
          // esbuild's ESM output has no `require`; bundled CJS dependencies (yaml is CJS) need one.
          banner: esm ? { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" } : {},
        });
      } catch (err) {
        check(`esbuild bundles the ${kind}`, false, String(err.message ?? err));
        continue;
      }
      check(`esbuild bundles the ${kind}`, true);
      const token = randomBytes(18).toString('base64url');
      const r = spawnSync(process.execPath, [outfile], {
        cwd: run,
        encoding: 'utf8',
        timeout: 60_000,
        env: { PATH: process.env.PATH, TOKEN: token, POLICY: policy, NODE_PATH: '' },
      });
      let facts;
      try {
        facts = JSON.parse(r.stdout);
      } catch {
        check(`the ${kind} runs`, false, `exit ${r.status}\n${(r.stderr ?? '').trim().split('\n').slice(0, 12).join('\n')}`);
        continue;
      }
      check(`the ${kind} runs (exit ${r.status})`, r.status === 0, r.stderr);
      const show = (o) => JSON.stringify(o);
      if (withPeers) {
        check('a YAML policy file is read through the bundled yaml', facts.yamlPolicy.ok === true, show(facts.yamlPolicy));
        check('openTelemetry: true loads the bundled @opentelemetry/api', facts.otelRequired.ok === true, show(facts.otelRequired));
        check('metrics reach the registered OpenTelemetry meter', facts.recorded === true, show(facts));
      } else {
        const yaml = facts.yamlPolicy;
        check(
          'a YAML policy file fails with one error naming "yaml"',
          yaml.ok === false && yaml.code === 'POLICY_DENIED' && yaml.message.includes('optional peer dependency "yaml" is not installed') && yaml.message.includes('npm install yaml'),
          show(yaml),
        );
        const otel = facts.otelRequired;
        check(
          'openTelemetry: true fails with one error naming "@opentelemetry/api"',
          otel.ok === false && otel.code === 'CONFIG_INVALID' && otel.message.includes('optional peer dependency "@opentelemetry/api" is not installed'),
          show(otel),
        );
        check('the default OpenTelemetry auto-detection stays silent', facts.otelAuto.ok === true, show(facts.otelAuto));
      }
      check('no value in the output', !r.stdout.includes(token) && !r.stderr.includes(token));
    }
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}

console.log(`\n${passes} passed, ${failures.length} failed`);
if (failures.length > 0) {
  console.error(`check-bundle failed:\n  - ${failures.join('\n  - ')}`);
  process.exit(1);
}
