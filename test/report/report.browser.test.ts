// The dashboard in a real browser: Debian's chromium, driven by playwright-core, loads the page
// the CLI wrote and reads every figure back through the DOM. The figures must equal
// `audit summary --json` of the same logs; every chart must have drawn shapes; the page must
// make no request but its own file:// load, and run no script. The screenshot is CI's artifact.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditSummary, SummaryRow } from '../../src/cli/auditSummary.js';
import { HOSTILE_IDENTITY, HOSTILE_RULE, REFS, T0, writeFixture, type Fixture } from './fixture.js';

const ROOT = resolve(import.meta.dirname, '../..');
const CHROMIUM = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';
/** Where CI picks the screenshot up (.ci/run prints it; artifacts/ is git-ignored). */
export const SCREENSHOT = join(ROOT, 'artifacts', 'report.png');
const IN_CI = process.env['CI'] !== undefined && process.env['CI'] !== '' && process.env['CI'] !== 'false';
const HAVE_CHROMIUM = existsSync(CHROMIUM);
const CHARTS = ['verification', 'accesses-identity', 'accesses-ref', 'rotations', 'denied', 'failed', 'rules', 'anomalies'] as const;

if (!HAVE_CHROMIUM && !IN_CI) {
  console.warn(`report.browser.test.ts: SKIPPED: no chromium at ${CHROMIUM} (apt-get install -y chromium, or set CHROMIUM_PATH); in CI this fails`);
}

async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return promisify(execFile)(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { cwd: ROOT, timeout: 60_000, env: { PATH: process.env['PATH'] ?? '' } }).then(
    ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
    (err: { code: number; stdout: string; stderr: string }) => ({ code: err.code, stdout: err.stdout, stderr: err.stderr }),
  );
}

