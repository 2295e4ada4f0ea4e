/**
 * Finds credentials in one file's text. Three passes, none of which runs a regular expression
 * over the whole text:
 *
 * 1. the redactor's detectors (src/redact/patterns.ts): a Wu–Manber skip for their triggers
 *    (`AKIA`, `ghp_`, `eyJ`, `://`, `-----BEGIN` …), then each detector checks the shape;
 * 2. the runs of word bytes long enough to be a token (found by probing every 20th byte) are
 *    checked against the token shapes the redactor lacks (src/scan/tokens.ts), and each `=` /
 *    `:` (found by indexOf) is looked at as an assignment (src/scan/assignments.ts:
 *    credential-named keys, AWS secret keys, high-entropy values);
 * 3. with `--known`, the redactor's automaton of the providers' values (src/scan/known.ts).
 *
 * Where two rules find overlapping text, the more specific one (higher rank) is kept.
 *
 * @module
 */
import { KeyRules, DEFAULT_SENSITIVE_KEYS, DEFAULT_SENSITIVE_PARAMS } from '../redact/keys.js';
import { DEFAULT_ALLOWLIST, DETECTOR_NAMES, type DetectorName } from '../redact/options.js';
import { Detectors } from '../redact/patterns.js';
import { assignmentAt } from './assignments.js';
import { shannonEntropy } from './entropy.js';
import type { KnownValues } from './known.js';
import { RULES, type RuleId } from './rules.js';
import { MIN_TOKEN_RUN, sendgridAt, tokenAt } from './tokens.js';

/** One match in a text: `[start, end)` in Latin-1 code units (= bytes of the file). */
export interface RawFinding {
  readonly start: number;
  readonly end: number;
  readonly rule: RuleId;
  /** For `known-value`: the ref whose value this is. */
  readonly ref?: string;
}

/**
 * The redactor detectors the scanner uses. `keyValue` and `urlQueryParams` are left out: in
 * source code they would flag `password: opts.password`; the assignment pass judges keys and
 * values with code in mind instead.
 */
const SCAN_DETECTORS: ReadonlySet<DetectorName> = new Set(DETECTOR_NAMES.filter((d) => d !== 'keyValue' && d !== 'urlQueryParams'));

