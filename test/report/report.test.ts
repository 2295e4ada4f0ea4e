// `connector-secrets report` without a browser: the page's figures against `audit summary --json`
// (ranges, tampered and malformed logs), exit codes, escaping of hostile text, no URL anywhere,
// cadences from --config. test/report/report.browser.test.ts reads the same page in chromium.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { fileAuditSink } from '../../src/audit/fileAuditSink.js';
import { runAuditCommand } from '../../src/cli/audit.js';
import type { AuditSummary } from '../../src/cli/auditSummary.js';
import { runReportCommand } from '../../src/cli/report.js';
import { durationText, esc } from '../../src/cli/reportHtml.js';
import { event } from '../audit/helpers.js';
import { HOSTILE_IDENTITY, HOSTILE_RULE, REFS, T0, writeFixture, type Fixture } from './fixture.js';

const NOW = T0 + 24 * 3_600_000;
const ROOT = resolve(import.meta.dirname, '../..');

let dir: string;
let fx: Fixture;
let out: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cs-report-'));
  fx = await writeFixture(dir);
  out = join(dir, 'report.html');
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function report(argv: string[], env: Record<string, string> = {}) {
  let stdout = '';
  let stderr = '';
  const code = await runReportCommand(argv, { stdout: (s) => void (stdout += s), stderr: (s) => void (stderr += s), env, cwd: dir, now: () => NOW });
  return { code, stdout, stderr, html: await readFile(out, 'utf8').catch(() => '') };
}

async function summary(file: string, extra: string[] = []): Promise<AuditSummary> {
  let stdout = '';
  const code = await runAuditCommand(['summary', file, '--key-file', fx.keyFile, '--json', ...extra], { stdout: (s) => void (stdout += s), stderr: () => {}, env: {}, now: () => NOW });
  expect(code).toBe(0);
  return JSON.parse(stdout) as AuditSummary;
}

/** The data-value of the element with that data-testid. */
function value(html: string, testid: string): number {
  const m = new RegExp(`data-testid="${testid}"[^>]*?data-value="([^"]*)"`).exec(html);
  if (m === null) throw new Error(`no ${testid} in the page`);
  return Number(m[1]);
}
function sumOf(html: string, prefix: string): number {
  return [...html.matchAll(new RegExp(`data-testid="${prefix}\\d+"[^>]*?data-value="(\\d+)"`, 'g'))].reduce((n, m) => n + Number(m[1]), 0);
}
function unescape(text: string): string {
  return text.replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
}
function rowsOf(html: string, i: number): unknown[] {
  return [...html.matchAll(new RegExp(`data-testid="log-${i}-row-\\d+" data-row="([^"]*)"`, 'g'))].map((m) => JSON.parse(unescape(m[1]!)));
}

function expectEqualsSummaries(html: string, summaries: AuditSummary[]) {
  for (const [i, s] of summaries.entries()) {
    expect(value(html, `log-${i}-events`)).toBe(s.events);
    for (const k of ['accesses', 'denials', 'failures', 'rotations', 'anomalies'] as const) expect(value(html, `log-${i}-total-${k}`), `${i} ${k}`).toBe(s.totals[k]);
    expect(rowsOf(html, i)).toEqual(s.rows);
  }
  for (const k of ['accesses', 'denials', 'failures', 'rotations', 'anomalies'] as const) expect(value(html, `total-${k}`)).toBe(summaries.reduce((n, s) => n + s.totals[k], 0));
  expect(value(html, 'total-events')).toBe(summaries.reduce((n, s) => n + s.events, 0));
  expect(sumOf(html, 'series-accesses-identity-')).toBe(summaries.reduce((n, s) => n + s.totals.accesses, 0));
  expect(sumOf(html, 'series-accesses-ref-')).toBe(summaries.reduce((n, s) => n + s.totals.accesses, 0));
  expect(sumOf(html, 'bar-denied-')).toBe(summaries.reduce((n, s) => n + s.totals.denials, 0));
  expect(sumOf(html, 'bar-failed-')).toBe(summaries.reduce((n, s) => n + s.totals.failures, 0));
  expect(sumOf(html, 'bar-rotations-')).toBe(summaries.reduce((n, s) => n + s.totals.rotations, 0));
  expect(sumOf(html, 'bar-anomalies-')).toBe(summaries.reduce((n, s) => n + s.totals.anomalies, 0));
}

