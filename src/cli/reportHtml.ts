// The dashboard page: one self-contained HTML document, inline CSS and inline SVG, no script and
// no URL of any kind, so it opens from a mail attachment or an artifact store and makes no request.
// Every text that came from a log (identities, refs, codes, rules, reasons, file names) is
// attacker-influenced and goes through esc().
import type { AuditSummary, SummaryRow } from './auditSummary.js';
import type { ReportData, Series } from './reportData.js';

/** Escapes text for HTML element content and double- or single-quoted attribute values. */
export function esc(text: string): string {
  return text.replace(/[&<>"']/g, (c) => (c === '&' ? '&amp;' : c === '<' ? '&lt;' : c === '>' ? '&gt;' : c === '"' ? '&quot;' : '&#39;'));
}

const PALETTE = ['#2563eb', '#dc2626', '#16a34a', '#d97706', '#7c3aed', '#0891b2', '#db2777', '#65a30d'];
const W = 760;

/** The whole page. */
export function renderReport(data: ReportData, title: string): string {
  const invalid = data.logs.filter((l) => l.status === 'invalid').length;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${esc(title)}</title>
<style>${CSS}</style>
</head>
<body>
<header>
<h1>${esc(title)}</h1>
<p class="meta">Generated <time data-testid="generated-at" datetime="${iso(data.now)}">${iso(data.now)}</time>
 · range <span data-testid="range-since">${esc(data.range.since ?? 'start')}</span> .. <span data-testid="range-until">${esc(data.range.until ?? 'end')}</span>
 · ${data.logs.length} log(s)${invalid > 0 ? ` · <strong class="bad" data-testid="invalid-logs" data-value="${invalid}">${invalid} failed verification and are not counted</strong>` : ''}</p>
</header>
<section class="cards" data-testid="panel-totals">
${card('events', 'events', data.totals.events)}
${card('accesses', 'accesses', data.totals.accesses)}
${card('denials', 'denied', data.totals.denials)}
${card('failures', 'failed', data.totals.failures)}
${card('rotations', 'rotations', data.totals.rotations)}
${card('anomalies', 'anomalies', data.totals.anomalies)}
</section>
${panel('verification', 'Chain verification', verificationTable(data))}
${panel('accesses-identity', 'Accesses over time per identity', lineChart('accesses-identity', data.byIdentity, data.time) + legend('accesses-identity', data.byIdentity))}
${panel('accesses-ref', 'Accesses over time per ref', lineChart('accesses-ref', data.byRef, data.time) + legend('accesses-ref', data.byRef))}
${panel('rotations', 'Rotations per secret', barChart('rotations', data.rotations.map((r) => [r.ref, r.rotations])) + rotationTable(data))}
${panel('denied', 'Denied attempts by code', barChart('denied', data.deniedByCode))}
${panel('failed', 'Failed attempts by code', barChart('failed', data.failedByCode))}
${panel('rules', 'Denied and failed attempts by rule', barChart('rules', data.byRule))}
${panel('anomalies', 'Anomalies', barChart('anomalies', data.anomaliesByKind) + anomalyTable(data))}
${data.logs.map((l, i) => panel(`log-${i}`, `Summary of ${l.file}`, l.summary === null ? `<p class="bad">Not counted: the log failed verification.</p>` : summaryTable(i, l.summary))).join('\n')}
<footer>connector-secrets report · the numbers per log are those of <code>connector-secrets audit summary --json</code> for the same range</footer>
</body>
</html>
`;
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

function card(id: string, label: string, value: number): string {
  return `<div class="card"><div class="num" data-testid="total-${id}" data-value="${value}">${value}</div><div class="label">${label}</div></div>`;
}

function panel(id: string, heading: string, body: string): string {
  return `<section class="panel" data-testid="panel-${id}">\n<h2>${esc(heading)}</h2>\n${body}\n</section>`;
}

function verificationTable(data: ReportData): string {
  const rows = data.logs.map((l, i) => {
    const label = l.status === 'verified' ? 'verified' : l.status === 'invalid' ? 'FAILED' : 'not verified (no key)';
    const detail = l.status === 'invalid' ? `line ${l.firstInvalidLine ?? '?'}: ${l.reason ?? ''}` : l.status === 'verified' ? `${l.count ?? 0} records verified` : 'pass --key-file to verify';
    return `<tr data-testid="verify-${i}" data-status="${l.status}"><td>${esc(l.file)}</td><td class="${l.status === 'invalid' ? 'bad' : l.status === 'verified' ? 'good' : 'warn'}" data-testid="verify-${i}-status">${label}</td><td data-testid="verify-${i}-count" data-value="${l.count ?? ''}">${l.count ?? '-'}</td><td>${esc(detail)}</td></tr>`;
  });
  return `${statusSvg(data)}<table><thead><tr><th>log</th><th>chain</th><th>records</th><th>detail</th></tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

/** One square per log, coloured by its verification status, so the panel reads at a glance. */
function statusSvg(data: ReportData): string {
  const size = 28;
  const cells = data.logs.map((l, i) => {
    const fill = l.status === 'verified' ? '#16a34a' : l.status === 'invalid' ? '#dc2626' : '#d97706';
    return `<rect data-testid="verify-cell-${i}" data-status="${l.status}" x="${i * (size + 6)}" y="2" width="${size}" height="${size}" rx="4" fill="${fill}"><title>${esc(l.file)}: ${l.status}</title></rect>`;
  });
  return `<svg data-testid="chart-verification" class="chart" role="img" aria-label="chain status per log" width="${Math.max(1, data.logs.length) * (size + 6)}" height="${size + 4}" viewBox="0 0 ${Math.max(1, data.logs.length) * (size + 6)} ${size + 4}">${cells.join('')}</svg>`;
}

/** Accesses per time bucket, one polyline per series, with axes and a few labelled ticks. */
function lineChart(id: string, series: Series[], time: ReportData['time']): string {
  const H = 220;
  const left = 48;
  const bottom = 28;
  const plotW = W - left - 12;
  const plotH = H - bottom - 10;
  if (series.length === 0) return emptySvg(id, 'no accesses in range');
  const max = Math.max(1, ...series.flatMap((s) => s.counts));
  const x = (i: number) => left + (time.buckets === 1 ? plotW / 2 : (i * plotW) / (time.buckets - 1));
  const y = (n: number) => 10 + plotH - (n * plotH) / max;
  const parts: string[] = [];
  parts.push(`<line x1="${left}" y1="${10 + plotH}" x2="${W - 12}" y2="${10 + plotH}" class="axis"/><line x1="${left}" y1="10" x2="${left}" y2="${10 + plotH}" class="axis"/>`);
  for (const n of [0, Math.round(max / 2), max]) parts.push(`<text x="${left - 6}" y="${y(n) + 4}" text-anchor="end" class="tick">${n}</text>`);
  const ticks = Math.min(time.buckets, 5);
  for (let k = 0; k < ticks; k++) {
    const i = ticks === 1 ? 0 : Math.round((k * (time.buckets - 1)) / (ticks - 1));
    const anchor = ticks === 1 ? 'middle' : k === 0 ? 'start' : k === ticks - 1 ? 'end' : 'middle';
    parts.push(`<text x="${x(i)}" y="${H - 8}" text-anchor="${anchor}" class="tick">${esc(tickLabel(time.start + i * time.bucketMs, time.bucketMs))}</text>`);
  }
  series.forEach((s, j) => {
    const color = PALETTE[j % PALETTE.length]!;
    const points = s.counts.map((n, i) => `${x(i).toFixed(1)},${y(n).toFixed(1)}`).join(' ');
    const shape = s.counts.length === 1 ? `<circle cx="${x(0)}" cy="${y(s.counts[0]!)}" r="4" fill="${color}"/>` : `<polyline points="${points}" fill="none" stroke="${color}" stroke-width="2"/>`;
    parts.push(`<g data-testid="series-${id}-${j}" data-label="${esc(s.label)}" data-value="${s.total}"><title>${esc(s.label)}: ${s.total}</title>${shape}</g>`);
  });
  return `<svg data-testid="chart-${id}" class="chart" role="img" aria-label="${esc(id)}" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}">${parts.join('')}</svg>
<p class="meta">bucket: ${esc(durationText(time.bucketMs))}, from ${iso(time.start)}</p>`;
}

function legend(id: string, series: Series[]): string {
  if (series.length === 0) return '';
  const items = series.map((s, j) => `<li><span class="swatch" style="background:${PALETTE[j % PALETTE.length]}"></span><span data-testid="legend-${id}-${j}">${esc(s.label)}</span> <b data-value="${s.total}">${s.total}</b></li>`);
  return `<ul class="legend">${items.join('')}</ul>`;
}

/** Horizontal bars, one per label, the label left of the bar and the value right of it. */
function barChart(id: string, entries: [string, number][]): string {
  if (entries.length === 0) return emptySvg(id, 'none in range');
  const shown = entries.slice(0, 20);
  const rowH = 24;
  const labelW = 300;
  const barW = W - labelW - 70;
  const max = Math.max(1, ...shown.map(([, n]) => n));
  const H = shown.length * rowH + 8;
  const bars = shown.map(([label, n], i) => {
    const w = Math.max(2, (n * barW) / max);
    const y = 4 + i * rowH;
    return `<g data-testid="bar-${id}-${i}" data-label="${esc(label)}" data-value="${n}"><title>${esc(label)}: ${n}</title><text x="${labelW - 8}" y="${y + 16}" text-anchor="end" class="label">${esc(clip(label, 42))}</text><rect x="${labelW}" y="${y + 3}" width="${w.toFixed(1)}" height="${rowH - 8}" rx="2" fill="${PALETTE[0]}"/><text x="${labelW + w + 6}" y="${y + 16}" class="value">${n}</text></g>`;
  });
  const more = entries.length > shown.length ? `<p class="meta">and ${entries.length - shown.length} more</p>` : '';
  return `<svg data-testid="chart-${id}" class="chart" role="img" aria-label="${esc(id)}" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}">${bars.join('')}</svg>${more}`;
}

/** An empty data set still draws a chart: the panel says there is nothing, rather than look broken. */
function emptySvg(id: string, text: string): string {
  return `<svg data-testid="chart-${id}" data-empty="true" class="chart" role="img" aria-label="${esc(id)}" width="${W}" height="40" viewBox="0 0 ${W} 40"><text x="8" y="24" class="tick">${esc(text)}</text></svg>`;
}

function rotationTable(data: ReportData): string {
  if (data.rotations.length === 0) return '';
  const rows = data.rotations.map(
    (r, i) =>
      `<tr data-testid="rotation-${i}" data-ref="${esc(r.ref)}"><td>${esc(r.ref)}</td><td data-testid="rotation-${i}-count" data-value="${r.rotations}">${r.rotations}</td><td>${r.last === null ? '-' : iso(r.last)}</td><td data-testid="rotation-${i}-age" data-value="${r.ageMs ?? ''}">${r.ageMs === null ? '-' : esc(durationText(r.ageMs))}</td><td>${r.cadence === null ? '-' : esc(r.cadence.rotation)}</td><td data-testid="rotation-${i}-status" class="${r.status === 'overdue' || r.status === 'never' ? 'bad' : ''}">${r.status ?? '-'}</td></tr>`,
  );
  return `<table><thead><tr><th>ref</th><th>rotations</th><th>last rotation</th><th>since then</th><th>cadence</th><th>status</th></tr></thead><tbody>${rows.join('')}</tbody></table>${
    data.rotations.some((r) => r.cadence !== null) ? '' : '<p class="meta">cadences are known when --config names the manifests</p>'
  }`;
}

function anomalyTable(data: ReportData): string {
  if (data.anomalies.length === 0) return '';
  const rows = data.anomalies.map((a, i) => `<tr data-testid="anomaly-${i}"><td>${iso(a.ts)}</td><td>${esc(a.kind)}</td><td>${esc(a.identity)}</td><td>${esc(a.ref)}</td><td>${esc(clip(a.reason, 300))}</td></tr>`);
  const omitted = data.anomaliesOmitted > 0 ? `<p class="meta">${data.anomaliesOmitted} earlier anomalies not listed</p>` : '';
  return `<table><thead><tr><th>when</th><th>kind</th><th>identity</th><th>ref</th><th>why</th></tr></thead><tbody>${rows.join('')}</tbody></table>${omitted}`;
}

const FIELDS = ['accesses', 'served', 'cacheHits', 'denials', 'failures', 'rotations', 'anomalies'] as const;

function summaryTable(i: number, s: AuditSummary): string {
  const totals = (['accesses', 'denials', 'failures', 'rotations', 'anomalies'] as const)
    .map((k) => `<span>${k} <b data-testid="log-${i}-total-${k}" data-value="${s.totals[k]}">${s.totals[k]}</b></span>`)
    .join(' · ');
  const head = `<p class="meta"><span data-testid="log-${i}-events" data-value="${s.events}">${s.events}</span> events from <span data-testid="log-${i}-first">${esc(s.first ?? '-')}</span> to <span data-testid="log-${i}-last">${esc(s.last ?? '-')}</span></p><p>${totals}</p>`;
  const rows = s.rows.map((r, j) => row(i, j, r));
  return `${head}<table><thead><tr><th>identity</th><th>ref</th>${FIELDS.map((f) => `<th>${f}</th>`).join('')}<th>codes</th></tr></thead><tbody data-testid="log-${i}-rows" data-count="${s.rows.length}">${rows.join('')}</tbody></table>`;
}

function row(i: number, j: number, r: SummaryRow): string {
  const codes = [...Object.entries(r.denialCodes).map(([c, n]) => `denied ${c} ×${n}`), ...Object.entries(r.failureCodes).map(([c, n]) => `failed ${c} ×${n}`)].join(', ');
  // The row as JSON too, so a test compares it whole with `audit summary --json`.
  return `<tr data-testid="log-${i}-row-${j}" data-row="${esc(JSON.stringify(r))}"><td>${esc(r.identity)}</td><td>${esc(r.ref)}</td>${FIELDS.map((f) => `<td data-field="${f}" data-value="${r[f]}">${r[f]}</td>`).join('')}<td>${esc(codes)}</td></tr>`;
}

function clip(text: string, n: number): string {
  return text.length > n ? `${text.slice(0, n - 1)}…` : text;
}

function tickLabel(ms: number, bucketMs: number): string {
  const s = iso(ms);
  return bucketMs >= 86_400_000 ? s.slice(0, 10) : `${s.slice(5, 10)} ${s.slice(11, 16)}`;
}

/** 3d 4h, 5h 12m, 42s: the two largest units. */
export function durationText(ms: number): string {
  const units: [string, number][] = [['d', 86_400_000], ['h', 3_600_000], ['m', 60_000], ['s', 1_000]];
  const parts: string[] = [];
  let rest = Math.max(0, Math.round(ms));
  for (const [u, size] of units) {
    const n = Math.floor(rest / size);
    if (n > 0 || (parts.length > 0 && parts.length < 2)) parts.push(`${n}${u}`);
    rest -= n * size;
    if (parts.length === 2) break;
  }
  return parts.length === 0 ? '0s' : parts.join(' ');
}

const CSS = `
:root{color-scheme:light;font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#111827;background:#f3f4f6}
body{margin:0 auto;max-width:860px;padding:16px}
h1{font-size:22px;margin:8px 0}h2{font-size:16px;margin:0 0 8px}
.meta{color:#4b5563;font-size:12px;margin:4px 0}
.cards{display:grid;grid-template-columns:repeat(6,1fr);gap:8px;margin:12px 0}
.card{background:#fff;border-radius:8px;padding:10px;text-align:center;box-shadow:0 1px 2px #0002}
.num{font-size:22px;font-weight:600}.label{font-size:12px;color:#4b5563}
.panel{background:#fff;border-radius:8px;padding:12px;margin:12px 0;box-shadow:0 1px 2px #0002;overflow-x:auto}
.chart{display:block;max-width:100%;height:auto}
.axis{stroke:#9ca3af;stroke-width:1}.tick{font-size:11px;fill:#4b5563}.label{font-size:12px;fill:#111827}.value{font-size:12px;fill:#111827}
table{border-collapse:collapse;width:100%;font-size:12px;margin-top:8px}
th,td{text-align:left;padding:3px 6px;border-bottom:1px solid #e5e7eb;overflow-wrap:anywhere}
.legend{list-style:none;padding:0;margin:6px 0;font-size:12px;display:flex;flex-wrap:wrap;gap:4px 14px}
.swatch{display:inline-block;width:10px;height:10px;border-radius:2px;margin-right:4px}
.bad{color:#b91c1c}.good{color:#15803d}.warn{color:#b45309}
footer{color:#6b7280;font-size:11px;margin:16px 0}
`;
