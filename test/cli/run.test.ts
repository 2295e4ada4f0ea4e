// `connector-secrets run`: the real command (node + tsx, src/cli/main.ts) starting a real child.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { verifyAuditLog } from '../../src/audit/verifyAuditLog.js';
import { runLocalCommand } from '../../src/cli/local.js';

const ROOT = resolve(import.meta.dirname, '../..');

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cs-cli-run-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/**
 * A value whose URL-encoded, JSON-escaped and base64 spellings all differ from it. It starts with
 * a letter: given as an argument (`--map <value>=…`), a leading '-' would read as an option.
 */
function freshValue(): string {
  return `v${randomBytes(12).toString('base64url')}"p&w/d\\x ${randomBytes(6).toString('hex')}`;
}

/** The spellings the child prints; none may reach the output. */
function forms(value: string): string[] {
  return [
    value,
    Buffer.from(value).toString('base64'),
    encodeURIComponent(value),
    JSON.stringify(value).slice(1, -1),
    value.slice(0, 12),
  ];
}

// Prints TOKEN raw, base64, URL-encoded and JSON-escaped, each split across two writes with a
// pause between them (so the redacting stream sees them in separate chunks), on stdout and stderr.
const PRINTER = `
const v = process.env.TOKEN;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const lines = [
  'raw=' + v,
  'b64=' + Buffer.from(v).toString('base64'),
  'url=' + encodeURIComponent(v),
  'json=' + JSON.stringify({ token: v }),
];
(async () => {
  for (const line of lines) {
    for (const stream of [process.stdout, process.stderr]) {
      const cut = Math.floor(line.length / 2) + 1;
      stream.write(line.slice(0, cut));
      await sleep(20);
      stream.write(line.slice(cut) + '\\n');
    }
  }
  process.stdout.write('argv=' + JSON.stringify(process.argv.slice(2)) + '\\n');
  process.stdout.write('key-in-env=' + String(process.env.CONNECTOR_SECRETS_KEY !== undefined) + '\\n');
})();
`;

// Says "ready", then reports each of SIGINT, SIGTERM, SIGHUP it receives and exits with 40 + the signal number.
const TRAPPER = `
for (const [sig, n] of [['SIGINT', 2], ['SIGTERM', 15], ['SIGHUP', 1]]) {
  process.on(sig, () => { process.stdout.write('child got ' + sig + '\\n'); process.exit(40 + n); });
}
setInterval(() => {}, 1000);
process.stdout.write('ready\\n');
`;

// Says "ready" and waits with no handlers: a forwarded signal kills it.
const SLEEPER = `setInterval(() => {}, 1000); process.stdout.write('ready\\n');`;

interface Result {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

interface Started {
  readonly pid: number;
  /** Resolves once the output contains `text`. */
  seen(text: string): Promise<void>;
  readonly done: Promise<Result>;
}

function start(args: string[], env: Record<string, string> = {}): Started {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], {
    cwd: ROOT,
    env: { PATH: process.env['PATH'] ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  const waiters: Array<{ text: string; done: () => void }> = [];
  const check = () => {
    for (const w of waiters.filter((w) => stdout.includes(w.text))) {
      waiters.splice(waiters.indexOf(w), 1);
      w.done();
    }
  };
  child.stdout.setEncoding('utf8').on('data', (c: string) => {
    stdout += c;
    check();
  });
  child.stderr.setEncoding('utf8').on('data', (c: string) => {
    stderr += c;
  });
  const done = new Promise<Result>((res) => child.on('close', (code, signal) => res({ code, signal, stdout, stderr })));
  return {
    pid: child.pid!,
    done,
    seen: (text) =>
      new Promise<void>((res) => {
        waiters.push({ text, done: res });
        check();
      }),
  };
}

const run = (args: string[], env: Record<string, string> = {}) => start(args, env).done;

async function script(name: string, text: string): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, text);
  return path;
}

