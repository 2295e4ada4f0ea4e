/**
 * A scan over a real directory tree: what it reads and skips (.gitignore, symlinks, binaries,
 * the size cap, .git), where findings are placed, allow comments, the baseline round trip,
 * fingerprints and the SARIF document.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { fingerprint, newBaseline, readBaseline, writeBaseline } from '../../src/scan/baseline.js';
import { RULE_IDS } from '../../src/scan/rules.js';
import { FINGERPRINT_KEY, toSarif } from '../../src/scan/sarif.js';
import { scanPaths } from '../../src/scan/scan.js';
import { plantedCorpus, randomChars } from '../fixtures/scan/corpus.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'cs-scan-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

const put = (rel: string, content: string | Buffer) => {
  mkdirSync(dirname(join(dir, rel)), { recursive: true });
  writeFileSync(join(dir, rel), content);
};
const token = () => `ghp_${randomChars('abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789', 35)}7`;
const scan = (paths = ['.'], extra: Partial<Parameters<typeof scanPaths>[0]> = {}) => scanPaths({ paths, cwd: dir, ...extra });

describe('scan: what is read', () => {
  it('honours nested .gitignore files, negations and directory patterns, and skips .git', () => {
    put('.gitignore', 'build/\n*.log\n!keep.log\n');
    put('pkg/.gitignore', 'local.*\n');
    for (const f of ['a.txt', 'build/out.txt', 'x.log', 'keep.log', 'pkg/local.env', 'pkg/b.txt', '.git/config', 'sub/build/y.txt']) put(f, `t=${token()}\n`);
    const files = scan().findings.map((f) => f.file).sort();
    expect(files).toEqual(['a.txt', 'keep.log', 'pkg/b.txt']);
    const all = scan(['.'], { gitignore: false }).findings.map((f) => f.file).sort();
    expect(all).toEqual(['.gitignore', 'a.txt', 'build/out.txt', 'keep.log', 'pkg/.gitignore', 'pkg/b.txt', 'pkg/local.env', 'sub/build/y.txt', 'x.log'].filter((f) => !f.endsWith('.gitignore')));
  });

  it("applies the repository's .gitignore above a scanned subdirectory; a file named explicitly is scanned anyway", () => {
    mkdirSync(join(dir, '.git'));
    put('.gitignore', 'secret.txt\n');
    put('app/secret.txt', `t=${token()}\n`);
    put('app/ok.txt', `t=${token()}\n`);
    expect(scan(['app']).findings.map((f) => f.file)).toEqual(['app/ok.txt']);
    expect(scan(['app/secret.txt']).findings.map((f) => f.file)).toEqual(['app/secret.txt']);
    // A directory the repository ignores, named explicitly, is scanned with its own .gitignore only.
    put('.gitignore', 'secret.txt\nvendor/\n');
    put('vendor/lib/key.txt', `t=${token()}\n`);
    put('vendor/lib/.gitignore', 'skip.txt\n');
    put('vendor/lib/skip.txt', `t=${token()}\n`);
    expect(scan(['.']).findings.map((f) => f.file).sort()).toEqual(['app/ok.txt']);
    expect(scan(['vendor']).findings.map((f) => f.file)).toEqual(['vendor/lib/key.txt']);
  });

  it("honours the repository's info/exclude below its .gitignore files, also from a linked worktree", () => {
    put('.git/info/exclude', '# local only\nprivate.txt\nscratch/\n');
    put('sub/.gitignore', '!private.txt\n');
    for (const f of ['a.txt', 'private.txt', 'scratch/notes.txt', 'sub/private.txt']) put(f, `t=${token()}\n`);
    // A .gitignore re-includes what info/exclude leaves out (it decides first, as in git).
    expect(scan().findings.map((f) => f.file).sort()).toEqual(['a.txt', 'sub/private.txt']);
    expect(scan(['sub']).findings.map((f) => f.file)).toEqual(['sub/private.txt']);

    // A linked worktree: `.git` is a file naming its git directory, whose commondir holds info/.
    const tree = join(dir, 'wt');
    put('main.git/info/exclude', 'private.txt\n');
    put('main.git/worktrees/wt/commondir', '../..\n');
    put('wt/.git', `gitdir: ${join(dir, 'main.git/worktrees/wt')}\n`);
    for (const f of ['wt/b.txt', 'wt/private.txt']) put(f, `t=${token()}\n`);
    expect(scanPaths({ paths: ['.'], cwd: tree }).findings.map((f) => f.file)).toEqual(['b.txt']);
    expect(scanPaths({ paths: ['.'], cwd: tree, gitignore: false }).findings.map((f) => f.file).sort()).toEqual(['b.txt', 'private.txt']);
  });

  it('follows no symlink, in the tree or out of it, and skips binaries and files over the cap', () => {
    const outside = mkdtempSync(join(tmpdir(), 'cs-scan-out-'));
    try {
      writeFileSync(join(outside, 'creds.txt'), `t=${token()}\n`);
      put('real/creds.txt', `t=${token()}\n`);
      symlinkSync(join(outside, 'creds.txt'), join(dir, 'link-out.txt'));
      symlinkSync(outside, join(dir, 'dir-out'));
      symlinkSync(join(dir, 'real'), join(dir, 'dir-in'));
      put('bin.dat', Buffer.concat([Buffer.from(`t=${token()}\n`), Buffer.from([0, 1, 2])]));
      put('big.txt', `t=${token()}\n${'x'.repeat(2048)}`);
      const r = scan(['.'], { maxBytes: 1024 });
      expect(r.findings.map((f) => f.file)).toEqual(['real/creds.txt']);
      expect(r.skipped).toMatchObject({ symlinks: 3, binary: 1, tooLarge: 1 });
      // A symlink named on the command line is not followed either.
      expect(scan(['link-out.txt']).findings).toEqual([]);
    } finally {
      rmSync(outside, { recursive: true, force: true });
    }
  });

  it('a missing path is a usage error', () => {
    expect(() => scan(['nope'])).toThrow(expect.objectContaining({ code: 'USAGE', message: expect.stringContaining('ENOENT') }));
  });
});

describe('scan: findings', () => {
  it('line and column (UTF-16, after non-ASCII text), length, and never the text', () => {
    const t = token();
    put('notes.md', `# Notes\nÄpfel → GH_TOKEN=${t}\n`);
    const [f] = scan().findings;
    expect(f).toMatchObject({ rule: 'github-token', file: 'notes.md', line: 2, column: 'Äpfel → GH_TOKEN='.length + 1, endLine: 2, endColumn: 'Äpfel → GH_TOKEN='.length + 1 + t.length, length: t.length, baselined: false });
    expect(JSON.stringify(f)).not.toContain(t);
  });

  it('allow comments: any rule on the same or previous line; a named rule only for that rule', () => {
    put('a.env', [`A=${token()} # connector-secrets-allow`, '# connector-secrets:allow github-token', `B=${token()}`, '# connector-secrets:allow jwt, npm-token', `C=${token()}`, `D=${token()}`].join('\n'));
    const r = scan();
    expect(r.findings.map((f) => f.line)).toEqual([5, 6]);
    expect(r.allowed).toBe(2);
  });

  it('fingerprints: stable when lines move, different per file, rule and value, keyed by the salt, never the value', () => {
    const t = token();
    put('a.txt', `x=${t}\n`);
    const before = scan().findings[0]!.fingerprint;
    put('a.txt', `\n\n\nmoved: ${t}\n`);
    expect(scan().findings[0]!.fingerprint).toBe(before);
    expect(fingerprint('s1', 'github-token', 'a.txt', t)).not.toBe(fingerprint('s2', 'github-token', 'a.txt', t));
    expect(fingerprint('s1', 'github-token', 'a.txt', t)).not.toBe(fingerprint('s1', 'github-token', 'b.txt', t));
    expect(fingerprint('s1', 'github-token', 'a.txt', t)).not.toBe(fingerprint('s1', 'github-token', 'a.txt', token()));
    expect(before).toMatch(/^[0-9a-f]{32}$/);
  });

  it('baseline round trip: accepted findings are marked, a new one is not; the file holds no value', () => {
    const first = token();
    put('a.txt', `x=${first}\n`);
    const base = newBaseline();
    const file = join(dir, 'baseline.json');
    const r1 = scan(['a.txt'], { salt: base.salt });
    writeBaseline(file, base.salt, r1.findings.map((f) => ({ fingerprint: f.fingerprint, rule: f.rule, file: f.file })));
    const text = readFileSync(file, 'utf8');
    expect(text).not.toContain(first);
    const loaded = readBaseline(file)!;
    expect(loaded.salt).toBe(base.salt);
    const second = token();
    put('a.txt', `x=${first}\ny=${second}\n`);
    const r2 = scan(['a.txt'], { salt: loaded.salt, baseline: loaded.fingerprints });
    expect(r2.findings.map((f) => [f.line, f.baselined])).toEqual([
      [1, true],
      [2, false],
    ]);
  });

  it('a malformed baseline is a configuration error naming the field', () => {
    const file = join(dir, 'b.json');
    writeFileSync(file, JSON.stringify({ version: 1, salt: 'x'.repeat(32), findings: [{ fingerprint: 'nope' }] }));
    expect(() => readBaseline(file)).toThrow(/findings\[0\]\.fingerprint/);
    writeFileSync(file, '{');
    expect(() => readBaseline(file)).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
    expect(readBaseline(join(dir, 'missing.json'))).toBeUndefined();
  });
});

describe('scan: SARIF 2.1.0', () => {
  it('has the shape code-scanning dashboards read, one result per finding, no value anywhere', () => {
    const corpus = plantedCorpus();
    for (const p of corpus) put(p.file, p.content);
    const r = scan(['.'], { gitignore: false });
    expect(r.findings).toHaveLength(corpus.length);
    const sarif = toSarif(r.findings, { version: '0.1.0' }) as any;
    expect(sarif.version).toBe('2.1.0');
    expect(sarif.$schema).toMatch(/sarif-2\.1\.0/);
    expect(sarif.runs).toHaveLength(1);
    const driver = sarif.runs[0].tool.driver;
    expect(driver.name).toBe('connector-secrets');
    expect(driver.rules.map((x: any) => x.id)).toEqual(RULE_IDS);
    for (const rule of driver.rules) expect(rule.shortDescription.text.length).toBeGreaterThan(0);
    const results = sarif.runs[0].results;
    expect(results).toHaveLength(r.findings.length);
    for (const res of results) {
      expect(RULE_IDS).toContain(res.ruleId);
      expect(driver.rules[res.ruleIndex].id).toBe(res.ruleId);
      expect(res.level).toBe('error');
      expect(typeof res.message.text).toBe('string');
      const loc = res.locations[0].physicalLocation;
      expect(loc.artifactLocation.uri).not.toMatch(/^\//);
      expect(loc.region.startLine).toBeGreaterThanOrEqual(1);
      expect(loc.region.startColumn).toBeGreaterThanOrEqual(1);
      expect(res.partialFingerprints[FINGERPRINT_KEY]).toMatch(/^[0-9a-f]{32}$/);
    }
    const text = JSON.stringify(sarif);
    for (const p of corpus) expect(text).not.toContain(p.secret);
  });
});