// In CI a missing browser is a failure, not a skip: the dashboard would go untested.
describe.skipIf(!HAVE_CHROMIUM && !IN_CI)('report in headless chromium', () => {
  let dir: string;
  let profile: string;
  let fixture: Fixture;
  let context: BrowserContext;
  let page: Page;
  let summaries: (AuditSummary & { file: string; verified: boolean })[];
  const requests: string[] = [];
  const dialogs: string[] = [];
  const consoleErrors: string[] = [];

  beforeAll(async () => {
    if (!HAVE_CHROMIUM) throw new Error(`chromium is missing at ${CHROMIUM}: .ci/run installs it (apt-get install -y --no-install-recommends chromium)`);
    dir = await mkdtemp(join(tmpdir(), 'cs-report-browser-'));
    profile = await mkdtemp(join(tmpdir(), 'cs-chromium-profile-'));
    fixture = await writeFixture(dir);
    const out = join(dir, 'report.html');
    const report = await cli(['report', ...fixture.logs, '--key-file', fixture.keyFile, '--config', fixture.config, '--out', out]);
    expect(report.code, report.stderr).toBe(0);
    expect(report.stdout).toMatch(/^wrote .*report\.html: 2 log\(s\), \d+ events/);
    summaries = [];
    for (const log of fixture.logs) {
      const s = await cli(['audit', 'summary', log, '--key-file', fixture.keyFile, '--json']);
      expect(s.code, s.stderr).toBe(0);
      summaries.push(JSON.parse(s.stdout) as (typeof summaries)[number]);
    }
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
      viewport: { width: 900, height: 1200 },
    });
    page = await context.newPage();
    page.on('request', (r) => void requests.push(r.url()));
    page.on('dialog', (d) => void (dialogs.push(d.message()), d.dismiss()));
    page.on('console', (m) => void (m.type() === 'error' && consoleErrors.push(m.text())));
    await page.goto(pathToFileURL(out).href, { waitUntil: 'load' });
  }, 120_000);

  afterAll(async () => {
    await context?.close();
    if (profile !== undefined) await rm(profile, { recursive: true, force: true });
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  const value = async (testid: string) => Number(await page.getByTestId(testid).getAttribute('data-value'));
  const text = async (testid: string) => (await page.getByTestId(testid).textContent())?.trim();

  it('the totals equal the sum of audit summary --json over the logs', async () => {
    const sum = (k: keyof AuditSummary['totals']) => summaries.reduce((n, s) => n + s.totals[k], 0);
    expect(await value('total-events')).toBe(summaries.reduce((n, s) => n + s.events, 0));
    for (const k of ['accesses', 'denials', 'failures', 'rotations', 'anomalies'] as const) {
      expect(await value(`total-${k}`), k).toBe(sum(k));
      expect(await text(`total-${k}`)).toBe(String(sum(k)));
    }
    // The fixture has every kind of record: a zero here means the generator or the count broke.
    for (const k of ['accesses', 'denials', 'failures', 'rotations', 'anomalies'] as const) expect(sum(k), k).toBeGreaterThan(0);
  });

  it('each log: events, first, last, totals and every row equal its audit summary --json', async () => {
    for (const [i, s] of summaries.entries()) {
      expect(s.verified).toBe(true);
      expect(await value(`log-${i}-events`)).toBe(s.events);
      expect(await text(`log-${i}-first`)).toBe(s.first);
      expect(await text(`log-${i}-last`)).toBe(s.last);
      for (const k of ['accesses', 'denials', 'failures', 'rotations', 'anomalies'] as const) expect(await value(`log-${i}-total-${k}`)).toBe(s.totals[k]);
      expect(Number(await page.getByTestId(`log-${i}-rows`).getAttribute('data-count'))).toBe(s.rows.length);
      for (const [j, row] of s.rows.entries()) {
        const tr = page.getByTestId(`log-${i}-row-${j}`);
        expect(JSON.parse((await tr.getAttribute('data-row'))!) as SummaryRow).toEqual(row);
        // The visible cells too, not only the attribute.
        for (const f of ['accesses', 'served', 'cacheHits', 'denials', 'failures', 'rotations', 'anomalies'] as const) {
          expect((await tr.locator(`td[data-field="${f}"]`).textContent())?.trim(), `${i}/${j}/${f}`).toBe(String(row[f]));
        }
        expect(await tr.locator('td').nth(0).textContent()).toBe(row.identity);
        expect(await tr.locator('td').nth(1).textContent()).toBe(row.ref);
      }
    }
  });

  it('every log is shown as verified, with its record count', async () => {
    for (const i of summaries.keys()) {
      expect(await page.getByTestId(`verify-${i}`).getAttribute('data-status')).toBe('verified');
      expect(await text(`verify-${i}-status`)).toBe('verified');
      expect(await value(`verify-${i}-count`)).toBeGreaterThan(0);
    }
  });

  it('every chart is drawn: non-empty SVG with shapes of finite coordinates and a rendered size', async () => {
    for (const id of CHARTS) {
      const svg = page.getByTestId(`chart-${id}`);
      expect(await svg.count(), id).toBe(1);
      expect(await svg.getAttribute('data-empty'), id).toBeNull();
      const info = await svg.evaluate((el) => {
        const shapes = [...el.querySelectorAll('rect, polyline, circle, line')];
        const numbers = shapes.flatMap((s) => ['x', 'y', 'width', 'height', 'cx', 'cy', 'points'].map((a) => s.getAttribute(a) ?? '').join(' ').split(/[\s,]+/).filter(Boolean));
        const box = el.getBoundingClientRect();
        return { shapes: shapes.filter((s) => s.tagName !== 'line').length, numbers, width: box.width, height: box.height };
      });
      expect(info.shapes, id).toBeGreaterThan(0);
      expect(info.width, id).toBeGreaterThan(0);
      expect(info.height, id).toBeGreaterThan(0);
      for (const n of info.numbers) expect(Number.isFinite(Number(n)), `${id}: ${n}`).toBe(true);
    }
  });

  it("the charts' figures add up to the totals", async () => {
    const sumOf = async (prefix: string) => (await page.locator(`[data-testid^="${prefix}"]`).evaluateAll((els) => els.map((e) => Number(e.getAttribute('data-value'))))).reduce((a, b) => a + b, 0);
    const total = (k: keyof AuditSummary['totals']) => summaries.reduce((n, s) => n + s.totals[k], 0);
    expect(await sumOf('series-accesses-identity-')).toBe(total('accesses'));
    expect(await sumOf('series-accesses-ref-')).toBe(total('accesses'));
    expect(await sumOf('bar-rotations-')).toBe(total('rotations'));
    expect(await sumOf('bar-denied-')).toBe(total('denials'));
    expect(await sumOf('bar-failed-')).toBe(total('failures'));
    expect(await sumOf('bar-anomalies-')).toBe(total('anomalies'));
    // The fixture's two identities are both drawn.
    expect(await page.locator('[data-testid^="series-accesses-identity-"]').count()).toBe(2);
  });

  it('rotations: count, time since the last one, and status against the cadence of --config', async () => {
    const rows = await page.locator('[data-testid^="rotation-"][data-ref]').evaluateAll((els) =>
      els.map((e) => ({ ref: e.getAttribute('data-ref'), count: e.querySelector('[data-testid$="-count"]')?.textContent, status: e.querySelector('[data-testid$="-status"]')?.textContent })),
    );
    expect(rows).toEqual([
      { ref: REFS.db, count: '2', status: 'overdue' },
      // The report key was rotated at 08:30 on 2026-01-01 against 30 days: ok until 31 January.
      { ref: REFS.report, count: '1', status: Date.now() > T0 + 8.5 * 3_600_000 + 30 * 86_400_000 ? 'overdue' : 'ok' },
      { ref: REFS.api, count: '0', status: 'never' },
    ]);
  });

  it('hostile identities and rule names are text: no script ran, no element was injected', async () => {
    expect(await page.evaluate(() => (globalThis as unknown as { __pwned?: number }).__pwned)).toBeUndefined();
    expect(await page.locator('script').count()).toBe(0);
    expect(await page.locator('img').count()).toBe(0);
    expect(dialogs).toEqual([]);
    const legend = await page.locator('[data-testid^="legend-accesses-identity-"]').allTextContents();
    expect(legend).toContain(HOSTILE_IDENTITY);
    const rules = await page.locator('[data-testid^="bar-rules-"]').evaluateAll((els) => els.map((e) => e.getAttribute('data-label')));
    expect(rules).toContain(HOSTILE_RULE);
    expect(await page.locator('body').textContent()).toContain(HOSTILE_IDENTITY);
  });

  it('made no request but its own file:// load', async () => {
    expect(requests.length).toBeGreaterThan(0);
    expect(requests.filter((u) => !u.startsWith('file:'))).toEqual([]);
    expect(consoleErrors).toEqual([]);
  });

  it('screenshot to artifacts/report.png', async () => {
    await mkdir(join(ROOT, 'artifacts'), { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    const png = await readFile(SCREENSHOT);
    expect(png.subarray(0, 8).toString('hex')).toBe('89504e470d0a1a0a');
    expect((await stat(SCREENSHOT)).size).toBeGreaterThan(20_000);
  });
});