/** 1: a word byte (`[A-Za-z0-9_-]`); 0: anything else. */
const CLS = new Uint8Array(256);
for (let c = 0; c < 256; c++) CLS[c] = (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95 || c === 45 ? 1 : 0;

/** Passwords in URLs that are placeholders in docs and examples, not credentials. */
const URL_PLACEHOLDERS = new Set([...DEFAULT_ALLOWLIST, 'pass', 'pw', 'pwd', 'passwd', 'secret', 'changeme', 'xxx', 'xxxx', 'mypassword', 'yourpassword', 'pa55word', 'p4ssw0rd']);

const URL_PLACEHOLDER_WORDS = ['password', 'secret', 'example', 'xxxx', 'changeme', 'your', '****'];

/** Scans texts; one per scan (it holds the detectors' tables and the known values). */
export class FileScanner {
  readonly #detectors = new Detectors(SCAN_DETECTORS, new KeyRules(DEFAULT_SENSITIVE_KEYS, DEFAULT_SENSITIVE_PARAMS, [], []), '\u0000');
  readonly #known: KnownValues | undefined;

  constructor(options: { readonly known?: KnownValues } = {}) {
    this.#known = options.known;
  }

  /**
   * The findings in `bytes` (a file's content), read as Latin-1 so that offsets are byte
   * offsets and every byte is one code unit. Sorted by start. `code`: the file is source code
   * (by its extension; see {@link isCodeFile}), where an unquoted value is an expression.
   */
  scan(bytes: Uint8Array, code = false): { text: string; findings: RawFinding[] } {
    const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
    const found: RawFinding[] = [];
    const detectors = this.#detectors;
    detectors.detect(
      text,
      (start, end) => {
        const rule = refine(detectors.current, text, start, end);
        if (rule !== undefined) found.push({ start, end, rule });
      },
      bytes,
    );
    scanBytes(text, bytes, found, code);
    this.#known?.scan(text, bytes, (start, end, ref) => found.push({ start, end, rule: 'known-value', ref }));
    return { text, findings: resolveOverlaps(found) };
  }
}

/**
 * Pass 2, without touching most bytes: `=` and `:` are found with `indexOf` (a native memchr on
 * a one-byte string), `SG.` likewise, and runs of word bytes long enough to be a token by
 * probing every {@link RUN}th byte: a run of at least RUN bytes covers one of the probes, and a
 * probe landing on a shorter run costs that run's length.
 */
function scanBytes(text: string, bytes: Uint8Array, out: RawFinding[], code: boolean): void {
  const n = bytes.length;
  for (const sep of SEPARATORS) {
    for (let i = text.indexOf(sep); i !== -1; i = text.indexOf(sep, i + 1)) {
      // The value's own bytes are still looked at below: a token shape in it is the more specific finding.
      const hit = assignmentAt(text, bytes, i, code);
      if (hit !== undefined) out.push(hit);
    }
  }
  for (let i = text.indexOf('SG.'); i !== -1; i = text.indexOf('SG.', i + 3)) {
    if (i > 0 && CLS[bytes[i - 1]!] === 1) continue;
    const end = sendgridAt(bytes, i);
    if (end !== -1) out.push({ start: i, end, rule: 'sendgrid-api-key' });
  }
  const run = RUN;
  let floor = 0;
  let i = run - 1;
  while (i < n) {
    if (CLS[bytes[i]!] !== 1) {
      i += run;
      continue;
    }
    let s = i;
    while (s > floor && CLS[bytes[s - 1]!] === 1) s--;
    let e = i + 1;
    while (e < n && CLS[bytes[e]!] === 1) e++;
    if (e - s >= run) {
      const hit = tokenAt(bytes, s, e);
      if (hit !== undefined) out.push({ start: s, end: hit.end, rule: hit.rule });
    }
    // bytes[e] is not a word byte: the next run starts after it, and a long one covers e + run.
    floor = e + 1;
    i = e + run;
  }
}

const SEPARATORS = ['=', ':'];
/** The shortest token run (copied: an imported binding read in a hot loop can cost a getter call). */
const RUN = MIN_TOKEN_RUN;

/** The rule of a range a redactor detector pushed, or undefined when it is not a finding here. */
function refine(detector: DetectorName, text: string, start: number, end: number): RuleId | undefined {
  switch (detector) {
    case 'awsAccessKeyId':
      // AKIA…EXAMPLE is the key of AWS's own documentation.
      return text.slice(start, end).includes('EXAMPLE') ? undefined : 'aws-access-key-id';
    case 'githubToken':
      return text.startsWith('github_pat_', start) ? 'github-fine-grained-pat' : 'github-token';
    case 'slackToken':
      return text.charCodeAt(start - 1) === 47 ? 'slack-webhook' : 'slack-token';
    case 'googleApiKey':
      return 'google-api-key';
    case 'stripeLiveKey':
      return 'stripe-secret-key';
    case 'jwt':
      return 'jwt';
    case 'pemPrivateKey':
      if (!pemBody(text, start, end)) return undefined;
      return serviceAccountKey(text, start) ? 'gcp-service-account-key' : 'private-key';
    case 'azureStorageConnectionString':
      return end - start >= 20 && !text.startsWith('$', start) && !text.startsWith('{', start) && !text.startsWith('<', start) ? 'azure-storage-key' : undefined;
    case 'databaseUri':
    case 'urlUserinfo':
      return urlPassword(text, start, end) ? 'connection-url-password' : undefined;
    case 'authorizationHeader':
      return authorization(text, start, end);
    default:
      return undefined;
  }
}

/** A PEM body that is one: base64 (or an encrypted key's `Proc-Type:` header) right after BEGIN, not code that mentions the armour. */
function pemBody(text: string, start: number, end: number): boolean {
  let i = start;
  // Line breaks, real or escaped inside a JSON or code string.
  for (;;) {
    const c = text.charCodeAt(i);
    if (c === 10 || c === 13 || c === 32 || c === 9) i++;
    else if (c === 92 && (text.charCodeAt(i + 1) === 110 || text.charCodeAt(i + 1) === 114)) i += 2;
    else break;
  }
  if (text.startsWith('Proc-Type:', i)) return true;
  let run = 0;
  while (i < end && run < 40) {
    const c = text.charCodeAt(i);
    if (!((c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 43 || c === 47 || c === 61)) break;
    run++;
    i++;
  }
  return run >= 40;
}

/** The key sits in a JSON `"private_key"` field on its line: a service-account key file. */
function serviceAccountKey(text: string, start: number): boolean {
  const lineStart = text.lastIndexOf('\n', start) + 1;
  const at = text.lastIndexOf('"private_key"', start);
  return at >= lineStart;
}

function urlPassword(text: string, start: number, end: number): boolean {
  const pw = text.slice(start, end);
  const lower = pw.toLowerCase();
  // Shorter than 4: `https://a:b@host`, `foo:bar` in docs; the words of examples (`somepassword`).
  if (pw.length < 4 || URL_PLACEHOLDERS.has(lower) || URL_PLACEHOLDER_WORDS.some((w) => lower.includes(w))) return false;
  const c = pw.charCodeAt(0);
  // ${PASSWORD}, {{password}}, <password>, %s, $PASSWORD, [REDACTED], ****, … (an ellipsis, as UTF-8)
  if (c === 36 || c === 123 || c === 60 || c === 37 || c === 91 || /^[*x.]+$/i.test(pw) || pw.includes('\xe2\x80\xa6') || pw.includes('${')) return false;
  return true;
}

/** `Basic` credentials that decode to printable `user:password`; any `Bearer` token the detector accepted. */
function authorization(text: string, start: number, end: number): RuleId | undefined {
  let k = start - 1;
  while (k > 0 && (text.charCodeAt(k) === 32 || text.charCodeAt(k) === 9)) k--;
  const word = text.slice(Math.max(0, k - 4), k + 1).toLowerCase();
  if (word !== 'basic') {
    // A bearer token is long and random; `Bearer expiresIn` in prose is not one.
    const bytes = Buffer.from(text.slice(start, end), 'latin1');
    return end - start >= 16 && /[0-9]/.test(text.slice(start, end)) && shannonEntropy(bytes, 0, bytes.length) >= 3 ? 'bearer-token' : undefined;
  }
  const decoded = Buffer.from(text.slice(start, end), 'base64').toString('latin1');
  const colon = decoded.indexOf(':');
  if (colon <= 0 || colon === decoded.length - 1) return undefined;
  for (let i = 0; i < decoded.length; i++) {
    const c = decoded.charCodeAt(i);
    if (c < 32 || c > 126) return undefined;
  }
  return 'basic-auth';
}

/**
 * Keeps, of overlapping findings, the one of the highest rank (then the earliest, then the
 * longest); sorted by start. O(n log n): the kept ones stay sorted by start and do not overlap,
 * so one binary search finds the only neighbours a new one could overlap.
 */
function resolveOverlaps(found: RawFinding[]): RawFinding[] {
  if (found.length <= 1) return found;
  const byRank = [...found].sort((a, b) => RULES[b.rule].rank - RULES[a.rule].rank || a.start - b.start || b.end - a.end);
  const kept: RawFinding[] = [];
  for (const f of byRank) {
    // The first kept finding starting at or after f.start.
    let lo = 0;
    let hi = kept.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (kept[mid]!.start < f.start) lo = mid + 1;
      else hi = mid;
    }
    if (lo < kept.length && kept[lo]!.start < f.end) continue;
    if (lo > 0 && kept[lo - 1]!.end > f.start) continue;
    kept.splice(lo, 0, f);
  }
  return kept;
}

const CODE_EXTENSIONS = new Set(['js', 'mjs', 'cjs', 'jsx', 'ts', 'mts', 'cts', 'tsx', 'map', 'py', 'go', 'java', 'kt', 'kts', 'scala', 'rb', 'rs', 'c', 'h', 'cc', 'cpp', 'hpp', 'cs', 'php', 'swift', 'm', 'dart', 'lua', 'vue', 'svelte', 'groovy', 'pl', 'r']);

/** Whether a path names source code (where `key = value` without quotes is an expression). */
export function isCodeFile(path: string): boolean {
  const dot = path.lastIndexOf('.');
  return dot > path.lastIndexOf('/') && CODE_EXTENSIONS.has(path.slice(dot + 1).toLowerCase());
}
