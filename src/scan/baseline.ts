/**
 * Finding fingerprints and the baseline file.
 *
 * A fingerprint is HMAC-SHA256, keyed with the baseline's salt, of the rule, the file and the
 * matched text; it is stable when lines move and changes when the secret or the file does. It
 * never contains the secret, and the salt keeps a reader of the baseline (or of a SARIF report)
 * from testing guesses of a short password against it without the baseline file itself. Without
 * a baseline, a fixed public salt is used: fingerprints stay stable across runs (what code-scanning
 * dashboards need to track an alert) but a guessable value could be confirmed offline; use a
 * baseline (or `CONNECTOR_SECRETS_SCAN_SALT`) where reports are public.
 *
 * The baseline file is JSON: `{ "version": 1, "salt": "<hex>", "findings": [{ "fingerprint",
 * "rule", "file" }] }`, written aside and renamed into place.
 *
 * @module
 */
import { createHmac, randomBytes } from 'node:crypto';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { ConfigError } from '../errors.js';

/** The salt used when there is no baseline and no `CONNECTOR_SECRETS_SCAN_SALT`. */
export const PUBLIC_SALT = 'connector-secrets-scan/v1';

/** One accepted finding in a baseline. */
export interface BaselineEntry {
  readonly fingerprint: string;
  readonly rule: string;
  readonly file: string;
}

/** A loaded (or new) baseline. */
export interface Baseline {
  readonly salt: string;
  readonly entries: readonly BaselineEntry[];
  readonly fingerprints: ReadonlySet<string>;
}

/** The fingerprint of a finding: 32 hex digits of HMAC-SHA256(salt, rule ␀ file ␀ match). */
export function fingerprint(salt: string, rule: string, file: string, match: string): string {
  return createHmac('sha256', salt).update(`${rule}\0${file}\0`).update(match, 'latin1').digest('hex').slice(0, 32);
}

/** A new, empty baseline with a random salt. */
export function newBaseline(): Baseline {
  return { salt: randomBytes(32).toString('hex'), entries: [], fingerprints: new Set() };
}

/** Reads a baseline; `undefined` when the file does not exist. A malformed file is a ConfigError naming the field. */
export function readBaseline(file: string): Baseline | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new ConfigError(`the baseline ${file} cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    throw new ConfigError(`the baseline ${file} is not valid JSON`);
  }
  const d = doc as { version?: unknown; salt?: unknown; findings?: unknown };
  if (typeof d !== 'object' || d === null || d.version !== 1) throw new ConfigError(`the baseline ${file}: "version" must be 1`);
  if (typeof d.salt !== 'string' || d.salt.length < 16) throw new ConfigError(`the baseline ${file}: "salt" must be a string of at least 16 characters`);
  if (!Array.isArray(d.findings)) throw new ConfigError(`the baseline ${file}: "findings" must be an array`);
  const entries: BaselineEntry[] = [];
  for (const [i, e] of (d.findings as unknown[]).entries()) {
    const x = e as Partial<BaselineEntry> | null;
    if (typeof x !== 'object' || x === null || typeof x.fingerprint !== 'string' || !/^[0-9a-f]{32}$/.test(x.fingerprint)) {
      throw new ConfigError(`the baseline ${file}: findings[${i}].fingerprint must be 32 hex digits`);
    }
    entries.push({ fingerprint: x.fingerprint, rule: String(x.rule ?? ''), file: String(x.file ?? '') });
  }
  return { salt: d.salt, entries, fingerprints: new Set(entries.map((e) => e.fingerprint)) };
}

/** Writes `entries` under `salt` to `file` (aside, then renamed: a reader never sees half a file). */
export function writeBaseline(file: string, salt: string, entries: readonly BaselineEntry[]): void {
  const unique = new Map<string, BaselineEntry>();
  for (const e of entries) unique.set(e.fingerprint, { fingerprint: e.fingerprint, rule: e.rule, file: e.file });
  const sorted = [...unique.values()].sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : a.rule < b.rule ? -1 : a.rule > b.rule ? 1 : a.fingerprint < b.fingerprint ? -1 : 1));
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  writeFileSync(tmp, `${JSON.stringify({ version: 1, salt, findings: sorted }, null, 2)}\n`, { mode: 0o644 });
  renameSync(tmp, file);
}