describe('connector-secrets report: the figures are those of audit summary --json', () => {
  it('whole logs, verified: exit 0, every per-log figure and row, the totals, and the charts add up', async () => {
    const r = await report([...fx.logs, '--key-file', fx.keyFile, '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^wrote .*report\.html: 2 log\(s\), \d+ events, \d+ accesses, 5 denied, 3 failed, 3 rotations, 2 anomalies\n$/);
    expectEqualsSummaries(r.html, [await summary(fx.logs[0]!), await summary(fx.logs[1]!)]);
    expect(r.html).toContain('data-testid="verify-0" data-status="verified"');
    expect(r.html).toContain('data-testid="verify-1" data-status="verified"');
  });

  it('--since and --until count the same records as audit summary with the same range', async () => {
    const range = ['--since', new Date(T0 + 3 * 3_600_000).toISOString(), '--until', new Date(T0 + 7 * 3_600_000).toISOString()];
    const r = await report([...fx.logs, '--key-file', fx.keyFile, '--out', out, ...range]);
    expect(r.code).toBe(0);
    const s = [await summary(fx.logs[0]!, range), await summary(fx.logs[1]!, range)];
    expect(s[0]!.totals.accesses).toBeLessThan((await summary(fx.logs[0]!)).totals.accesses);
    expectEqualsSummaries(r.html, s);
    // Relative ranges count back from the same clock.
    const rel = await report([...fx.logs, '--key-file', fx.keyFile, '--out', out, '--since', '20h']);
    expectEqualsSummaries(rel.html, [await summary(fx.logs[0]!, ['--since', '20h']), await summary(fx.logs[1]!, ['--since', '20h'])]);
  });

  it('a range with nothing in it: zeros, and every chart says so instead of drawing nothing', async () => {
    const r = await report([...fx.logs, '--key-file', fx.keyFile, '--out', out, '--since', '2030-01-01T00:00:00Z']);
    expect(r.code).toBe(0);
    expect(value(r.html, 'total-accesses')).toBe(0);
    for (const id of ['accesses-identity', 'accesses-ref', 'rotations', 'denied', 'failed', 'rules', 'anomalies']) {
      expect(r.html).toMatch(new RegExp(`<svg data-testid="chart-${id}" data-empty="true"[^>]*><text[^>]*>(none|no accesses) in range</text></svg>`));
    }
  });

  it('without a key the logs are counted unverified (exit 0, a note on stderr)', async () => {
    const r = await report([...fx.logs, '--out', out]);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('not verified');
    expect(r.html).toContain('data-testid="verify-0" data-status="unverified"');
    expect(value(r.html, 'total-accesses')).toBe((await summary(fx.logs[0]!)).totals.accesses + (await summary(fx.logs[1]!)).totals.accesses);
  });
});

describe('connector-secrets report: logs that fail', () => {
  it('a tampered log: exit 1, the page is written, the log shows FAILED with its line, and its records are not counted', async () => {
    const lines = (await readFile(fx.logs[0]!, 'utf8')).split('\n');
    const before = lines[4]!;
    lines[4] = before.replace('"identity":"orders-sync"', '"identity":"orders-synx"');
    expect(lines[4]).not.toBe(before);
    await writeFile(fx.logs[0]!, lines.join('\n'));
    const r = await report([...fx.logs, '--key-file', fx.keyFile, '--out', out]);
    expect(r.code).toBe(1);
    // Line 5 was edited: the write that holds it fails, named by its first line.
    const [, first, last] = /INVALID: .*orders-sync\.jsonl: line (\d+): MAC mismatch: (?:lines \d+ to (\d+)|the line).* \(not counted\)/.exec(r.stdout) ?? [];
    expect(Number(first)).toBeLessThanOrEqual(5);
    expect(Number(last ?? first)).toBeGreaterThanOrEqual(5);
    expect(r.html).toContain('data-testid="verify-0" data-status="invalid"');
    expect(r.html).toMatch(/data-testid="verify-0-status">FAILED</);
    expect(value(r.html, 'invalid-logs')).toBe(1);
    const billing = await summary(fx.logs[1]!);
    expect(value(r.html, 'total-accesses')).toBe(billing.totals.accesses);
    expect(sumOf(r.html, 'series-accesses-identity-')).toBe(billing.totals.accesses);
    expect(r.html).not.toContain('data-testid="log-0-events"');
  });

  it('a file that is not an audit log (no key): exit 1, not counted, and none of its bytes printed or shown', async () => {
    const planted = randomBytes(18).toString('base64url');
    const bogus = join(dir, 'not-a-log.jsonl');
    await writeFile(bogus, `{"v":2,"event":{"ts":"2026-01-01T00:00:00Z"}}\nPASSWORD=${planted}\n`);
    const r = await report([bogus, fx.logs[1]!, '--out', out]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/INVALID: .*not-a-log\.jsonl: line 1: /);
    expect(r.html).toContain('data-testid="verify-0" data-status="invalid"');
    for (const text of [r.stdout, r.stderr, r.html]) expect(text).not.toContain(planted);
    expect(value(r.html, 'total-accesses')).toBe((await summary(fx.logs[1]!)).totals.accesses);
  });
});

describe('connector-secrets report: the page is inert', () => {
  it('hostile identities and rule names are escaped everywhere; no script, no element, no URL', async () => {
    const r = await report([...fx.logs, '--key-file', fx.keyFile, '--out', out]);
    expect(r.html).not.toMatch(/<script/i);
    expect(r.html).not.toMatch(/<img/i);
    expect(r.html).toContain(esc(HOSTILE_IDENTITY));
    expect(r.html).toContain(esc(HOSTILE_RULE));
    // Nothing that could fetch: no src/href/srcset/action attribute, no CSS url() or @import, no link/iframe/object.
    // (Attribute names only: escaped text and attribute values may well read "src=".)
    const tags = (r.html.match(/<[a-zA-Z][^>]*>/g) ?? []).map((t) => t.replace(/"[^"]*"/g, '""'));
    expect(tags.length).toBeGreaterThan(100);
    expect(tags.filter((t) => /\s(?:src|href|srcset|action|formaction|poster|xlink:href|on[a-z]+)\s*=/i.test(t))).toEqual([]);
    expect(r.html).not.toMatch(/url\(|@import|<link|<iframe|<object|<embed|<base/i);
    expect(r.html).toContain(`<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">`);
  });

  it('esc() escapes the five characters that matter and leaves Unicode alone', () => {
    expect(esc(`<a href="x" title='y'>&amp; Grüße 日本</a>`)).toBe('&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;amp; Grüße 日本&lt;/a&gt;');
  });

  it('durationText: the two largest units', () => {
    expect(durationText(0)).toBe('0s');
    expect(durationText(42_000)).toBe('42s');
    expect(durationText(3 * 86_400_000 + 4 * 3_600_000 + 5_000)).toBe('3d 4h');
    expect(durationText(5 * 3_600_000 + 12 * 60_000)).toBe('5h 12m');
    expect(durationText(3_600_000)).toBe('1h 0m');
  });
});

describe('connector-secrets report --config: rotation against the declared cadence', () => {
  it('overdue, ok, and a declared secret the logs never rotated', async () => {
    const r = await report([...fx.logs, '--key-file', fx.keyFile, '--out', out, '--config', fx.config]);
    expect(r.code, r.stderr).toBe(0);
    const rotation = (ref: string) => {
      const m = new RegExp(`data-testid="rotation-(\\d+)" data-ref="${ref.replace(/[/.]/g, '\\$&')}">(.*?)</tr>`).exec(r.html);
      if (m === null) throw new Error(`no rotation row for ${ref}`);
      return { age: value(r.html, `rotation-${m[1]}-age`), status: /data-testid="rotation-\d+-status"[^>]*>([^<]*)</.exec(m[2]!)![1] };
    };
    // db last rotated at hour 9, NOW is hour 24: 15 h against a 1 h cadence.
    expect(rotation(REFS.db)).toEqual({ age: 15 * 3_600_000, status: 'overdue' });
    expect(rotation(REFS.report)).toEqual({ age: (24 - 8.5) * 3_600_000, status: 'ok' });
    expect(rotation(REFS.api).status).toBe('never');
  });
});

describe('connector-secrets report: usage', () => {
  it('exit 2 without --out, without a log, with a missing log or a directory, on an unknown option, a bad --since, an unreadable key; --help exits 0 with examples', async () => {
    expect(await report([fx.logs[0]!])).toMatchObject({ code: 2, stderr: expect.stringContaining('--out') });
    expect(await report(['--out', out])).toMatchObject({ code: 2, stderr: expect.stringContaining('at least one audit log') });
    expect(await report([fx.logs[0]!, '--out', out, '--frob'])).toMatchObject({ code: 2, stderr: expect.stringContaining('error [USAGE]') });
    expect(await report([fx.logs[0]!, '--out', out, '--since', 'yesterday'])).toMatchObject({ code: 2, stderr: expect.stringContaining('--since') });
    expect(await report([fx.logs[0]!, '--out', out, '--key-file', join(dir, 'missing.key')])).toMatchObject({ code: 2, stderr: expect.stringContaining('CONFIG_INVALID') });
    expect(await report([fx.logs[0]!, '--out', join(dir, 'no', 'such', 'dir', 'r.html')])).toMatchObject({ code: 2, stderr: expect.stringContaining('--out') });
    expect(await report([fx.logs[0]!, join(dir, 'missing.jsonl'), '--out', out])).toMatchObject({ code: 2, stderr: expect.stringMatching(/missing\.jsonl cannot be read \(ENOENT\)/) });
    expect(await report([dir, '--out', out])).toMatchObject({ code: 2, stderr: expect.stringContaining('not a file') });
    const logBefore = await readFile(fx.logs[0]!, 'utf8');
    expect(await report([fx.logs[0]!, '--out', fx.logs[0]!])).toMatchObject({ code: 2, stderr: expect.stringContaining('--out names one of the audit logs') });
    expect(await readFile(fx.logs[0]!, 'utf8')).toBe(logBefore);
    const help = await report(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('examples:');
    expect(help.stdout).toMatch(/exit codes:\n {2}0 .*\n {2}1 .*verification.*\n {2}2 /);
  });
});

describe('connector-secrets report: wired into the command', () => {
  it('a child process: top-level help lists it; exit 2 on usage, 1 on a tampered log (page written), 0 otherwise', async () => {
    const cli = (args: string[]) =>
      promisify(execFile)(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { cwd: ROOT, timeout: 60_000, env: { PATH: process.env['PATH'] ?? '' } }).then(
        ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
        (err: { code: number; stdout: string; stderr: string }) => ({ code: err.code, stdout: err.stdout, stderr: err.stderr }),
      );
    expect((await cli(['--help'])).stdout).toMatch(/\n {2}report FILE\.\.\. --out report\.html/);
    expect(await cli(['report', fx.logs[0]!])).toMatchObject({ code: 2, stderr: expect.stringContaining('error [USAGE]: report needs --out FILE') });
    const lines = (await readFile(fx.logs[1]!, 'utf8')).split('\n');
    lines.splice(3, 1); // a record removed: the chain breaks
    await writeFile(fx.logs[1]!, lines.join('\n'));
    const r = await cli(['report', ...fx.logs, '--key-file', fx.keyFile, '--out', out]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/INVALID: .*billing-sync\.jsonl: line 4: /);
    expect(await readFile(out, 'utf8')).toContain('data-testid="verify-1" data-status="invalid"');
    expect((await cli(['report', fx.logs[0]!, '--key-file', fx.keyFile, '--out', out])).code).toBe(0);
  }, 60_000);
});

describe('buildReport: bounded charts on a large, long log', () => {
  it('12 identities over 4 years: 8 series (the rest as others), at most 36 buckets, anomalies listed up to 200, every figure still adds up', async () => {
    const file = join(dir, 'long.jsonl');
    const sink = fileAuditSink(file, { hmacKey: fx.key });
    const start = Date.UTC(2022, 0, 1);
    const day = 86_400_000;
    for (let i = 0; i < 1_200; i++) {
      const ts = new Date(start + Math.floor((i * 4 * 365 * day) / 1_200)).toISOString();
      await sink.write(event({ ts, identity: `conn-${i % 12}`, ref: `secret://app/key-${i % 3}` }));
      if (i % 4 === 0) await sink.write(event({ ts, identity: `conn-${i % 12}`, action: 'anomaly', outcome: 'alert', code: 'burst', reason: 'burst <b>', ref: 'secret://app/key-0' }));
    }
    await sink.close();
    const r = await report([file, '--key-file', fx.keyFile, '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    const s = await summary(file);
    expect(s.totals).toMatchObject({ accesses: 1_200, anomalies: 300 });
    expectEqualsSummaries(r.html, [s]);
    const labels = [...r.html.matchAll(/data-testid="series-accesses-identity-\d+" data-label="([^"]*)"/g)].map((m) => m[1]);
    expect(labels).toHaveLength(8);
    expect(labels[7]).toBe('(5 others)');
    const points = /data-testid="series-accesses-identity-0"[^>]*>.*?<polyline points="([^"]*)"/.exec(r.html)![1]!.split(' ');
    expect(points.length).toBeLessThanOrEqual(36);
    expect(points.length).toBeGreaterThan(20);
    expect(r.html.match(/data-testid="anomaly-\d+"/g)).toHaveLength(200);
    expect(r.html).toContain('100 earlier anomalies not listed');
    expect(r.html).toContain('burst &lt;b&gt;');
  }, 60_000);
});
