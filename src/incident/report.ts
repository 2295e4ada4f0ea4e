import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { IdentityAccess } from './accesses.js';

/** One step of an incident, with its time. */
export interface IncidentStep {
  readonly step: string;
  readonly at: string;
  readonly ok: boolean;
  readonly detail: string;
}

/** An audit source the incident read, and whether it verified. */
export interface IncidentSource {
  readonly source: string;
  readonly verified: boolean;
  readonly ok: boolean;
  readonly detail: string;
}

/** A rotation the incident attempted: ref and versions, never values. */
export interface IncidentRotation {
  readonly ref: string;
  readonly ok: boolean;
  readonly previousVersion: string | null;
  readonly version: string | null;
  readonly code?: string;
  readonly detail?: string;
}

/** The incident report, as written to `incident-<identity>-<time>.json`. */
export interface IncidentReport {
  readonly kind: 'quarantine' | 'lift';
  readonly identity: string;
  readonly reason: string;
  /** The environment tag the command ran with. */
  readonly environment: string;
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly window: { readonly since: string; readonly until: string } | null;
  readonly steps: readonly IncidentStep[];
  readonly sources: readonly IncidentSource[];
  readonly accessed: readonly IdentityAccess[];
  readonly leases: { readonly revoked: readonly string[]; readonly notRevoked: readonly { readonly ref: string; readonly why: string }[] };
  readonly rotated: readonly IncidentRotation[];
  readonly fleet: { readonly published: boolean; readonly detail: string };
}

/** A file-name-safe form of an identity. */
function slug(text: string): string {
  return text.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 80) || '_';
}

/** `2026-12-01T17:25:03.120Z` → `20261201T172503Z`. */
function stamp(iso: string): string {
  return iso.replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
}

/** Writes `incident-<identity>-<time>.md` and `.json` into `dir` (created, mode 0700 files 0600); returns their paths. */
export async function writeIncidentReport(dir: string, report: IncidentReport): Promise<{ markdown: string; json: string }> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const stem = path.join(dir, `incident-${slug(report.identity)}-${stamp(report.startedAt)}`);
  // Never overwrite an earlier report: a second incident of the same second gets -2, -3, …
  for (let n = 1; ; n++) {
    const base = n === 1 ? stem : `${stem}-${n}`;
    const files = { markdown: `${base}.md`, json: `${base}.json` };
    try {
      await writeFile(files.json, JSON.stringify(report, null, 2) + '\n', { mode: 0o600, flag: 'wx' });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST' && n < 100) continue;
      throw err;
    }
    await writeFile(files.markdown, incidentMarkdown(report), { mode: 0o600, flag: 'wx' });
    return files;
  }
}

/** Escapes text for a Markdown table cell or line (an attacker may have chosen a ref or reason). */
function md(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u001f\u007f]/g, ' ').replace(/[|\\`*_[\]<>]/g, (c) => `\\${c}`);
}

/** The Markdown form of the report. */
export function incidentMarkdown(r: IncidentReport): string {
  const out: string[] = [];
  out.push(`# Incident: ${r.kind === 'quarantine' ? 'quarantine' : 'lift'} of identity ${md(r.identity)}`, '');
  out.push(`- Reason: ${md(r.reason)}`);
  out.push(`- Environment: ${md(r.environment)}`);
  out.push(`- Started: ${r.startedAt}`, `- Finished: ${r.finishedAt}`);
  if (r.window !== null) out.push(`- Access window: ${r.window.since} to ${r.window.until}`);
  out.push('', '## Steps', '', '| time | step | result | detail |', '|---|---|---|---|');
  for (const s of r.steps) out.push(`| ${s.at} | ${md(s.step)} | ${s.ok ? 'ok' : 'FAILED'} | ${md(s.detail)} |`);
  if (r.kind === 'quarantine') {
    out.push('', '## Audit sources', '', '| source | verified | detail |', '|---|---|---|');
    for (const s of r.sources) out.push(`| ${md(s.source)} | ${s.verified ? (s.ok ? 'yes' : 'INVALID') : 'no'} | ${md(s.detail)} |`);
    if (r.sources.length === 0) out.push('| (none given) | | pass --audit FILE or --postgres URL to list what the identity read |');
    out.push('', '## Secrets the identity read', '');
    if (r.accessed.length === 0) out.push('No successful read by this identity in the window.');
    else {
      out.push('| ref | reads | first | last | environments | providers | versions |', '|---|---|---|---|---|---|---|');
      for (const a of r.accessed) {
        out.push(`| ${md(a.ref)} | ${a.count} | ${a.first} | ${a.last} | ${md(a.environments.join(', '))} | ${md(a.providers.join(', '))} | ${md(a.versions.join(', '))} |`);
      }
    }
    out.push('', '## Leases', '');
    if (r.leases.revoked.length === 0 && r.leases.notRevoked.length === 0) out.push('The audit records show no lease held by this identity.');
    for (const l of r.leases.revoked) out.push(`- revoked: ${md(l)}`);
    for (const l of r.leases.notRevoked) out.push(`- not revoked: ${md(l.ref)}: ${md(l.why)}`);
    out.push('', '## Rotations', '');
    if (r.rotated.length === 0) out.push('None (run with --rotate to rotate every secret listed above).');
    for (const x of r.rotated) {
      out.push(x.ok ? `- ${md(x.ref)}: version ${x.previousVersion ?? '?'} -> ${x.version ?? '?'}` : `- ${md(x.ref)}: FAILED [${md(x.code ?? 'ERROR')}] ${md(x.detail ?? '')}`);
    }
  }
  out.push('', '## Fleet', '', `${r.fleet.published ? 'Published' : 'Not published'}: ${md(r.fleet.detail)}`, '');
  return out.join('\n');
}
