import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runLocalCommand } from '../../src/cli/local.js';
import { SecretFormatError } from '../../src/errors.js';
import type { ResolveContext } from '../../src/provider.js';
import { fromLocalStore } from '../../src/providers/fromLocalStore.js';
import { parseRef } from '../../src/ref/parseRef.js';

const posix = process.platform !== 'win32';

let dir: string;
let storePath: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cs-cli-local-'));
  storePath = join(dir, 'secrets', 'dev.enc.json');
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

function freshValue(): string {
  return randomBytes(24).toString('base64url');
}

function ctx(): ResolveContext {
  return { signal: new AbortController().signal, env: {}, environment: 'dev', identity: undefined, now: Date.now };
}

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

async function run(argv: string[], options: { env?: Record<string, string | undefined>; stdin?: string | Buffer } = {}): Promise<Run> {
  let stdout = '';
  let stderr = '';
  const code = await runLocalCommand(argv, {
    stdin: Readable.from(options.stdin === undefined ? [] : [Buffer.from(options.stdin)]),
    stdout: (s) => {
      stdout += s;
    },
    stderr: (s) => {
      stderr += s;
    },
    env: options.env ?? {},
  });
  return { code, stdout, stderr };
}

/** Inits a store with a generated key file and returns the env that opens it. */
async function initStore(): Promise<{ keyFile: string; env: Record<string, string> }> {
  const result = await run(['init', '--env', 'dev', '--path', storePath]);
  expect(result.code).toBe(0);
  const keyFile = join(dir, 'secrets', 'dev.key');
  return { keyFile, env: { CONNECTOR_SECRETS_KEY_FILE: keyFile, CONNECTOR_SECRETS_STORE: storePath } };
}

describe('connector-secrets local init', () => {
  it('creates the store and a fresh private key file, printing only the key file path', async () => {
    const result = await run(['init', '--env', 'dev', '--path', storePath]);
    expect(result).toMatchObject({ code: 0, stderr: '' });
    const keyFile = join(dir, 'secrets', 'dev.key');
    expect(result.stdout).toContain(storePath);
    expect(result.stdout).toContain(keyFile);

    const keyText = (await readFile(keyFile, 'utf8')).trim();
    expect(Buffer.from(keyText, 'base64').length).toBe(32);
    expect(result.stdout).not.toContain(keyText);
    if (posix) {
      expect((await stat(keyFile)).mode & 0o777).toBe(0o600);
      expect((await stat(storePath)).mode & 0o777).toBe(0o600);
    }
    const list = await fromLocalStore({ path: storePath, keyFile }).list();
    expect(list).toEqual([]);
  });

  it('writes the generated key to --key-file when it does not exist, and uses it when it does', async () => {
    const keyFile = join(dir, 'keys', 'mine.key');
    const first = await run(['init', '--env', 'dev', '--path', storePath, '--key-file', keyFile]);
    expect(first.code).toBe(0);
    expect(first.stdout).toContain(`generated key file ${keyFile}`);

    const otherStore = join(dir, 'other', 'dev.enc.json');
    const second = await run(['init', '--env', 'dev', '--path', otherStore, '--key-file', keyFile]);
    expect(second.code).toBe(0);
    expect(second.stdout).not.toContain('generated key file');
    await expect(fromLocalStore({ path: otherStore, keyFile }).list()).resolves.toEqual([]);
  });

  it('uses a configured passphrase instead of generating a key file', async () => {
    const passphrase = freshValue();
    const result = await run(['init', '--env', 'dev', '--path', storePath], { env: { CONNECTOR_SECRETS_PASSPHRASE: passphrase } });
    expect(result.code).toBe(0);
    expect(result.stdout).not.toContain('key file');
    expect(await readdir(join(dir, 'secrets'))).toEqual(['dev.enc.json']);
    const doc = JSON.parse(await readFile(storePath, 'utf8')) as { kdf: { name: string }; environment: string };
    expect(doc.kdf.name).toBe('scrypt');
    expect(doc.environment).toBe('dev');
    expect(result.stdout).not.toContain(passphrase);
  });

  it('refuses to overwrite an existing store and leaves no stray key file behind', async () => {
    await initStore();
    const before = await readFile(storePath, 'utf8');
    const again = await run(['init', '--env', 'dev', '--path', storePath, '--key-file', join(dir, 'second.key')]);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/^error \[CONFIG_INVALID\]: store file .* already exists/);
    expect(await readFile(storePath, 'utf8')).toBe(before);
    expect(await readdir(dir)).toEqual(['secrets']);
  });

  it('needs an environment tag', async () => {
    const result = await run(['init', '--path', storePath]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^error \[USAGE\]: init needs --env/);
  });
});