describe('connector-secrets run: secrets in the child environment, redacted output', () => {
  it('passes the value only in the environment and masks it raw, base64, URL-encoded and JSON-escaped, split across writes, on stdout and stderr', async () => {
    const value = freshValue();
    const printer = await script('printer.cjs', PRINTER);
    const r = await run(['run', '--env', 'dev', '--map', 'TOKEN=env://SOURCE_TOKEN', '--', process.execPath, printer, 'plain-arg'], {
      SOURCE_TOKEN: value,
      CONNECTOR_SECRETS_KEY: randomBytes(32).toString('base64'),
    });
    expect(r.stderr.replace(/(raw|b64|url)=\[REDACTED\]\n|json=\{"token":"\[REDACTED\]"\}\n/g, '')).toBe('');
    expect(r.code).toBe(0);
    for (const out of [r.stdout, r.stderr]) {
      expect(out).toContain('raw=[REDACTED]\n');
      expect(out).toContain('b64=[REDACTED]\n');
      expect(out).toContain('url=[REDACTED]\n');
      expect(out).toContain('json={"token":"[REDACTED]"}\n');
      for (const form of forms(value)) expect(out).not.toContain(form);
    }
    // The command line is the one given, without the value; key material is not handed down.
    expect(r.stdout).toContain('argv=["plain-arg"]\n');
    expect(r.stdout).toContain('key-in-env=false\n');
  });

  it('resolves refs from the local store that local init created, with no key flag, and records the run in the audit log', async () => {
    const storePath = join(dir, 'secrets', 'dev.enc.json');
    const io = (stdin: string) => ({ stdin: Readable.from([stdin]), stdout: () => undefined, stderr: () => undefined, env: {} });
    expect(await runLocalCommand(['init', '--env', 'dev', '--path', storePath], io(''))).toBe(0);
    const value = freshValue();
    expect(await runLocalCommand(['set', 'orders-db/password', '--env', 'dev', '--path', storePath], io(value))).toBe(0);
    const auditKey = join(dir, 'audit.key');
    await writeFile(auditKey, randomBytes(32).toString('base64'));
    const auditFile = join(dir, 'audit.jsonl');
    const printer = await script('printer.cjs', PRINTER);
    const r = await run([
      'run', '--env', 'dev', '--store', storePath, '--identity', 'orders-sync',
      '--audit-file', auditFile, '--audit-key-file', auditKey,
      '--map', 'TOKEN=local://orders-db/password', '--', process.execPath, printer,
    ]);
    expect(r.stderr).not.toContain('error');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('raw=[REDACTED]\n');
    for (const form of forms(value)) expect(r.stdout + r.stderr).not.toContain(form);

    const hmacKey = (await readFile(auditKey, 'utf8')).trim();
    expect(await verifyAuditLog(auditFile, { hmacKey })).toMatchObject({ ok: true, count: 1 });
    const events = (await readFile(auditFile, 'utf8')).split('\n').filter((l) => l.includes('"event"')).map((l) => JSON.parse(l).event);
    expect(events).toMatchObject([{ action: 'resolve', identity: 'orders-sync', environment: 'dev', ref: 'local://orders-db/password', outcome: 'success' }]);
    expect(await readFile(auditFile, 'utf8')).not.toContain(value.slice(0, 12));
  });

  it('reads NAME: ref pairs from --manifest', async () => {
    const value = freshValue();
    const manifest = join(dir, 'manifest.json');
    await writeFile(manifest, JSON.stringify({ TOKEN: { ref: 'env://SOURCE_TOKEN' } }));
    const printer = await script('printer.cjs', PRINTER);
    const r = await run(['run', '--env', 'dev', '--manifest', manifest, '--', process.execPath, printer], { SOURCE_TOKEN: value });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('raw=[REDACTED]\n');
    for (const form of forms(value)) expect(r.stdout).not.toContain(form);
  });
});

