/**
 * vitest globalSetup: a private PostgreSQL cluster with scram-sha-256 password authentication.
 *
 * The machine's PostgreSQL at 127.0.0.1:5432 trusts every local connection, so it cannot show
 * that a revoked password is refused. This setup runs initdb and pg_ctl of the installed
 * PostgreSQL (as the `postgres` user when running as root) in a temporary directory, on a spare
 * loopback port, with durability turned off for speed, and stops it when the run ends.
 *
 * Tests read the connection with `inject('pgCluster')`. If the cluster cannot start, the setup
 * throws and the run fails: suites that need password checks are never silently skipped.
 */
import { execFile, execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { TestProject } from 'vitest/node';

/** Where the private cluster listens and how to log in as its superuser. */
export interface PgClusterInfo {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly password: string;
  readonly database: string;
  /** The PostgreSQL major version found (e.g. 15). */
  readonly version: number;
}

declare module 'vitest' {
  export interface ProvidedContext {
    pgCluster: PgClusterInfo;
  }
}

const run = promisify(execFile);

/** The bin directory of the newest installed PostgreSQL (override with PG_BIN_DIR). */
function findBinDir(): { bin: string; version: number } {
  const override = process.env['PG_BIN_DIR'];
  if (override) return { bin: override, version: Number(/(\d+)/.exec(override)?.[1] ?? 0) };
  const base = '/usr/lib/postgresql';
  const versions = existsSync(base)
    ? readdirSync(base).filter((v) => /^\d+$/.test(v) && existsSync(path.join(base, v, 'bin', 'initdb'))).map(Number).sort((a, b) => b - a)
    : [];
  if (versions.length > 0) return { bin: path.join(base, String(versions[0]), 'bin'), version: versions[0]! };
  try {
    const bin = execFileSync('pg_config', ['--bindir'], { encoding: 'utf8' }).trim();
    if (existsSync(path.join(bin, 'initdb'))) return { bin, version: Number(/(\d+)/.exec(execFileSync(path.join(bin, 'initdb'), ['--version'], { encoding: 'utf8' }))?.[1] ?? 0) };
  } catch {
    // fall through
  }
  throw new Error('pg-cluster setup: no PostgreSQL server binaries (initdb) found under /usr/lib/postgresql or via pg_config; install postgresql');
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const { bin, version } = findBinDir();
  const asRoot = process.getuid?.() === 0;
  let uid = -1;
  let gid = -1;
  if (asRoot) {
    uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
    gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
  }
  /** Runs a PostgreSQL tool as the postgres user (PostgreSQL refuses to run as root). */
  const pgTool = (tool: string, args: string[], timeoutMs = 60_000) =>
    asRoot ? run('runuser', ['-u', 'postgres', '--', path.join(bin, tool), ...args], { timeout: timeoutMs }) : run(path.join(bin, tool), args, { timeout: timeoutMs });

  // As root the cluster runs as `postgres`, which must reach the directory: /tmp is world-traversable,
  // a TMPDIR under /root is not. PG_CLUSTER_BASE overrides.
  const base = process.env['PG_CLUSTER_BASE'] ?? (asRoot ? '/tmp' : tmpdir());
  const dir = mkdtempSync(path.join(base, 'cs-pg-'));
  const data = path.join(dir, 'data');
  const log = path.join(dir, 'server.log');
  const pwfile = path.join(dir, 'pw');
  const password = randomBytes(24).toString('base64url');
  writeFileSync(pwfile, `${password}\n`, { mode: 0o600 });
  chmodSync(dir, 0o700);
  if (asRoot) {
    chownSync(dir, uid, gid);
    chownSync(pwfile, uid, gid);
  }
  let started = false;
  const stopSync = () => {
    if (!started) return;
    started = false;
    try {
      const args = ['-D', data, '-m', 'immediate', '-w', 'stop'];
      if (asRoot) execFileSync('runuser', ['-u', 'postgres', '--', path.join(bin, 'pg_ctl'), ...args], { stdio: 'ignore' });
      else execFileSync(path.join(bin, 'pg_ctl'), args, { stdio: 'ignore' });
    } catch {
      // already stopped
    }
  };
  const onExit = () => {
    stopSync();
    rmSync(dir, { recursive: true, force: true });
  };
  process.once('exit', onExit);

  const fail = (what: string, err: unknown): never => {
    const tail = existsSync(log) ? readFileSync(log, 'utf8').split('\n').slice(-20).join('\n') : '(no server log)';
    onExit();
    process.removeListener('exit', onExit);
    throw new Error(`pg-cluster setup: ${what} failed: ${(err as Error).message}\n--- server log ---\n${tail}`);
  };

  try {
    await pgTool('initdb', ['-D', data, '-U', 'postgres', '--auth-local=peer', '--auth-host=scram-sha-256', `--pwfile=${pwfile}`, '-E', 'UTF8', '--no-sync', '--no-instructions']);
  } catch (err) {
    fail('initdb', err);
  }
  rmSync(pwfile, { force: true });
  // Only scram over TCP; the local socket (in the private dir) keeps peer auth for the superuser.
  writeFileSync(path.join(data, 'pg_hba.conf'), 'local all postgres peer\nhost all all 127.0.0.1/32 scram-sha-256\nhost all all ::1/128 scram-sha-256\n');
  if (asRoot) chownSync(path.join(data, 'pg_hba.conf'), uid, gid);

  let port = 0;
  let lastError: unknown;
  for (let attempt = 0; attempt < 3 && !started; attempt++) {
    port = await freePort();
    const options = [
      `-p ${port}`,
      `-k ${dir}`,
      '-c listen_addresses=127.0.0.1',
      '-c fsync=off',
      '-c synchronous_commit=off',
      '-c full_page_writes=off',
      '-c shared_buffers=16MB',
      '-c max_connections=120',
      '-c password_encryption=scram-sha-256',
    ].join(' ');
    try {
      await pgTool('pg_ctl', ['-D', data, '-l', log, '-w', '-t', '30', '-o', options, 'start']);
      started = true;
    } catch (err) {
      lastError = err;
    }
  }
  if (!started) fail('pg_ctl start', lastError);

  const info: PgClusterInfo = { host: '127.0.0.1', port, user: 'postgres', password, database: 'postgres', version };
  project.provide('pgCluster', info);

  return async () => {
    process.removeListener('exit', onExit);
    if (started) {
      started = false;
      await pgTool('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']).catch(() => {});
    }
    rmSync(dir, { recursive: true, force: true });
  };
}