describe('connector-secrets local set', () => {
  it('reads the value from stdin, strips one trailing newline and never prints it', async () => {
    const { keyFile, env } = await initStore();
    const value = freshValue();
    const result = await run(['set', 'orders-db/password', '--owner', 'data-platform', '--purpose', 'read orders', '--sensitivity', 'critical', '--rotation', '30d'], {
      env,
      stdin: value + '\n',
    });
    expect(result).toMatchObject({ code: 0, stderr: '' });
    expect(result.stdout).toContain('stored orders-db/password version 1');
    expect(result.stdout).not.toContain(value);

    const out = await fromLocalStore({ path: storePath, keyFile }).resolve(parseRef('secret://orders-db/password'), ctx());
    expect(out.value).toBe(value);
    expect(out.metadata).toEqual({ owner: 'data-platform', purpose: 'read orders', sensitivity: 'critical', rotation: '30d', environment: 'dev' });
  });

  it('adds versions, strips only one CRLF, and keeps bytes exact with --binary', async () => {
    const { keyFile, env } = await initStore();
    const value = freshValue();
    expect((await run(['set', 'a'], { env, stdin: value + '\r\n' })).code).toBe(0);
    const second = freshValue();
    expect((await run(['set', 'a'], { env, stdin: second + '\n\n' })).stdout).toContain('version 2');
    const bytes = Buffer.concat([randomBytes(32), Buffer.from('\n')]);
    expect((await run(['set', 'blob', '--binary'], { env, stdin: bytes })).code).toBe(0);

    const store = fromLocalStore({ path: storePath, keyFile });
    expect((await store.resolve(parseRef('local://a?version=1'), ctx())).value).toBe(value);
    expect((await store.resolve(parseRef('local://a'), ctx())).value).toBe(second + '\n');
    const blob = (await store.resolve(parseRef('local://blob'), ctx())).value;
    expect(Buffer.from(blob as Uint8Array).equals(bytes)).toBe(true);
  });

  it('refuses a value given as an argument without echoing it, whatever character it starts with', async () => {
    const { env } = await initStore();
    // A random value starts with '-' one time in 64: then it reads as options, named in no message.
    for (const [value, message] of [
      [`x${freshValue()}`, /^error \[USAGE\]: .*read from stdin/],
      [`-Y${freshValue()}`, /^error \[USAGE\]: an unknown option \(not shown/],
      [`--x7${freshValue()}`, /^error \[USAGE\]: an unknown option \(not shown/],
    ] as const) {
      const result = await run(['set', 'a', value], { env, stdin: '' });
      expect(result.code).toBe(2);
      expect(result.stderr).toMatch(message);
      expect(result.stderr).not.toContain(`'${value.slice(0, 2)}`);
      expect(result.stderr).not.toContain(value.slice(2, 8));
      expect(result.stdout).toBe('');
    }
  });

  it('refuses an empty stdin and an unknown sensitivity', async () => {
    const { env } = await initStore();
    const empty = await run(['set', 'a'], { env, stdin: '\n' });
    expect(empty.code).toBe(2);
    expect(empty.stderr).toMatch(/^error \[CONFIG_INVALID\]: no value on stdin/);

    const value = freshValue();
    const bad = await run(['set', 'a', '--sensitivity', 'extreme'], { env, stdin: value });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^error \[CONFIG_INVALID\]: .*sensitivity/);
    expect(bad.stderr).not.toContain(value);
  });

  it('reports a missing store with its code', async () => {
    const result = await run(['set', 'a'], { env: { CONNECTOR_SECRETS_STORE: storePath, CONNECTOR_SECRETS_KEY: randomBytes(32).toString('base64') }, stdin: freshValue() });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^error \[CONFIG_INVALID\]: store file .* does not exist/);
  });

  it('reports a wrong key as SECRET_FORMAT without printing the value', async () => {
    await initStore();
    const value = freshValue();
    const wrongKey = join(dir, 'wrong.key');
    await writeFile(wrongKey, randomBytes(32).toString('base64'), { mode: 0o600 });
    const result = await run(['set', 'a', '--path', storePath, '--key-file', wrongKey], { stdin: value });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^error \[SECRET_FORMAT\]: .*wrong key/);
    expect(result.stderr).not.toContain(value);
  });
});