describe('connector-secrets run: exit codes and signals', () => {
  it("passes the child's exit code on", async () => {
    const r = await run(['run', '--env', 'dev', '--map', 'TOKEN=env://SOURCE_TOKEN', '--', process.execPath, '-e', 'process.exit(7)'], { SOURCE_TOKEN: freshValue() });
    expect(r).toMatchObject({ code: 7, signal: null });
  });

  for (const [signal, n] of [['SIGINT', 2], ['SIGTERM', 15], ['SIGHUP', 1]] as const) {
    it(`forwards ${signal} to the child and exits with the child's code`, async () => {
      const trapper = await script('trapper.cjs', TRAPPER);
      const started = start(['run', '--env', 'dev', '--map', 'TOKEN=env://SOURCE_TOKEN', '--', process.execPath, trapper], { SOURCE_TOKEN: freshValue() });
      await started.seen('ready\n');
      process.kill(started.pid, signal);
      const r = await started.done;
      expect(r.stdout).toContain(`child got ${signal}\n`);
      expect(r).toMatchObject({ code: 40 + n, signal: null });
    });
  }

  it('exits 128+n when the child dies of signal n', async () => {
    const sleeper = await script('sleeper.cjs', SLEEPER);
    const started = start(['run', '--env', 'dev', '--map', 'TOKEN=env://SOURCE_TOKEN', '--', process.execPath, sleeper], { SOURCE_TOKEN: freshValue() });
    await started.seen('ready\n');
    process.kill(started.pid, 'SIGTERM');
    expect(await started.done).toMatchObject({ code: 128 + 15, signal: null });
  });

  it('when its reader goes away (run … | head), stops reading the child, which then fails to write, instead of crashing', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'run', '--env', 'dev', '--map', 'TOKEN=env://SOURCE_TOKEN', '--', process.execPath, '-e', "setInterval(() => console.log('line'), 5)"], {
      cwd: ROOT,
      env: { PATH: process.env['PATH'] ?? '', SOURCE_TOKEN: freshValue() },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    await new Promise((r) => child.stdout.once('data', r));
    child.stdout.destroy();
    const [code] = (await new Promise((r) => child.on('close', (...a) => r(a)))) as [number | null, NodeJS.Signals | null];
    // The EPIPE reported is the child's own (its stack is in [eval]), forwarded by a run that is
    // still alive; before, run itself died of the unhandled EPIPE on its stdout.
    expect(stderr).toContain('[eval]');
    // The child's EPIPE ends it with an error (exit 1 from node), passed on.
    expect(code).toBe(1);
  });

  it('exits 127 for a command that does not exist, without echoing it', async () => {
    const missing = join(dir, `no-such-command-${randomBytes(4).toString('hex')}`);
    const r = await run(['run', '--env', 'dev', '--map', 'TOKEN=env://SOURCE_TOKEN', '--', missing], { SOURCE_TOKEN: freshValue() });
    expect(r.code).toBe(127);
    expect(r.stderr).toContain('error [ENOENT]');
    expect(r.stderr).not.toContain(missing);
  });

  it('exits 2 on usage and configuration errors, without starting the command or echoing the mapping', async () => {
    const marker = join(dir, 'started');
    const touch = [process.execPath, '-e', `require('fs').writeFileSync(${JSON.stringify(marker)}, '')`];
    const value = freshValue();
    const cases: Array<[string[], RegExp]> = [
      [['run', '--env', 'dev', '--map', 'TOKEN=env://SOURCE_TOKEN'], /missing command/],
      [['run', '--map', 'TOKEN=env://SOURCE_TOKEN', '--', ...touch], /needs --env/],
      [['run', '--env', 'dev', '--', ...touch], /nothing to resolve/],
      [['run', '--env', 'dev', '--map', `TOKEN=${value}`, '--', ...touch], /--map #1: not a secret ref/],
      [['run', '--env', 'dev', '--map', `${value}=env://X`, '--', ...touch], /--map #1: the variable name/],
      [['run', '--env', 'prod', '--map', 'TOKEN=env://SOURCE_TOKEN', '--', ...touch], /--env prod needs an audit log: pass --audit-file/],
      [['run', '--env', 'dev', `--token=${value}`, '--', ...touch], /Unknown option '--token'/],
    ];
    for (const [args, message] of cases) {
      const r = await run(args, { SOURCE_TOKEN: freshValue() });
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(message);
      expect(r.stderr + r.stdout).not.toContain(value);
    }
    await expect(readFile(marker)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('exits 1 when a ref is denied by the policy or not found, without starting the command', async () => {
    const marker = join(dir, 'started');
    const touch = [process.execPath, '-e', `require('fs').writeFileSync(${JSON.stringify(marker)}, '')`];
    const policy = join(dir, 'policy.json');
    await writeFile(policy, JSON.stringify({ version: 1, rules: [{ name: 'only-other', identity: 'orders-sync', allow: ['env://OTHER'] }] }));
    const denied = await run(['run', '--env', 'dev', '--identity', 'orders-sync', '--policy', policy, '--map', 'TOKEN=env://SOURCE_TOKEN', '--', ...touch], { SOURCE_TOKEN: freshValue() });
    expect(denied.stderr).toMatch(/error \[POLICY_DENIED\]/);
    expect(denied.code).toBe(1);
    const missing = await run(['run', '--env', 'dev', '--map', 'TOKEN=env://ABSENT_TOKEN', '--', ...touch]);
    expect(missing.stderr).toMatch(/error \[SECRET_NOT_FOUND\]/);
    expect(missing.code).toBe(1);
    await expect(readFile(marker)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('prints its help, with the exit codes, and 0', async () => {
    const r = await run(['run', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^usage: connector-secrets run/);
    expect(r.stdout).toContain('128+n');
  });
});
