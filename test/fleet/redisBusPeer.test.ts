/**
 * ioredis is an optional peer: without it, the Redis bus fails with a ConfigError that says what
 * to install, and the process is not kept alive (its ready timeout is cleared). The bus is
 * bundled (ioredis left external) into a temporary folder where no node_modules can be found.
 */
import { spawnSync } from 'node:child_process';
import { expect, it } from 'vitest';
import { bundledFixture } from '../bundle.js';

const fixture = bundledFixture('cs-fleet-no-peer-', 'test/fixtures/fleet/redis-no-peer.ts', 'run.mjs', { external: ['ioredis'] });

it('without ioredis installed, ready() and publish() reject with CONFIG_INVALID naming the package, and the process ends by itself', () => {
  const r = spawnSync(process.execPath, [fixture.script], { cwd: fixture.dir, encoding: 'utf8', timeout: 30_000, env: { ...process.env, NODE_PATH: '' } });
  expect(r.status).toBe(0);
  const expected = 'CONFIG_INVALID the optional peer dependency "ioredis" is not installed (needed for the Redis fleet bus): npm install ioredis';
  expect(r.stdout.trim().split('\n')).toEqual([expected, expected]);
});