describe('connector-secrets local list', () => {
  it('lists names, versions and metadata as text and JSON, never values', async () => {
    const { env } = await initStore();
    const values = [freshValue(), freshValue(), freshValue()];
    await run(['set', 'orders-db/password', '--owner', 'data-platform'], { env, stdin: values[0]! });
    await run(['set', 'orders-db/password'], { env, stdin: values[1]! });
    await run(['set', 'api/token', '--sensitivity', 'high'], { env, stdin: values[2]! });

    const text = await run(['list'], { env });
    expect(text.code).toBe(0);
    const lines = text.stdout.trim().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^api\/token {2}version 1 .*sensitivity=high/);
    expect(lines[1]).toMatch(/^orders-db\/password {2}version 2 \(versions 1,2\) {2}env=dev {2}owner=data-platform/);

    const json = await run(['list', '--json'], { env });
    expect(json.code).toBe(0);
    const parsed = JSON.parse(json.stdout) as { name: string; currentVersion: number; versions: { version: number }[]; metadata: Record<string, string> }[];
    expect(parsed.map((e) => e.name)).toEqual(['api/token', 'orders-db/password']);
    expect(parsed[1]).toMatchObject({ currentVersion: 2, metadata: { owner: 'data-platform', environment: 'dev' } });
    expect(parsed[1]?.versions.map((v) => v.version)).toEqual([1, 2]);

    for (const value of values) {
      expect(text.stdout).not.toContain(value);
      expect(json.stdout).not.toContain(value);
    }
  });

  it('says when the store is empty', async () => {
    const { env } = await initStore();
    const result = await run(['list'], { env });
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^no entries in /);
  });
});

describe('connector-secrets local rotate-key', () => {
  it('re-encrypts the store under a newly generated key file', async () => {
    const { keyFile, env } = await initStore();
    const value = freshValue();
    await run(['set', 'a'], { env, stdin: value });

    const newKeyFile = join(dir, 'next.key');
    const result = await run(['rotate-key', '--new-key-file', newKeyFile], { env });
    expect(result).toMatchObject({ code: 0, stderr: '' });
    const newKeyText = (await readFile(newKeyFile, 'utf8')).trim();
    expect(result.stdout).toContain(newKeyFile);
    expect(result.stdout).not.toContain(newKeyText);
    if (posix) expect((await stat(newKeyFile)).mode & 0o777).toBe(0o600);

    await expect(fromLocalStore({ path: storePath, keyFile }).resolve(parseRef('local://a'), ctx())).rejects.toBeInstanceOf(SecretFormatError);
    expect((await fromLocalStore({ path: storePath, keyFile: newKeyFile }).resolve(parseRef('local://a'), ctx())).value).toBe(value);
    expect((await readdir(join(dir, 'secrets'))).sort()).toEqual(['dev.enc.json', 'dev.key']);
  });

  it('needs --new-key-file and removes a generated key file when rotation fails', async () => {
    const missing = await run(['rotate-key'], { env: {} });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/^error \[USAGE\]: rotate-key needs --new-key-file/);

    const newKeyFile = join(dir, 'next.key');
    const failed = await run(['rotate-key', '--new-key-file', newKeyFile, '--path', join(dir, 'absent.enc.json')], {
      env: { CONNECTOR_SECRETS_KEY: randomBytes(32).toString('base64') },
    });
    expect(failed.code).toBe(2);
    expect(failed.stderr).toMatch(/^error \[CONFIG_INVALID\]: store file .* does not exist/);
    expect(await readdir(dir)).toEqual([]);
  });
});

describe('connector-secrets local: usage', () => {
  it('prints help on --help and exits 0', async () => {
    const result = await run(['--help']);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^usage: connector-secrets local/);
    expect((await run(['set', '--help'])).stdout).toMatch(/^usage:/);
  });

  it('rejects unknown commands and options with error [USAGE] and exit 2', async () => {
    const unknown = await run(['frobnicate']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/^error \[USAGE\]: unknown command/);

    const value = freshValue();
    const option = await run(['list', `--value=${value}`]);
    expect(option.code).toBe(2);
    expect(option.stderr).toMatch(/^error \[USAGE\]: Unknown option '--value'/);
    expect(option.stderr).not.toContain(value);

    const none = await run([]);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/^error \[USAGE\]: missing command/);
  });
});
