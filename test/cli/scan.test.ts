/**
 * `connector-secrets scan` as CI runs it: a child process on a tree of generated credentials;
 * exit codes, the three formats, the baseline workflow, --known through an env provider, and no
 * planted value in any output.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { plantedCorpus, randomChars, type Planted } from '../fixtures/scan/corpus.js';

const ROOT = resolve(import.meta.dirname, '../..');
let dir: string;
let corpus: Planted[];

async function cli(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return promisify(execFile)(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'scan', ...args], { cwd: ROOT, timeout: 60_000, env: { PATH: process.env['PATH'] ?? '', ...env } }).then(
    ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
    (err: { code: number; stdout: string; stderr: string }) => ({ code: err.code, stdout: err.stdout, stderr: err.stderr }),
  );
}
const put = (rel: string, content: string) => {
  mkdirSync(dirname(join(dir, rel)), { recursive: true });
  writeFileSync(join(dir, rel), content);
};
const noSecretIn = (text: string, secrets: readonly string[]) => {
  for (const s of secrets) expect(text).not.toContain(s);
};

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'cs-scan-cli-'));
  corpus = plantedCorpus();
  for (const p of corpus) put(`tree/${p.file}`, p.content);
  put('clean/README.md', '# Orders\n\nRun `npm start`; the password comes from DB_PASSWORD.\n');
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('connector-secrets scan (child process)', () => {
  it('text: one line per planted credential, exit 1, and no planted value in stdout or stderr', async () => {
    const r = await cli([join(dir, 'tree')]);
    expect(r.code).toBe(1);
    const lines = r.stdout.trim().split('\n');
    expect(lines).toHaveLength(corpus.length + 1);
    for (const p of corpus) expect(r.stdout).toMatch(new RegExp(`tree/${p.file.replace(/[.]/g, '\\.')}:\\d+:\\d+  ${p.kind}  \\d+ chars`));
    expect(lines.at(-1)).toMatch(/^29 findings \(29 new, 0 in the baseline\); 29 files, /);
    // stderr is a pipe here, not a terminal: no progress line.
    expect(r.stderr).toBe('');
    noSecretIn(r.stdout + r.stderr, corpus.map((p) => p.secret));
  });

  it('--json and --format sarif carry the same findings and no value', async () => {
    const json = await cli([join(dir, 'tree'), '--json']);
    expect(json.code).toBe(1);
    const doc = JSON.parse(json.stdout) as { findings: { rule: string }[]; summary: { findings: number; new: number } };
    expect(doc.summary).toMatchObject({ findings: 29, new: 29 });
    expect(new Set(doc.findings.map((f) => f.rule))).toEqual(new Set(corpus.map((p) => p.kind)));
    const sarif = await cli([join(dir, 'tree'), '--format', 'sarif']);
    expect(sarif.code).toBe(1);
    const log = JSON.parse(sarif.stdout) as { version: string; runs: { results: unknown[] }[] };
    expect(log.version).toBe('2.1.0');
    expect(log.runs[0]!.results).toHaveLength(29);
    noSecretIn(json.stdout + json.stderr + sarif.stdout + sarif.stderr, corpus.map((p) => p.secret));
  });

  it('a clean tree exits 0; usage and configuration errors exit 2 with one line naming the fix', async () => {
    const clean = await cli([join(dir, 'clean')]);
    expect(clean).toMatchObject({ code: 0, stdout: expect.stringMatching(/^no findings; 1 files/) });
    const cases: [string[], RegExp][] = [
      [['--format', 'xml'], /--format must be text, json or sarif/],
      [['--update-baseline'], /--update-baseline needs --baseline FILE/],
      [['--baseline', join(dir, 'none.json')], /does not exist; create it with --update-baseline/],
      [[join(dir, 'no-such-dir')], /cannot read/],
      [['--max-size', 'lots'], /--max-size must be/],
      [['--known'], /--known needs --env/],
      [['--bogus'], /error \[USAGE\]/],
    ];
    // Three child processes at a time: the machine may be shared.
    const runs: Awaited<ReturnType<typeof cli>>[] = [];
    for (let k = 0; k < cases.length; k += 3) runs.push(...(await Promise.all(cases.slice(k, k + 3).map(([args]) => cli(args)))));
    for (const [i, [args, message]] of cases.entries()) {
      const r = runs[i]!;
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr.split('\n')[0], args.join(' ')).toMatch(message);
    }
    const [help, top] = await Promise.all([cli(['--help']), promisify(execFile)(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', '--help'], { cwd: ROOT })]);
    expect(top.stdout).toMatch(/\n {2}scan \[paths\.\.\.\]/);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('examples:');
    expect(help.stdout).toContain('--format sarif');
  }, 120_000);

  it('baseline workflow: --update-baseline accepts today, the next scan passes, a new credential fails it', async () => {
    const tree = join(dir, 'base');
    const first = corpus[0]!;
    put(`base/${first.file}`, first.content);
    const baseline = join(dir, 'baseline.json');
    const update = await cli([tree, '--baseline', baseline, '--update-baseline']);
    expect(update.code).toBe(0);
    expect(update.stderr).toContain('1 findings accepted');
    const again = await cli([tree, '--baseline', baseline]);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('[baseline]');
    const second = corpus[2]!;
    put(`base/${second.file}`, second.content);
    const fail = await cli([tree, '--baseline', baseline, '--json']);
    expect(fail.code).toBe(1);
    const doc = JSON.parse(fail.stdout) as { findings: { rule: string; baselined: boolean }[] };
    expect(doc.findings.map((f) => [f.rule, f.baselined]).sort()).toEqual([
      [first.kind, true],
      [second.kind, false],
    ].sort());
    noSecretIn(update.stdout + update.stderr + again.stdout + fail.stdout + fail.stderr, [first.secret, second.secret]);
  }, 60_000);

  it('--known: finds the value an env provider holds, raw and base64, by its ref, never printing it', async () => {
    // Lower-case letters only: no shape rule would find it; only the known value does.
    const value = randomChars('abcdefghijklmnopqrstuvwxyz', 24);
    const app = join(dir, 'known');
    mkdirSync(app, { recursive: true });
    writeFileSync(join(app, 'manifest.mjs'), `import { defineSecrets } from ${JSON.stringify(pathToFileURL(join(ROOT, 'src/manifest.ts')).href)};\nexport const orders = defineSecrets({ db: { ref: 'env://ORDERS_DB_PASSWORD', owner: 'data', purpose: 'orders db' } });\n`);
    writeFileSync(join(app, 'connector-secrets.config.json'), JSON.stringify({ environments: ['dev'], providers: [{ type: 'env' }], manifests: ['manifest.mjs'] }));
    mkdirSync(join(app, 'logs'));
    writeFileSync(join(app, 'logs', 'sync.log'), `10:00 connecting with ${value}\n10:01 auth header ${Buffer.from(value).toString('base64')}\n`);
    const env = { ORDERS_DB_PASSWORD: value };
    const without = await cli([join(app, 'logs')], env);
    expect(without.code).toBe(0);
    const r = await cli([join(app, 'logs'), '--known', '--env', 'dev', '--config', join(app, 'connector-secrets.config.json'), '--json'], env);
    expect(r.code).toBe(1);
    const doc = JSON.parse(r.stdout) as { findings: { rule: string; ref: string; line: number }[] };
    expect(doc.findings.map((f) => [f.rule, f.ref, f.line])).toEqual([
      ['known-value', 'env://ORDERS_DB_PASSWORD', 1],
      ['known-value', 'env://ORDERS_DB_PASSWORD', 2],
    ]);
    const text = await cli([join(app, 'logs'), '--known', '--env', 'dev', '--config', join(app, 'connector-secrets.config.json')], env);
    expect(text.stdout).toMatch(/sync\.log:1:\d+  known-value  24 chars  env:\/\/ORDERS_DB_PASSWORD/);
    noSecretIn(r.stdout + r.stderr + text.stdout + text.stderr, [value, Buffer.from(value).toString('base64')]);
  }, 60_000);
});
