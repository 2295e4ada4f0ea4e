/**
 * Item 4 of issue 9, over the class "CLI output about a file echoes its content": whatever file
 * `connector-secrets audit` is given (the key file with the arguments swapped, a .env file,
 * binary garbage), its output names line numbers and reasons, never a byte of the file.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fileAuditSink } from '../../src/audit/fileAuditSink.js';
import { runAuditCommand } from '../../src/cli/audit.js';
import { event, hmacKey } from '../audit/helpers.js';

let dir: string;
let logFile: string;
let keyFile: string;
let key: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cs-cli-noecho-'));
  logFile = join(dir, 'audit.jsonl');
  keyFile = join(dir, 'audit.key');
  key = hmacKey();
  await writeFile(keyFile, key + '\n', { mode: 0o600 });
  const sink = fileAuditSink(logFile, { hmacKey: key });
  await sink.write(event());
  await sink.write(event({ outcome: 'denied', code: 'POLICY_DENIED' }));
  await sink.close();
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function run(argv: string[]) {
  let out = '';
  const code = await runAuditCommand(argv, { stdout: (s) => void (out += s), stderr: (s) => void (out += s), env: {}, now: () => Date.UTC(2026, 0, 2) });
  return { code, out };
}

/** Every run of 8 characters of the file's text (as UTF-8 and as Latin-1) that is not blank. */
function fragments(bytes: Buffer): string[] {
  const out = new Set<string>();
  for (const text of [bytes.toString('utf8'), bytes.toString('latin1')]) {
    for (const line of text.split(/[\r\n]/)) {
      for (let i = 0; i + 8 <= line.length; i++) {
        const f = line.slice(i, i + 8);
        if (f.trim() !== '') out.add(f);
      }
    }
  }
  return [...out];
}

function expectNoContent(output: string, bytes: Buffer, hidden: string): void {
  // The plain check first: a failure names the secret's position, not the secret.
  expect(output.includes(hidden), 'the output holds the hidden value').toBe(false);
  const echoed = fragments(bytes).filter((f) => output.includes(f));
  expect(echoed.length, 'fragments of the file in the output').toBe(0);
}

describe('connector-secrets audit: output about a file never echoes its content', () => {
  const password = randomBytes(18).toString('base64url');
  const files = {
    'the HMAC key file (arguments swapped)': async () => ({ path: keyFile, hidden: key }),
    'a .env file with a password': async () => {
      const path = join(dir, 'orders.env');
      await writeFile(path, `ORDERS_DB_USER=etl\nORDERS_DB_PASSWORD=${password}\n`);
      return { path, hidden: password };
    },
    'binary garbage around a secret': async () => {
      const path = join(dir, 'garbage.bin');
      const secret = randomBytes(12).toString('hex');
      await writeFile(path, Buffer.concat([randomBytes(300), Buffer.from(secret), randomBytes(300), Buffer.from('\n'), randomBytes(64)]));
      return { path, hidden: secret };
    },
    'a JSON object holding a secret': async () => {
      const path = join(dir, 'creds.json');
      const secret = randomBytes(12).toString('hex');
      await writeFile(path, JSON.stringify({ seq: 1, prev: '0'.repeat(64), event: { password: secret }, mac: 'f'.repeat(64) }) + '\n');
      return { path, hidden: secret };
    },
  };

  for (const [name, make] of Object.entries(files)) {
    it(`${name}: verify, verify with the log as key, and summary exit 1 and print none of it`, async () => {
      const { path, hidden } = await make();
      const bytes = await readFile(path);
      const runs = [
        await run(['verify', path, '--key-file', keyFile]),
        await run(['summary', path, '--key-file', keyFile]),
        await run(['summary', path]),
        await run(['summary', path, '--json']),
      ];
      for (const r of runs) {
        expect(r.code).toBe(1);
        // Every one of these files fails at its first line, for what it is, not for a read error.
        expect(r.out).toMatch(/line 1: (not |starts with|ends with|an unversioned)/);
        expect(r.out).not.toContain('cannot be read');
        expectNoContent(r.out, bytes, hidden);
      }
    });
  }

  it('the log given as the key file (arguments swapped): nothing of either file is printed', async () => {
    const r = await run(['verify', keyFile, '--key-file', logFile]);
    expect(r.code).toBe(1);
    expect(r.out).toContain('line 1');
    expectNoContent(r.out, await readFile(keyFile), key);
    expectNoContent(r.out, await readFile(logFile), 'orders-sync');
  });

  it('the real command (node, src/cli/main.ts): exit code 1 and nothing of the file on stdout or stderr', async () => {
    const root = resolve(import.meta.dirname, '../..');
    const env = join(dir, 'child.env');
    const password = randomBytes(18).toString('base64url');
    await writeFile(env, `ORDERS_DB_PASSWORD=${password}\n`);
    const forged = join(dir, 'forged.jsonl');
    const lines = (await readFile(logFile, 'utf8')).split('\n');
    lines[1] = lines[1]!.replace('"event":{', '"event":{"outcome":"success",');
    await writeFile(forged, lines.join('\n'));
    const cases: Array<[string[], string, Buffer]> = [
      [['verify', keyFile, '--key-file', logFile], key, await readFile(keyFile)],
      [['verify', env, '--key-file', keyFile], password, await readFile(env)],
      [['verify', forged, '--key-file', keyFile], 'orders-sync', await readFile(forged)],
    ];
    for (const [args, hidden, bytes] of cases) {
      const r = await promisify(execFile)(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'audit', ...args], { cwd: root, timeout: 60_000 }).then(
        () => ({ code: 0, out: '' }),
        (err: { code: number; stdout: string; stderr: string }) => ({ code: err.code, out: err.stdout + err.stderr }),
      );
      expect(r.code).toBe(1);
      expect(r.out).toMatch(/line \d+: /);
      expectNoContent(r.out, bytes, hidden);
    }
  });
});
