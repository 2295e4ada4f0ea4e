/**
 * ioredis is an optional peer: without it, the Redis bus fails with a ConfigError that says what
 * to install, and the process is not kept alive (its ready timeout is cleared). The bus is
 * bundled (ioredis left external) into a temporary folder where no node_modules can be found.
 */
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');
let dir: string;
let script: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cs-fleet-no-peer-'));
  script = join(dir, 'run.mjs');
  const { build } = await import('esbuild');
  await build({ entryPoints: [join(ROOT, 'test/fixtures/fleet/redis-no-peer.ts')], bundle: true, platform: 'node', format: 'esm', target: 'node20', outfile: script, external: ['ioredis'], logLevel: 'error', absWorkingDir: ROOT });
}, 60_000);
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

it('without ioredis installed, ready() and publish() reject with CONFIG_INVALID naming the package, and the process ends by itself', () => {
  const r = spawnSync(process.execPath, [script], { cwd: dir, encoding: 'utf8', timeout: 30_000, env: { ...process.env, NODE_PATH: '' } });
  expect(r.status).toBe(0);
  const expected = 'CONFIG_INVALID the optional peer dependency "ioredis" is not installed (needed for the Redis fleet bus): npm install ioredis';
  expect(r.stdout.trim().split('\n')).toEqual([expected, expected]);
});
